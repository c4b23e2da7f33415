"""Benchmark of the typed serdes against bare fastavro and confluent-kafka's Avro serdes.

All three run in one process on the same record, a ToolInvocation with a realistic
nested payload, against a local registry started here (or ``--url``):

* bare fastavro: ``schemaless_writer`` / ``schemaless_reader`` on the dict, no framing;
* confluent-kafka: ``AvroSerializer`` / ``AvroDeserializer`` on the dict (with framing);
* ours: ``ContractSerializer`` / ``ContractDeserializer`` from and to the typed object.

Prints records per second and the ratios (targets: serialize >= 0.85x fastavro and
>= 1.5x confluent-kafka; deserialize >= 0.8x fastavro and >= 2x confluent-kafka), then
the resident memory over ``--messages`` round trips (default 1,000,000) in tenths.
``--json`` adds one line with every figure as JSON, for ``tools/compare_ref.py``.

    python tools/bench_serde.py [--url URL] [--seconds 3] [--messages 1000000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import resource
import time
import uuid
from collections.abc import Callable

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from somacontracts.models import ToolInvocation, ToolInvocationMetadata
from somacontracts.serde import ContractDeserializer, ContractSerializer

CTX = SerializationContext("tool.requests", MessageField.VALUE)


def sample() -> ToolInvocation:
    """A tool call with the kind of nested arguments the shell and HTTP tools receive."""
    return ToolInvocation(
        task_id=uuid.uuid4(),
        tenant_id="tenant-0042",
        persona="agent0",
        tool_name="shell",
        payload={
            "command": "ls -la /workspace/project",
            "cwd": "/workspace/project",
            "env": {"PATH": "/usr/local/bin:/usr/bin", "LANG": "C.UTF-8", "CI": "1"},
            "timeout_s": 30,
            "args": ["-l", "-a", "--color=never"],
            "limits": {"cpu": 1.5, "memory_mb": 512, "network": False},
            "context": {
                "files": [{"path": "README.md", "bytes": 2048}, {"path": "src/", "bytes": None}]
            },
        },
        metadata=ToolInvocationMetadata(
            requested_by="gateway",
            timestamp=dt.datetime.now(dt.UTC),
            correlation_id="conv-7c0a4b1e",
            extra={"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "attempt": 1},
        ),
    )


def rates(operations: dict[str, Callable[[], object]], seconds: float) -> dict[str, float]:
    """Operations per second of each of ``operations``, measured in interleaved rounds.

    Each round runs every operation for a slice of ``seconds`` in turn, so a change in
    the machine's load during the run hits all of them alike; each operation's figure
    is its best round.
    """
    rounds = 10
    best = dict.fromkeys(operations, 0.0)
    for _ in range(rounds):
        for name, operation in operations.items():
            count, start = 0, time.perf_counter()
            deadline = start + seconds / rounds
            while True:
                for _ in range(100):
                    operation()
                count += 100
                now = time.perf_counter()
                if now >= deadline:
                    break
            best[name] = max(best[name], count / (now - start))
    return best


def rss_mb() -> float:
    """Resident memory of this process now, in MB (from /proc, else the peak)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(url: str, seconds: float, messages: int, as_json: bool = False) -> None:
    """Measure and print."""
    obj = sample()
    datum = obj.to_avro()
    parsed = parse_schema(ToolInvocation.SCHEMA)
    with SchemaRegistryClient({"url": url}) as client:
        ours_out = ContractSerializer(ToolInvocation, client, auto_register=True)
        ours_in: ContractDeserializer[ToolInvocation] = ContractDeserializer(ToolInvocation, client)
        theirs_out = AvroSerializer(
            client,
            json.dumps(ToolInvocation.SCHEMA),
            conf={"auto.register.schemas": False, "normalize.schemas": True},
        )
        theirs_in = AvroDeserializer(client, json.dumps(ToolInvocation.SCHEMA))

        def bare_write() -> bytes:
            buffer = io.BytesIO()
            schemaless_writer(buffer, parsed, datum)
            return buffer.getvalue()

        raw = bare_write()
        framed = ours_out(obj, CTX)
        if framed is None or framed[5:] != raw:
            raise SystemExit("the serializer must write the same Avro bytes as fastavro")
        assert ours_in(framed, CTX) == obj
        assert theirs_in(theirs_out(datum, CTX), CTX) == datum

        write = rates(
            {
                "fastavro schemaless_writer (dict)": bare_write,
                "confluent-kafka AvroSerializer (dict)": lambda: theirs_out(datum, CTX),
                "somacontracts ContractSerializer (typed)": lambda: ours_out(obj, CTX),
            },
            seconds,
        )
        read = rates(
            {
                "fastavro schemaless_reader (dict)": lambda: schemaless_reader(
                    io.BytesIO(raw), parsed, None
                ),
                "confluent-kafka AvroDeserializer (dict)": lambda: theirs_in(framed, CTX),
                "somacontracts ContractDeserializer (typed)": lambda: ours_in(framed, CTX),
            },
            seconds,
        )
        print(f"record: ToolInvocation, {len(raw)} bytes of Avro ({len(framed)} framed)")
        for title, figures, targets in (
            ("serialize", write, (0.85, 1.5)),
            ("deserialize", read, (0.8, 2.0)),
        ):
            bare, theirs, ours = figures.values()
            print(f"\n{title}:")
            for name, value in figures.items():
                print(f"  {name:45s} {value:10,.0f} records/s")
            print(
                f"  ours / fastavro = {ours / bare:.2f}x (target >= {targets[0]}x); "
                f"ours / confluent-kafka = {ours / theirs:.2f}x (target >= {targets[1]}x)"
            )

        if as_json:
            figures = {}
            for title, rates_of in (("serialize", write), ("deserialize", read)):
                bare, theirs, ours = rates_of.values()
                figures[f"{title} records/s"] = round(ours)
                figures[f"{title} / fastavro"] = round(ours / bare, 3)
                figures[f"{title} / confluent-kafka"] = round(ours / theirs, 3)
            print(json.dumps(figures))
        if not messages:
            return
        print(f"\nmemory over {messages:,} round trips (each with a new task_id):")
        step = max(messages // 10, 1)
        start = rss_mb()
        print(f"  start {start:.1f} MB")
        for done in range(step, messages + 1, step):
            for _ in range(step):
                obj.task_id = uuid.uuid4()
                ours_in(ours_out(obj, CTX), CTX)
            print(f"  after {done:>9,}: {rss_mb():.1f} MB")
        print(f"  growth: {rss_mb() - start:+.1f} MB")


def main() -> None:
    """Parse options; start a local registry unless a URL is given."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="schema registry URL (default: start a local one)")
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="time per contender, split into rounds"
    )
    parser.add_argument("--messages", type=int, default=1_000_000, help="round trips for memory")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    if args.url:
        run(args.url, args.seconds, args.messages, args.json)
        return
    # Imported here: with --url, the code under test may predate the server's module.
    from somacontracts.tooling.registry import LocalRegistry

    with LocalRegistry(host="127.0.0.1", port=0) as registry:
        run(registry.url, args.seconds, args.messages, args.json)


if __name__ == "__main__":
    main()

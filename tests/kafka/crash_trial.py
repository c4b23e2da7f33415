"""The crash trial: a consumer or processor killed with SIGKILL at chosen or random points
and restarted, then what was lost, handled twice and written twice is counted.

The parent sends ToolInvocation messages, some of them poison (bytes no deserializer
reads), to a topic of three partitions and runs the worker in a child process
(``python -m tests.kafka.crash_trial``) once per kill and once more to the end. The
handler's side effect is a line with the message's ``task_id`` appended to a ledger file
(written before the handler returns, so it survives the kill). A kill is one of:

- ``handled``: the child kills itself right after the side effect of its n-th message,
  before anything is committed for it: the worst point for at-least-once;
- ``commit``: the child kills itself on its n-th commit, before the commit is sent; for a
  processor that is after the transaction's outputs and dead letters reached the broker
  (flushed), between produce and commit;
- ``random``: the parent kills the child as soon as the ledger holds n more lines than
  before, wherever the child then is.

Dead letters are counted from the dead-letter topic, results (processor) from the output
topic, both as a ``read_committed`` reader sees them: through the log's transaction
markers (:mod:`tests.kafka.committed_log`), and as librdkafka's ``read_committed``
consumer returns them, which on the local broker also shows aborted transactions.
``tools/bench_guarantees.py`` runs the trial bigger.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.catalog.environment import load_settings
from somacontracts.kafka import (
    ContractConsumer,
    ContractProcessor,
    ContractProducer,
    Received,
    TopicSpec,
    apply_plans,
    dlq_name,
    open_admin,
    plan_topics,
)
from somacontracts.models import (
    ToolInvocation,
    ToolResult,
    ToolResultMetadata,
    ToolResultMetrics,
    ToolResultStatus,
)
from somacontracts.serde import ContractDeserializer
from somacontracts.tooling.dev.samples import sample_invocation
from tests.kafka.committed_log import read_topic

PARTITIONS = 3
ROOT = Path(__file__).resolve().parents[2]

Worker = Literal["message", "batch", "processor", "processor-batch"]
"""The consumer under each commit policy, or the processor under each."""
Point = Literal["handled", "commit", "random"]


@dataclass(frozen=True)
class Kill:
    """Where one SIGKILL falls: at the ``after``-th handled message or commit of a child
    run, or when the ledger grew by ``after`` lines (random)."""

    point: Point
    after: int


@dataclass(frozen=True)
class Trial:
    worker: Worker
    messages: int
    poison_every: int
    kills: tuple[Kill, ...]
    batch_size: int = 500


@dataclass
class Outcome:
    """What a trial counted."""

    worker: str
    sent: int
    poison: int
    kills: int
    lost: int = 0
    handled_twice: int = 0
    poison_missing: int = 0
    dead_lettered_twice: int = 0
    dead_lettered_twice_librdkafka: int = 0
    results_missing: int = 0
    results_twice: int = 0
    results_twice_librdkafka: int = 0
    aborted_results: int = 0
    seconds: float = 0.0
    kill_points: list[str] = field(default_factory=list)


def _topics(suffix: str) -> tuple[str, str]:
    return f"trial.requests.{suffix}", f"trial.results.{suffix}"


def _result_for(call: ToolInvocation) -> ToolResult:
    return ToolResult(
        task_id=call.task_id,
        status=ToolResultStatus.success,
        output={"ran": call.tool_name},
        metrics=ToolResultMetrics(duration_ms=1),
        metadata=ToolResultMetadata(tenant_id=call.tenant_id),
    )


def _send(bootstrap: str, registry: str, topic: str, trial: Trial) -> tuple[set[str], int]:
    """Send the trial's messages; the task ids of the good ones, and the poison count."""
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    raw = Producer(settings.producer_config())
    sent: set[str] = set()
    poison = 0
    with ContractProducer(
        ToolInvocation, registry, settings=settings, topic=topic, subject=ToolInvocation.SUBJECT
    ) as producer:
        for index in range(trial.messages):
            if index % trial.poison_every == trial.poison_every - 1:
                producer.flush()
                raw.produce(topic, b"\x01poison", f"t{index % 7}".encode())
                raw.flush(10)
                poison += 1
                continue
            call = sample_invocation(tenant_id=f"t{index % 7}")
            sent.add(str(call.task_id))
            producer.produce(call)
    return sent, poison


def run_trial(bootstrap: str, registry: str, trial: Trial, workdir: Path) -> Outcome:
    """Run ``trial`` against the broker at ``bootstrap``; its counts."""
    suffix = os.urandom(4).hex()
    requests, results = _topics(suffix)
    admin = open_admin(load_settings({"KAFKA_BOOTSTRAP_SERVERS": bootstrap}))
    names = [requests, results, dlq_name(requests)]
    apply_plans(admin, plan_topics(admin, [TopicSpec(n, PARTITIONS) for n in names]))
    sent, poison = _send(bootstrap, registry, requests, trial)
    ledger = workdir / f"ledger.{suffix}"
    ledger.touch()
    job = {
        "bootstrap": bootstrap,
        "registry": registry,
        "worker": trial.worker,
        "requests": requests,
        "results": results,
        "ledger": str(ledger),
        "group": f"trial-{suffix}",
        "batch_size": trial.batch_size,
    }
    began = time.monotonic()
    points: list[str] = []
    for kill in (*trial.kills, None):
        points.append(_child_run(job, kill, ledger))
    seconds = time.monotonic() - began
    outcome = Outcome(trial.worker, len(sent), poison, len(trial.kills), seconds=seconds)
    outcome.kill_points = points[:-1]
    handled = Counter(ledger.read_text().split())
    outcome.lost = len(sent - handled.keys())
    outcome.handled_twice = sum(n - 1 for n in handled.values() if n > 1)
    dead = read_topic(bootstrap, dlq_name(requests), PARTITIONS)
    copies = Counter(
        (dict(r.headers)["dlq.partition"], dict(r.headers)["dlq.offset"]) for r in dead.committed
    )
    outcome.poison_missing = poison - len(copies)
    outcome.dead_lettered_twice = sum(n - 1 for n in copies.values() if n > 1)
    seen = _read_committed(bootstrap, dlq_name(requests), len(dead.committed) + len(dead.aborted))
    by_librdkafka = Counter(
        (dict(m.headers())["dlq.partition"], dict(m.headers())["dlq.offset"]) for m in seen
    )
    outcome.dead_lettered_twice_librdkafka = sum(n - 1 for n in by_librdkafka.values() if n > 1)
    if trial.worker.startswith("processor"):
        out = read_topic(bootstrap, results, PARTITIONS)
        context = SerializationContext(results, MessageField.VALUE)
        with ContractDeserializer(ToolResult, registry) as decode:

            def _task_id(value: bytes | None) -> str:
                result = decode(value, context)
                assert result is not None
                return str(result.task_id)

            ids = Counter(_task_id(r.value) for r in out.committed)
            outcome.results_missing = len(sent - ids.keys())
            outcome.results_twice = sum(n - 1 for n in ids.values() if n > 1)
            outcome.aborted_results = len(out.aborted)
            visible = _read_committed(bootstrap, results, len(out.committed) + len(out.aborted))
            ids_librdkafka = Counter(_task_id(m.value()) for m in visible)
            outcome.results_twice_librdkafka = sum(n - 1 for n in ids_librdkafka.values() if n > 1)
    return outcome


def _read_committed(bootstrap: str, topic: str, at_most: int) -> list[Any]:
    """What librdkafka's ``read_committed`` consumer returns from ``topic`` (stops after
    ``at_most`` messages or a second without any)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "trial-reader",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    found: list[Any] = []
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        quiet = time.monotonic()
        while len(found) < at_most and time.monotonic() - quiet < 1.0:
            batch = [m for m in consumer.consume(500, 0.2) if m.error() is None]
            if batch:
                found += batch
                quiet = time.monotonic()
    finally:
        consumer.close()
    return found


def _child_run(job: dict[str, Any], kill: Kill | None, ledger: Path) -> str:
    """Run the worker in a child until it is killed (or, without ``kill``, is done); the
    point it died at."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.kafka.crash_trial", json.dumps(job)]
    if kill is not None and kill.point != "random":
        command.append(json.dumps(asdict(kill)))
    with subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE) as child:
        try:
            if kill is not None and kill.point == "random":
                start = _lines(ledger)
                while child.poll() is None and _lines(ledger) - start < kill.after:
                    time.sleep(0.001)
                os.kill(child.pid, signal.SIGKILL)
            said = child.communicate(timeout=120)[0].decode().strip()
            code = child.returncode
        finally:
            if child.poll() is None:
                child.kill()
    if kill is None:
        if code != 0:
            raise AssertionError(f"the last run ended with {code}: {said}")
        return "done"
    if code != -signal.SIGKILL:
        raise AssertionError(f"the run meant to die at {kill} ended with {code}: {said}")
    return said.splitlines()[-1] if said and kill.point != "random" else kill.point


def _lines(path: Path) -> int:
    with path.open("rb") as ledger:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: ledger.read(1 << 16), b""))


def _die(point: str) -> None:
    print(point, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def _child(job: dict[str, Any], kill: dict[str, Any] | None) -> None:
    """The worker: consumer or processor over the trial's topics, recording each side
    effect in the ledger, killing itself where ``kill`` says."""
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": job["bootstrap"]})
    fd = os.open(job["ledger"], os.O_WRONLY | os.O_APPEND)
    handled = 0
    commits = 0
    point, after = (kill["point"], kill["after"]) if kill else ("", 0)

    def side_effect(received: Received[ToolInvocation]) -> None:
        nonlocal handled
        os.write(fd, f"{received.value.task_id}\n".encode())
        handled += 1
        if point == "handled" and handled == after:
            _die(f"handled {after}, before its commit")

    common: dict[str, Any] = {
        "settings": settings,
        "topics": [job["requests"]],
        "partitions": [(job["requests"], p) for p in range(PARTITIONS)],
        "group_id": job["group"],
        "subject": ToolInvocation.SUBJECT,
        "commit": "batch" if job["worker"].endswith("batch") else "message",
    }
    if job["worker"].startswith("processor"):
        processor = ContractProcessor(
            ToolInvocation,
            ToolResult,
            job["registry"],
            output_topic=job["results"],
            output_subject=ToolResult.SUBJECT,
            **common,
        )
        commit = processor._commit

        def committing(offsets: list[TopicPartition]) -> bool:
            nonlocal commits
            commits += 1
            if point == "commit" and commits == after:
                processor._client.flush(10)
                _die(f"commit {after}, its outputs produced")
            return commit(offsets)

        processor._commit = committing  # type: ignore[method-assign]

        def transform(received: Received[ToolInvocation]) -> ToolResult:
            side_effect(received)
            return _result_for(received.value)

        with processor:
            processor.run(transform, idle_timeout=2, batch_size=job["batch_size"])
    else:
        consumer = ContractConsumer(ToolInvocation, job["registry"], **common)
        commit_offsets = consumer._commit_offsets

        def committing_offsets(offsets: list[TopicPartition] | None) -> bool:
            nonlocal commits
            commits += 1
            if point == "commit" and commits == after:
                _die(f"commit {after}, its message handled")
            return commit_offsets(offsets)

        consumer._commit_offsets = committing_offsets  # type: ignore[method-assign]
        with consumer:
            consumer.run(side_effect, idle_timeout=2, batch_size=job["batch_size"])
    os.close(fd)


def _zombie(job: dict[str, Any]) -> None:
    """A processor that stalls at its first commit, its transaction's results on the
    broker, says ``ready`` and what it handled, and when told to on stdin tries to commit
    and says how that ended. It exits without closing: a fenced producer may not close on
    Tansu, which drops the connection on a fenced producer's abort, which librdkafka
    retries."""
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": job["bootstrap"]})
    processor = ContractProcessor(
        ToolInvocation,
        ToolResult,
        job["registry"],
        settings=settings,
        topics=[job["requests"]],
        partitions=[(job["requests"], p) for p in range(PARTITIONS)],
        group_id=job["group"],
        subject=ToolInvocation.SUBJECT,
        output_topic=job["results"],
        output_subject=ToolResult.SUBJECT,
        commit="batch",
    )
    handled: list[str] = []
    commit = processor._commit

    def stalling(offsets: list[TopicPartition]) -> bool:
        processor._client.flush(10)
        print("ready", *handled, flush=True)
        sys.stdin.readline()
        try:
            commit(offsets)
        except Exception as err:
            print(f"{type(err).__name__}: {err}", flush=True)
        else:
            print("committed", flush=True)
        os._exit(0)

    processor._commit = stalling  # type: ignore[method-assign]

    def transform(received: Received[ToolInvocation]) -> ToolResult:
        handled.append(str(received.value.task_id))
        return _result_for(received.value)

    processor.run(transform, idle_timeout=10, batch_size=job["batch_size"])


if __name__ == "__main__":
    task = json.loads(sys.argv[1])
    if task["worker"] == "zombie":
        _zombie(task)
    else:
        _child(task, json.loads(sys.argv[2]) if len(sys.argv) > 2 else None)

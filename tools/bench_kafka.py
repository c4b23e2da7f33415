"""Throughput of the typed Kafka clients against raw confluent-kafka, measured in one run.

Produces and consumes N ToolInvocation messages through a broker with the typed clients
(ContractProducer, ContractConsumer) and, as the baseline, the same bytes with plain
confluent-kafka clients. Prints messages per second of the produce phase, the consume
phase and both together, for each side, and the typed/raw ratios. Starts a local
registry, and a local Tansu broker unless --bootstrap is given.

What is the same on both sides:

- librdkafka configuration: the settings' producer configuration (idempotent,
  ``acks=all``) and consumer configuration (same group settings, background commits),
  plus the tuning given with ``--producer-set``/``--consumer-set KEY=VALUE``;
- one-off costs stay outside the timed regions: each producer is built, connected and
  sends one primer message before its clock starts (the typed one also looks its schema
  id up in the registry; an idempotent producer's first message waits for its producer
  id, half a second for one producer in three on Tansu); each consumer is built and
  assigned all partitions of its topic from the group's stored offsets, and its clock
  starts when the primer arrives, so the offset look-up and the first fetch's round
  trip are not timed either (that start-up is printed on its own);
- consumption in batches of at most 500 messages; topics of the same partition count;
  fresh topics and groups each round; rounds alternate which side goes first; medians.

What each side does per message in the timed regions:

- typed produce: ``ContractProducer.produce(obj)``: serialize, key from ``tenant_id``,
  a delivery report to the producer's failure recorder; ``flush()`` at the end (timed).
- raw produce: ``Producer.produce(topic, value, key)`` with bytes serialized beforehand,
  no delivery callback, ``poll()`` only when the local queue is full; ``flush()`` timed.
- typed consume: ``ContractConsumer.run(handler)`` under ``commit="batch"``: deserialize,
  build ``Received``, a handler that counts, each partition's offset stored once per batch
  after handling and committed, acknowledged, once per batch (the per-message default
  commits each message, one round trip a message: ``tools/bench_guarantees.py``).
- raw consume: ``Consumer.consume(500)``, the same counting handler called with each
  message without error; librdkafka stores offsets by itself as messages are handed out.
- metered: the typed side with Prometheus metrics on (``metrics=ClientMetrics(...)``:
  counts per message, each handler call timed, the lag asked of the broker every 5 s); the
  target is at most 10% slower than typed without metrics.
- peer: what a user would pick instead, confluent-kafka's ``SerializingProducer`` with
  ``AvroSerializer`` (the same records, as the datum dicts ``to_avro()`` returns, built
  beforehand) and ``DeserializingConsumer`` with ``AvroDeserializer`` (``poll()``, the
  only way it reads), the same counting handler. Target: typed at least 2.5x the peer
  end to end.

Serdes alone: ``ContractSerializer``/``ContractDeserializer`` and the peer's serdes over
the same messages in this process, without Kafka. The typed layer's own cost per
message is typed minus raw minus our serde alone (targets: at most 1 us produce and
2 us consume). On a machine of two cores that difference also holds what the Python
thread loses to librdkafka's own threads while it serializes (the raw side does no
Python work to lose), so the producer's own Python work is measured apart too:
``produce()`` with the client's ``produce`` replaced by a no-op, minus the serializer
alone, over the same objects.

    python tools/bench_kafka.py [--messages 100000] [--rounds 3] [--bootstrap HOST:PORT]
        [--producer-set KEY=VALUE]... [--consumer-set KEY=VALUE]...
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import (
    Consumer,
    DeserializingConsumer,
    Message,
    Producer,
    SerializingProducer,
    TopicPartition,
)
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import (
    MessageField,
    SerializationContext,
    StringDeserializer,
    StringSerializer,
)
from prometheus_client import CollectorRegistry

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.kafka import (
    ContractConsumer,
    ContractProducer,
    Received,
    TopicSpec,
    apply_plans,
    open_admin,
    plan_topics,
)
from somacontracts.kafka.consumer import BATCH_SIZE
from somacontracts.kafka.metrics import ClientMetrics
from somacontracts.models import ToolInvocation
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.tooling.cli import main as cli_main
from somacontracts.tooling.dev.broker import LocalBroker
from somacontracts.tooling.dev.samples import sample_invocation
from somacontracts.tooling.registry import LocalRegistry

PARTITIONS = 3
OFFSET_STORED = -1000


@dataclass(frozen=True, slots=True)
class Tuning:
    """librdkafka settings added on both sides."""

    producer: Mapping[str, Any]
    consumer: Mapping[str, Any]

    def describe(self) -> str:
        """The settings as ``key=value`` pairs, or ``client defaults``."""
        pairs = [f"producer {k}={v}" for k, v in self.producer.items()]
        pairs += [f"consumer {k}={v}" for k, v in self.consumer.items()]
        return ", ".join(pairs) or "client defaults"


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds one side spent in one round."""

    produce: float
    """From the first timed produce call until flush returned."""
    consume: float
    """From the primer's arrival until the last message was handled."""
    startup: float
    """Untimed: building the clients, sending the primer, waiting for it to arrive."""


def _consumer_config(settings: Settings, group: str, tuning: Tuning) -> dict[str, Any]:
    # ContractConsumer's own settings, except that the raw side lets librdkafka store offsets.
    return {**settings.consumer_config(group), "enable.auto.commit": True, **tuning.consumer}


def _typed(
    settings: Settings,
    registry: str,
    topic: str,
    primer: ToolInvocation,
    objects: Sequence[ToolInvocation],
    tuning: Tuning,
    metrics: ClientMetrics | None = None,
) -> Timing:
    began = time.perf_counter()
    producer = ContractProducer(
        ToolInvocation,
        registry,
        settings=settings,
        topic=topic,
        subject=ToolInvocation.SUBJECT,
        config=tuning.producer,
        metrics=metrics or False,
    )
    producer.produce(primer)
    producer.flush(60)
    startup = time.perf_counter() - began
    try:
        began = time.perf_counter()
        for obj in objects:
            producer.produce(obj)
        producer.flush(60)
        produced = time.perf_counter() - began
    finally:
        producer.close()

    count = 0
    first = 0.0

    def handle(_received: Received[ToolInvocation]) -> None:
        nonlocal count, first
        if not count:
            first = time.perf_counter()
        count += 1

    began = time.perf_counter()
    consumer = ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, p) for p in range(PARTITIONS)],
        group_id=f"bench-typed-{uuid.uuid4().hex[:6]}",
        commit="batch",
        config=tuning.consumer,
        metrics=metrics or False,
    )
    expected = 1 + len(objects)
    try:
        consumer.run(handle, max_messages=expected, idle_timeout=10, poll_timeout=0.1)
        ended = time.perf_counter()
    finally:
        consumer.close()
    if count != expected:
        raise SystemExit(f"typed run consumed {count} of {expected} messages")
    return Timing(produced, ended - first, startup + first - began)


def _raw(
    settings: Settings,
    topic: str,
    primer: tuple[bytes, bytes],
    messages: Sequence[tuple[bytes, bytes]],
    tuning: Tuning,
) -> Timing:
    began = time.perf_counter()
    producer = Producer({**settings.producer_config(), **tuning.producer})
    producer.list_topics(timeout=10)
    producer.produce(topic, primer[1], primer[0])
    if producer.flush(60):
        raise SystemExit("raw run: the primer was not delivered within 60 s")
    startup = time.perf_counter() - began
    began = time.perf_counter()
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.1)
    if producer.flush(60):
        raise SystemExit("raw run: messages not delivered within 60 s")
    produced = time.perf_counter() - began

    began = time.perf_counter()
    group = f"bench-raw-{uuid.uuid4().hex[:6]}"
    consumer = Consumer(_consumer_config(settings, group, tuning))
    consumer.list_topics(timeout=10)
    consumer.assign([TopicPartition(topic, p, OFFSET_STORED) for p in range(PARTITIONS)])
    count = 0
    first = 0.0

    def handle(_received: Message) -> None:
        nonlocal count
        count += 1

    expected = 1 + len(messages)
    try:
        while count < expected:
            batch = consumer.consume(num_messages=min(BATCH_SIZE, expected - count), timeout=10)
            if not batch:
                raise SystemExit(f"raw run consumed {count} of {expected} messages")
            if not first:
                first = time.perf_counter()
            for msg in batch:
                if msg.error() is None:
                    handle(msg)
        ended = time.perf_counter()
    finally:
        consumer.close()
    return Timing(produced, ended - first, startup + first - began)


def _peer(
    settings: Settings,
    registry: str,
    topic: str,
    primer: ToolInvocation,
    objects: Sequence[ToolInvocation],
    tuning: Tuning,
) -> Timing:
    client = SchemaRegistryClient({"url": registry})
    fixed_subject = {
        "auto.register.schemas": False,
        "normalize.schemas": True,
        "subject.name.strategy": lambda _ctx, _name: ToolInvocation.SUBJECT,
    }
    schema = json.dumps(ToolInvocation.SCHEMA)
    records = [(o.tenant_id, o.to_avro()) for o in objects]  # the peer's input, untimed
    began = time.perf_counter()
    producer = SerializingProducer(
        {
            **settings.producer_config(),
            **tuning.producer,
            "key.serializer": StringSerializer(),
            "value.serializer": AvroSerializer(client, schema, conf=fixed_subject),
        }
    )
    producer.produce(topic, key=primer.tenant_id, value=primer.to_avro())
    if producer.flush(60):
        raise SystemExit("peer run: the primer was not delivered within 60 s")
    startup = time.perf_counter() - began
    began = time.perf_counter()
    for key, value in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.1)
    if producer.flush(60):
        raise SystemExit("peer run: messages not delivered within 60 s")
    produced = time.perf_counter() - began

    began = time.perf_counter()
    consumer = DeserializingConsumer(
        {
            **_consumer_config(settings, f"bench-peer-{uuid.uuid4().hex[:6]}", tuning),
            "key.deserializer": StringDeserializer(),
            "value.deserializer": AvroDeserializer(client),
        }
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_STORED) for p in range(PARTITIONS)])
    count = 0
    first = 0.0
    expected = 1 + len(objects)
    try:
        while count < expected:
            msg = consumer.poll(10)
            if msg is None:
                raise SystemExit(f"peer run consumed {count} of {expected} messages")
            if not first:
                first = time.perf_counter()
            count += 1
        ended = time.perf_counter()
    finally:
        consumer.close()
    return Timing(produced, ended - first, startup + first - began)


@dataclass(frozen=True, slots=True)
class SerdeCost:
    """Microseconds per message of serializing and deserializing, without Kafka."""

    serialize: float
    deserialize: float


def _serdes_alone(registry: str, objects: Sequence[ToolInvocation]) -> tuple[SerdeCost, SerdeCost]:
    """Ours and the peer's serdes over ``objects``, best of three passes each."""
    context = SerializationContext("tool.requests", MessageField.VALUE)
    client = SchemaRegistryClient({"url": registry})
    datums = [o.to_avro() for o in objects]
    fixed_subject = {
        "auto.register.schemas": False,
        "normalize.schemas": True,
        "subject.name.strategy": lambda _ctx, _name: ToolInvocation.SUBJECT,
    }
    theirs_out = AvroSerializer(client, json.dumps(ToolInvocation.SCHEMA), conf=fixed_subject)
    theirs_in = AvroDeserializer(client)

    def best(work: Any, items: Sequence[Any]) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            for item in items:
                work(item, context)
            times.append(time.perf_counter() - start)
        return min(times) / len(items) * 1e6

    with (
        ContractSerializer(ToolInvocation, registry) as ours_out,
        ContractDeserializer(ToolInvocation, registry) as ours_in,
    ):
        data = [ours_out(o, context) for o in objects]
        ours = SerdeCost(best(ours_out, objects), best(ours_in, data))
    theirs = SerdeCost(best(theirs_out, datums), best(theirs_in, data))
    return ours, theirs


def _producer_work(
    settings: Settings, registry: str, objects: Sequence[ToolInvocation], serialize_us: float
) -> float:
    """Microseconds of ``ContractProducer.produce`` per message beyond serializing, with
    the client's ``produce`` a no-op (best of three passes)."""
    producer = ContractProducer(
        ToolInvocation,
        registry,
        settings=settings,
        topic="bench.layer",
        subject=ToolInvocation.SUBJECT,
        metrics=False,
    )
    real = producer._produce
    producer._produce = lambda *_args, **_kwargs: None
    try:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            for obj in objects:
                producer.produce(obj)
            times.append(time.perf_counter() - start)
    finally:
        producer._produce = real
        producer.close()
    return min(times) / len(objects) * 1e6 - serialize_us


def _parse_tuning(pairs: Sequence[str]) -> dict[str, Any]:
    tuning: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        tuning[key] = value
    return tuning


def _rate(count: int, seconds: Sequence[float]) -> float:
    return count / statistics.median(seconds)


def run(
    count: int,
    bootstrap: str | None,
    *,
    rounds: int = 3,
    tuning: Tuning | None = None,
) -> None:
    """Start what is missing, run both sides ``rounds`` times, print the figures."""
    tuning = tuning or Tuning({}, {})
    with contextlib.ExitStack() as stack:
        if bootstrap is None:
            bootstrap = stack.enter_context(LocalBroker()).bootstrap_servers
        registry = stack.enter_context(LocalRegistry(host="127.0.0.1", port=0)).url
        with tempfile.TemporaryDirectory() as scratch:
            lock = str(Path(scratch) / "lock")
            with contextlib.redirect_stdout(None):
                cli_main(["register", "--registry", registry, "--lock", lock])
        settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
        admin = open_admin(settings)
        primer = sample_invocation(tenant_id="primer")
        objects = [sample_invocation(tenant_id=f"tenant-{i % 50}") for i in range(count)]
        with ContractSerializer(ToolInvocation, registry) as serializer:
            context = SerializationContext("tool.requests", MessageField.VALUE)
            raw_primer, *raw = [
                (o.tenant_id.encode(), serializer(o, context) or b"") for o in [primer, *objects]
            ]

        ours_alone, theirs_alone = _serdes_alone(registry, objects)
        layer_alone = _producer_work(settings, registry, objects, ours_alone.serialize)
        sides = ("raw", "typed", "metered", "peer")
        runs: dict[str, list[Timing]] = {side: [] for side in sides}
        metrics = ClientMetrics(CollectorRegistry())
        for number in range(rounds):
            suffix = uuid.uuid4().hex[:8]
            topics = {side: f"bench.{side}.{suffix}" for side in sides}
            apply_plans(
                admin, plan_topics(admin, [TopicSpec(t, PARTITIONS) for t in topics.values()])
            )
            turn = number % len(sides)
            for side in sides[turn:] + sides[:turn]:
                if side == "raw":
                    timing = _raw(settings, topics[side], raw_primer, raw, tuning)
                elif side == "peer":
                    timing = _peer(settings, registry, topics[side], primer, objects, tuning)
                else:
                    chosen = metrics if side == "metered" else None
                    timing = _typed(
                        settings, registry, topics[side], primer, objects, tuning, chosen
                    )
                runs[side].append(timing)

    def rates(runs: Sequence[Timing]) -> tuple[float, float, float]:
        return (
            _rate(count, [r.produce for r in runs]),
            _rate(count, [r.consume for r in runs]),
            _rate(count, [r.produce + r.consume for r in runs]),
        )

    raw_rates, typed_rates, metered_rates, peer_rates = (rates(runs[side]) for side in sides)
    print(
        f"messages: {count} ToolInvocation, {len(raw[0][1])} bytes each, {PARTITIONS} "
        f"partitions, median of {rounds} rounds, broker {bootstrap}, {tuning.describe()}"
    )
    print(
        f"{'':18}{'raw msg/s':>12}{'typed msg/s':>14}{'typed/raw':>11}"
        f"{'metered msg/s':>16}{'metered/typed':>15}"
    )
    for name, raw_rate, typed_rate, metered_rate in zip(
        ("produce", "consume", "produce+consume"),
        raw_rates,
        typed_rates,
        metered_rates,
        strict=True,
    ):
        print(
            f"{name:18}{raw_rate:>12,.0f}{typed_rate:>14,.0f}{typed_rate / raw_rate:>10.2f}x"
            f"{metered_rate:>16,.0f}{metered_rate / typed_rate:>14.2f}x"
        )
    print("target: metered/typed >= 0.90x (metrics cost at most 10%)")
    print(f"\n{'':18}{'peer msg/s':>12}{'typed/peer':>12}")
    for name, peer_rate, typed_rate in zip(
        ("produce", "consume", "produce+consume"), peer_rates, typed_rates, strict=True
    ):
        print(f"{name:18}{peer_rate:>12,.0f}{typed_rate / peer_rate:>11.2f}x")
    print("target: produce+consume typed/peer >= 2.50x")
    print(
        f"\nserdes alone, us per message: ours serialize {ours_alone.serialize:.2f}, "
        f"deserialize {ours_alone.deserialize:.2f}; peer's serialize "
        f"{theirs_alone.serialize:.2f}, deserialize {theirs_alone.deserialize:.2f}"
    )
    print(
        f"producer's own Python work (produce() with a no-op client, minus the serializer): "
        f"{layer_alone:.2f} us a message"
    )
    for name, index, alone, limit in (
        ("produce", 0, ours_alone.serialize, 1.0),
        ("consume", 1, ours_alone.deserialize, 2.0),
    ):
        typed_us, raw_us = 1e6 / typed_rates[index], 1e6 / raw_rates[index]
        layer = typed_us - raw_us - alone
        print(
            f"typed layer's own cost, {name}: {typed_us:.2f} - {raw_us:.2f} (raw) - "
            f"{alone:.2f} (serde) = {layer:.2f} us a message (target: at most {limit:g} us)"
        )
    print(
        "untimed start-up (clients built, primer sent and received), median: "
        + ", ".join(
            f"{side} {statistics.median(r.startup for r in runs[side]):.2f} s" for side in sides
        )
    )


def main() -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bootstrap", metavar="HOST:PORT")
    for client in ("producer", "consumer"):
        parser.add_argument(
            f"--{client}-set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=f"librdkafka setting for both sides' {client}s (repeatable)",
        )
    args = parser.parse_args()
    run(
        args.messages,
        args.bootstrap,
        rounds=max(1, args.rounds),
        tuning=Tuning(_parse_tuning(args.producer_set), _parse_tuning(args.consumer_set)),
    )


if __name__ == "__main__":
    main()

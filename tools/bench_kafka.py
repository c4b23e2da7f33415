"""Throughput of the typed Kafka clients against raw confluent-kafka, measured in one run.

Produces and consumes N ToolInvocation messages through a broker twice: with
ContractProducer/ContractConsumer (typed serdes, keys, delivery futures, offset storing),
and as the same bytes with plain Producer/Consumer (the baseline). Prints messages per
second for each and the typed/raw ratio. Starts a local registry, and a local Tansu
broker unless --bootstrap is given.

    python tools/bench_kafka.py [--messages 100000] [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.catalog import load_settings
from somacontracts.cli import main as cli_main
from somacontracts.kafka import (
    ContractConsumer,
    ContractProducer,
    Received,
    TopicSpec,
    apply_plans,
    open_admin,
    plan_topics,
)
from somacontracts.kafka.local import LocalBroker
from somacontracts.kafka.samples import sample_invocation
from somacontracts.models import ToolInvocation
from somacontracts.registry import LocalRegistry
from somacontracts.serde import ContractSerializer

PARTITIONS = 3


def _typed(bootstrap: str, registry: str, topic: str, objects: list[ToolInvocation]) -> float:
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    began = time.perf_counter()
    with ContractProducer(
        ToolInvocation, registry, settings=settings, topic=topic, subject=ToolInvocation.SUBJECT
    ) as producer:
        for obj in objects:
            producer.produce(obj)
    count = 0

    def handle(_received: Received[ToolInvocation]) -> None:
        nonlocal count
        count += 1

    with ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, p) for p in range(PARTITIONS)],
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
    ) as consumer:
        consumer.run(handle, max_messages=len(objects), idle_timeout=10, poll_timeout=0.1)
    elapsed = time.perf_counter() - began
    if count != len(objects):
        raise SystemExit(f"typed run consumed {count} of {len(objects)} messages")
    return elapsed


def _raw(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> float:
    began = time.perf_counter()
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(60)
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "bench-raw", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    count = 0
    try:
        while count < len(messages):
            batch = consumer.consume(num_messages=500, timeout=1.0)
            if not batch:
                raise SystemExit(f"raw run consumed {count} of {len(messages)} messages")
            count += sum(1 for msg in batch if msg.error() is None)
    finally:
        consumer.close()
    return time.perf_counter() - began


def run(count: int, bootstrap: str | None) -> None:
    """Start what is missing, run both passes, print the figures."""
    with contextlib.ExitStack() as stack:
        if bootstrap is None:
            bootstrap = stack.enter_context(LocalBroker()).bootstrap_servers
        registry = stack.enter_context(LocalRegistry(host="127.0.0.1", port=0)).url
        with tempfile.TemporaryDirectory() as scratch:
            lock = str(Path(scratch) / "lock")
            with contextlib.redirect_stdout(None):
                cli_main(["register", "--registry", registry, "--lock", lock])
        suffix = uuid.uuid4().hex[:8]
        typed_topic, raw_topic = f"bench.typed.{suffix}", f"bench.raw.{suffix}"
        admin = open_admin(load_settings({"KAFKA_BOOTSTRAP_SERVERS": bootstrap}))
        specs = [TopicSpec(typed_topic, PARTITIONS), TopicSpec(raw_topic, PARTITIONS)]
        apply_plans(admin, plan_topics(admin, specs))
        objects = [sample_invocation(tenant_id=f"tenant-{i % 50}") for i in range(count)]
        with ContractSerializer(ToolInvocation, registry) as serializer:
            context = SerializationContext("tool.requests", MessageField.VALUE)
            raw = [(o.tenant_id.encode(), serializer(o, context) or b"") for o in objects]
        raw_s = _raw(bootstrap, raw_topic, raw)
        typed_s = _typed(bootstrap, registry, typed_topic, objects)
    print(f"messages: {count} ToolInvocation, {len(raw[0][1])} bytes each, broker {bootstrap}")
    print(f"raw bytes (baseline): {count / raw_s:>10,.0f} msg/s  ({raw_s:.2f} s)")
    print(f"typed serdes:         {count / typed_s:>10,.0f} msg/s  ({typed_s:.2f} s)")
    print(f"typed / raw: {raw_s / typed_s:.2f}x (target >= 0.70x)")


def main() -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--bootstrap", metavar="HOST:PORT")
    args = parser.parse_args()
    run(args.messages, args.bootstrap)


if __name__ == "__main__":
    main()

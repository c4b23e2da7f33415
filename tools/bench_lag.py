"""How stale the consumer lag gauge gets while one long batch is handled, measured in one run.

Puts N ToolInvocation messages on a fresh topic of one partition (one per broker batch:
Tansu's end offset counts batches), then has each side take them in one batch of up to
500 and handle them with a handler of ``--handler-ms`` each, committing each message. At
every message the side records its gauge and the true lag (N minus the message's offset:
what is not committed yet). Reported per side: the longest time the gauge stood still
while the true lag moved (its age), and the largest gap between gauge and true lag.

- baseline (librdkafka statistics, as the typed consumer did before): a confluent-kafka
  ``Consumer`` whose ``stats_cb`` keeps ``consumer_lag``, ``statistics.interval.ms`` = the
  interval; confluent-kafka serves statistics only inside ``consume()``;
- typed: ``ContractConsumer`` with ``ClientMetrics(lag_interval=interval)``
  (:class:`~somacontracts.kafka.lag.LagWatch` asks the broker beside the batch).

    python tools/bench_lag.py [--messages 300] [--handler-ms 10] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
from confluent_kafka import Consumer, TopicPartition
from prometheus_client import CollectorRegistry

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.kafka import (
    ContractConsumer,
    ContractProducer,
    TopicSpec,
    apply_plans,
    open_admin,
    plan_topics,
)
from somacontracts.kafka._admin import TANSU_CLUSTER_ID
from somacontracts.kafka.metrics import ClientMetrics
from somacontracts.models import ToolInvocation
from somacontracts.tooling.cli import main as cli_main
from somacontracts.tooling.dev.broker import LocalBroker
from somacontracts.tooling.dev.samples import sample_invocation
from somacontracts.tooling.registry import LocalRegistry

KMS = "local-kms://somacontracts-bench"
"""The KMS key of the KEKs the contracts' encryption rules name (register creates them)."""

CLUSTER = ["--kafka-cluster-id", TANSU_CLUSTER_ID]
"""The local broker's cluster id, for the subjects' topic associations."""

Reading = tuple[float, float | None, int]
"""(when, the gauge, the true lag) at one message."""


def _staleness(readings: list[Reading]) -> tuple[float, float, int]:
    """The longest time the gauge stood still while the true lag moved, the largest gap
    between the gauge and the true lag where there was a gauge, and at how many messages
    there was none."""
    age = worst = 0.0
    since = readings[0][0]
    for (_t0, gauge0, _), (t1, gauge1, _) in itertools.pairwise(readings):
        if gauge1 != gauge0:
            since = t1
        age = max(age, t1 - since)
    for _t, gauge, true in readings:
        if gauge is not None:
            worst = max(worst, abs(gauge - true))
    return age, worst, sum(gauge is None for _t, gauge, _true in readings)


def _topic(settings: Settings, registry: str, count: int) -> str:
    topic = f"bench.lag.{uuid.uuid4().hex[:8]}"
    admin = open_admin(settings)
    apply_plans(admin, plan_topics(admin, [TopicSpec(topic, 1)]))
    with ContractProducer(
        ToolInvocation,
        registry,
        settings=settings,
        topic=topic,
        subject=ToolInvocation.SUBJECT,
        config={"batch.num.messages": 1, "linger.ms": 0},
        metrics=False,
    ) as producer:
        for _ in range(count):
            producer.produce(sample_invocation(tenant_id="t"))
        producer.flush(60)
    return topic


def baseline(
    settings: Settings, topic: str, count: int, pause: float, interval: float
) -> list[Reading]:
    """The statistics side: what librdkafka's ``consumer_lag`` said at each message."""
    gauge: list[float | None] = [None]

    def stats(document: str) -> None:
        lag = orjson.loads(document)["topics"].get(topic, {}).get("partitions", {}).get("0", {})
        value = lag.get("consumer_lag", -1)
        gauge[0] = float(value) if value >= 0 else None

    consumer = Consumer(
        {
            **settings.consumer_config(f"bench-{uuid.uuid4().hex[:6]}"),
            "enable.auto.commit": False,
            "stats_cb": stats,
            "statistics.interval.ms": int(interval * 1000),
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    readings: list[Reading] = []
    try:
        while len(readings) < count:
            for msg in consumer.consume(num_messages=500, timeout=1.0):
                readings.append((time.monotonic(), gauge[0], count - (msg.offset() or 0)))
                time.sleep(pause)
                consumer.commit(message=msg, asynchronous=False)
    finally:
        consumer.close()
    return readings


def typed(
    settings: Settings, registry: str, topic: str, count: int, pause: float, interval: float
) -> list[Reading]:
    """The typed side: the ``somacontracts_consumer_lag`` gauge at each message."""
    metrics = ClientMetrics(CollectorRegistry(), lag_interval=interval)
    group = f"bench-{uuid.uuid4().hex[:6]}"
    labels = {"topic": topic, "partition": "0", "group": group}
    readings: list[Reading] = []
    value: Callable[[str, dict[str, str]], float | None] = metrics.registry.get_sample_value

    def handle(received: object) -> None:
        offset = received.offset  # type: ignore[attr-defined]
        readings.append(
            (time.monotonic(), value("somacontracts_consumer_lag", labels), count - offset)
        )
        time.sleep(pause)

    with ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        group_id=group,
        subject=ToolInvocation.SUBJECT,
        metrics=metrics,
    ) as consumer:
        consumer.run(handle, max_messages=count, idle_timeout=10, batch_size=500)
    metrics.close()
    return readings


def main() -> None:
    """Start a broker and a registry, measure both sides, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--handler-ms", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    pause = args.handler_ms / 1000
    with contextlib.ExitStack() as stack:
        bootstrap = stack.enter_context(LocalBroker()).bootstrap_servers
        registry = stack.enter_context(LocalRegistry(host="127.0.0.1", port=0)).url
        with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(None):
            lock = str(Path(scratch) / "lock")
            cli_main(
                ["register", "--registry", registry, "--lock", lock, "--create-keks", KMS, *CLUSTER]
            )
        settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
        print(
            f"{args.messages} messages in one batch, handler {args.handler_ms:g} ms each, "
            f"lag read every {args.interval:g} s; the batch takes about "
            f"{args.messages * pause:.1f} s"
        )
        sides = {
            "baseline (librdkafka statistics)": baseline(
                settings,
                _topic(settings, registry, args.messages),
                args.messages,
                pause,
                args.interval,
            ),
            "typed (LagWatch)": typed(
                settings,
                registry,
                _topic(settings, registry, args.messages),
                args.messages,
                pause,
                args.interval,
            ),
        }
        for name, readings in sides.items():
            age, gap, absent = _staleness(readings)
            print(
                f"{name:34} max age {age:6.2f} s   max gap to true lag {gap:5.0f}   "
                f"no gauge at {absent} of {len(readings)} messages"
            )


if __name__ == "__main__":
    main()

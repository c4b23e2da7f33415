"""The typed clients' series on a real broker: a lag gauge current inside a long batch and
defined before the group's first commit, one series per group, failed dead letters."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from prometheus_client import CollectorRegistry

from somacontracts.catalog.environment import Settings
from somacontracts.kafka import ContractConsumer, ContractProducer, DeliveryError, Received
from somacontracts.kafka.metrics import ClientMetrics
from somacontracts.models import ToolInvocation
from somacontracts.tooling.dev.samples import sample_invocation
from tests.kafka.conftest import FAST_GROUP, create_topics
from tests.kafka.test_metrics import _scrape


@pytest.fixture
def metrics() -> Iterator[ClientMetrics]:
    found = ClientMetrics(CollectorRegistry(), lag_interval=0.1)
    yield found
    found.close()


def _produce(settings: Settings, registry: str, topic: str, count: int) -> None:
    """``count`` messages to partition 0 of ``topic``, one per broker batch (the local
    broker's end offset counts batches)."""
    with ContractProducer(
        ToolInvocation,
        registry,
        settings=settings,
        topic=topic,
        subject=ToolInvocation.SUBJECT,
        metrics=False,
    ) as producer:
        for _ in range(count):
            producer.send(sample_invocation(tenant_id="t")).result(10)


def _consumer(
    settings: Settings,
    registry: str,
    topic: str,
    metrics: ClientMetrics,
    group: str,
    **options: object,
) -> ContractConsumer[ToolInvocation]:
    return ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        group_id=group,
        subject=ToolInvocation.SUBJECT,
        config=FAST_GROUP,
        metrics=metrics,
        **options,  # type: ignore[arg-type]
    )


def _lag_when(metrics: ClientMetrics, labels: dict[str, str], expected: float) -> float | None:
    """The lag gauge of ``labels`` once it reads ``expected`` (within 10 s), else its last."""
    deadline = time.monotonic() + 10
    value = None
    while time.monotonic() < deadline:
        value = metrics.registry.get_sample_value("somacontracts_consumer_lag", labels)
        if value == expected:
            break
        time.sleep(0.02)
    return value


def test_the_lag_gauge_moves_inside_one_batch_and_before_the_first_commit(
    settings: Settings, registry: str, admin: AdminClient, metrics: ClientMetrics
) -> None:
    """Every message of one batch sees the lag of what is not yet committed, the first
    one before the new group ever committed (all of the partition)."""
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic, partitions=1)
    count = 8
    _produce(settings, registry, topic, count)
    group = f"lag-{uuid.uuid4().hex[:6]}"
    labels = {"topic": topic, "partition": "0", "group": group}
    seen: list[float | None] = []

    def handle(received: Received[ToolInvocation]) -> None:
        seen.append(_lag_when(metrics, labels, count - received.offset))

    with _consumer(settings, registry, topic, metrics, group) as consumer:
        consumer.run(handle, max_messages=count, idle_timeout=10, batch_size=500)
        assert _lag_when(metrics, labels, 0) == 0
    assert seen == [float(count - n) for n in range(count)]
    assert metrics.registry.get_sample_value("somacontracts_consumer_lag", labels) is None


def test_a_group_that_never_committed_lags_by_the_whole_partition(
    settings: Settings, registry: str, admin: AdminClient, metrics: ClientMetrics
) -> None:
    """Under the batch policy nothing is committed until the batch ends: a new group stuck
    in its first batch lags by every message (librdkafka's statistics gave no lag)."""
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic, partitions=1)
    _produce(settings, registry, topic, 5)
    group = f"new-{uuid.uuid4().hex[:6]}"
    labels = {"topic": topic, "partition": "0", "group": group}
    seen: list[float | None] = []
    with _consumer(settings, registry, topic, metrics, group, commit="batch") as consumer:
        consumer.run(
            lambda r: seen.append(_lag_when(metrics, labels, 5)),
            max_messages=3,
            idle_timeout=10,
            batch_size=500,
        )
        assert seen == [5.0, 5.0, 5.0]
        assert _lag_when(metrics, labels, 2) == 2


def test_two_groups_in_one_process_have_series_of_their_own(
    settings: Settings, registry: str, admin: AdminClient, bootstrap: str, metrics: ClientMetrics
) -> None:
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic, partitions=1)
    _produce(settings, registry, topic, 1)
    raw = Producer({"bootstrap.servers": bootstrap})
    raw.produce(topic, b"\x00\x7f\xff\xff\xffgarbage", b"t")  # an id no registry gave
    raw.flush(10)
    port = metrics.serve(0)
    groups = [f"{name}-{uuid.uuid4().hex[:6]}" for name in ("reads-both", "reads-one")]
    for group, count in zip(groups, (2, 1), strict=True):
        with _consumer(settings, registry, topic, metrics, group) as consumer:
            consumer.run(lambda _r: None, max_messages=count, idle_timeout=10)
    serde = {
        labels["group"]: value
        for (name, pairs), value in _scrape(port).items()
        if name == "somacontracts_serde_errors_total"
        and (labels := dict(pairs))["topic"] == topic
        and labels.get("error") == "SchemaNotFoundError"
    }
    assert serde == {groups[0]: 1, groups[1]: 0}


def test_a_dead_letter_the_producer_refuses_is_counted(
    settings: Settings, registry: str, admin: AdminClient, bootstrap: str, metrics: ClientMetrics
) -> None:
    """A message larger than the dead-letter producer's ``message.max.bytes`` cannot be
    copied: the run stops with one DeliveryError and the failure is counted."""
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic, partitions=1)
    raw = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 3_000_000})
    raw.produce(topic, b"\x01" * 1_500_000, b"big")
    raw.flush(10)
    group = f"dlq-{uuid.uuid4().hex[:6]}"
    refused = pytest.raises(DeliveryError, match=r"cannot dead-letter the message: .*too large")
    with _consumer(settings, registry, topic, metrics, group) as consumer, refused:
        consumer.run(lambda _r: None, max_messages=1, idle_timeout=10)
    value = metrics.registry.get_sample_value
    labels = {"topic": topic, "contract": "ToolInvocation", "group": group}
    assert value("somacontracts_dead_letter_failures_total", labels) == 1
    assert value("somacontracts_dead_lettered_total", {**labels, "reason": "undecodable"}) == 0
    # Its first bytes read as a schema id the registry does not have.
    serde = {**labels, "operation": "deserialize", "error": "SchemaNotFoundError"}
    assert value("somacontracts_serde_errors_total", serde) == 1

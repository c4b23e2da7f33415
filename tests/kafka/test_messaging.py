"""Typed producer and consumer against a broker: round trip, order, dead letters, restarts."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.errors import ContractError
from somacontracts.kafka import (
    BrokerUnavailableError,
    ContractConsumer,
    ContractProducer,
    Received,
    dlq_name,
)
from somacontracts.models import (
    ToolInvocation,
    ToolResult,
    ToolResultMetadata,
    ToolResultMetrics,
    ToolResultStatus,
)
from somacontracts.tooling.dev.broker import free_port
from somacontracts.tooling.dev.samples import sample_invocation
from tests.kafka.conftest import FAST_GROUP, create_topics

PARTITIONS = 3


def _producer(settings: Settings, registry: str, model: Any, topic: str) -> Any:
    return ContractProducer(model, registry, settings=settings, topic=topic, subject=model.SUBJECT)


def _consumer(
    settings: Settings, registry: str, model: Any, topic: str, group: str, **options: Any
) -> Any:
    return ContractConsumer(
        model,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, p) for p in range(PARTITIONS)],
        group_id=group,
        subject=model.SUBJECT,
        **options,
    )


def _read_raw(bootstrap: str, topic: str, count: int, timeout: float = 10.0) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "raw-reader", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        found: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                found.append(msg)
        return found
    finally:
        consumer.close()


def test_gateway_executor_round_trip_keeps_correlation_ids(
    settings: Settings, registry: str, admin: AdminClient
) -> None:
    requests, results = settings.topic_name("tool_requests"), settings.topic_name("tool_results")
    create_topics(admin, requests, results)
    calls = {
        f"corr-{i}": sample_invocation(tenant_id=f"t{i % 2}", correlation_id=f"corr-{i}")
        for i in range(6)
    }
    with _producer(settings, registry, ToolInvocation, requests) as gateway:
        for call in calls.values():
            gateway.send(call)
    executor_out = _producer(settings, registry, ToolResult, results)

    def execute(received: Received[ToolInvocation]) -> None:
        call = received.value
        assert received.key == call.tenant_id.encode()
        executor_out.send(
            ToolResult(
                task_id=call.task_id,
                status=ToolResultStatus.success,
                output={"ran": call.tool_name},
                metrics=ToolResultMetrics(duration_ms=1),
                metadata=ToolResultMetadata(
                    tenant_id=call.tenant_id, correlation_id=call.metadata.correlation_id
                ),
            )
        ).result(10)

    # The executor joins a consumer group, as the tool executor does (one group join).
    with ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[requests],
        subject=ToolInvocation.SUBJECT,
        group_id=f"executor-{uuid.uuid4().hex[:6]}",
        config=FAST_GROUP,
    ) as executor:
        stats = executor.run(execute, max_messages=len(calls), idle_timeout=20)
    executor_out.close()
    assert stats.handled == len(calls)

    answers: dict[str, ToolResult] = {}
    with _consumer(settings, registry, ToolResult, results, "gateway") as gateway_in:
        gateway_in.run(
            lambda r: answers.__setitem__(r.value.metadata.correlation_id or "", r.value),
            max_messages=len(calls),
            idle_timeout=10,
        )
    assert answers.keys() == calls.keys()
    for corr, result in answers.items():
        assert result.task_id == calls[corr].task_id
        assert result.metadata.tenant_id == calls[corr].tenant_id


def test_per_tenant_order_is_kept_across_partitions(
    settings: Settings, registry: str, admin: AdminClient
) -> None:
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic)
    tenants = [f"tenant-{i}" for i in range(8)]
    per_tenant = 40
    with _producer(settings, registry, ToolInvocation, topic) as producer:
        for n in range(per_tenant):
            for tenant in tenants:
                call = sample_invocation(tenant_id=tenant)
                call.payload = {"n": n}
                producer.send(call)
    seen: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)

    def record(received: Received[ToolInvocation]) -> None:
        payload = received.value.payload
        assert isinstance(payload, dict)
        number = payload["n"]
        assert isinstance(number, int)
        seen[received.value.tenant_id].append(number)
        partitions[received.value.tenant_id].add(received.partition)

    with _consumer(settings, registry, ToolInvocation, topic, "order") as consumer:
        consumer.run(record, max_messages=len(tenants) * per_tenant, idle_timeout=10)
    assert dict(seen) == {t: list(range(per_tenant)) for t in tenants}
    assert all(len(p) == 1 for p in partitions.values())
    assert len(set().union(*partitions.values())) > 1


def test_poison_and_failing_messages_go_to_the_dlq_and_consumption_goes_on(
    settings: Settings, registry: str, admin: AdminClient, bootstrap: str
) -> None:
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic, partitions=1)
    good = [sample_invocation(tenant_id="t") for _ in range(5)]
    with _producer(settings, registry, ToolInvocation, topic) as producer:
        producer.send(good[0]).result(10)
        raw = Producer({"bootstrap.servers": bootstrap})
        raw.produce(topic, b"\x01garbage", b"t", headers=[("trace", b"abc")])
        raw.flush(10)
        for call in good[1:]:
            producer.send(call).result(10)
    unlucky = good[2].task_id
    handled: list[uuid.UUID] = []
    attempts: list[uuid.UUID] = []

    def handle(received: Received[ToolInvocation]) -> None:
        attempts.append(received.value.task_id)
        if received.value.task_id == unlucky:
            raise RuntimeError("tool backend\nrefused")
        handled.append(received.value.task_id)

    with ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        subject=ToolInvocation.SUBJECT,
        group_id="dlq",
        max_attempts=3,
    ) as consumer:
        stats = consumer.run(handle, max_messages=6, idle_timeout=10)
    assert handled == [c.task_id for c in good if c.task_id != unlucky]
    assert attempts.count(unlucky) == 3
    assert (stats.handled, stats.dead_lettered, stats.retries) == (4, 2, 2)

    dead = sorted(_read_raw(bootstrap, dlq_name(topic), 2), key=lambda m: m.offset())
    assert len(dead) == 2
    poison, failed = (dict(m.headers()) for m in dead)
    assert dead[0].value() == b"\x01garbage"
    assert dead[0].key() == b"t"
    assert poison["trace"] == b"abc"
    assert poison["dlq.topic"] == topic.encode()
    assert (poison["dlq.partition"], poison["dlq.offset"]) == (b"0", b"1")
    assert poison["dlq.error"].startswith(b"DeserializationError: ")
    assert poison["dlq.attempts"] == b"0"
    assert (failed["dlq.offset"], failed["dlq.attempts"]) == (b"3", b"3")
    assert failed["dlq.error"] == b"RuntimeError: tool backend refused"


def _sent(
    settings: Settings, registry: str, admin: AdminClient, topic: str, count: int
) -> list[ToolInvocation]:
    """``count`` tool calls sent to ``topic`` (created), over five tenants."""
    create_topics(admin, topic)
    sent = [sample_invocation(tenant_id=f"t{i % 5}") for i in range(count)]
    with _producer(settings, registry, ToolInvocation, topic) as producer:
        for call in sent:
            producer.send(call)
    return sent


class Crash(BaseException):
    """Stands for the process dying in the middle of a handler."""


@pytest.mark.slow
def test_handler_crash_then_restart_loses_and_skips_nothing(
    settings: Settings, registry: str, admin: AdminClient
) -> None:
    topic = settings.topic_name("tool_requests")
    sent = _sent(settings, registry, admin, topic, 300)
    done: list[uuid.UUID] = []

    def crashing(received: Received[ToolInvocation]) -> None:
        if len(done) == 120:
            raise Crash
        done.append(received.value.task_id)

    group = f"crash-{uuid.uuid4().hex[:6]}"
    with (
        _consumer(settings, registry, ToolInvocation, topic, group) as first,
        pytest.raises(Crash),
    ):
        first.run(crashing, idle_timeout=10)
    assert len(done) == 120
    with _consumer(settings, registry, ToolInvocation, topic, group) as second:
        second.run(lambda r: done.append(r.value.task_id), idle_timeout=3)
    assert set(done) == {c.task_id for c in sent}
    assert len(done) == len(sent)


@pytest.mark.parametrize("commit", ["message", "batch"])
def test_the_same_consumer_takes_again_what_an_exception_left_unhandled(
    settings: Settings, registry: str, admin: AdminClient, commit: str
) -> None:
    # An exception that is not an Exception ends the run mid-batch; the consumer object
    # lives on (the exception was caught): its next run starts at the message in hand.
    topic = f"tool.requests.{uuid.uuid4().hex[:8]}"
    sent = _sent(settings, registry, admin, topic, 30)
    done: list[uuid.UUID] = []

    def crashing(received: Received[ToolInvocation]) -> None:
        if len(done) == 12:
            raise Crash
        done.append(received.value.task_id)

    group = f"caught-{uuid.uuid4().hex[:6]}"
    with _consumer(settings, registry, ToolInvocation, topic, group, commit=commit) as consumer:
        with pytest.raises(Crash):
            consumer.run(crashing, idle_timeout=10)
        consumer.run(lambda r: done.append(r.value.task_id), idle_timeout=3)
    assert sorted(map(str, done)) == sorted(str(c.task_id) for c in sent)


def test_broker_down_at_start_is_one_clear_line_within_bounded_time(registry: str) -> None:
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"})
    for start in (
        lambda: ContractProducer(ToolInvocation, registry, settings=settings, connect_timeout=1),
        lambda: ContractConsumer(
            ToolInvocation, registry, settings=settings, partitions=[], connect_timeout=1
        ),
    ):
        began = time.monotonic()
        with pytest.raises(BrokerUnavailableError) as caught:
            start()
        assert time.monotonic() - began < 5
        assert isinstance(caught.value, ContractError)
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(f"Kafka at {settings.bootstrap_servers} is unavailable: ")


def test_a_new_group_s_idle_time_counts_from_its_assignment(
    settings: Settings, registry: str, admin: AdminClient
) -> None:
    """A group join is not idleness: ``idle_timeout`` shorter than the join still ends with
    the message handled. On Tansu the consumer joins with a short session (its join waits
    half of it), unless the caller configured the group's timing."""
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic)
    with _producer(settings, registry, ToolInvocation, topic) as producer:
        producer.send(sample_invocation()).result(10)
    handled: list[Received[ToolInvocation]] = []
    with ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[topic],
        subject=ToolInvocation.SUBJECT,
        group_id=f"join-{uuid.uuid4().hex[:6]}",
    ) as consumer:
        stats = consumer.run(handled.append, idle_timeout=0.5, max_messages=1)
    assert (stats.handled, len(handled)) == (1, 1)

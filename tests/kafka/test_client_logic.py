"""The producer's and consumer's own logic against client doubles, without a broker.

Delivery reports, failure collection, the commit policies (each message's offset
committed before the next handler call, or each partition's once per batch, also when a
handler's exception ends a batch early) and dead-letter acknowledgement before an offset
is committed.
The doubles stand for confluent-kafka's ``Producer`` and ``Consumer`` and the serdes;
the broker tests in ``test_messaging.py`` check the same guarantees end to end.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from confluent_kafka import KafkaError, Message, TopicPartition

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.errors import ConfigurationError, DeserializationError
from somacontracts.kafka import (
    ContractConsumer,
    ContractProducer,
    Delivered,
    DeliveryError,
    Received,
)
from somacontracts.kafka.received import _make_received
from somacontracts.models import ToolInvocation
from somacontracts.tooling.dev.samples import sample_invocation

TOPIC = "tool.requests.logic"
Report = Callable[[KafkaError | None, Message], None]


class FakeProducer:
    """Queues messages; ``poll`` and ``flush`` deliver them (or fail those of ``failing``)."""

    instances: ClassVar[list[FakeProducer]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.failing: set[bytes | None] = set()
        self.full = 0
        self.sent: list[tuple[str, bytes | None, bytes | None, Any, Report]] = []
        self._pending: list[int] = []
        self._lock = threading.Lock()
        FakeProducer.instances.append(self)

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        *,
        headers: Any = None,
        on_delivery: Report,
    ) -> None:
        if self.full:
            self.full -= 1
            raise BufferError("Local: Queue full")
        with self._lock:
            self.sent.append((topic, value, key, headers, on_delivery))
            self._pending.append(len(self.sent) - 1)

    def _deliver(self) -> int:
        with self._lock:
            pending, self._pending = self._pending, []
        for index in pending:
            topic, value, key, _headers, report = self.sent[index]
            msg = Message(topic=topic, partition=index % 3, offset=index, key=key, value=value)
            if key in self.failing:
                report(KafkaError(KafkaError._MSG_TIMED_OUT, "Local: Message timed out"), msg)
            else:
                report(None, msg)
        return len(pending)

    def poll(self, timeout: float = -1) -> int:
        served = self._deliver()
        if not served and timeout > 0:
            time.sleep(min(timeout, 0.01))
        return served

    def flush(self, timeout: float = -1) -> int:
        self._deliver()
        return 0

    def list_topics(self, *args: Any, **kwargs: Any) -> None:
        return None

    def close(self) -> None:
        return None


class FakeSerializer:
    client = None  # the registry client a producer checks readers with (patched out)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __call__(self, obj: ToolInvocation, ctx: Any = None) -> bytes:
        return obj.task_id.bytes

    def close(self) -> None:
        return None


OBJECTS: dict[bytes, ToolInvocation] = {}
POISON = b"\x01garbage"


class FakeDeserializer(FakeSerializer):
    def __call__(self, data: bytes | None, ctx: Any = None) -> ToolInvocation | None:  # type: ignore[override]
        if data is None:
            return None
        if data == POISON:
            raise DeserializationError("unknown magic byte 1", topic=ctx.topic)
        return OBJECTS[data]


class FakeConsumer:
    """Hands out ``messages`` in batches; records stored and committed offsets as
    (partition, offset), a commit of the stored offsets as what was stored since the last."""

    messages: ClassVar[list[Message]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.position = 0
        self.stores: list[list[tuple[int, int]]] = []
        self.commits: list[list[tuple[int, int]]] = []
        self.seeks: list[tuple[int, int]] = []
        self._committed_stores = 0

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        batch = self.messages[self.position : self.position + min(num_messages, 4)]
        self.position += len(batch)
        return batch

    def store_offsets(self, message: Message | None = None, offsets: Any = None) -> None:
        assert message is not None
        self.stores.append([(message.partition() or 0, (message.offset() or 0) + 1)])

    def seek(self, partition: TopicPartition) -> None:
        """Take messages again from the one at ``partition``'s offset (seeks recorded)."""
        self.seeks.append((partition.partition, partition.offset))
        self.position = next(
            i
            for i, m in enumerate(self.messages)
            if (m.partition(), m.offset()) == (partition.partition, partition.offset)
        )

    def assign(self, partitions: Any) -> None:
        return None

    def subscribe(self, topics: Any) -> None:
        return None

    def commit(self, offsets: Any = None, asynchronous: bool = True) -> None:
        assert not asynchronous, "a commit must be acknowledged before the run goes on"
        if offsets is not None:
            self.commits.append([(tp.partition, tp.offset) for tp in offsets])
            return
        stored = [pair for store in self.stores[self._committed_stores :] for pair in store]
        self._committed_stores = len(self.stores)
        if stored:
            self.commits.append(sorted(stored))

    def close(self) -> None:
        return None

    def list_topics(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    FakeProducer.instances.clear()
    for module in ("producer", "_admin"):
        monkeypatch.setattr(f"somacontracts.kafka.{module}.ensure_reachable", lambda *a, **k: None)
    for module in ("producer", "dead_letters"):
        monkeypatch.setattr(f"somacontracts.kafka.{module}.Producer", FakeProducer)
    monkeypatch.setattr("somacontracts.kafka.producer.ContractSerializer", FakeSerializer)
    monkeypatch.setattr("somacontracts.kafka.consumer.ContractDeserializer", FakeDeserializer)
    monkeypatch.setattr("somacontracts.kafka._admin.Consumer", FakeConsumer)
    monkeypatch.setattr("somacontracts.kafka.consumer.register_readers", lambda *a, **k: [])
    monkeypatch.setattr("somacontracts.kafka.producer.check_writer", lambda *a, **k: [])
    return load_settings({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"})


def _producer(settings: Settings) -> ContractProducer[ToolInvocation]:
    return ContractProducer(ToolInvocation, "http://registry", settings=settings, topic=TOPIC)


def test_produce_keys_by_tenant_and_raises_failures_at_flush(settings: Settings) -> None:
    producer = _producer(settings)
    fake = FakeProducer.instances[0]
    fake.failing = {b"t-lost"}
    calls = [sample_invocation(tenant_id=t) for t in ("t-1", "t-lost", "t-2")]
    fake.full = 2  # the first message waits twice for room in the local queue
    for call in calls:
        producer.produce(call, headers=(("trace", b"abc"),))
    assert [(key, headers) for _topic, _value, key, headers, _report in fake.sent] == [
        (b"t-1", [("trace", b"abc")]),
        (b"t-lost", [("trace", b"abc")]),
        (b"t-2", [("trace", b"abc")]),
    ]
    with pytest.raises(DeliveryError, match=r"1 message not delivered; first: Local: Messa"):
        producer.flush()
    producer.flush()  # reported once, not again
    producer.close()


def test_produce_without_callback_queues_no_per_message_report(settings: Settings) -> None:
    producer = _producer(settings)
    for tenant in ("a", "b", "c"):
        producer.produce(sample_invocation(tenant_id=tenant))
    reports = {id(report) for *_rest, report in FakeProducer.instances[0].sent}
    assert len(reports) == 1
    producer.close()


def test_produce_callback_and_send_future_see_the_coordinates(settings: Settings) -> None:
    producer = _producer(settings)
    fake = FakeProducer.instances[0]
    fake.failing = {b"t-lost"}
    outcomes: list[tuple[Delivered | None, DeliveryError | None]] = []
    producer.produce(
        sample_invocation(tenant_id="t-1"), on_delivery=lambda d, e: outcomes.append((d, e))
    )
    producer.produce(
        sample_invocation(tenant_id="t-lost"), on_delivery=lambda d, e: outcomes.append((d, e))
    )
    future = producer.send(sample_invocation(tenant_id="t-2"))
    lost = producer.send(sample_invocation(tenant_id="t-lost"))
    producer.flush()  # failures that went to a callback or a future are not raised again
    assert outcomes[0] == (Delivered(TOPIC, 0, 0, b"t-1"), None)
    assert outcomes[1][0] is None
    assert isinstance(outcomes[1][1], DeliveryError)
    assert future.result(1) == Delivered(TOPIC, 2, 2, b"t-2")
    assert isinstance(lost.exception(1), DeliveryError)
    producer.close()


def test_received_built_on_the_hot_path_equals_the_dataclass() -> None:
    value = sample_invocation()
    fields = (value, "topic", 2, 41, b"key", (("h", b"v"),), 1_700_000_000_000)
    made = _make_received(*fields)
    assert type(made) is Received
    assert made == Received(*fields)
    assert dataclasses.astuple(made) == dataclasses.astuple(Received(*fields))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.offset = 0  # type: ignore[misc]


def _messages(count: int, *, poison_at: int | None = None) -> list[Message]:
    """``count`` messages over partitions 0, 1, 2 in turn; offsets count per partition."""
    messages = []
    for index in range(count):
        call = sample_invocation(tenant_id=f"t{index}")
        OBJECTS[call.task_id.bytes] = call
        value = POISON if index == poison_at else call.task_id.bytes
        messages.append(
            Message(
                topic=TOPIC,
                partition=index % 3,
                offset=index // 3,
                key=call.tenant_id.encode(),
                value=value,
                headers=[("trace", b"abc")],
                timestamp=(1, 1_700_000_000_000 + index),
            )
        )
    return messages


def _consumer(settings: Settings, **options: Any) -> ContractConsumer[ToolInvocation]:
    return ContractConsumer(
        ToolInvocation,
        "http://registry",
        settings=settings,
        topics=[TOPIC],
        partitions=[(TOPIC, p) for p in range(3)],
        group_id="logic",
        **options,
    )


def test_the_batch_policy_commits_each_partitions_last_offset_once_per_batch(
    settings: Settings,
) -> None:
    FakeConsumer.messages = _messages(7)
    consumer = _consumer(settings, commit="batch")
    seen: list[Received[ToolInvocation]] = []
    fake: FakeConsumer = consumer._consumer  # type: ignore[assignment]
    commits_seen: list[int] = []

    def handle(received: Received[ToolInvocation]) -> None:
        commits_seen.append(len(fake.commits))
        seen.append(received)

    stats = consumer.run(handle, max_messages=7, idle_timeout=0)
    # Batches of 5 and 2 (the first message waited for, then up to 4 more, the double's
    # limit, taken at once): one store per partition and batch, for the offset after the
    # partition's last message in the batch, committed at the batch's end.
    assert fake.stores == [[(0, 2)], [(1, 2)], [(2, 1)], [(2, 2)], [(0, 3)]]
    assert fake.commits == [[(0, 2), (1, 2), (2, 1)], [(0, 3), (2, 2)]]
    assert commits_seen == [0, 0, 0, 0, 0, 1, 1]
    assert stats.handled == 7
    first = seen[0]
    assert (first.topic, first.partition, first.offset, first.key) == (TOPIC, 0, 0, b"t0")
    assert first.headers == (("trace", b"abc"),)
    assert first.timestamp_ms == 1_700_000_000_000
    consumer.close()


def test_the_message_policy_commits_each_message_before_the_next_handler_call(
    settings: Settings,
) -> None:
    FakeConsumer.messages = _messages(5)
    consumer = _consumer(settings)
    assert consumer.commit_policy == "message"
    fake: FakeConsumer = consumer._consumer  # type: ignore[assignment]
    commits_seen: list[int] = []
    consumer.run(lambda _r: commits_seen.append(len(fake.commits)), max_messages=5, idle_timeout=0)
    assert commits_seen == [0, 1, 2, 3, 4]
    assert fake.commits == [[(0, 1)], [(1, 1)], [(2, 1)], [(0, 2)], [(1, 2)]]
    assert fake.stores == []


def test_an_unknown_commit_policy_is_refused(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="commit: expected one of message, batch"):
        _consumer(settings, commit="seconds")


class Crash(BaseException):
    """Stands for the process dying in a handler."""


@pytest.mark.parametrize("policy", ["message", "batch"])
def test_an_exception_mid_batch_keeps_exactly_what_was_handled(
    settings: Settings, policy: str
) -> None:
    FakeConsumer.messages = _messages(4)
    consumer = _consumer(settings, commit=policy)
    handled: list[int] = []

    def handle(received: Received[ToolInvocation]) -> None:
        if len(handled) == 2:
            raise Crash
        handled.append(received.offset)

    with pytest.raises(Crash):
        consumer.run(handle, max_messages=4, idle_timeout=0)
    fake: FakeConsumer = consumer._consumer  # type: ignore[assignment]
    # Partitions 0 and 1 handled their first message; partition 2's was not handled, and
    # is taken again from there (with the batch's rest: the fake's batches hold four).
    assert fake.seeks == [(2, 0), (0, 1)]
    if policy == "message":
        assert fake.commits == [[(0, 1)], [(1, 1)]]
    else:
        assert fake.stores == [[(0, 1)], [(1, 1)]]
        assert fake.commits == []
        consumer.close()
        assert fake.commits == [[(0, 1), (1, 1)]]


def test_dead_letters_are_acknowledged_before_their_offsets_are_committed(
    settings: Settings,
) -> None:
    FakeConsumer.messages = _messages(6, poison_at=1)
    consumer = _consumer(settings, max_attempts=2)
    failing = FakeConsumer.messages[2].key()
    fake: FakeConsumer = consumer._consumer  # type: ignore[assignment]
    acknowledged_at_commit: list[int] = []
    commit = fake.commit

    def noting(offsets: Any = None, asynchronous: bool = True) -> None:
        dlq = FakeProducer.instances[0] if FakeProducer.instances else None
        acknowledged_at_commit.append(0 if dlq is None else len(dlq.sent) - len(dlq._pending))
        commit(offsets, asynchronous)

    fake.commit = noting  # type: ignore[method-assign]

    def handle(received: Received[ToolInvocation]) -> None:
        if received.key == failing:
            raise RuntimeError("tool backend\nrefused")

    stats = consumer.run(handle, max_messages=6, idle_timeout=0)
    assert (stats.handled, stats.dead_lettered, stats.retries) == (4, 2, 1)
    (dlq,) = FakeProducer.instances
    assert [(topic, key) for topic, _v, key, _h, _r in dlq.sent] == [
        (f"{TOPIC}.dlq", b"t1"),
        (f"{TOPIC}.dlq", b"t2"),
    ]
    poison = dict(dlq.sent[0][3])
    assert poison["dlq.error"].startswith(b"DeserializationError: ")
    assert (poison["dlq.partition"], poison["dlq.offset"], poison["dlq.attempts"]) == (
        b"1",
        b"0",
        b"0",
    )
    failed = dict(dlq.sent[1][3])
    assert failed["dlq.error"] == b"RuntimeError: tool backend refused"
    assert failed["dlq.attempts"] == b"2"
    assert fake.commits == [[(0, 1)], [(1, 1)], [(2, 1)], [(0, 2)], [(1, 2)], [(2, 2)]]
    # Each copy was acknowledged (flushed) before the commit of its original's offset.
    assert acknowledged_at_commit == [0, 1, 2, 2, 2, 2]


def test_a_dead_letter_the_broker_refuses_stops_the_run_before_its_offset(
    settings: Settings,
) -> None:
    FakeConsumer.messages = _messages(3, poison_at=1)
    consumer = _consumer(settings)
    refusing = FakeProducer({})
    refusing.failing = {b"t1"}
    consumer._dead_letters._producer = refusing  # type: ignore[assignment]
    with pytest.raises(DeliveryError, match="cannot dead-letter the message"):
        consumer.run(lambda _r: None, max_messages=3, idle_timeout=0)
    fake: FakeConsumer = consumer._consumer  # type: ignore[assignment]
    assert fake.commits == [[(0, 1)]]


def test_tombstones_go_to_the_dead_letter_topic(settings: Settings) -> None:
    FakeConsumer.messages = [
        Message(topic=TOPIC, partition=0, offset=5, key=b"t", value=None, timestamp=(1, 0))
    ]
    consumer = _consumer(settings)
    stats = consumer.run(lambda _r: None, max_messages=1, idle_timeout=0)
    assert stats.dead_lettered == 1
    (dlq,) = FakeProducer.instances
    headers = dict(dlq.sent[0][3])
    reason = f"MessageError: {TOPIC}[0]@5: a tombstone (null value) carries no contract object"
    assert headers["dlq.error"] == reason.encode()
    fake: FakeConsumer = consumer._consumer  # type: ignore[assignment]
    assert fake.commits == [[(0, 6)]]


def test_a_key_field_override_keys_by_its_text(settings: Settings) -> None:
    # task_id as the key field (compacted audit topics): the UUID's text is the key.
    producer = ContractProducer(
        ToolInvocation, "http://registry", settings=settings, topic=TOPIC, key_field="task_id"
    )
    call = sample_invocation()
    producer.produce(call)
    assert FakeProducer.instances[0].sent[0][2] == str(call.task_id).encode()
    assert isinstance(call.task_id, uuid.UUID)
    producer.close()


def test_tansu_gets_its_fetch_wait_and_group_timing_unless_configured() -> None:
    from types import SimpleNamespace

    from somacontracts.kafka._admin import (
        TANSU_CLUSTER_ID,
        TANSU_FETCH,
        TANSU_GROUP,
        tansu_settings,
    )

    tansu = SimpleNamespace(cluster_id=TANSU_CLUSTER_ID)
    kafka = SimpleNamespace(cluster_id="lkc-abc123")
    assert tansu_settings(tansu, {}, subscribing=True) == {**TANSU_FETCH, **TANSU_GROUP}
    assert tansu_settings(tansu, {}, subscribing=False) == TANSU_FETCH  # assigned: no group
    assert tansu_settings(tansu, {"fetch.wait.max.ms": 100}, subscribing=False) == {}
    assert tansu_settings(tansu, {"session.timeout.ms": 9000}, subscribing=True) == TANSU_FETCH
    assert tansu_settings(kafka, {}, subscribing=True) == {}

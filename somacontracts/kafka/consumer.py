"""The typed consumer: yields contract objects with their Kafka coordinates, at least once.

:class:`ContractConsumer` decodes with :class:`~somacontracts.serde.ContractDeserializer`
and hands each message to a handler in :meth:`~ContractConsumer.run`. An offset is
stored for commit only after its message was handled, so a crash re-delivers instead of
skipping. A message that cannot be decoded, or whose handler fails ``max_attempts``
times, is copied to ``<topic>.dlq`` (same key, value and headers, plus the
``dlq.*`` headers below) and consumption goes on; its offset is stored only once the
dead-letter topic acknowledged the copy, so nothing is lost and nothing is skipped
silently.

Dead-letter headers: ``dlq.topic``, ``dlq.partition``, ``dlq.offset``, ``dlq.error``
(one line), ``dlq.attempts``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from confluent_kafka import Consumer, Message, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.catalog import Settings, load_settings
from somacontracts.errors import ContractError, MessageError, SchemaNotFoundError
from somacontracts.kafka._admin import DEFAULT_CONNECT_TIMEOUT, ensure_reachable
from somacontracts.kafka._typing import topic_for
from somacontracts.kafka.errors import DeliveryError
from somacontracts.kafka.topics import dlq_name
from somacontracts.serde import ContractDeserializer, ContractModel

__all__ = ["ContractConsumer", "Handler", "Received", "RunStats"]

M = TypeVar("M", bound=ContractModel)


@dataclass(frozen=True, slots=True)
class Received(Generic[M]):
    """A decoded message and where it came from."""

    value: M
    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    timestamp_ms: int


Handler = Callable[[Received[M]], None]
"""Processes one message; an exception counts as a failed attempt."""


@dataclass(slots=True)
class RunStats:
    """What :meth:`ContractConsumer.run` did."""

    handled: int = 0
    dead_lettered: int = 0
    retries: int = 0


class ContractConsumer(Generic[M]):
    """Consume ``model`` objects from ``topics`` (default: the contract's catalog topic).

    With ``partitions`` the consumer reads them by manual assignment (no group
    rebalance) from the group's committed offsets, else from the earliest offset; without,
    it subscribes with ``group_id`` (default ``TOOL_EXECUTOR_GROUP``). ``config`` adds
    librdkafka settings. ``max_attempts`` counts handler calls per message before it
    goes to the dead-letter topic.
    """

    def __init__(
        self,
        model: type[M],
        registry: SchemaRegistryClient | str,
        *,
        settings: Settings | None = None,
        topics: Sequence[str] | None = None,
        partitions: Iterable[tuple[str, int]] | None = None,
        group_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        max_attempts: int = 3,
        retry_backoff: float = 0.0,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        resolved = settings if settings is not None else load_settings()
        self.model = model
        self.topics = tuple(topics) if topics else (topic_for(model, resolved, None),)
        self.max_attempts = max(1, max_attempts)
        self.retry_backoff = retry_backoff
        self._settings = resolved
        self._contexts = {t: SerializationContext(t, MessageField.VALUE) for t in self.topics}
        self._deserializer = ContractDeserializer(model, registry)
        self._dlq: Producer | None = None
        self._consumer = Consumer(
            {
                **resolved.consumer_config(group_id),
                # librdkafka commits in the background only offsets stored after handling.
                "enable.auto.commit": True,
                "enable.auto.offset.store": False,
                **(config or {}),
            }
        )
        try:
            ensure_reachable(self._consumer, resolved.bootstrap_servers, timeout=connect_timeout)
        except BaseException:
            self._consumer.close()
            self._deserializer.close()
            raise
        if partitions is not None:
            self._consumer.assign(
                [TopicPartition(t, p, -1000) for t, p in partitions]  # OFFSET_STORED
            )
        else:
            self._consumer.subscribe(list(self.topics))

    def poll(self, timeout: float = 1.0) -> Received[M] | None:
        """The next message decoded, or None if none came within ``timeout`` seconds.

        A message that cannot be decoded goes to the dead-letter topic and None is
        returned. The caller must call :meth:`done` after handling a message.
        """
        msg = self._consumer.poll(timeout)
        if msg is None:
            return None
        if msg.error() is not None:
            raise ContractError(f"Kafka consumer error: {msg.error()}")
        try:
            return self._decode(msg)
        except (MessageError, SchemaNotFoundError) as err:
            self._dead_letter(msg, err, attempts=0)
            self._store(msg)
            return None

    def _decode(self, msg: Message) -> Received[M]:
        topic = msg.topic() or ""
        context = self._contexts.get(topic) or SerializationContext(topic, MessageField.VALUE)
        try:
            value = self._deserializer(msg.value(), context)
        except MessageError as err:
            raise type(err)(
                err.reason, topic=topic, partition=msg.partition(), offset=msg.offset()
            ) from err
        if value is None:
            raise MessageError(
                "a tombstone (null value) carries no contract object",
                topic=topic,
                partition=msg.partition(),
                offset=msg.offset(),
            )
        return Received(
            value=value,
            topic=topic,
            partition=msg.partition() or 0,
            offset=msg.offset() or 0,
            key=msg.key(),
            headers=tuple(_pairs(msg.headers())),
            timestamp_ms=msg.timestamp()[1],
        )

    def done(self, received: Received[M]) -> None:
        """Mark ``received`` handled: its offset will be committed."""
        self._consumer.store_offsets(
            offsets=[TopicPartition(received.topic, received.partition, received.offset + 1)]
        )

    def _store(self, msg: Message) -> None:
        self._consumer.store_offsets(message=msg)

    def run(
        self,
        handler: Handler[M],
        *,
        max_messages: int | None = None,
        idle_timeout: float | None = None,
        poll_timeout: float = 0.5,
    ) -> RunStats:
        """Hand every message to ``handler`` until ``max_messages`` were consumed or nothing
        arrived for ``idle_timeout`` seconds (without either, forever).

        Exceptions that are not ``Exception`` (KeyboardInterrupt, SystemExit) stop the run
        without storing the offset of the message being handled.
        """
        stats = RunStats()
        idle_since = time.monotonic()
        while max_messages is None or stats.handled + stats.dead_lettered < max_messages:
            wanted = (
                500 if max_messages is None else max_messages - stats.handled - stats.dead_lettered
            )
            batch = self._consumer.consume(num_messages=min(500, wanted), timeout=poll_timeout)
            if not batch:
                if idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                    break
                continue
            idle_since = time.monotonic()
            for msg in batch:
                self._process(handler, msg, stats)
        return stats

    def _process(self, handler: Handler[M], msg: Message, stats: RunStats) -> None:
        if msg.error() is not None:
            raise ContractError(f"Kafka consumer error: {msg.error()}")
        try:
            received = self._decode(msg)
        except (MessageError, SchemaNotFoundError) as err:
            self._dead_letter(msg, err, attempts=0)
            self._store(msg)
            stats.dead_lettered += 1
            return
        self._handle(handler, received, msg, stats)

    def _handle(
        self, handler: Handler[M], received: Received[M], msg: Message, stats: RunStats
    ) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                handler(received)
            except Exception as err:
                if attempt == self.max_attempts:
                    self._dead_letter(msg, err, attempts=attempt)
                    self._store(msg)
                    stats.dead_lettered += 1
                    return
                stats.retries += 1
                if self.retry_backoff:
                    time.sleep(self.retry_backoff * attempt)
                continue
            self._store(msg)
            stats.handled += 1
            return

    def _dead_letter(self, msg: Message, err: BaseException, *, attempts: int) -> None:
        """Copy ``msg`` to its dead-letter topic and wait for the broker's acknowledgement."""
        topic = msg.topic() or ""
        if self._dlq is None:
            self._dlq = Producer(self._settings.producer_config())
        reason = " ".join(f"{type(err).__name__}: {err}".split())
        headers = [
            *(msg.headers() or ()),
            ("dlq.topic", topic.encode()),
            ("dlq.partition", str(msg.partition()).encode()),
            ("dlq.offset", str(msg.offset()).encode()),
            ("dlq.error", reason.encode()),
            ("dlq.attempts", str(attempts).encode()),
        ]
        failures: list[str] = []

        def report(error: Any, _msg: Message) -> None:
            if error is not None:
                failures.append(str(error.str()))

        self._dlq.produce(
            dlq_name(topic), msg.value(), msg.key(), headers=headers, on_delivery=report
        )
        remaining = self._dlq.flush(30.0)
        if remaining or failures:
            raise DeliveryError(
                "cannot dead-letter the message: "
                + (failures[0] if failures else "no acknowledgement within 30 s"),
                topic=topic,
                partition=msg.partition(),
                offset=msg.offset(),
            )

    def commit(self) -> None:
        """Commit the stored offsets now (they are also committed in the background)."""
        try:
            self._consumer.commit(asynchronous=False)
        except Exception as err:  # KafkaException _NO_OFFSET when nothing new was stored.
            if "_NO_OFFSET" not in str(err):
                raise

    def close(self) -> None:
        """Commit the stored offsets, leave the group and release the clients."""
        try:
            self.commit()
        finally:
            self._consumer.close()
            if self._dlq is not None:
                self._dlq.flush(30.0)
            self._deserializer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pairs(headers: Any) -> list[tuple[str, bytes | None]]:
    """Headers as (name, value) pairs, whatever form the client returned them in."""
    if not headers:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    return [(str(k), v.encode() if isinstance(v, str) else v) for k, v in items]

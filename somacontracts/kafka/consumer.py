"""The typed consumer: yields contract objects with their Kafka coordinates, at least once.

:class:`ContractConsumer` decodes with :class:`~somacontracts.serde.ContractDeserializer`
and hands each message to a handler in :meth:`~ContractConsumer.run`. An offset is
committed only after its message was handled, with a bound on what a crash re-delivers:
at most the message in hand (``commit="message"``, the default) or the batch in hand
(``commit="batch"``); see :mod:`somacontracts.kafka.commits`.

When an exception ends the run in the middle of a batch, the offsets of what was handled
before it are kept, so it is not handled again and nothing after it is skipped. A
message that cannot be decoded, or whose handler fails ``max_attempts`` times, is copied
to ``<topic>.dlq`` (same key, value and headers, plus the ``dlq.*`` headers below) and
consumption goes on; its offset is committed like a handled message's, once the
dead-letter topic acknowledged the copy, so nothing is lost, nothing is skipped silently
and no dead letter is copied twice unless a crash falls between the copy's acknowledgement
and its commit (the copy's ``dlq.*`` headers name the original, which tells such a
duplicate). Exactly once, across Kafka writes, is :mod:`somacontracts.kafka.processor`'s.
Dead-letter headers: see :mod:`somacontracts.kafka.dead_letters`.

With metrics on (``metrics=True`` or ``SOMACONTRACTS_METRICS``), it counts messages and
bytes taken, deserialize errors, retries, dead-lettered copies and copies that failed,
times each handler call (:mod:`somacontracts.kafka.metrics`), and a
:class:`~somacontracts.kafka.lag.LagWatch` reports each held partition's lag.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Generic, Literal, Self, TypeVar

from confluent_kafka import Consumer, Message, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.errors import (
    ConfigurationError,
    ContractError,
    MessageError,
    SchemaNotFoundError,
)
from somacontracts.kafka._admin import (
    DEFAULT_CONNECT_TIMEOUT,
    open_consumer,
    partitions_at_end,
    take_batch,
)
from somacontracts.kafka.commits import (
    CommitPolicy,
    checked_policy,
    commit_offsets,
    position_after,
    rewind,
    store_handled,
)
from somacontracts.kafka.dead_letters import DeadLetters
from somacontracts.kafka.lag import LagWatch, starts_from_earliest
from somacontracts.kafka.metrics import ClientMetrics, ConsumerTally, metrics_for
from somacontracts.kafka.readers import ReaderRegistration, register_readers
from somacontracts.kafka.received import MessageDecoder, Received
from somacontracts.kafka.routing import contract_name, topic_for
from somacontracts.kafka.topics import ensure_topics as create_missing
from somacontracts.serde import ContractDeserializer, ContractModel, RuleOptions
from somacontracts.serde.contract_model import model_schema
from somacontracts.serde.subjects import SubjectNameStrategy, Subjects

__all__ = [
    "BATCH_SIZE",
    "CommitPolicy",
    "ContractConsumer",
    "Handler",
    "Received",
    "RunStats",
    "StartPosition",
    "take_batch",
]

M = TypeVar("M", bound=ContractModel)

BATCH_SIZE = 500
"""Messages :meth:`ContractConsumer.run` takes from the client at a time, by default."""

StartPosition = Literal["committed", "end"]
"""Where a consumer starts: at the group's committed offsets (else the earliest), or at the
partitions' current end, committing nothing."""

Handler = Callable[[Received[M]], None]
"""Processes one message; an exception counts as a failed attempt."""


@dataclass(slots=True)
class RunStats:
    """What :meth:`ContractConsumer.run` did."""

    handled: int = 0
    dead_lettered: int = 0
    retries: int = 0
    aborted: int = 0
    """Transactions aborted and their messages taken again (a processor's)."""


class ContractConsumer(Generic[M]):
    """Consume ``model`` objects from ``topics`` (default: the contract's catalog topic).

    With ``partitions`` the consumer reads them by manual assignment (no group rebalance)
    from the group's committed offsets, else from the earliest offset; without, it
    subscribes in ``group_id`` (default: the group of ``service``, else of the topics' one
    consuming service in the catalog: ``Settings.group_for``). ``subject`` and
    ``subject_name_strategy`` name the registry subject of each topic as its producers do
    (default ``<topic>-value``). ``config`` adds librdkafka settings; ``rules`` configures
    the Data Contract rules of the schemas read (the KMS of encrypted fields).
    ``max_attempts`` counts handler calls per message before it goes to the dead-letter
    topic. ``commit`` bounds what a crash re-delivers: ``"message"`` (the default) at most
    the message in hand, ``"batch"`` at most the batch in hand (see the module's docstring
    for what each costs). ``metrics`` turns the Prometheus metrics on (True, or a
    :class:`~somacontracts.kafka.metrics.ClientMetrics`) or off (False) whatever the
    environment says. ``start="end"`` reads ``partitions`` (default: every partition of
    ``topics``) from their end when the consumer starts and commits nothing: a reader of
    replies, for which what came before it started is for another reader.
    ``ensure_topics=True`` creates missing catalog topics. ``register_reader`` records the
    group's reader schema of each topic in the registry at start-up, for proofs against
    readers (:mod:`somacontracts.kafka.readers`): ``"warn"`` (a refusal is logged),
    ``"require"`` or ``"off"`` (and always off with ``start="end"``); ``service`` names the
    consuming service there (default: the catalog's consumer of the group, else the group).
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
        subject: str | None = None,
        subject_name_strategy: SubjectNameStrategy | None = None,
        config: Mapping[str, Any] | None = None,
        max_attempts: int = 3,
        retry_backoff: float = 0.0,
        commit: CommitPolicy = "message",
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        rules: RuleOptions | None = None,
        metrics: ClientMetrics | bool | None = None,
        start: StartPosition = "committed",
        ensure_topics: bool = False,
        register_reader: ReaderRegistration = "warn",
        service: str | None = None,
    ) -> None:
        resolved = settings if settings is not None else load_settings()
        self.model = model
        self.commit_policy = checked_policy(commit)
        if start not in ("committed", "end"):
            raise ConfigurationError("start", f"expected committed or end, got {start!r}")
        self._commits = start == "committed"
        self.topics = tuple(topics) if topics else (topic_for(model, resolved, None),)
        if ensure_topics:  # and their dead-letter topics, as the catalog declares them
            create_missing(resolved, self.topics, timeout=connect_timeout)
        self.max_attempts = max(1, max_attempts)
        self.retry_backoff = retry_backoff
        self._settings = resolved
        contexts = {t: SerializationContext(t, MessageField.VALUE) for t in self.topics}
        # The subject of each topic, as its producers name it: where the schema is, and
        # where the data keys of its encrypted fields are.
        naming = Subjects(subject, subject_name_strategy)
        full_name = model_schema(model).full_name
        by_topic = {t: naming.of(contexts[t], full_name, f"{t}-value") for t in self.topics}
        self.subjects = tuple(dict.fromkeys(by_topic.values()))
        self._deserializer = ContractDeserializer(
            model,
            registry,
            subjects=self.subjects,
            subject=subject,
            subject_name_strategy=subject_name_strategy,
            rules=rules,
        )
        self._decoder = MessageDecoder(self._deserializer, contexts)
        self._decode: Callable[[Message], Received[M]] = self._decoder.decode
        self._dead_letters = DeadLetters(resolved)
        client_config = {
            **resolved.consumer_config(
                group_id
                if group_id is not None or start == "end"
                else resolved.group_for(self.topics, service)
            ),
            # The policy commits what was handled; in the background librdkafka commits only
            # offsets stored by done() under the batch policy.
            "enable.auto.commit": self._commits,
            "enable.auto.offset.store": False,
            **(config or {}),
        }
        self._metrics = metrics_for(metrics, resolved)
        self._tallies: dict[str, ConsumerTally] | None = None
        self._lag_watch: LagWatch | None = None
        self.group = str(client_config["group.id"])
        if self._metrics is not None:
            self._contract = contract_name(model)
            # From 0 at the start, so that increase() sees the first message or failure.
            self._tallies = {
                t: self._metrics.consumer(t, self._contract, self.group) for t in self.topics
            }
        self._assigned_at: float | None = None
        """When the group last assigned partitions (subscribed), or the consumer started
        reading them (manual assignment): where ``run``'s idle time starts."""
        try:
            register_readers(
                self._deserializer.client,
                "off" if start == "end" else register_reader,
                model,
                resolved,
                by_topic,
                group=self.group,
                service=service,
            )
            self._consumer, found = open_consumer(
                client_config,
                resolved.bootstrap_servers,
                subscribing=partitions is None and start != "end",
                timeout=connect_timeout,
            )
        except BaseException:
            self._deserializer.close()
            raise
        try:
            if start == "end":
                ends = partitions_at_end(
                    self._consumer, found, self.topics, partitions, timeout=connect_timeout
                )
        except BaseException:
            self._consumer.close()
            self._deserializer.close()
            raise
        if start == "end":
            self._consumer.assign(ends)
            self._assigned_at = time.monotonic()
        elif partitions is not None:
            self._consumer.assign(
                [TopicPartition(t, p, -1000) for t, p in partitions]  # OFFSET_STORED
            )
            self._assigned_at = time.monotonic()
        else:
            self._consumer.subscribe(list(self.topics), on_assign=self._on_assign)
        if self._metrics is not None:
            self._lag_watch = LagWatch(
                self._consumer,
                self._metrics,
                self.group,
                from_earliest=starts_from_earliest(client_config.get("auto.offset.reset")),
            )

    def _on_assign(self, _consumer: Consumer, _partitions: list[TopicPartition]) -> None:
        self._assigned_at = time.monotonic()

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
        tally = None if self._tallies is None else self._taken(msg)
        try:
            return self._decode(msg)
        except (MessageError, SchemaNotFoundError) as err:
            self._dead_letters.send_counted(msg, err, 0, tally)
            self._finished(msg.topic() or "", msg.partition() or 0, msg.offset() or 0)
            return None

    def _taken(self, msg: Message) -> ConsumerTally:
        """Count ``msg`` as taken from Kafka in its topic's tally (metrics on); the tally."""
        assert self._tallies is not None
        topic = msg.topic() or ""
        tally = self._tallies.get(topic)
        if tally is None:
            assert self._metrics is not None
            tally = self._metrics.consumer(topic, self._contract, self.group)
            self._tallies[topic] = tally
        tally.consumed += 1
        tally.consumed_bytes += len(msg.value() or b"")
        return tally

    def done(self, received: Received[M]) -> None:
        """Mark ``received`` handled: under the message policy its offset is committed now
        (acknowledged when this returns); under the batch policy it is committed by the next
        :meth:`commit`, or in the background within ``auto.commit.interval.ms``."""
        self._finished(received.topic, received.partition, received.offset)

    def _finished(self, topic: str, partition: int, offset: int) -> None:
        """The message at ``offset`` was handled or dead-lettered: commit or store it."""
        position = [TopicPartition(topic, partition, offset + 1)]
        if self.commit_policy == "message":
            self._commit_offsets(position)
        else:
            self._consumer.store_offsets(offsets=position)

    def _commit_offsets(self, offsets: list[TopicPartition] | None) -> bool:
        """:func:`~somacontracts.kafka.commits.commit_offsets` on this consumer (nothing
        when it started at the end)."""
        return not self._commits or commit_offsets(self._consumer, offsets)

    def run(
        self,
        handler: Handler[M],
        *,
        max_messages: int | None = None,
        idle_timeout: float | None = None,
        poll_timeout: float = 0.5,
        batch_size: int = BATCH_SIZE,
    ) -> RunStats:
        """Hand every message to ``handler`` until ``max_messages`` were consumed or nothing
        arrived for ``idle_timeout`` seconds of holding partitions (counted from the group's
        assignment, not from the call; without either, forever).

        Messages are taken ``batch_size`` at a time; under the batch policy each
        partition's offset is committed once per batch, so a smaller batch re-delivers less
        after a crash. Exceptions that are not ``Exception`` (KeyboardInterrupt, SystemExit)
        stop the run without committing the offset of the message being handled; the
        offsets of the messages handled before it are kept (committed, or stored and
        committed by :meth:`close`).
        """
        stats = RunStats()
        self._loop(
            lambda batch: self._run_batch(handler, batch, stats),
            stats,
            max_messages=max_messages,
            idle_timeout=idle_timeout,
            poll_timeout=poll_timeout,
            batch_size=batch_size,
        )
        return stats

    def _loop(
        self,
        on_batch: Callable[[list[Message]], None],
        stats: RunStats,
        *,
        max_messages: int | None,
        idle_timeout: float | None,
        poll_timeout: float,
        batch_size: int,
    ) -> None:
        """Take batches and hand them to ``on_batch`` until ``max_messages`` finished (in
        ``stats``) or nothing arrived for ``idle_timeout`` seconds of holding partitions."""
        size = max(1, batch_size)
        idle_since = time.monotonic()
        while True:
            wanted = size
            if max_messages is not None:
                wanted = min(size, max_messages - stats.handled - stats.dead_lettered)
                if wanted <= 0:
                    break
            batch = take_batch(self._consumer, wanted, poll_timeout)
            if not batch:
                if idle_timeout is not None and self._idle_for(idle_since) >= idle_timeout:
                    break
                continue
            idle_since = time.monotonic()
            on_batch(batch)

    def _idle_for(self, since: float) -> float:
        """Seconds without a message since ``since`` while holding partitions (a group
        join is not idleness)."""
        assigned = self._assigned_at
        return 0.0 if assigned is None else time.monotonic() - max(since, assigned)

    def _run_batch(self, handler: Handler[M], batch: list[Message], stats: RunStats) -> None:
        """Handle ``batch`` in order, committing as the policy says (see the module). When
        an exception ends it early, what finished is kept and the rest is taken again; when
        a commit finds the partitions reassigned, the rest is left to their new owner."""
        finished: dict[tuple[str, int], Message] = {}
        tallies = self._tallies
        each = self.commit_policy == "message"
        commit = self._commit_offsets
        completed = False
        try:
            for index, msg in enumerate(batch):
                if msg.error() is not None:
                    raise ContractError(f"Kafka consumer error: {msg.error()}")
                tally = None if tallies is None else self._taken(msg)
                try:
                    received = self._decode(msg)
                except (MessageError, SchemaNotFoundError) as err:
                    self._dead_letters.send_counted(msg, err, 0, tally)
                    stats.dead_lettered += 1
                else:
                    try:
                        if tally is None:
                            handler(received)
                        else:
                            _timed(handler, received, tally)
                    except Exception as err:
                        self._retry(handler, received, msg, err, stats, tally)
                    else:
                        stats.handled += 1
                if each:
                    if not commit([position_after(msg)]):
                        self._rewind(batch[index + 1 :])
                        completed = True
                        return
                else:
                    finished[msg.topic() or "", msg.partition() or 0] = msg
            completed = True
        finally:
            store_handled(self._consumer, finished.values())
            if not completed:  # the message in hand and the rest: taken again
                self._rewind(batch[index:])
        if finished and completed:
            # Offsets of partitions the group took away meanwhile go to their new owner.
            commit(None)

    def _rewind(self, rest: Sequence[Message]) -> None:
        """:func:`~somacontracts.kafka.commits.rewind` on this consumer."""
        rewind(self._consumer, rest)

    def _retry(
        self,
        handler: Handler[M],
        received: Received[M],
        msg: Message,
        err: Exception,
        stats: RunStats,
        tally: ConsumerTally | None,
    ) -> None:
        """After a failed first attempt: call ``handler`` again up to ``max_attempts`` in
        all, then dead-letter the message with the last error."""
        attempt = 1
        while attempt < self.max_attempts:
            wait = self._retrying(attempt, stats, tally)
            if wait:
                time.sleep(wait)
            attempt += 1
            try:
                if tally is None:
                    handler(received)
                else:
                    _timed(handler, received, tally)
            except Exception as again:
                err = again
                continue
            stats.handled += 1
            return
        self._handler_failed(msg, err, attempt, stats, tally)

    def _retrying(self, attempt: int, stats: RunStats, tally: ConsumerTally | None) -> float:
        """Count the call after failed ``attempt``; the seconds to wait before making it."""
        stats.retries += 1
        if tally is not None:
            tally.retries += 1
        return self.retry_backoff * attempt

    def _handler_failed(
        self,
        msg: Message,
        err: Exception,
        attempts: int,
        stats: RunStats,
        tally: ConsumerTally | None,
    ) -> None:
        """Dead-letter ``msg``, whose handler failed ``attempts`` times, and count it."""
        self._dead_letters.send_counted(msg, err, attempts, tally)
        stats.dead_lettered += 1

    def commit(self) -> None:
        """Commit the stored offsets now (those :meth:`done` stored under the batch policy;
        they are also committed in the background)."""
        self._commit_offsets(None)

    def close(self) -> None:
        """Commit the stored offsets, leave the group and release the clients."""
        try:
            self.commit()
        finally:
            if self._lag_watch is not None:  # before the client it queries goes
                self._lag_watch.close()
            self._consumer.close()
            self._dead_letters.close()
            self._deserializer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _timed(handler: Handler[M], received: Received[M], tally: ConsumerTally) -> None:
    """Call ``handler`` and count how long it took, whether it returned or raised."""
    started = perf_counter()
    try:
        handler(received)
    finally:
        tally.observe(perf_counter() - started)

"""Exactly-once consume-transform-produce: a message's outputs, its dead letter and its
offset commit in one Kafka transaction.

:class:`ContractProcessor` reads ``source`` objects as :class:`ContractConsumer` does and
hands each to a handler that returns the ``output`` objects to produce (one, several, or
None). Outputs are encoded first, then produced with a transactional producer, and the
input's offset is committed in the same transaction (``send_offsets_to_transaction``), so
either all of it becomes visible to consumers reading ``read_committed`` (the default of
librdkafka and of :class:`ContractConsumer`) and the input is never taken again, or none
of it does and the input is taken again. The commit policy sets what a transaction holds:

- ``commit="message"`` (the default): one transaction per input message; a crash
  re-runs at most the handler of the message in hand. It costs a transaction a message
  (four to five round trips to the broker).
- ``commit="batch"``: one transaction per batch of ``batch_size`` messages; a crash
  re-runs the handlers of the batch in hand, whose outputs are aborted.

A failed handler call produced nothing (its outputs are returned, not sent), so it is
simply called again, up to ``max_attempts`` calls; then the input is copied to
``<topic>.dlq`` inside the transaction. A message that cannot be decoded goes there
too. When the broker refuses a transaction that can be aborted (a produce failed), it
is aborted, the consumer goes back to its first message and the messages are taken
again (:attr:`RunStats.aborted` counts it).

Zombie fencing: the producer's ``transactional.id`` is the processor's own and the same
after a restart, so the restarted instance fences the one it replaces (whose open
transaction is aborted; its next call raises :class:`FencedError`). By manual assignment
it is derived from the group and the partitions read; a processor that subscribes must
be given one (``transactional_id=``, a pod's stable name) or run with a static
``group.instance.id``, from which it is derived. On Kafka 2.5 and later the group's
generation in each offset commit also fences an instance whose partitions moved.

Exactly once covers what the processor writes to Kafka and the offsets it commits, not
what a handler does elsewhere (a shell command, an HTTP call): those run again whenever a
transaction is aborted or a crash comes before its commit; see
:mod:`somacontracts.kafka.received` for making them idempotent. Each output carries the
``source`` header, ``topic:partition:offset`` of the input it came from.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, Self, TypeVar

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.errors import (
    ConfigurationError,
    ContractError,
    MessageError,
    SchemaNotFoundError,
)
from somacontracts.kafka._admin import DEFAULT_CONNECT_TIMEOUT
from somacontracts.kafka.consumer import (
    BATCH_SIZE,
    CommitPolicy,
    ContractConsumer,
    Received,
    RunStats,
)
from somacontracts.kafka.dead_letters import dead_letter
from somacontracts.kafka.errors import CommitError, DeliveryError, FencedError
from somacontracts.kafka.metrics import ClientMetrics, ConsumerTally
from somacontracts.kafka.producer import ContractProducer, Delivered
from somacontracts.serde import ContractModel, RuleOptions
from somacontracts.serde.subjects import SubjectNameStrategy

__all__ = ["SOURCE_HEADER", "ContractProcessor", "Transform", "transactional_id_for"]

I = TypeVar("I", bound=ContractModel)  # noqa: E741 - the input, as in Kafka Streams
O = TypeVar("O", bound=ContractModel)  # noqa: E741 - the output

Transform = Callable[[Received[I]], O | Iterable[O] | None]
"""Handles one message and returns what to produce for it; an exception counts as a
failed attempt and nothing it returned earlier is sent."""

SOURCE_HEADER = "source"
"""The header naming the input of each output: ``topic:partition:offset``."""

TRANSACTION_TIMEOUT = 30.0
"""Seconds a transaction call (begin, offsets, commit, abort) may take."""

_Encoded = list[tuple[bytes | None, bytes | None]]

_FENCED = frozenset(
    {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}
)
"""Errors saying that another producer took the transactional id."""


def transactional_id_for(group: str, partitions: Iterable[tuple[str, int]]) -> str:
    """The transactional id of a processor in ``group`` reading ``partitions`` by
    manual assignment: the same for the same group and partitions, whatever their order."""
    listed = ",".join(f"{topic}:{partition}" for topic, partition in sorted(set(partitions)))
    return f"{group}.{hashlib.sha256(listed.encode()).hexdigest()[:16]}"


class ContractProcessor(Generic[I, O]):
    """Consume ``source`` objects, produce what the handler returns as ``output`` objects,
    exactly once.

    Options as :class:`ContractConsumer`'s for the input (``topics``, ``partitions``,
    ``group_id``, ``subject``, ``subject_name_strategy``, ``config``, ``max_attempts``,
    ``retry_backoff``, ``commit``) and :class:`ContractProducer`'s for the output
    (``output_topic``, ``output_subject``, ``output_subject_name_strategy``,
    ``producer_config``); ``rules``, ``metrics`` and ``ensure_topics`` serve both.
    ``transactional_id``
    names the producer's transactions (see the module's docstring for its default).
    """

    def __init__(
        self,
        source: type[I],
        output: type[O],
        registry: SchemaRegistryClient | str,
        *,
        settings: Settings | None = None,
        topics: Sequence[str] | None = None,
        partitions: Iterable[tuple[str, int]] | None = None,
        group_id: str | None = None,
        subject: str | None = None,
        subject_name_strategy: SubjectNameStrategy | None = None,
        output_topic: str | None = None,
        output_subject: str | None = None,
        output_subject_name_strategy: SubjectNameStrategy | None = None,
        transactional_id: str | None = None,
        commit: CommitPolicy = "message",
        config: Mapping[str, Any] | None = None,
        producer_config: Mapping[str, Any] | None = None,
        max_attempts: int = 3,
        retry_backoff: float = 0.0,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        rules: RuleOptions | None = None,
        metrics: ClientMetrics | bool | None = None,
        ensure_topics: bool = False,
    ) -> None:
        resolved = settings if settings is not None else load_settings()
        chosen = None if partitions is None else list(partitions)
        consumer_config = {
            **(config or {}),
            # Only committed outputs of upstream processors; no offsets but the transactions'.
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
        group = str(resolved.consumer_config(group_id)["group.id"])
        self.transactional_id = transactional_id or _default_id(group, chosen, consumer_config)
        self.output_model = output
        self._source = ContractConsumer(
            source,
            registry,
            settings=resolved,
            topics=topics,
            partitions=chosen,
            group_id=group,
            subject=subject,
            subject_name_strategy=subject_name_strategy,
            config=consumer_config,
            max_attempts=max_attempts,
            retry_backoff=retry_backoff,
            commit=commit,
            connect_timeout=connect_timeout,
            rules=rules,
            metrics=metrics,
            ensure_topics=ensure_topics,
        )
        try:
            self._out = ContractProducer(
                output,
                registry,
                settings=resolved,
                topic=output_topic,
                subject=output_subject,
                subject_name_strategy=output_subject_name_strategy,
                config={**(producer_config or {}), "transactional.id": self.transactional_id},
                connect_timeout=connect_timeout,
                rules=rules,
                metrics=metrics,
                ensure_topics=ensure_topics,
            )
        except BaseException:
            self._source.close()
            raise
        self._client = self._out.client
        self._open = False
        try:
            # Fences an earlier instance with the same id and aborts what it left open.
            self._transaction_call(self._client.init_transactions, TRANSACTION_TIMEOUT)
        except BaseException:
            self.close()
            raise

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics read."""
        return self._source.topics

    @property
    def output_topic(self) -> str:
        """The topic written."""
        return self._out.topic

    def run(
        self,
        handler: Transform[I, O],
        *,
        max_messages: int | None = None,
        idle_timeout: float | None = None,
        poll_timeout: float = 0.5,
        batch_size: int = BATCH_SIZE,
    ) -> RunStats:
        """Hand every message to ``handler`` and produce what it returns, until
        ``max_messages`` were committed or nothing arrived for ``idle_timeout`` seconds of
        holding partitions (without either, forever).

        An exception that is not ``Exception`` (KeyboardInterrupt, SystemExit) stops the
        run; the transaction in hand is aborted by :meth:`close`.
        """
        stats = RunStats()
        each = self._source.commit_policy == "message"

        def on_batch(batch: list[Message]) -> None:
            if not each:
                if not self._transact(handler, batch, stats):
                    self._source._rewind(batch)
                return
            for index in range(len(batch)):
                if not self._transact(handler, batch[index : index + 1], stats):
                    self._source._rewind(batch[index:])
                    return

        self._source._loop(
            on_batch,
            stats,
            max_messages=max_messages,
            idle_timeout=idle_timeout,
            poll_timeout=poll_timeout,
            batch_size=batch_size,
        )
        return stats

    def _transact(self, handler: Transform[I, O], unit: list[Message], stats: RunStats) -> bool:
        """Handle ``unit`` in one transaction with its offsets; False if it was aborted
        (nothing of it is visible and its messages must be taken again)."""
        source = self._source
        client = self._client
        self._transaction_call(client.begin_transaction)
        self._open = True
        handled = dead = 0
        positions: dict[tuple[str, int], int] = {}
        for msg in unit:
            if msg.error() is not None:
                raise ContractError(f"Kafka consumer error: {msg.error()}")
            topic, partition, offset = msg.topic() or "", msg.partition() or 0, msg.offset() or 0
            tally = None if source._tallies is None else source._taken(msg)
            try:
                received = source._decode(msg)
            except (MessageError, SchemaNotFoundError) as err:
                if tally is not None:
                    tally.deserialize_error(err)
                    tally.undecodable += 1
                self._dead_letter(msg, err, 0)
                dead += 1
            else:
                outputs = self._attempts(handler, received, msg, stats, tally)
                if outputs is None:
                    dead += 1
                else:
                    header = [(SOURCE_HEADER, f"{topic}:{partition}:{offset}".encode())]
                    for key, value in outputs:
                        self._out.produce_encoded(
                            key, value, headers=header, on_delivery=_ignore_success
                        )
                    handled += 1
            positions[topic, partition] = offset + 1
        offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
        if not self._commit(offsets):
            stats.aborted += 1
            return False
        stats.handled += handled
        stats.dead_lettered += dead
        return True

    def _attempts(
        self,
        handler: Transform[I, O],
        received: Received[I],
        msg: Message,
        stats: RunStats,
        tally: ConsumerTally | None,
    ) -> _Encoded | None:
        """The encoded outputs of the first of ``max_attempts`` handler calls that returned
        objects that can be written; None after the last failed, when ``msg`` was
        dead-lettered."""
        source = self._source
        attempt = 0
        failure: Exception | None = None
        while attempt < source.max_attempts:
            if attempt:
                stats.retries += 1
                if tally is not None:
                    tally.retries += 1
                if source.retry_backoff:
                    time.sleep(source.retry_backoff * attempt)
            attempt += 1
            started = time.perf_counter()
            try:
                return self._encode(handler(received))
            except Exception as err:
                failure = err
            finally:
                if tally is not None:
                    tally.observe(time.perf_counter() - started)
        assert failure is not None
        self._dead_letter(msg, failure, attempt)
        if tally is not None:
            tally.handler_failed += 1
        return None

    def _encode(self, result: O | Iterable[O] | None) -> _Encoded:
        """Every object of ``result`` encoded, before any is sent."""
        if result is None:
            return []
        if isinstance(result, self.output_model):
            return [self._out.encode(result)]
        return [self._out.encode(obj) for obj in result]  # type: ignore[union-attr]

    def _dead_letter(self, msg: Message, err: BaseException, attempts: int) -> None:
        """Copy ``msg`` to its dead-letter topic inside the transaction."""
        copy = dead_letter(msg, err, attempts=attempts)
        self._client.produce(copy.topic, copy.value, copy.key, headers=copy.headers)

    def _commit(self, offsets: list[TopicPartition]) -> bool:
        """Commit the transaction with ``offsets``; False if the broker refused it and it
        was aborted."""
        client = self._client
        try:
            self._transaction_call(
                client.send_offsets_to_transaction,
                offsets,
                self._source._consumer.consumer_group_metadata(),
                TRANSACTION_TIMEOUT,
            )
            self._transaction_call(client.commit_transaction, TRANSACTION_TIMEOUT)
        except _Abortable:
            self._transaction_call(client.abort_transaction, TRANSACTION_TIMEOUT)
            self._open = False
            return False
        self._open = False
        return True

    def _transaction_call(self, call: Callable[..., Any], *args: Any) -> None:
        """``call(*args)`` again while the broker says it may be retried; raise
        :class:`_Abortable` when the transaction must be aborted, :class:`FencedError` when
        another instance took the transactional id, :class:`CommitError` otherwise."""
        deadline = time.monotonic() + TRANSACTION_TIMEOUT
        while True:
            try:
                call(*args)
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() in _FENCED:
                    raise FencedError(self.transactional_id, str(error.str())) from exc
                if error.txn_requires_abort():
                    raise _Abortable from exc
                if error.retriable() and time.monotonic() < deadline:
                    continue
                raise CommitError(str(error.str())) from exc
            return

    def close(self) -> None:
        """Abort the transaction in hand (a run stopped in the middle), release the
        clients."""
        try:
            if self._open:
                self._open = False
                # Fenced or unreachable: the broker aborts it (its timeout, a new instance).
                with contextlib.suppress(KafkaException):
                    self._client.abort_transaction(TRANSACTION_TIMEOUT)
            self._out.close()
        finally:
            self._source.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Abortable(Exception):  # noqa: N818 - a signal inside this module, not an error
    """The broker refused the transaction in a way that aborting it recovers from."""


def _ignore_success(_delivered: Delivered | None, _error: DeliveryError | None) -> None:
    """An output's delivery report: a failure also fails the transaction's commit, which
    is where it is handled."""


def _default_id(
    group: str, partitions: list[tuple[str, int]] | None, config: Mapping[str, Any]
) -> str:
    """The transactional id of a processor given none: from the group and its manual
    assignment, or its static group membership."""
    if partitions is not None:
        return transactional_id_for(group, partitions)
    instance = config.get("group.instance.id")
    if instance:
        return f"{group}.{instance}"
    raise ConfigurationError(
        "transactional_id",
        "a processor that subscribes needs a transactional id of its own that survives "
        "restarts (such as its pod's name): pass transactional_id=, set group.instance.id "
        "in config, or read given partitions",
    )

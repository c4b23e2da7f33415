"""The typed producer: sends contract objects to their catalog topic, keyed by tenant.

:class:`ContractProducer` serializes with :class:`~somacontracts.serde.ContractSerializer`,
keys each message by the contract's key field (the tenant id, so Kafka keeps each
tenant's messages in order), and produces idempotently with ``acks=all``. Every
:meth:`~ContractProducer.send` returns a ``concurrent.futures.Future`` that resolves to
the message's :class:`Delivered` coordinates or fails with
:class:`~somacontracts.kafka.errors.DeliveryError`; an optional callback sees the same
outcome. :meth:`~ContractProducer.produce` is the fast path: no future, and without a
callback no per-message Python object waits for the broker (one shared recorder notes
failures, which the next :meth:`~ContractProducer.flush` raises). A background thread
serves delivery reports (a transactional producer's commits serve its own);
:meth:`~ContractProducer.close` flushes and raises if messages remain undelivered. With
metrics on (``metrics=True`` or ``SOMACONTRACTS_METRICS``), it counts acknowledged
messages and bytes, delivery failures and serialize errors
(:mod:`somacontracts.kafka.metrics`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.errors import ContractError, count
from somacontracts.kafka._admin import DEFAULT_CONNECT_TIMEOUT, ensure_reachable
from somacontracts.kafka.errors import DeliveryError
from somacontracts.kafka.metrics import ClientMetrics, ProducerTally, metrics_for
from somacontracts.kafka.routing import contract_name, key_of, topic_for
from somacontracts.kafka.topics import ensure_topics as create_missing
from somacontracts.kafka.writer_check import WriterCheck, check_writer
from somacontracts.serde import ContractModel, ContractSerializer, RuleOptions
from somacontracts.serde.contract_model import model_schema
from somacontracts.serde.subjects import SubjectNameStrategy, Subjects

__all__ = ["ContractProducer", "Delivered", "DeliveryCallback", "Headers"]

M = TypeVar("M", bound=ContractModel)

Headers = Sequence[tuple[str, bytes]]
"""Kafka headers as (name, value) pairs."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """Where the broker stored a message."""

    topic: str
    partition: int
    offset: int
    key: bytes | None


DeliveryCallback = Callable[[Delivered | None, DeliveryError | None], None]
"""Called once per message with its coordinates, or with the error that lost it."""

_Report = Callable[[KafkaError | None, Message], None]
"""librdkafka's delivery report: (error or None, message)."""
_ClientHeaders = list[tuple[str, str | bytes | None]]
"""Headers as the client takes them (a list; it refuses tuples)."""


def _delivered(msg: Message) -> Delivered:
    return Delivered(msg.topic() or "", msg.partition() or 0, msg.offset() or 0, msg.key())


def _failure(err: KafkaError, topic: str) -> DeliveryError:
    return DeliveryError(str(err.str()), topic=topic)


def _failure_recorder(failures: list[DeliveryError], topic: str) -> _Report:
    """One report function for every message sent without a callback: keeps failures only."""

    def record(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            failures.append(_failure(err, topic))

    return record


def _counting(report: _Report, tally: ProducerTally) -> _Report:
    """``report``, counting each outcome into ``tally`` first."""

    def counted(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            tally.produced += 1
            tally.produced_bytes += len(msg.value() or b"")
        else:
            tally.delivery_failures += 1
        report(err, msg)

    return counted


def _callback_report(on_delivery: DeliveryCallback, topic: str) -> _Report:
    def report(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            on_delivery(_delivered(msg), None)
        else:
            on_delivery(None, _failure(err, topic))

    return report


class ContractProducer(Generic[M]):
    """Produce ``model`` objects to ``topic`` (default: the contract's catalog topic).

    ``registry`` is a ``SchemaRegistryClient`` or its URL; ``subject`` overrides the
    registry subject, else ``subject_name_strategy`` names it (confluent-kafka's
    strategies; default ``<topic>-value``), and its consumers must name it alike (the data
    keys of encrypted fields are kept per subject); ``key_field`` overrides the contract's
    dotted key path (``task_id`` for compacted audit topics; either is refused at once,
    :class:`~somacontracts.errors.ConfigurationError`, if it names no field fit to key the
    model's messages, see :mod:`somacontracts.schema.keys`); ``config`` adds librdkafka
    settings; ``rules`` configures the Data Contract rules of the schema written (the KMS
    of encrypted fields); ``metrics`` turns the Prometheus metrics on (True, or a
    :class:`~somacontracts.kafka.metrics.ClientMetrics`) or off (False) whatever the
    environment says. ``schema_id_in_header=True`` names the schema in each message's
    ``__value_schema_id`` header (its GUID) instead of the value's prefix, for readers of
    Confluent Platform 8's framing. ``ensure_topics=True`` creates the topic (and its
    dead-letter topic) as the catalog declares it if the cluster lacks it, so that a
    service booting against a wiped broker recovers by itself. ``check_readers`` proves
    the writer schema against the live readers registered for its subject
    (:mod:`somacontracts.kafka.readers`) at start-up: ``"warn"`` logs each group that
    cannot read it, ``"error"`` raises
    :class:`~somacontracts.kafka.errors.ReaderBrokenError`, ``"off"`` skips it. Raises
    :class:`~somacontracts.kafka.errors.BrokerUnavailableError` if the cluster gives no
    metadata within ``connect_timeout`` seconds.
    """

    def __init__(
        self,
        model: type[M],
        registry: SchemaRegistryClient | str,
        *,
        settings: Settings | None = None,
        topic: str | None = None,
        subject: str | None = None,
        subject_name_strategy: SubjectNameStrategy | None = None,
        key_field: str | None = None,
        config: Mapping[str, Any] | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        rules: RuleOptions | None = None,
        metrics: ClientMetrics | bool | None = None,
        schema_id_in_header: bool = False,
        ensure_topics: bool = False,
        check_readers: WriterCheck = "warn",
    ) -> None:
        resolved = settings if settings is not None else load_settings()
        self._id_in_header = schema_id_in_header
        self._id_header: tuple[str, str | bytes | None] | None = None
        self.model = model
        self.topic = topic_for(model, resolved, topic)
        if ensure_topics:
            create_missing(resolved, [self.topic], timeout=connect_timeout)
        chosen = metrics_for(metrics, resolved)
        self._tally = None if chosen is None else chosen.producer(self.topic, contract_name(model))
        self._plain = self._tally is None and not schema_id_in_header
        """Whether a message needs neither a tally nor its own headers (the fast path)."""
        self._key_of: Callable[[Any], Any] = key_of(model, resolved, self.topic, key_field)
        self._context = SerializationContext(self.topic, MessageField.VALUE)
        self._failures: list[DeliveryError] = []
        self._record_failure = _failure_recorder(self._failures, self.topic)
        if self._tally is not None:
            self._record_failure = _counting(self._record_failure, self._tally)
        # One subject for the producer's one topic: its schema's, and its data keys'.
        named = Subjects(subject, subject_name_strategy).of(
            self._context, model_schema(model).full_name, f"{self.topic}-value"
        )
        self.subject = named
        self._serializer = ContractSerializer(
            model, registry, subject=named, rules=rules, schema_id_in_header=schema_id_in_header
        )
        self._producer = Producer({**resolved.producer_config(), **(config or {})})
        self._produce = self._producer.produce
        self._closed = threading.Event()
        try:
            ensure_reachable(self._producer, resolved.bootstrap_servers, timeout=connect_timeout)
            self.unread_by = check_writer(
                self._serializer.client,
                resolved,
                model,
                topic=self.topic,
                subject=named,
                label=f"{contract_name(model)} v{getattr(model, 'SCHEMA_VERSION', '?')}",
                mode=check_readers,
            )
            """The live readers that cannot read what this producer writes (see below)."""
        except BaseException:
            self._serializer.close()
            self._producer.flush(0)
            raise
        # A transactional producer's commit and abort serve its delivery reports; a thread
        # polling beside them made each commit about ten times slower (17 ms against 2 ms).
        self._poller: threading.Thread | None = None
        if "transactional.id" not in (config or {}):
            self._poller = threading.Thread(
                target=self._serve, name="contract-producer", daemon=True
            )
            self._poller.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(0.05)

    def send(
        self,
        obj: M,
        *,
        headers: Headers | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> Future[Delivered]:
        """Serialize ``obj`` and queue it; the future resolves when the broker acknowledges it.

        Raises :class:`~somacontracts.errors.SerializationError` at once for an object
        that cannot be written.
        """
        future: Future[Delivered] = Future()
        topic = self.topic

        def report(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                failure = _failure(err, topic)
                future.set_exception(failure)
                if on_delivery is not None:
                    on_delivery(None, failure)
                return
            delivered = _delivered(msg)
            future.set_result(delivered)
            if on_delivery is not None:
                on_delivery(delivered, None)

        self._enqueue(obj, headers, report)
        return future

    def produce(
        self,
        obj: M,
        *,
        headers: Headers | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Serialize ``obj`` and queue it without a future (the fast path).

        A delivery failure goes to ``on_delivery`` if given, else it is raised as
        :class:`~somacontracts.kafka.errors.DeliveryError` by the next :meth:`flush`.
        """
        if on_delivery is None and headers is None and self._plain:
            # The common case, kept short: it runs once per message.
            value = self._serializer(obj, self._context)
            field = self._key_of(obj)
            key = None if field is None else str(field).encode()
            try:
                self._produce(self.topic, value, key, on_delivery=self._record_failure)
            except BufferError:
                self._queue(value, key, None, self._record_failure)
            return
        report = (
            self._record_failure
            if on_delivery is None
            else _callback_report(on_delivery, self.topic)
        )
        self._enqueue(obj, headers, report)

    def encode(self, obj: M) -> tuple[bytes | None, bytes | None]:
        """The key and value :meth:`produce` sends for ``obj``, without sending them.

        Raises :class:`~somacontracts.errors.SerializationError` at once for an object
        that cannot be written. A processor encodes all of a message's outputs before it
        queues any, so an output that cannot be written leaves nothing half-sent. With
        ``schema_id_in_header``, the schema's header goes with the value when it is queued.
        """
        ctx = self._context
        written: _ClientHeaders = []
        if self._id_in_header:  # the serializer appends the schema's header to these
            ctx = SerializationContext(self.topic, MessageField.VALUE, written)
        try:
            value = self._serializer(obj, ctx)
        except ContractError as err:
            if self._tally is not None:
                self._tally.serialize_error(err)
            raise
        if written:  # one topic, one subject, one schema: the same header each time
            self._id_header = written[-1]
        field = self._key_of(obj)
        return None if field is None else str(field).encode(), value

    def produce_encoded(
        self,
        key: bytes | None,
        value: bytes | None,
        *,
        headers: Headers | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Queue what :meth:`encode` made, as :meth:`produce` queues an object."""
        report = (
            self._record_failure
            if on_delivery is None
            else _callback_report(on_delivery, self.topic)
        )
        self._enqueue_encoded(key, value, headers, report)

    @property
    def client(self) -> Producer:
        """The confluent-kafka producer underneath (a processor drives its transactions)."""
        return self._producer

    def _enqueue(self, obj: M, headers: Headers | None, report: _Report) -> None:
        """Serialize and key ``obj`` and queue it, waiting for room while the queue is full."""
        key, value = self.encode(obj)
        self._enqueue_encoded(key, value, headers, report)

    def _enqueue_encoded(
        self, key: bytes | None, value: bytes | None, headers: Headers | None, report: _Report
    ) -> None:
        self._queue(value, key, *self._outgoing(headers, report))

    def _outgoing(
        self, headers: Headers | None, report: _Report
    ) -> tuple[_ClientHeaders | None, _Report]:
        """The headers a message goes with (the schema's too) and its report, counting."""
        tally = self._tally
        if tally is not None and report is not self._record_failure:
            report = _counting(report, tally)
        pairs: _ClientHeaders | None = None if headers is None else list(headers)
        if self._id_header is not None:
            pairs = [*(pairs or []), self._id_header]
        return pairs, report

    def _queue(
        self, value: bytes | None, key: bytes | None, pairs: _ClientHeaders | None, report: _Report
    ) -> None:
        """Hand a serialized message to the client, waiting for room while its queue is full."""
        while True:
            try:
                self._produce(self.topic, value, key, headers=pairs, on_delivery=report)
                return
            except BufferError:
                # The local queue is full: wait for deliveries to make room.
                self._producer.poll(0.1)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued message is delivered; raise DeliveryError if some remain."""
        remaining = self._producer.flush(timeout)
        # Take the failures noted so far; reports served meanwhile append after them.
        taken = len(self._failures)
        failures = self._failures[:taken]
        del self._failures[:taken]
        if failures:
            raise DeliveryError(
                f"{count(len(failures), 'message')} not delivered; first: {failures[0].reason}",
                topic=self.topic,
            ) from failures[0]
        if remaining:
            raise DeliveryError(
                f"{count(remaining, 'message')} not delivered within {timeout:g} s",
                topic=self.topic,
            )

    def close(self, timeout: float = 30.0) -> None:
        """Flush, stop the delivery thread and release the registry client."""
        if self._closed.is_set():
            return
        try:
            self.flush(timeout)
        finally:
            self._closed.set()
            if self._poller is not None:
                self._poller.join()
            # Release the client now, not at garbage collection (after a local broker stopped).
            self._producer.close()
            self._serializer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

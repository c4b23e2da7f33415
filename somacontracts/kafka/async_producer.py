"""The typed producer for asyncio: ``await producer.produce(obj)`` resolves when the broker
acknowledged the message.

:class:`AsyncContractProducer` is :class:`~somacontracts.kafka.producer.ContractProducer`
driven from an event loop: the same serializer, key, subject, headers, metrics and
delivery errors. Whatever may wait on the network (the registry look-ups and the broker
check of start-up, a flush, the close) runs in a worker thread; a message's own work on
the loop is its serialization and handing it to librdkafka, whose delivery thread settles
the message's future on the loop, one wake-up for all the reports that came meanwhile.

It does not use ``confluent_kafka.aio.AIOProducer``, which refuses headers (a schema id in
a header, a caller's headers), holds a message in its own buffer until a batch fills or a
second passes, and settles futures from its worker threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from functools import partial
from typing import Any, Generic, TypedDict, TypeVar, Unpack

from confluent_kafka import KafkaError, Message
from confluent_kafka.schema_registry import SchemaRegistryClient

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError, ContractError
from somacontracts.kafka._admin import AsyncClient
from somacontracts.kafka.metrics import ClientMetrics
from somacontracts.kafka.producer import (
    ContractProducer,
    Delivered,
    Headers,
    _delivered,
    _failure,
    _Report,
)
from somacontracts.kafka.writer_check import WriterCheck
from somacontracts.serde import ContractModel, RuleOptions
from somacontracts.serde.subjects import SubjectNameStrategy

__all__ = ["AsyncContractProducer", "ProducerOptions"]

M = TypeVar("M", bound=ContractModel)

QUEUE_FULL_WAIT = 0.005
"""Seconds a message waits for room while librdkafka's queue is full, before trying again."""


class ProducerOptions(TypedDict, total=False):
    """The keyword options of :class:`~somacontracts.kafka.producer.ContractProducer`."""

    settings: Settings | None
    topic: str | None
    subject: str | None
    subject_name_strategy: SubjectNameStrategy | None
    key_field: str | None
    config: Mapping[str, Any] | None
    connect_timeout: float
    rules: RuleOptions | None
    metrics: ClientMetrics | bool | None
    schema_id_in_header: bool
    ensure_topics: bool
    check_readers: WriterCheck


class _Settler:
    """Settles delivery futures on their loop from librdkafka's delivery thread: one
    wake-up of the loop for every report that came while it was busy."""

    def __init__(self, loop: asyncio.AbstractEventLoop, topic: str) -> None:
        self._loop = loop
        self._topic = topic
        self._lock = threading.Lock()
        self._pending: list[tuple[asyncio.Future[Delivered], KafkaError | None, Message]] = []

    def report(self, future: asyncio.Future[Delivered]) -> _Report:
        """librdkafka's delivery report of the message ``future`` waits for."""
        return partial(self._settle, future)

    def _settle(
        self, future: asyncio.Future[Delivered], err: KafkaError | None, msg: Message
    ) -> None:
        with self._lock:
            self._pending.append((future, err, msg))
            if len(self._pending) > 1:
                return  # the wake-up of the first report is still to come
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop is closed: nobody waits any more
            return

    def _drain(self) -> None:
        with self._lock:
            taken, self._pending = self._pending, []
        for future, err, msg in taken:
            if future.done():  # cancelled: the message was still sent
                continue
            if err is None:
                future.set_result(_delivered(msg))
            else:
                future.set_exception(_failure(err, self._topic))


class AsyncContractProducer(AsyncClient, Generic[M]):
    """Produce ``model`` objects from asyncio; options as
    :class:`~somacontracts.kafka.producer.ContractProducer`'s (a transactional producer is
    the processor's, not this one's).

    Use it as ``async with AsyncContractProducer(model, registry) as producer``: entering
    connects (the registry and broker checks of start-up, in a worker thread), leaving
    flushes and closes.
    """

    def __init__(
        self,
        model: type[M],
        registry: SchemaRegistryClient | str,
        **options: Unpack[ProducerOptions],
    ) -> None:
        if "transactional.id" in (options.get("config") or {}):
            raise ConfigurationError(
                "config", "transactional.id: a transactional producer is ContractProcessor's"
            )
        self.model = model
        self._registry = registry
        self._options = options
        self._producer: ContractProducer[M] | None = None
        self._settler: _Settler | None = None

    async def start(self) -> None:
        """Connect: check the registry and the broker as the synchronous producer does."""
        if self._producer is not None:
            return
        loop = asyncio.get_running_loop()
        self._producer = await asyncio.to_thread(
            partial(ContractProducer, self.model, self._registry, **self._options)
        )
        self._settler = _Settler(loop, self._producer.topic)

    def _started(self) -> tuple[ContractProducer[M], _Settler]:
        if self._producer is None or self._settler is None:
            raise ContractError("the producer is not started: use it in `async with`")
        return self._producer, self._settler

    @property
    def topic(self) -> str:
        """The topic written."""
        return self._started()[0].topic

    @property
    def subject(self) -> str:
        """The registry subject of the schema written."""
        return self._started()[0].subject

    async def send(self, obj: M, *, headers: Headers | None = None) -> asyncio.Future[Delivered]:
        """Serialize ``obj`` and queue it; the future resolves to its :class:`Delivered`
        coordinates when the broker acknowledged it, or fails with
        :class:`~somacontracts.kafka.errors.DeliveryError`.

        Raises :class:`~somacontracts.errors.SerializationError` at once for an object
        that cannot be written. Cancelling the future does not take the message back.
        """
        producer, settler = self._started()
        future: asyncio.Future[Delivered] = asyncio.get_running_loop().create_future()
        key, value = producer.encode(obj)
        report = settler.report(future)
        pairs = None
        if headers is not None or not producer._plain:
            pairs, report = producer._outgoing(headers, report)
        await _put(producer, value, key, pairs, report)
        return future

    async def queue(self, obj: M, *, headers: Headers | None = None) -> None:
        """Serialize ``obj`` and queue it without a future (the fast path, as
        ``ContractProducer.produce``): a delivery failure is raised as
        :class:`~somacontracts.kafka.errors.DeliveryError` by the next :meth:`flush`. Waits
        on the loop, not the thread, while librdkafka's queue is full."""
        producer = self._producer
        if producer is None:
            raise ContractError("the producer is not started: use it in `async with`")
        report = producer._record_failure
        pairs = None
        if headers is None and producer._plain:
            # The common case, kept as short as the synchronous one: it runs per message.
            value = producer._serializer(obj, producer._context)
            field = producer._key_of(obj)
            key = None if field is None else str(field).encode()
            try:
                producer._produce(producer.topic, value, key, on_delivery=report)
                return
            except BufferError:
                pass
        else:
            key, value = producer.encode(obj)
            pairs, report = producer._outgoing(headers, report)
        await _put(producer, value, key, pairs, report)

    async def produce(self, obj: M, *, headers: Headers | None = None) -> Delivered:
        """Send ``obj`` and wait for the broker's acknowledgement; raise
        :class:`~somacontracts.kafka.errors.DeliveryError` if it does not come."""
        return await (await self.send(obj, headers=headers))

    async def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued message is delivered (see ``ContractProducer.flush``)."""
        producer, _settler = self._started()
        await asyncio.to_thread(producer.flush, timeout)

    async def close(self, timeout: float = 30.0) -> None:
        """Flush, stop the delivery thread and release the clients."""
        producer = self._producer
        if producer is None:
            return
        await asyncio.to_thread(producer.close, timeout)


async def _put(
    producer: ContractProducer[Any],
    value: bytes | None,
    key: bytes | None,
    pairs: Any,
    report: _Report,
) -> None:
    """Hand one message to librdkafka; while its queue is full, let deliveries make room,
    waiting on the loop. ``headers`` goes only with headers: passing ``None`` costs
    librdkafka's ``produce`` about a third of its time."""
    while True:
        try:
            if pairs is None:
                producer._produce(producer.topic, value, key, on_delivery=report)
            else:
                producer._produce(producer.topic, value, key, headers=pairs, on_delivery=report)
        except BufferError:
            await asyncio.sleep(QUEUE_FULL_WAIT)
        else:
            return

"""Request/reply over Kafka: send a typed request, await its typed reply.

The platform's gateway sends a :class:`~somacontracts.models.ToolInvocation` to
``tool.requests`` and answers its HTTP caller with the
:class:`~somacontracts.models.ToolResult` the tool executor writes to ``tool.results``,
matched by ``task_id``. :class:`RequestReply` does that over one
:class:`~somacontracts.kafka.async_producer.AsyncContractProducer` and one
:class:`~somacontracts.kafka.async_consumer.AsyncContractConsumer`, for any number of
concurrent requests: one task reads the replies and settles the request waiting for each;
a reply nobody waits for (another gateway's, or one that came after its request gave up)
is counted and dropped.

Requests and replies are matched by the contracts' ids (``task_id`` of both tool
contracts, :data:`~somacontracts.kafka.received.ID_FIELDS`) or by the functions given
(``metadata.correlation_id``). A request gives up after ``timeout`` seconds with
:class:`~somacontracts.kafka.errors.ReplyTimeoutError`; given up or cancelled, it leaves
nothing waiting. The reply consumer should start at the end (``start="end"``): replies
written before the gateway started answer requests that died with the one before it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any, Generic, TypeVar

from somacontracts.errors import ConfigurationError, ContractError
from somacontracts.kafka._admin import AsyncClient
from somacontracts.kafka.async_consumer import AsyncContractConsumer
from somacontracts.kafka.async_producer import AsyncContractProducer
from somacontracts.kafka.errors import ReplyTimeoutError
from somacontracts.kafka.producer import Headers
from somacontracts.kafka.received import ID_FIELDS, Received
from somacontracts.kafka.routing import contract_name
from somacontracts.serde import ContractModel

__all__ = ["RequestReply"]

Q = TypeVar("Q", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)

DEFAULT_TIMEOUT = 30.0
"""Seconds a request waits for its reply unless told otherwise."""


def _id_of(model: type[ContractModel], option: str) -> Callable[[Any], Any]:
    field = ID_FIELDS.get(contract_name(model))
    if field is None:
        raise ConfigurationError(
            option, f"{contract_name(model)} has no id field: say how to match with {option}="
        )
    return attrgetter(field)


class RequestReply(AsyncClient, Generic[Q, R]):
    """Send ``Q`` requests through ``producer`` and await their ``R`` replies from
    ``consumer`` (both started by this object's ``async with`` if they are not yet).

    ``request_id`` and ``reply_id`` give the value that matches a reply to its request
    (default: each contract's id field, ``task_id``); ``timeout`` is how long a request
    waits for its reply, acknowledgement of the request included.
    """

    def __init__(
        self,
        producer: AsyncContractProducer[Q],
        consumer: AsyncContractConsumer[R],
        *,
        request_id: Callable[[Q], Any] | None = None,
        reply_id: Callable[[R], Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._producer = producer
        self._consumer = consumer
        self._request_id = request_id or _id_of(producer.model, "request_id")
        self._reply_id = reply_id or _id_of(consumer.model, "reply_id")
        self.timeout = timeout
        self._waiting: dict[str, asyncio.Future[Received[R]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.unmatched = 0
        """Replies that came with no request waiting for them."""

    async def start(self) -> None:
        """Start the producer and the consumer, and the task reading the replies."""
        await asyncio.gather(self._producer.start(), self._consumer.start())
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="request-reply-reader")

    @property
    def pending(self) -> int:
        """Requests waiting for their reply now."""
        return len(self._waiting)

    async def _read(self) -> None:
        try:
            async for received in self._consumer:
                waiter = self._waiting.get(str(self._reply_id(received.value)))
                if waiter is None or waiter.done():
                    self.unmatched += 1
                else:
                    waiter.set_result(received)
        except Exception as err:
            # The consumer failed: no reply will come to anyone waiting.
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(err)
            raise

    async def request(
        self, obj: Q, *, timeout: float | None = None, headers: Headers | None = None
    ) -> Received[R]:
        """Send ``obj`` and return its reply; raise
        :class:`~somacontracts.kafka.errors.ReplyTimeoutError` if it did not come within
        ``timeout`` seconds (default: this object's), and whatever sending raised
        (:class:`~somacontracts.errors.SerializationError`,
        :class:`~somacontracts.kafka.errors.DeliveryError`)."""
        reader = self._reader
        if reader is None:
            raise ContractError("request/reply is not started: use it in `async with`")
        if reader.done():
            failure = None if reader.cancelled() else reader.exception()
            raise ContractError(f"the reply reader stopped: {failure}") from failure
        key = str(self._request_id(obj))
        if key in self._waiting:
            raise ContractError(f'a request with id "{key}" is already waiting for its reply')
        limit = self.timeout if timeout is None else timeout
        waiter: asyncio.Future[Received[R]] = asyncio.get_running_loop().create_future()
        self._waiting[key] = waiter  # before sending: the reply may come before the ack
        try:
            async with asyncio.timeout(limit):
                await self._producer.produce(obj, headers=headers)
                return await waiter
        except TimeoutError as err:
            raise ReplyTimeoutError(key, self._producer.topic, limit) from err
        finally:
            del self._waiting[key]

    async def close(self) -> None:
        """Stop reading replies (requests still waiting fail), then close the consumer and
        the producer."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(ContractError("request/reply closed"))
        try:
            await self._consumer.close()
        finally:
            await self._producer.close()

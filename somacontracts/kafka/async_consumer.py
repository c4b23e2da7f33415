"""The typed consumer for asyncio: ``async for received in consumer``, or
``await consumer.run(handler)`` with an async handler.

:class:`AsyncContractConsumer` is :class:`~somacontracts.kafka.consumer.ContractConsumer`
driven from an event loop: its decoding, dead letters, retries, commit policies, start
positions and metrics are that consumer's, step by step. Every step that may wait (taking
a batch from librdkafka; decoding a message whose writer schema is not met yet, or whose
rules may ask a KMS for keys; a commit; a dead letter's copy and its acknowledgement) runs
in one worker thread of its own, one step at a time, as librdkafka's consumer wants. The
loop runs the handler and decodes the other messages, each as it is handled: the CPU work
of one message. (A whole batch decoded ahead in the worker lives until it is handled, and
its young objects made the garbage collector's passes cost a quarter of the throughput:
``tools/bench_async.py``.)

Under the message policy each offset is committed, and acknowledged, before the next
handler call; under the batch policy once per batch, as the synchronous consumer does.
``async for`` commits a message once the loop asks for the next one, so a message whose
loop body raised, or broke out of the loop, is taken again by the next read (this
consumer's next ``async for`` or ``run``, else the group's next reader) unless
:meth:`AsyncContractConsumer.done` was awaited for it. A cancelled ``run`` gives back the
message in hand and the rest of its batch the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Generic, TypedDict, TypeVar, Unpack

from confluent_kafka import Message
from confluent_kafka.schema_registry import SchemaRegistryClient

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ContractError, MessageError, SchemaNotFoundError
from somacontracts.kafka._admin import AsyncClient
from somacontracts.kafka.commits import CommitPolicy, position_after, rewind_to, store_handled
from somacontracts.kafka.consumer import (
    BATCH_SIZE,
    ContractConsumer,
    Received,
    RunStats,
    StartPosition,
    take_batch,
)
from somacontracts.kafka.metrics import ClientMetrics, ConsumerTally
from somacontracts.kafka.readers import ReaderRegistration
from somacontracts.serde import ContractModel, RuleOptions
from somacontracts.serde.subjects import SubjectNameStrategy

__all__ = ["AsyncContractConsumer", "AsyncHandler", "ConsumerOptions"]

M = TypeVar("M", bound=ContractModel)
T = TypeVar("T")

AsyncHandler = Callable[[Received[M]], Awaitable[None]]
"""Processes one message; an exception counts as a failed attempt."""

_Taken = tuple[Message, Received[Any] | ContractError | None, ConsumerTally | None]
"""A message taken, decoded (or the reason it cannot be; None: to decode on the loop, no
registry needed), and its topic's tally."""


class ConsumerOptions(TypedDict, total=False):
    """The keyword options of :class:`~somacontracts.kafka.consumer.ContractConsumer`."""

    settings: Settings | None
    topics: Sequence[str] | None
    partitions: Iterable[tuple[str, int]] | None
    group_id: str | None
    subject: str | None
    subject_name_strategy: SubjectNameStrategy | None
    config: Mapping[str, Any] | None
    max_attempts: int
    retry_backoff: float
    commit: CommitPolicy
    connect_timeout: float
    rules: RuleOptions | None
    metrics: ClientMetrics | bool | None
    start: StartPosition
    ensure_topics: bool
    register_reader: ReaderRegistration
    service: str | None


class AsyncContractConsumer(AsyncClient, Generic[M]):
    """Consume ``model`` objects from asyncio; options as
    :class:`~somacontracts.kafka.consumer.ContractConsumer`'s.

    Use it as ``async with AsyncContractConsumer(model, registry) as consumer``: entering
    connects (the registry and broker checks of start-up, the subscription or assignment,
    in the worker thread), leaving commits what was handled and closes.
    """

    def __init__(
        self,
        model: type[M],
        registry: SchemaRegistryClient | str,
        **options: Unpack[ConsumerOptions],
    ) -> None:
        self.model = model
        self._registry = registry
        self._options = options
        self._consumer: ContractConsumer[M] | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._iterated: Received[M] | None = None
        """The message ``async for`` handed out last, committed when the next is asked for."""

    async def start(self) -> None:
        """Connect: check the registry and the broker, subscribe or assign."""
        if self._consumer is not None:
            return
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="contract-consumer")
        try:
            self._consumer = await self._call(
                partial(ContractConsumer, self.model, self._registry, **self._options)
            )
        except BaseException:
            self._worker.shutdown(wait=False)
            self._worker = None
            raise

    async def _call(self, step: Callable[[], T]) -> T:
        """``step()`` in the worker thread, after the steps before it."""
        assert self._worker is not None
        return await asyncio.get_running_loop().run_in_executor(self._worker, step)

    def _started(self) -> ContractConsumer[M]:
        if self._consumer is None:
            raise ContractError("the consumer is not started: use it in `async with`")
        return self._consumer

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics read."""
        return self._started().topics

    @property
    def commit_policy(self) -> CommitPolicy:
        """When handled offsets are committed."""
        return self._started().commit_policy

    def _take(self, wanted: int, timeout: float) -> list[_Taken]:
        """Up to ``wanted`` messages (in the worker), those whose decoding may wait on the
        registry or a KMS decoded, the others left to :meth:`_decoded` on the loop."""
        consumer = self._started()
        decoder = consumer._decoder
        taken: list[_Taken] = []
        for msg in take_batch(consumer._consumer, wanted, timeout):
            if msg.error() is not None:
                raise ContractError(f"Kafka consumer error: {msg.error()}")
            tally = None if consumer._tallies is None else consumer._taken(msg)
            decoded = _decode(consumer, msg) if decoder.needs_registry(msg) else None
            taken.append((msg, decoded, tally))
        return taken

    def _decoded(
        self, msg: Message, decoded: Received[M] | ContractError | None
    ) -> Received[M] | ContractError:
        """``msg`` decoded, or why it cannot be: on the loop unless :meth:`_take` did."""
        return _decode(self._started(), msg) if decoded is None else decoded

    async def __aiter__(self) -> AsyncIterator[Received[M]]:
        """Every message decoded, each committed when the next is asked for (a message
        that cannot be decoded goes to the dead-letter topic instead)."""
        consumer = self._started()
        await self._give_back()
        while True:
            for msg, taken, tally in await self._settle_and_take([], 1, 0.5):
                decoded = self._decoded(msg, taken)
                if isinstance(decoded, ContractError):
                    await self._call(
                        partial(consumer._dead_letters.send_counted, msg, decoded, 0, tally)
                    )
                    await self._call(partial(consumer._finished, *_coordinates(msg)))
                    continue
                self._iterated = decoded
                yield decoded
                if self._iterated is decoded:  # the next is asked for: this one is handled
                    await self.done(decoded)

    async def _give_back(self) -> None:
        """The message an earlier ``async for`` handed out and never finished (its body
        raised or broke out of the loop) is taken again: the consumer seeks back to it."""
        left, self._iterated = self._iterated, None
        if left is not None:
            await self._call(partial(_seek, self._started(), left))

    async def done(self, received: Received[M]) -> None:
        """Mark ``received`` handled, as ``ContractConsumer.done`` does."""
        if self._iterated is received:
            self._iterated = None
        consumer = self._started()
        await self._call(partial(consumer._finished, *_coordinates(received)))

    async def run(
        self,
        handler: AsyncHandler[M],
        *,
        max_messages: int | None = None,
        idle_timeout: float | None = None,
        poll_timeout: float = 0.5,
        batch_size: int = BATCH_SIZE,
    ) -> RunStats:
        """Await ``handler`` for every message until ``max_messages`` were consumed or
        nothing arrived for ``idle_timeout`` seconds of holding partitions (without either,
        until cancelled), as ``ContractConsumer.run`` calls its handler.

        Cancelling it stops the run without committing the offset of the message being
        handled; the offsets of the messages handled before it are kept, and messages
        taken but not handled are given back: the next read takes them.
        """
        consumer = self._started()
        await self._give_back()
        stats = RunStats()
        size = max(1, batch_size)
        idle_since = time.monotonic()
        settle: list[Message] = []
        try:
            while True:
                wanted = size
                if max_messages is not None:
                    wanted = min(size, max_messages - stats.handled - stats.dead_lettered)
                    if wanted <= 0:
                        return stats
                handled, settle = settle, []
                batch = await self._settle_and_take(handled, wanted, poll_timeout)
                if batch:
                    idle_since = time.monotonic()
                    settle = await self._run_batch(handler, batch, stats)
                elif idle_timeout is not None and consumer._idle_for(idle_since) >= idle_timeout:
                    return stats
        finally:
            if settle:  # the last batch handled: its offsets stored and committed
                await asyncio.shield(self._call(partial(_store, consumer, settle, True)))

    async def _settle_and_take(
        self, handled: list[Message], wanted: int, timeout: float
    ) -> list[_Taken]:
        """One step of the worker: the offsets of the batch ``handled`` stored and
        committed (under the batch policy), then the next batch taken. Cancelled, the step
        still ends, and what it took is given back (a seek), for the next read to take."""
        consumer = self._started()

        def step() -> list[_Taken]:
            if handled:
                _store(consumer, handled, True)
            return self._take(wanted, timeout)

        taking = asyncio.ensure_future(self._call(step))
        try:
            return await asyncio.shield(taking)
        except asyncio.CancelledError:
            taken = await taking
            if taken:
                await self._call(partial(consumer._rewind, [t[0] for t in taken]))
            raise

    async def _run_batch(
        self, handler: AsyncHandler[M], batch: list[_Taken], stats: RunStats
    ) -> list[Message]:
        """``ContractConsumer._run_batch`` with an async handler. Under the batch policy it
        returns the last message of each partition for the caller to store and commit
        with its next step (an exception stores them, uncommitted, before it leaves)."""
        consumer = self._started()
        each = consumer.commit_policy == "message"
        finished: dict[tuple[str, int], Message] = {}
        completed = False
        index = 0
        try:
            for index, (msg, taken, tally) in enumerate(batch):
                decoded = _decode(consumer, msg) if taken is None else taken
                if isinstance(decoded, ContractError):
                    await self._call(
                        partial(consumer._dead_letters.send_counted, msg, decoded, 0, tally)
                    )
                    stats.dead_lettered += 1
                elif tally is None:
                    try:
                        await handler(decoded)
                    except Exception as err:
                        await self._handle(handler, decoded, msg, stats, None, err)
                    else:
                        stats.handled += 1
                else:
                    await self._handle(handler, decoded, msg, stats, tally)
                if each:
                    at = [position_after(msg)]
                    if not await self._call(partial(consumer._commit_offsets, at)):
                        rest = [taken[0] for taken in batch[index + 1 :]]
                        await self._call(partial(consumer._rewind, rest))
                        completed = True
                        return []
                else:
                    finished[msg.topic() or "", msg.partition() or 0] = msg
            completed = True
        finally:
            if not completed:  # what finished is kept, uncommitted; the rest is given back
                rest = [taken[0] for taken in batch[index:]]
                keep = partial(_keep, consumer, list(finished.values()), rest)
                await asyncio.shield(self._call(keep))
        return list(finished.values())

    async def _handle(
        self,
        handler: AsyncHandler[M],
        received: Received[M],
        msg: Message,
        stats: RunStats,
        tally: ConsumerTally | None,
        failed: Exception | None = None,
    ) -> None:
        """Await ``handler`` up to ``max_attempts`` times in all (the first already made
        if it ``failed``), then dead-letter ``msg`` with the last error."""
        consumer = self._started()
        attempt = 0 if failed is None else 1
        error = failed
        while True:
            if error is not None:
                if attempt >= consumer.max_attempts:
                    dead = partial(consumer._handler_failed, msg, error, attempt, stats, tally)
                    await self._call(dead)
                    return
                wait = consumer._retrying(attempt, stats, tally)
                if wait:
                    await asyncio.sleep(wait)
            attempt += 1
            started = time.perf_counter()
            try:
                await handler(received)
            except Exception as err:
                error = err
            else:
                stats.handled += 1
                return
            finally:
                if tally is not None:
                    tally.observe(time.perf_counter() - started)

    async def commit(self) -> None:
        """Commit the stored offsets now (see ``ContractConsumer.commit``)."""
        await self._call(self._started().commit)

    async def close(self) -> None:
        """Commit the stored offsets, leave the group and release the clients."""
        consumer, worker = self._consumer, self._worker
        if consumer is None or worker is None:
            return
        self._consumer = None
        try:
            await asyncio.get_running_loop().run_in_executor(worker, consumer.close)
        finally:
            self._worker = None
            worker.shutdown(wait=False)


def _coordinates(item: Message | Received[Any]) -> tuple[str, int, int]:
    if isinstance(item, Received):
        return item.topic, item.partition, item.offset
    return item.topic() or "", item.partition() or 0, item.offset() or 0


def _decode(consumer: ContractConsumer[M], msg: Message) -> Received[M] | ContractError:
    try:
        return consumer._decode(msg)
    except (MessageError, SchemaNotFoundError) as err:
        return err


def _seek(consumer: ContractConsumer[Any], received: Received[Any]) -> None:
    topic, partition, offset = _coordinates(received)
    rewind_to(consumer._consumer, topic, partition, offset)


def _keep(consumer: ContractConsumer[Any], finished: list[Message], rest: list[Message]) -> None:
    """After an exception ended a batch: store what finished, give back the rest."""
    _store(consumer, finished, False)
    consumer._rewind(rest)


def _store(consumer: ContractConsumer[Any], messages: list[Message], commit: bool) -> None:
    store_handled(consumer._consumer, messages)
    if commit:
        consumer._commit_offsets(None)

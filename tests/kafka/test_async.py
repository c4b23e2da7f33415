"""The asyncio clients against a broker and a registry: round trip, commits, dead letters,
delivery errors, request/reply, and an event loop that nothing blocks."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError, ContractError
from somacontracts.kafka import (
    AsyncContractConsumer,
    AsyncContractProducer,
    ContractConsumer,
    ContractProducer,
    DeliveryError,
    Received,
    ReplyTimeoutError,
    RequestReply,
    dlq_name,
)
from somacontracts.models import (
    ConversationEvent,
    ConversationEventV1,
    ToolInvocation,
    ToolResult,
    ToolResultMetadata,
    ToolResultMetrics,
    ToolResultStatus,
)
from somacontracts.tooling.dev.samples import sample_invocation
from tests.kafka.conftest import FAST_GROUP, create_topics
from tests.registries import Profile, ProfileProxy
from tests.serde.test_registry_profiles import event

PARTITIONS = 3


def _result_for(call: ToolInvocation) -> ToolResult:
    return ToolResult(
        task_id=call.task_id,
        status=ToolResultStatus.success,
        output={"echo": call.payload},
        metrics=ToolResultMetrics(duration_ms=1),
        metadata=ToolResultMetadata(
            tenant_id=call.tenant_id, correlation_id=call.metadata.correlation_id
        ),
    )


def _options(settings: Settings, topic: str, group: str, **more: Any) -> Any:
    return {
        "settings": settings,
        "subject": ToolInvocation.SUBJECT,
        "topics": [topic],
        "partitions": [(topic, p) for p in range(PARTITIONS)],
        "group_id": group,
        "config": FAST_GROUP,
        **more,
    }


@pytest.fixture
def topics(settings: Settings, admin: AdminClient) -> tuple[str, str]:
    requests, results = settings.topic_name("tool_requests"), settings.topic_name("tool_results")
    create_topics(admin, requests, results, partitions=PARTITIONS)
    return requests, results


def test_async_round_trip_commits_what_was_handled(
    settings: Settings, registry: str, topics: tuple[str, str]
) -> None:
    requests, _results = topics
    calls = [sample_invocation(tenant_id=f"t{i % 3}") for i in range(30)]

    async def main() -> list[Received[ToolInvocation]]:
        async with AsyncContractProducer(
            ToolInvocation, registry, settings=settings, subject=ToolInvocation.SUBJECT
        ) as out:
            delivered = await asyncio.gather(*(out.produce(call) for call in calls))
        assert {d.topic for d in delivered} == {requests}
        assert sorted(d.key or b"" for d in delivered) == sorted(
            c.tenant_id.encode() for c in calls
        )
        seen: list[Received[ToolInvocation]] = []

        async def handle(received: Received[ToolInvocation]) -> None:
            await asyncio.sleep(0)
            seen.append(received)

        options = _options(settings, requests, "async-round-trip")
        async with AsyncContractConsumer(ToolInvocation, registry, **options) as consumer:
            stats = await consumer.run(handle, max_messages=len(calls), idle_timeout=10)
        assert stats.handled == len(calls)
        return seen

    seen = asyncio.run(main())
    assert sorted(str(r.value.task_id) for r in seen) == sorted(str(c.task_id) for c in calls)
    by_tenant: dict[bytes | None, list[int]] = {}
    for received in seen:
        by_tenant.setdefault(received.key, []).append(received.offset)
    assert all(offsets == sorted(offsets) for offsets in by_tenant.values())
    # Committed: the group's next reader finds nothing left.
    again = ContractConsumer(
        ToolInvocation, registry, **_options(settings, requests, "async-round-trip")
    )
    with again:
        assert again.run(lambda _r: None, idle_timeout=2).handled == 0


def test_async_for_commits_a_message_when_the_next_is_asked_for(
    settings: Settings, registry: str, topics: tuple[str, str]
) -> None:
    requests, _results = topics
    calls = [sample_invocation(tenant_id="same-tenant") for _ in range(3)]

    async def main() -> list[str]:
        async with AsyncContractProducer(
            ToolInvocation, registry, settings=settings, subject=ToolInvocation.SUBJECT
        ) as out:
            for call in calls:
                await out.produce(call)
        got: list[str] = []
        options = _options(settings, requests, "async-iterate", commit="message")
        async with AsyncContractConsumer(ToolInvocation, registry, **options) as consumer:
            async for received in consumer:
                got.append(str(received.value.task_id))
                if len(got) == 2:
                    break  # the second was handled, not committed
        return got

    got = asyncio.run(main())
    assert got == [str(c.task_id) for c in calls[:2]]
    left = ContractConsumer(
        ToolInvocation, registry, **_options(settings, requests, "async-iterate")
    )
    rest: list[Received[ToolInvocation]] = []
    with left:
        left.run(rest.append, idle_timeout=2)
    assert [r.value.task_id for r in rest] == [c.task_id for c in calls[1:]]


def test_async_dead_letters_retries_and_undecodable_messages(
    settings: Settings, registry: str, topics: tuple[str, str], bootstrap: str
) -> None:
    requests, _results = topics
    poison, flaky, fine = (sample_invocation(tenant_id="t") for _ in range(3))
    raw = Producer({"bootstrap.servers": bootstrap})
    raw.produce(requests, b"not avro at all", b"t", partition=0)
    raw.flush(10)
    failures: dict[uuid.UUID, int] = {}

    async def handle(received: Received[ToolInvocation]) -> None:
        task = received.value.task_id
        failures[task] = failures.get(task, 0) + 1
        if task == poison.task_id or (task == flaky.task_id and failures[task] == 1):
            raise RuntimeError(f"tool failed on {task}")

    async def main() -> Any:
        async with AsyncContractProducer(
            ToolInvocation, registry, settings=settings, subject=ToolInvocation.SUBJECT
        ) as out:
            for call in (poison, flaky, fine):
                await out.produce(call)
        options = _options(settings, requests, "async-dlq", max_attempts=3, retry_backoff=0.01)
        async with AsyncContractConsumer(ToolInvocation, registry, **options) as consumer:
            return await consumer.run(handle, max_messages=4, idle_timeout=10)

    stats = asyncio.run(main())
    assert (stats.handled, stats.dead_lettered, stats.retries) == (2, 2, 3)
    assert failures == {poison.task_id: 3, flaky.task_id: 2, fine.task_id: 1}
    copies = _raw_headers(bootstrap, dlq_name(requests), 2)
    reasons = sorted((h["dlq.attempts"], h["dlq.error"].split(b":")[0]) for h in copies)
    assert reasons == [(b"0", b"DeserializationError"), (b"3", b"RuntimeError")]


def _raw_headers(bootstrap: str, topic: str, count: int) -> list[dict[str, bytes]]:
    from tests.kafka.test_messaging import _read_raw

    return [
        {k: v for k, v in (msg.headers() or []) if v is not None}
        for msg in _read_raw(bootstrap, topic, count)
    ]


def test_a_message_the_broker_never_acknowledges_raises_the_typed_delivery_error(
    settings: Settings, registry: str
) -> None:
    async def main() -> None:
        async with AsyncContractProducer(
            ToolInvocation,
            registry,
            settings=settings,
            topic=f"nowhere.{uuid.uuid4().hex[:8]}",
            subject=ToolInvocation.SUBJECT,
            config={"message.timeout.ms": 1500, "allow.auto.create.topics": False},
        ) as out:
            with pytest.raises(DeliveryError, match="nowhere"):
                await out.produce(sample_invocation())
            await out.flush(5)  # the failure was its await's alone: the flush finds none

    asyncio.run(main())


def test_a_transactional_config_is_the_processor_s(registry: str) -> None:
    with pytest.raises(ConfigurationError, match=r"transactional\.id"):
        AsyncContractProducer(ToolInvocation, registry, config={"transactional.id": "x"})


def test_request_reply_correlates_many_concurrent_requests_and_leaves_nothing_pending(
    settings: Settings, registry: str, topics: tuple[str, str]
) -> None:
    requests, results = topics
    calls = [sample_invocation(tenant_id=f"t{i % 5}") for i in range(40)]
    slow = sample_invocation(tenant_id="slow")

    async def executor(stop: asyncio.Event) -> None:
        options = _options(settings, requests, "async-executor")
        async with (
            AsyncContractConsumer(ToolInvocation, registry, **options) as source,
            AsyncContractProducer(
                ToolResult, registry, settings=settings, subject=ToolResult.SUBJECT
            ) as out,
        ):

            async def answer(received: Received[ToolInvocation]) -> None:
                if received.value.tenant_id != "slow":  # the tool never ends
                    await out.produce(_result_for(received.value))

            while not stop.is_set():
                await source.run(answer, idle_timeout=0.2, poll_timeout=0.1)

    async def main() -> None:
        stop = asyncio.Event()
        serving = asyncio.create_task(executor(stop))
        replies = AsyncContractConsumer(
            ToolResult, registry, settings=settings, subject=ToolResult.SUBJECT, start="end"
        )
        out = AsyncContractProducer(
            ToolInvocation, registry, settings=settings, subject=ToolInvocation.SUBJECT
        )
        async with RequestReply(out, replies, timeout=20) as gateway:
            answers = await asyncio.gather(*(gateway.request(call) for call in calls))
            assert [a.value.task_id for a in answers] == [c.task_id for c in calls]
            assert all(a.topic == results for a in answers)
            with pytest.raises(ReplyTimeoutError, match=str(slow.task_id)):
                await gateway.request(slow, timeout=1.5)
            never = sample_invocation(tenant_id="slow")
            cancelled = asyncio.create_task(gateway.request(never, timeout=30))
            await asyncio.sleep(0.3)
            assert gateway.pending == 1
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            assert gateway.pending == 0
            twice = dataclasses.replace(calls[0])
            first = asyncio.create_task(gateway.request(twice))
            await asyncio.sleep(0)
            with pytest.raises(ContractError, match="already waiting"):
                await gateway.request(twice)
            await first
            assert gateway.pending == 0
        stop.set()
        await serving

    asyncio.run(main())


def test_request_reply_needs_ids_to_match_by(registry: str) -> None:
    from somacontracts.models import SettingsPayload

    producer = AsyncContractProducer(SettingsPayload, registry)
    consumer = AsyncContractConsumer(ToolResult, registry)
    with pytest.raises(ConfigurationError, match="request_id"):
        RequestReply(producer, consumer)


def test_start_at_end_skips_what_came_before_and_commits_nothing(
    settings: Settings, registry: str, topics: tuple[str, str]
) -> None:
    requests, _results = topics
    before, after = sample_invocation(), sample_invocation()

    async def main() -> list[Any]:
        async with AsyncContractProducer(
            ToolInvocation, registry, settings=settings, subject=ToolInvocation.SUBJECT
        ) as out:
            await out.produce(before)
            async with AsyncContractConsumer(
                ToolInvocation,
                registry,
                settings=settings,
                subject=ToolInvocation.SUBJECT,
                group_id="async-tail",
                start="end",
            ) as tail:
                await out.produce(after)
                got: list[Any] = []

                async def keep(received: Received[ToolInvocation]) -> None:
                    got.append(received.value.task_id)

                await tail.run(keep, max_messages=1, idle_timeout=10)
                return got

    assert asyncio.run(main()) == [after.task_id]
    # The group committed nothing: its next reader starts from the earliest offsets.
    group = ContractConsumer(ToolInvocation, registry, **_options(settings, requests, "async-tail"))
    everything: list[Received[ToolInvocation]] = []
    with group:
        group.run(everything.append, idle_timeout=2)
    assert sorted(str(r.value.task_id) for r in everything) == sorted(
        str(c.task_id) for c in (before, after)
    )
    with pytest.raises(ConfigurationError, match="start"):
        ContractConsumer(ToolInvocation, registry, settings=settings, start="middle")  # type: ignore[arg-type]


SLOW_REGISTRY = Profile("a registry 500 ms away", delay=0.5)
THRESHOLD = 0.3
"""Seconds a step of the loop may take: one message's work is microseconds, but a loaded
machine (the suite's workers on two cores) can hold a step 0.15 s; a registry answer here
takes 500 ms, a consume with nothing to take 500 ms."""


def _slow_steps(caplog: pytest.LogCaptureFixture, main: Any) -> list[str]:
    """The loop's steps that took longer than THRESHOLD while ``main()`` ran in debug mode."""

    async def debugged() -> None:
        loop = asyncio.get_running_loop()
        loop.slow_callback_duration = THRESHOLD
        await main()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        asyncio.run(debugged(), debug=True)
    return [r.getMessage() for r in caplog.records if " took " in r.getMessage()]


def test_no_step_blocks_the_event_loop_registry_look_ups_included(
    settings: Settings, registry: str, topics: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    requests, _results = topics
    calls = [sample_invocation(tenant_id=f"t{i}") for i in range(20)]

    with ProfileProxy(registry, SLOW_REGISTRY) as far:

        async def main() -> None:
            async with AsyncContractProducer(
                ToolInvocation, far.url, settings=settings, subject=ToolInvocation.SUBJECT
            ) as out:
                await asyncio.gather(*(out.produce(call) for call in calls))
            got: list[Any] = []

            async def keep(received: Received[ToolInvocation]) -> None:
                got.append(received)

            options = _options(settings, requests, "async-loop")
            async with AsyncContractConsumer(ToolInvocation, far.url, **options) as consumer:
                await consumer.run(keep, max_messages=len(calls), idle_timeout=10)
            assert len(got) == len(calls)

        assert _slow_steps(caplog, main) == []

        async def blocking() -> None:
            # The control: the synchronous consumer's start-up on the loop is seen.
            ContractConsumer(ToolInvocation, far.url, **_options(settings, requests, "x")).close()

        assert _slow_steps(caplog, blocking) != []


def test_writers_not_met_and_encrypted_fields_are_decoded_off_the_loop(
    settings: Settings, registry: str, admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    # A v2 reader of conversation events meets v1's writer schema (a registry look-up) and
    # v2's encrypted content (a key to fetch), both 500 ms away: neither on the loop.
    topic = f"conversations.{uuid.uuid4().hex[:8]}"
    create_topics(admin, topic, partitions=1)
    subject = "conversation.outbound-value"
    written = [event(1, f"old {n}") for n in range(3)] + [event(2, f"new {n}") for n in range(3)]

    with ProfileProxy(registry, SLOW_REGISTRY) as far:

        async def main() -> None:
            for version in (1, 2):
                model = ConversationEventV1 if version == 1 else ConversationEvent
                async with AsyncContractProducer(
                    model, far.url, settings=settings, topic=topic, subject=subject
                ) as out:
                    for obj in written:
                        if obj.metadata.schema_version == version:
                            await out.produce(obj)
            got: list[str | None] = []

            async def keep(received: Received[ConversationEvent]) -> None:
                got.append(received.value.content)

            options = {**_options(settings, topic, "async-writers"), "subject": subject}
            async with AsyncContractConsumer(ConversationEvent, far.url, **options) as consumer:
                await consumer.run(keep, max_messages=len(written), idle_timeout=10)
            assert got == [obj.content for obj in written]

        assert _slow_steps(caplog, main) == []


def _filled(
    settings: Settings, registry: str, admin: AdminClient, count: int
) -> tuple[str, list[ToolInvocation]]:
    """A new one-partition topic holding ``count`` tool calls, in order."""
    topic = f"tool.requests.{uuid.uuid4().hex[:8]}"
    create_topics(admin, topic, partitions=1)
    calls = [sample_invocation(tenant_id=f"t{i}") for i in range(count)]
    with ContractProducer(
        ToolInvocation, registry, settings=settings, topic=topic, subject=ToolInvocation.SUBJECT
    ) as out:
        for call in calls:
            out.send(call)
    return topic, calls


def test_a_run_cancelled_while_taking_loses_nothing_and_keeps_what_was_handled(
    settings: Settings, registry: str, admin: AdminClient
) -> None:
    topic, calls = _filled(settings, registry, admin, 30)
    options = {**_options(settings, topic, f"cancelled-{uuid.uuid4().hex[:6]}"), "commit": "batch"}

    async def main() -> tuple[list[str], list[str]]:
        first: list[str] = []
        async with AsyncContractConsumer(ToolInvocation, registry, **options) as consumer:
            running: asyncio.Task[Any] | None = None

            async def cancel_after_ten(received: Received[ToolInvocation]) -> None:
                first.append(str(received.value.task_id))
                if len(first) == 10:  # the cancellation lands in the next take
                    assert running is not None
                    asyncio.get_running_loop().call_soon(running.cancel)

            running = asyncio.create_task(consumer.run(cancel_after_ten, batch_size=10))
            with pytest.raises(asyncio.CancelledError):
                await running
            rest: list[str] = []

            async def keep(received: Received[ToolInvocation]) -> None:
                rest.append(str(received.value.task_id))

            await consumer.run(keep, max_messages=20, idle_timeout=10)
        return first, rest

    first, rest = asyncio.run(main())
    assert first + rest == [str(c.task_id) for c in calls]  # none lost, none twice
    # The first ten were committed before the cancellation took effect.
    group = ContractConsumer(ToolInvocation, registry, **options)
    with group:
        again: list[Received[ToolInvocation]] = []
        group.run(again.append, idle_timeout=2)
    assert again == []  # and the twenty of the second run at its end


def test_what_a_cancelled_run_or_an_unfinished_loop_body_held_is_taken_again(
    settings: Settings, registry: str, admin: AdminClient
) -> None:
    # Each way a handler or loop body can end without finishing its message: the same
    # consumer takes that message again, then the rest, and nothing is handled twice.
    topic, calls = _filled(settings, registry, admin, 12)
    ids = [str(c.task_id) for c in calls]
    group = f"unfinished-{uuid.uuid4().hex[:6]}"

    async def main() -> list[str]:
        finished: list[str] = []
        options = {**_options(settings, topic, group), "commit": "batch"}
        async with AsyncContractConsumer(ToolInvocation, registry, **options) as consumer:
            # 1. A run cancelled while its handler is in the middle of the second message.
            entered = asyncio.Event()

            async def slow(received: Received[ToolInvocation]) -> None:
                if len(finished) == 1:
                    entered.set()
                    await asyncio.sleep(30)
                finished.append(str(received.value.task_id))

            running = asyncio.create_task(consumer.run(slow, batch_size=10))
            await entered.wait()
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running

            # 2. An async for whose body raises on its second message.
            async def body_fails() -> None:
                async for received in consumer:
                    if str(received.value.task_id) == ids[2]:
                        raise RuntimeError("body failed")
                    finished.append(str(received.value.task_id))

            with pytest.raises(RuntimeError, match="body failed"):
                await body_fails()
            # 3. An async for that breaks out, holding a message it did not finish.
            async for received in consumer:
                if str(received.value.task_id) == ids[3]:
                    break
                finished.append(str(received.value.task_id))  # pragma: no cover

            async def keep(received: Received[ToolInvocation]) -> None:
                finished.append(str(received.value.task_id))

            await consumer.run(keep, max_messages=len(calls) - len(finished), idle_timeout=10)
        return finished

    assert asyncio.run(main()) == ids
    again: list[Received[ToolInvocation]] = []
    with ContractConsumer(ToolInvocation, registry, **_options(settings, topic, group)) as late:
        late.run(again.append, idle_timeout=2)
    assert again == []  # everything committed at the end

"""The pytest plugin's producer and consumer factories: a keyword the test gives wins over
the fixture's own (a consumer group, the partitions), on the plugin's broker and registry."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from somacontracts.kafka import Received
from somacontracts.models import ToolInvocation
from somacontracts.tooling.dev.samples import sample_invocation


def _sent(producer: Any, count: int) -> list[ToolInvocation]:
    calls = [sample_invocation() for _ in range(count)]
    for call in calls:
        producer.send(call).result(timeout=30)
    return calls


def test_the_test_s_group_and_partitions_win(
    somacontracts_topic: Callable[..., str],
    somacontracts_producer: Callable[..., Any],
    somacontracts_consumer: Callable[..., Any],
) -> None:
    topic = somacontracts_topic("tool.requests", partitions=1)
    calls = _sent(somacontracts_producer(ToolInvocation, topic), 2)
    group = f"plugin-test-{uuid.uuid4().hex[:8]}"

    first = somacontracts_consumer(ToolInvocation, topic, group_id=group)
    assert first.group == group
    got: list[Received[ToolInvocation]] = []
    first.run(got.append, max_messages=2, idle_timeout=10)
    assert [r.value for r in got] == calls  # each committed as handled

    # The same group resumes where it committed: only what came after.
    later = _sent(somacontracts_producer(ToolInvocation, topic), 1)
    again = somacontracts_consumer(ToolInvocation, topic, group_id=group)
    resumed: list[Received[ToolInvocation]] = []
    again.run(resumed.append, max_messages=1, idle_timeout=10)
    assert [r.value for r in resumed] == later

    # Without a group of its own, a consumer reads from the start, in a new group.
    fresh = somacontracts_consumer(ToolInvocation, topic, partitions=[(topic, 0)])
    assert fresh.group not in (group, "")
    everything: list[Received[ToolInvocation]] = []
    fresh.run(everything.append, max_messages=3, idle_timeout=10)
    assert [r.value for r in everything] == calls + later

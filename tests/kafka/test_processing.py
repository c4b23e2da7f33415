"""Processing guarantees against a broker: the exactly-once processor (transactions,
dead letters inside them, fencing, encrypted fields) and the crash trial of every commit
policy and of the processor.

What a ``read_committed`` reader sees is read through the log's transaction markers
(:mod:`tests.kafka.committed_log`): the local broker does not list aborted transactions in
its fetch responses, so librdkafka's ``read_committed`` consumer also returns them there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError
from somacontracts.kafka import (
    ContractConsumer,
    ContractProcessor,
    ContractProducer,
    Received,
    dlq_name,
)
from somacontracts.kafka.processor import SOURCE_HEADER, transactional_id_for
from somacontracts.models import ToolInvocation, ToolResult
from somacontracts.serde import ContractDeserializer, RuleOptions
from somacontracts.tooling.dev.samples import sample_invocation
from tests.datacontracts import Event, encrypt_rule, event, register
from tests.kafka.committed_log import read_topic
from tests.kafka.conftest import create_topics
from tests.kafka.crash_trial import ROOT, Kill, Trial, _result_for, run_trial

PARTITIONS = 3


def _processor(
    settings: Settings, registry: str, requests: str, results: str, **options: Any
) -> ContractProcessor[ToolInvocation, ToolResult]:
    return ContractProcessor(
        ToolInvocation,
        ToolResult,
        registry,
        settings=settings,
        topics=[requests],
        partitions=[(requests, p) for p in range(PARTITIONS)],
        group_id=options.pop("group_id", "executor"),
        subject=ToolInvocation.SUBJECT,
        output_topic=results,
        output_subject=ToolResult.SUBJECT,
        **options,
    )


def _results(bootstrap: str, registry: str, topic: str) -> list[tuple[ToolResult, bytes]]:
    """The committed results of ``topic`` with their ``source`` header."""
    context = SerializationContext(topic, MessageField.VALUE)
    with ContractDeserializer(ToolResult, registry) as decode:
        found = []
        for record in read_topic(bootstrap, topic, PARTITIONS).committed:
            value = decode(record.value, context)
            assert value is not None
            found.append((value, dict(record.headers)[SOURCE_HEADER]))
        return found


def _topics_with_requests(
    settings: Settings,
    registry: str,
    admin: AdminClient,
    calls: list[ToolInvocation],
    **poison: Any,
) -> tuple[str, str]:
    """Fresh request and result topics, ``calls`` sent to the first (with ``poison``:
    ``bootstrap`` and ``at``, garbage bytes before the call at that index)."""
    requests, results = settings.topic_name("tool_requests"), settings.topic_name("tool_results")
    create_topics(admin, requests, results)
    with ContractProducer(
        ToolInvocation, registry, settings=settings, topic=requests, subject=ToolInvocation.SUBJECT
    ) as gateway:
        for index, call in enumerate(calls):
            if poison and index == poison["at"]:
                gateway.flush()
                raw = Producer({"bootstrap.servers": poison["bootstrap"]})
                raw.produce(requests, b"\x01poison", b"t0")
                raw.flush(10)
            gateway.send(call)
    return requests, results


def test_the_tool_executor_writes_each_result_once_with_its_offset(
    settings: Settings, registry: str, admin: AdminClient, bootstrap: str
) -> None:
    calls = [sample_invocation(tenant_id=f"t{i % 4}") for i in range(12)]
    requests, results = _topics_with_requests(
        settings, registry, admin, calls, bootstrap=bootstrap, at=6
    )
    refused = calls[3].task_id
    attempts: Counter[uuid.UUID] = Counter()
    identities = {}

    def execute(received: Received[ToolInvocation]) -> list[ToolResult]:
        call = received.value
        attempts[call.task_id] += 1
        identities[call.task_id] = received.identity
        if call.task_id == refused:
            raise RuntimeError("tool backend refused")
        return [_result_for(call)]

    with _processor(settings, registry, requests, results) as executor:
        stats = executor.run(execute, max_messages=13, idle_timeout=10)
    assert (stats.handled, stats.dead_lettered, stats.retries, stats.aborted) == (11, 2, 2, 0)
    assert attempts[refused] == 3
    written = _results(bootstrap, registry, results)
    assert sorted(str(r.task_id) for r, _ in written) == sorted(
        str(c.task_id) for c in calls if c.task_id != refused
    )
    for result, source in written:
        identity = identities[result.task_id]
        assert identity.key == str(result.task_id)
        assert source == identity.coordinates.encode()
    dead = read_topic(bootstrap, dlq_name(requests), PARTITIONS)
    assert sorted(dict(r.headers)["dlq.attempts"] for r in dead.committed) == [b"0", b"3"]
    assert dead.aborted == dead.open == []
    # The offsets went with the transactions: the group has nothing left to read.
    with ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[requests],
        partitions=[(requests, p) for p in range(PARTITIONS)],
        group_id="executor",
        subject=ToolInvocation.SUBJECT,
    ) as again:
        assert again.run(lambda _r: None, idle_timeout=1).handled == 0


def test_an_output_that_cannot_be_written_is_a_failed_attempt_and_nothing_half_sent(
    settings: Settings, registry: str, admin: AdminClient, bootstrap: str
) -> None:
    call = sample_invocation()
    requests, results = _topics_with_requests(settings, registry, admin, [call])
    calls = 0

    def execute(received: Received[ToolInvocation]) -> list[Any]:
        nonlocal calls
        calls += 1
        good = _result_for(received.value)
        # The first call returns a good result, then one the serializer refuses.
        return [good, good] if calls > 1 else [good, received.value]

    with _processor(settings, registry, requests, results) as executor:
        stats = executor.run(execute, max_messages=1, idle_timeout=10)
    assert (calls, stats.handled, stats.retries) == (2, 1, 1)
    assert [r.task_id for r, _ in _results(bootstrap, registry, results)] == [call.task_id] * 2


def test_a_restarted_processor_fences_the_one_it_replaces(
    settings: Settings, registry: str, admin: AdminClient, bootstrap: str
) -> None:
    calls = [sample_invocation(tenant_id=f"t{i}") for i in range(9)]
    requests, results = _topics_with_requests(settings, registry, admin, calls)
    job = {
        "worker": "zombie",
        "bootstrap": bootstrap,
        "registry": registry,
        "requests": requests,
        "results": results,
        "group": "executor",
        "batch_size": 9,
    }
    command = [sys.executable, "-m", "tests.kafka.crash_trial", json.dumps(job)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as zombie:
        assert zombie.stdin is not None
        assert zombie.stdout is not None
        ready, *stalled = zombie.stdout.readline().split()
        assert ready == "ready"
        assert stalled
        # The zombie's transaction holds its first batch's results on the broker.
        with _processor(settings, registry, requests, results, commit="batch") as successor:
            stats = successor.run(lambda r: _result_for(r.value), max_messages=9, idle_timeout=10)
        assert stats.handled == 9
        zombie.stdin.write("commit\n")
        zombie.stdin.flush()
        answer = zombie.stdout.readline().strip()
        assert zombie.wait(timeout=60) == 0
    assert answer.startswith(f'FencedError: transactional id "{successor.transactional_id}"')
    log = read_topic(bootstrap, results, PARTITIONS)
    assert Counter(_task_ids(registry, results, log.committed)) == Counter(
        str(c.task_id) for c in calls
    )
    assert sorted(_task_ids(registry, results, log.aborted)) == sorted(stalled)


def _task_ids(registry: str, topic: str, records: list[Any]) -> list[str]:
    context = SerializationContext(topic, MessageField.VALUE)
    with ContractDeserializer(ToolResult, registry) as decode:
        return [str(decode(r.value, context).task_id) for r in records]  # type: ignore[union-attr]


def test_encrypted_fields_stay_encrypted_through_the_processor(
    registry: str, admin: AdminClient, bootstrap: str, settings: Settings
) -> None:
    rules = RuleOptions(kms={"secret": os.environ["LOCAL_SECRET"]})
    inbound = f"conversation.inbound.{uuid.uuid4().hex[:8]}"
    outbound = f"conversation.outbound.{uuid.uuid4().hex[:8]}"
    create_topics(admin, inbound, outbound, partitions=1)
    for topic in (inbound, outbound):
        register(registry, f"{topic}-value", encrypt_rule("kafka_tests", on_failure="ERROR,ERROR"))
    secret = "my passport number is 12AB34567"
    with ContractProducer(Event, registry, settings=settings, topic=inbound, rules=rules) as out:
        out.send(event(secret)).result(10)
    with ContractProcessor(
        Event,
        Event,
        registry,
        settings=settings,
        topics=[inbound],
        partitions=[(inbound, 0)],
        group_id=f"worker-{uuid.uuid4().hex[:6]}",
        output_topic=outbound,
        rules=rules,
    ) as worker:
        stats = worker.run(
            lambda r: event((r.value.content or "").upper(), role=r.value.role),
            max_messages=1,
            idle_timeout=10,
        )
    assert stats.handled == 1
    (stored,) = read_topic(bootstrap, outbound, 1).committed
    assert stored.value is not None
    assert b"PASSPORT" not in stored.value
    read: list[Any] = []
    with ContractConsumer(
        Event,
        registry,
        settings=settings,
        topics=[outbound],
        partitions=[(outbound, 0)],
        rules=rules,
    ) as reader:
        reader.run(lambda r: read.append(r.value.content), max_messages=1, idle_timeout=10)
    assert read == [secret.upper()]


def test_transactional_ids_name_the_group_and_partitions_and_subscribers_must_give_one(
    settings: Settings, registry: str
) -> None:
    one = transactional_id_for("executor", [("tool.requests", 1), ("tool.requests", 0)])
    assert one == transactional_id_for("executor", [("tool.requests", 0), ("tool.requests", 1)])
    assert one != transactional_id_for("executor", [("tool.requests", 0)])
    assert one.startswith("executor.")
    with pytest.raises(ConfigurationError, match="transactional_id: a processor that subscribes"):
        ContractProcessor(ToolInvocation, ToolResult, registry, settings=settings)


TRIALS = {
    "message": (Kill("handled", 60), Kill("commit", 40), Kill("random", 50)),
    "batch": (Kill("handled", 60), Kill("commit", 2), Kill("random", 80)),
    "processor": (Kill("handled", 60), Kill("commit", 40), Kill("random", 50)),
    "processor-batch": (Kill("handled", 60), Kill("commit", 2), Kill("random", 80)),
}
BATCH = 50


@pytest.mark.slow
@pytest.mark.parametrize("worker", list(TRIALS))
def test_the_crash_trial_loses_nothing_and_repeats_at_most_the_bound(
    worker: Any, bootstrap: str, registry: str, tmp_path: Path
) -> None:
    """Three SIGKILLs (after a handler's side effect, at a commit: for the processor
    between produce and commit, and at a random point), 300 messages, 12 poison."""
    trial = Trial(worker, 300, 25, TRIALS[worker], batch_size=BATCH)
    outcome = run_trial(bootstrap, registry, trial, tmp_path)
    assert (outcome.sent, outcome.poison, outcome.kills) == (288, 12, 3)
    assert outcome.lost == 0
    assert outcome.poison_missing == 0
    per_crash = 1 if worker in ("message", "processor") else BATCH
    assert outcome.handled_twice + outcome.dead_lettered_twice <= per_crash * outcome.kills
    if worker.startswith("processor"):
        assert outcome.results_missing == 0
        assert outcome.results_twice == 0
        assert outcome.dead_lettered_twice == 0
        # librdkafka's read_committed view differs only by aborted results the broker
        # did not hide.
        assert outcome.results_twice_librdkafka <= outcome.aborted_results

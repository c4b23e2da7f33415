"""Partition growth (``topics scale``, ``apply_plans``) against an admin client double.

The local Tansu broker refuses CreatePartitions, so these tests drive the growth code
with a double that answers in the admin API's own shapes: ``ClusterMetadata`` from
``list_topics``, and per-resource futures from ``describe_configs``, ``create_topics``
and ``create_partitions`` that fail with ``KafkaException`` as the client's do.
``test_scale_grows_a_topic_on_the_broker`` grows a real topic wherever the broker
supports it (Apache Kafka through ``KAFKA_BOOTSTRAP_SERVERS``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigEntry, ConfigResource
from confluent_kafka.admin._metadata import ClusterMetadata, PartitionMetadata, TopicMetadata
from confluent_kafka.cimpl import NewPartitions, NewTopic

from somacontracts.errors import ContractError
from somacontracts.kafka import (
    KafkaOperationError,
    PartitionShrinkError,
    TopicSpec,
    apply_plans,
    plan_topics,
    scale_topic,
)
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, main

UNSUPPORTED = KafkaError(
    KafkaError._UNSUPPORTED_FEATURE,
    "CreatePartitions (KIP-195) not supported by broker, requires broker version >= 1.0.0",
)


def _done(value: Any = None, error: KafkaError | None = None) -> Future[Any]:
    future: Future[Any] = Future()
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(KafkaException(error))
    return future


class FakeAdmin:
    """Topics with partition counts and configuration; records every change asked for."""

    def __init__(self, topics: dict[str, int], *, refuse_growth: KafkaError | None = None):
        self.partitions = dict(topics)
        self.configs: dict[str, dict[str, str]] = {name: {} for name in topics}
        self.refuse_growth = refuse_growth
        self.grown: list[tuple[str, int]] = []
        self.created: list[str] = []

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> ClusterMetadata:
        metadata = ClusterMetadata()
        names = list(self.partitions) if topic is None else [topic]
        for name in names:
            found = TopicMetadata()
            found.topic = name
            if name in self.partitions:
                found.partitions = {p: PartitionMetadata() for p in range(self.partitions[name])}
            else:
                found.error = KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
            metadata.topics[name] = found
        return metadata

    def describe_configs(
        self, resources: Sequence[ConfigResource]
    ) -> dict[ConfigResource, Future[Any]]:
        return {
            r: _done({k: ConfigEntry(k, v) for k, v in self.configs[r.name].items()})
            for r in resources
        }

    def create_topics(self, topics: Sequence[NewTopic], **_: Any) -> dict[str, Future[Any]]:
        for new in topics:
            self.partitions[new.topic] = new.num_partitions
            self.configs[new.topic] = dict(new.config or {})
            self.created.append(new.topic)
        return {new.topic: _done() for new in topics}

    def create_partitions(
        self, new_partitions: Sequence[NewPartitions], **_: Any
    ) -> dict[str, Future[Any]]:
        futures = {}
        for new in new_partitions:
            if self.refuse_growth is not None:
                futures[new.topic] = _done(error=self.refuse_growth)
                continue
            self.partitions[new.topic] = new.new_total_count
            self.grown.append((new.topic, new.new_total_count))
            futures[new.topic] = _done()
        return futures


def _admin(fake: FakeAdmin) -> AdminClient:
    admin: AdminClient = fake  # type: ignore[assignment]
    return admin


def test_scale_grows_with_one_request_for_the_new_total() -> None:
    fake = FakeAdmin({"t": 3})
    assert scale_topic(_admin(fake), "t", 6) is True
    assert fake.grown == [("t", 6)]
    assert scale_topic(_admin(fake), "t", 6) is False
    assert fake.grown == [("t", 6)]


def test_scale_refuses_to_shrink_without_asking_the_broker() -> None:
    fake = FakeAdmin({"t": 3})
    with pytest.raises(PartitionShrinkError) as caught:
        scale_topic(_admin(fake), "t", 2)
    assert (caught.value.current, caught.value.requested) == (3, 2)
    assert fake.grown == []


def test_scale_of_a_missing_topic_says_so() -> None:
    with pytest.raises(KafkaOperationError) as caught:
        scale_topic(_admin(FakeAdmin({})), "absent", 4)
    assert str(caught.value) == 'topic "absent": scale failed: the topic does not exist'


def test_a_broker_refusing_growth_is_one_clear_error() -> None:
    fake = FakeAdmin({"t": 3}, refuse_growth=UNSUPPORTED)
    with pytest.raises(KafkaOperationError) as caught:
        scale_topic(_admin(fake), "t", 6)
    assert isinstance(caught.value, ContractError)
    assert str(caught.value) == (
        'topic "t": grow to 6 partitions failed: CreatePartitions (KIP-195) not supported '
        "by broker, requires broker version >= 1.0.0"
    )
    assert fake.partitions == {"t": 3}


def test_plans_grow_only_topics_with_fewer_partitions_than_asked() -> None:
    fake = FakeAdmin({"fewer": 2, "more": 5, "same": 3})
    specs = [TopicSpec(name, 3) for name in ("fewer", "more", "same", "missing")]
    fewer, more, same, missing = plan_topics(_admin(fake), specs)
    assert (fewer.grow_to, more.grow_to, same.grow_to, missing.grow_to) == (3, None, None, None)
    assert fewer.describe() == ["fewer: partitions 2 -> 3"]
    assert more.describe() == [
        "more: has 5 partitions, more than the 3 asked for; left as is (partitions only grow)"
    ]
    assert [p.changed for p in (fewer, more, same, missing)] == [True, False, False, True]

    assert apply_plans(_admin(fake), [fewer, more, same, missing]) == 2
    assert fake.grown == [("fewer", 3)]
    assert fake.created == ["missing"]
    assert fake.partitions == {"fewer": 3, "more": 5, "same": 3, "missing": 3}
    assert not any(p.changed for p in plan_topics(_admin(fake), specs))


def test_apply_reports_a_refused_growth_with_the_topic() -> None:
    fake = FakeAdmin({"fewer": 2}, refuse_growth=UNSUPPORTED)
    plans = plan_topics(_admin(fake), [TopicSpec("fewer", 3)])
    with pytest.raises(KafkaOperationError, match=r'^topic "fewer": grow to 3 partitions failed'):
        apply_plans(_admin(fake), plans)


def test_cli_scale_grows_and_is_idempotent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeAdmin({"t": 3})
    monkeypatch.setattr("somacontracts.tooling.cli.topics.open_admin", lambda _settings: fake)
    argv = ["topics", "scale", "t", "6", "--bootstrap", "127.0.0.1:9"]
    assert main(argv) == EXIT_OK
    assert capsys.readouterr().out == "t: now 6 partitions\n"
    assert main(argv) == EXIT_OK
    assert capsys.readouterr().out == "t: already has 6 partitions; nothing to change\n"
    assert fake.grown == [("t", 6)]


def test_cli_scale_refused_by_the_broker_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeAdmin({"t": 3}, refuse_growth=UNSUPPORTED)
    monkeypatch.setattr("somacontracts.tooling.cli.topics.open_admin", lambda _settings: fake)
    assert main(["topics", "scale", "t", "6", "--bootstrap", "127.0.0.1:9"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "grow to 6 partitions failed: CreatePartitions (KIP-195) not supported" in err


def test_scale_grows_a_topic_or_the_broker_refusal_is_one_clear_error(admin: AdminClient) -> None:
    """Against Apache Kafka the topic grows; Tansu (the local broker) does not implement
    CreatePartitions, and its refusal must reach the caller as one line naming the cause,
    with the topic left as it was."""
    name = f"grow.{uuid.uuid4().hex[:8]}"
    apply_plans(admin, plan_topics(admin, [TopicSpec(name, 2)]))
    refusal: KafkaOperationError | None = None
    try:
        grown = scale_topic(admin, name, 3)
    except KafkaOperationError as err:
        refusal = err
    if refusal is not None:
        assert "not supported" in refusal.reason, refusal.reason
        assert "\n" not in str(refusal)
        assert len(admin.list_topics(topic=name, timeout=10).topics[name].partitions) == 2
        return
    assert grown is True
    assert len(admin.list_topics(topic=name, timeout=10).topics[name].partitions) == 3
    assert scale_topic(admin, name, 3) is False

"""The broker's topics, messages and group offsets, saved from one local broker and replayed
into a new one: what ``dev down`` and the next ``dev up`` do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.cimpl import NewTopic
from hypothesis import given
from hypothesis import strategies as st

from somacontracts.catalog.environment import load_settings
from somacontracts.tooling.dev import LocalBroker
from somacontracts.tooling.dev.processes import DevStackError
from somacontracts.tooling.dev.snapshot import _moved, restore_broker, save_broker

Record = tuple[Any, ...]


def _read_all(bootstrap: str, topic: str, partitions: int) -> list[Record]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    found: list[Record] = []
    ended: set[Any] = set()
    while len(ended) < partitions:
        message = consumer.poll(5)
        assert message is not None, "the partitions did not end"
        error = message.error()
        if error is not None:
            assert error.code() == KafkaError._PARTITION_EOF, error
            ended.add(message.partition())
            continue
        headers = list(message.headers() or [])
        found.append(
            (
                message.partition(),
                message.offset(),
                message.key(),
                message.value(),
                headers,
                message.timestamp()[1],
            )
        )
    consumer.close()
    return sorted(found)


def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    consumer.close()
    return [tp.offset for tp in offsets]


def _fill(bootstrap: str) -> None:
    """30 messages on 3 partitions, a topic setting, and group ledger's offsets 3, 4, 5."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    created = NewTopic("payments.captured", 3, config={"retention.ms": "3600000"})
    for future in admin.create_topics([created]).values():
        future.result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap})
    for n in range(30):
        producer.produce(
            "payments.captured",
            key=None if n % 7 == 0 else f"tenant-{n % 4}".encode(),
            value=None if n == 5 else json.dumps({"n": n}).encode(),
            partition=n % 3,
            headers=[("trace", f"t{n}".encode()), ("empty", None)],
            timestamp=1_700_000_000_000 + n,
        )
    producer.flush(30)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ledger"})
    committed = [TopicPartition("payments.captured", p, 3 + p) for p in range(3)]
    consumer.commit(offsets=committed, asynchronous=False)
    consumer.close()


@pytest.mark.slow
def test_messages_offsets_and_topic_settings_survive_save_and_restore(tmp_path: Path) -> None:
    saved = tmp_path / "broker.jsonl"
    with LocalBroker() as first:
        _fill(first.bootstrap_servers)
        before = _read_all(first.bootstrap_servers, "payments.captured", 3)
        settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": first.bootstrap_servers})
        counts = save_broker(settings, saved)
    assert (counts.topics, counts.messages, counts.groups) == (1, 30, 1)
    with LocalBroker() as second:
        settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": second.bootstrap_servers})
        assert restore_broker(settings, saved) == counts
        assert _read_all(second.bootstrap_servers, "payments.captured", 3) == before
        assert _committed(second.bootstrap_servers, "ledger", "payments.captured", 3) == [3, 4, 5]
        admin = AdminClient({"bootstrap.servers": second.bootstrap_servers})
        resource = ConfigResource(ConfigResource.Type.TOPIC, "payments.captured")
        entries = admin.describe_configs([resource])[resource].result(timeout=30)
        assert entries["retention.ms"].value == "3600000"


@pytest.mark.parametrize("head", ["[]", '{"format": 2}', "not json"])
def test_a_file_that_is_no_saved_broker_is_one_error_naming_it(tmp_path: Path, head: str) -> None:
    saved = tmp_path / "broker.jsonl"
    saved.write_text(head + "\n")
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})  # never reached
    with pytest.raises(DevStackError, match=r"broker\.jsonl: line 1 is not"):
        restore_broker(settings, saved)


@given(
    kept=st.lists(st.integers(0, 200), unique=True, max_size=40).map(sorted),
    committed=st.integers(0, 220),
    start=st.integers(0, 5),
)
def test_a_committed_offset_moves_to_the_message_it_pointed_at(
    kept: list[int], committed: int, start: int
) -> None:
    """Replayed messages get consecutive offsets from ``start``: a group's offset moves to
    the first kept message at or after it, else past the last one."""
    new = list(range(start, start + len(kept)))
    moved = _moved("t", 0, committed, {("t", 0): kept}, {("t", 0): new}).offset
    following = [n for o, n in zip(kept, new, strict=True) if o >= committed]
    assert moved == (following[0] if following else (new[-1] + 1 if new else 0))
    # what the group had still to read is exactly what it still has to read
    assert len([o for o in kept if o >= committed]) == len([n for n in new if n >= moved])

"""A consumer group the cluster counts as a live reader of a topic: the topic made, and an
offset committed on it by the group (without joining it: a manual commit)."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

__all__ = ["commit_offset"]


def commit_offset(bootstrap: str, topic: str, group: str) -> None:
    """Make ``topic`` (one partition) and commit offset 0 of it for ``group``."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    finally:
        consumer.close()

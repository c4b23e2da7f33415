"""A consumer group's lag: how far its committed offsets are behind the end of each partition.

:func:`group_lag` reads, for every partition of the topics, the group's committed offset
and the partition's end offset (through one confluent-kafka consumer of that group that
joins nothing and commits nothing) and returns them with the lag and the catalog's alert
threshold of the topic (``Topic.lag_alert``: 500 on ``tool.requests``). A partition the
group never committed in lags by every message it holds; the typed consumer's lag gauge
counts the same way (:func:`~somacontracts.kafka.lag.partition_lag`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError
from somacontracts.kafka._admin import ensure_reachable
from somacontracts.kafka.lag import partition_lag

__all__ = ["PartitionLag", "group_lag", "threshold_of"]


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """One partition's lag for a group."""

    topic: str
    partition: int
    committed: int | None
    """The group's committed offset, or None if it never committed in this partition."""
    end: int
    lag: int
    threshold: int | None
    """The alert threshold of the topic, if it has one."""

    @property
    def alerting(self) -> bool:
        """Whether the lag is above the topic's threshold."""
        return self.threshold is not None and self.lag > self.threshold


def threshold_of(settings: Settings, topic: str) -> int | None:
    """The catalog's lag alert threshold of ``topic`` (by its name in use), if any."""
    key = settings.topic_named(topic)
    return None if key is None else settings.catalog.topic(key).lag_alert


def group_lag(
    settings: Settings,
    group: str,
    topics: Sequence[str],
    *,
    threshold: int | None = None,
    timeout: float = 10.0,
) -> list[PartitionLag]:
    """The lag of ``group`` on every partition of ``topics``, against ``threshold``, else
    each topic's catalog threshold."""
    consumer = Consumer({**settings.kafka_config(), "group.id": group, "enable.auto.commit": False})
    try:
        ensure_reachable(consumer, settings.bootstrap_servers, timeout=timeout)
        wanted: list[TopicPartition] = []
        for topic in topics:
            found = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
            if found is None or found.error is not None or not found.partitions:
                raise ConfigurationError("TOPIC", f"topic {topic!r} does not exist")
            wanted += [TopicPartition(topic, p) for p in sorted(found.partitions)]
        committed = consumer.committed(wanted, timeout=timeout)
        found_lags = []
        for position in committed:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(position.topic, position.partition), timeout=timeout
            )
            done = position.offset if position.offset >= 0 else None
            lag = partition_lag(high, done, low)
            limit = threshold if threshold is not None else threshold_of(settings, position.topic)
            found_lags.append(
                PartitionLag(position.topic, position.partition, done, high, lag, limit)
            )
        return found_lags
    finally:
        consumer.close()

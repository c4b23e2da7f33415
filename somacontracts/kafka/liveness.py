"""Which readers are live: the cluster knows, the registry entry alone does not.

A consumer group reading a topic counts as live while the cluster lists the group
(``ListGroups``: members joined, or an empty group the coordinator still keeps) or the
group has a committed offset on one of the topic's partitions (``OffsetFetch``), which
Kafka keeps for ``offsets.retention.minutes`` after the group empties (7 days by
default). A group deleted (``kafka-consumer-groups --delete``) or whose offsets expired
is not live. ``DescribeGroups`` is not asked: Tansu, the local broker, describes a group
it never saw as an empty one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import (
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from somacontracts.catalog.environment import Settings
from somacontracts.kafka._admin import DEFAULT_CONNECT_TIMEOUT, ensure_reachable, kafka_reason
from somacontracts.kafka.errors import KafkaOperationError

__all__ = ["Liveness", "group_liveness"]


@dataclass(frozen=True, slots=True)
class Liveness:
    """What the cluster says of one group on one topic."""

    listed: bool
    """The cluster lists the group."""
    committed: bool
    """The group has a committed offset on a partition of the topic."""

    @property
    def live(self) -> bool:
        """Whether the group counts as a live reader of the topic."""
        return self.listed or self.committed

    def reason(self) -> str:
        """Why it is live or not, for reports."""
        if self.listed:
            return "group on the cluster"
        if self.committed:
            return "committed offsets on the topic"
        return "no such group on the cluster and no committed offsets on the topic"


def group_liveness(
    settings: Settings,
    topic: str,
    groups: Iterable[str],
    *,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> dict[str, Liveness]:
    """The liveness of each of ``groups`` as a reader of ``topic``."""
    wanted = list(dict.fromkeys(groups))
    if not wanted:
        return {}
    admin = AdminClient(settings.kafka_config())
    metadata = ensure_reachable(admin, settings.bootstrap_servers, timeout=timeout)
    found = metadata.topics.get(topic)
    partitions = [] if found is None or found.error is not None else sorted(found.partitions)
    try:
        listing = admin.list_consumer_groups(request_timeout=timeout).result()
        listed = {g.group_id for g in listing.valid if g.state is not ConsumerGroupState.DEAD}
        result = {}
        for group in wanted:
            committed = False
            if partitions:
                asked = ConsumerGroupTopicPartitions(
                    group, [TopicPartition(topic, p) for p in partitions]
                )
                answer = admin.list_consumer_group_offsets([asked], request_timeout=timeout)
                offsets = answer[group].result().topic_partitions or []
                committed = any(tp.error is None and tp.offset >= 0 for tp in offsets)
            result[group] = Liveness(listed=group in listed, committed=committed)
    except KafkaException as err:
        raise KafkaOperationError(topic, "listing its consumer groups", kafka_reason(err)) from err
    return result

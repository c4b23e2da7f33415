"""Helpers every Kafka client of this package shares: reachability check, the local
broker's group timing, where a reader of replies starts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, Self

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from somacontracts.errors import ConfigurationError
from somacontracts.kafka.errors import BrokerUnavailableError

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "TANSU_FETCH",
    "TANSU_GROUP",
    "AsyncClient",
    "ensure_reachable",
    "kafka_reason",
    "open_consumer",
    "partitions_at_end",
    "take_batch",
    "tansu_settings",
]

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds a client waits for the cluster's metadata before reporting it unavailable."""

TANSU_CLUSTER_ID = "tansu_cluster"
"""The cluster id of a Tansu broker (the local broker) started without one of its own."""
TANSU_GROUP = {"session.timeout.ms": 4000, "heartbeat.interval.ms": 500}
"""Group settings a subscribing consumer takes on Tansu unless configured otherwise: its
coordinator answers a new member's join after half the session timeout."""
TANSU_FETCH = {"fetch.wait.max.ms": 10}
"""What every consumer takes on Tansu unless configured otherwise: Tansu answers a fetch
that found nothing after ``fetch.wait.max.ms`` even when a message arrives meanwhile (a
Kafka broker answers at once), so librdkafka's 500 ms default delayed each message about
215 ms, and 10 ms delays it about 5 ms, at the cost of more fetches on an idle topic."""


class _HasMetadata(Protocol):
    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any: ...

    def poll(self, timeout: float = -1) -> Any: ...


def kafka_reason(err: BaseException) -> str:
    """The broker's message in a ``KafkaException``, or the exception's text."""
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
        return str(err.args[0].str())
    return str(err)


def ensure_reachable(client: _HasMetadata, bootstrap_servers: str, *, timeout: float) -> Any:
    """The cluster metadata; raise :class:`BrokerUnavailableError` if none within ``timeout``."""
    try:
        return client.list_topics(timeout=timeout)
    except KafkaException as err:
        client.poll(0)  # hands librdkafka's log of the attempts to the logger (settings.KAFKA_LOG)
        raise BrokerUnavailableError(
            bootstrap_servers, f"no metadata within {timeout:g} s ({kafka_reason(err)})"
        ) from err


def tansu_settings(
    metadata: Any, config: Mapping[str, Any], *, subscribing: bool
) -> dict[str, Any]:
    """What a consumer configured with ``config`` takes on a Tansu cluster (none on any
    other): :data:`TANSU_FETCH`, and :data:`TANSU_GROUP` if it joins a group, each unless
    ``config`` sets one of its keys."""
    if getattr(metadata, "cluster_id", None) != TANSU_CLUSTER_ID:
        return {}
    chosen = [TANSU_FETCH, *([TANSU_GROUP] if subscribing else [])]
    return {k: v for group in chosen if not set(group) & set(config) for k, v in group.items()}


def open_consumer(
    config: Mapping[str, Any], bootstrap_servers: str, *, subscribing: bool, timeout: float
) -> tuple[Consumer, Any]:
    """A consumer of ``config`` whose cluster answered within ``timeout`` (else
    :class:`BrokerUnavailableError`), with the local broker's settings
    (:func:`tansu_settings`) where it is Tansu; and the cluster's metadata."""
    consumer = Consumer(dict(config))
    try:
        found = ensure_reachable(consumer, bootstrap_servers, timeout=timeout)
        if tansu := tansu_settings(found, config, subscribing=subscribing):
            consumer.close()
            consumer = Consumer({**config, **tansu})
    except BaseException:
        consumer.close()
        raise
    return consumer, found


def partitions_at_end(
    consumer: Consumer,
    metadata: Any,
    topics: Iterable[str],
    partitions: Iterable[tuple[str, int]] | None,
    *,
    timeout: float,
) -> list[TopicPartition]:
    """``partitions`` (default: every partition of ``topics`` in ``metadata``) at their
    current end: the offset the next message written to each will get."""
    if partitions is None:
        chosen: list[tuple[str, int]] = []
        for topic in topics:
            found = metadata.topics.get(topic)
            if found is None or found.error is not None or not found.partitions:
                raise ConfigurationError("topics", f'topic "{topic}" does not exist')
            chosen.extend((topic, p) for p in sorted(found.partitions))
    else:
        chosen = list(partitions)
    ends = []
    for topic, partition in chosen:
        try:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout
            )
        except KafkaException as err:
            raise ConfigurationError(
                "partitions", f"no end offset of {topic}:{partition} ({kafka_reason(err)})"
            ) from err
        ends.append(TopicPartition(topic, partition, high))
    return ends


class AsyncClient(ABC):
    """An asyncio client used as ``async with``: started on entering, closed on leaving."""

    @abstractmethod
    async def start(self) -> None:
        """Connect."""

    @abstractmethod
    async def close(self) -> None:
        """Release what :meth:`start` took."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def take_batch(consumer: Consumer, wanted: int, timeout: float) -> list[Message]:
    """Up to ``wanted`` messages: waits up to ``timeout`` for the first, not for the rest
    (librdkafka's ``consume`` waits for a full batch until its timeout)."""
    batch = consumer.consume(num_messages=1, timeout=timeout)
    if batch and wanted > 1:
        batch.extend(consumer.consume(num_messages=wanted - 1, timeout=0))
    return batch

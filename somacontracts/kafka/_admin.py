"""Helpers every Kafka client of this package shares: reachability check, admin futures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException

from somacontracts.kafka.errors import BrokerUnavailableError

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "TANSU_GROUP",
    "ensure_reachable",
    "kafka_reason",
    "open_consumer",
    "slow_joins",
]

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds a client waits for the cluster's metadata before reporting it unavailable."""


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


TANSU_CLUSTER_ID = "tansu_cluster"
"""The cluster id of a Tansu broker (the local broker) started without one of its own."""
TANSU_GROUP = {"session.timeout.ms": 4000, "heartbeat.interval.ms": 500}
"""Group settings a subscribing consumer takes on Tansu unless configured otherwise: its
coordinator answers a new member's join after half the session timeout."""


def slow_joins(metadata: Any, config: Mapping[str, Any]) -> bool:
    """Whether the cluster is Tansu and the consumer's group settings are its defaults."""
    return getattr(metadata, "cluster_id", None) == TANSU_CLUSTER_ID and not any(
        key in config for key in TANSU_GROUP
    )


def open_consumer(
    config: Mapping[str, Any], bootstrap_servers: str, *, subscribing: bool, timeout: float
) -> Consumer:
    """A consumer of ``config`` whose cluster answered within ``timeout`` (else
    :class:`BrokerUnavailableError`), with :data:`TANSU_GROUP` when it will subscribe on
    Tansu with the default group settings."""
    consumer = Consumer(dict(config))
    try:
        found = ensure_reachable(consumer, bootstrap_servers, timeout=timeout)
        if subscribing and slow_joins(found, config):
            # Tansu answers a new group's join after half the session timeout (22.5 s
            # with librdkafka's 45 s default); a short session lets it answer in about 2 s.
            consumer.close()
            consumer = Consumer({**config, **TANSU_GROUP})
    except BaseException:
        consumer.close()
        raise
    return consumer

"""Helpers every Kafka client of this package shares: reachability check, admin futures."""

from __future__ import annotations

from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException

from somacontracts.kafka.errors import BrokerUnavailableError

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "ensure_reachable", "kafka_reason"]

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

"""What a catalog holds: its topics, the contracts they carry, and look-ups over them.

A :class:`Catalog` is data: this package's own (the platform's five topics) is read from
``catalog/platform.toml``, a service's from the ``[tool.somacontracts.topics]`` tables of
its ``pyproject.toml``, both by :mod:`somacontracts.catalog.reading`. Nothing here reads a
file or the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import UnknownContractError

__all__ = ["Catalog", "Contract", "Topic", "subject_for_topic"]


@dataclass(frozen=True, slots=True)
class Topic:
    """A Kafka topic of the catalog with its default name and provisioning settings."""

    key: str
    """Stable identifier used in code, for example ``tool_requests``."""
    default_name: str
    contract: str
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    retention_ms: int | None = None
    """The topic's own retention, which nothing in the environment changes; None if the
    catalog does not pin one."""
    partitions: int = 3
    cleanup_policy: str = "delete"
    env_var: str | None = None
    """Environment variable that overrides the name, where the catalog names one."""
    in_source_document: bool = True
    """False for topics this library adds to the platform's document (see README)."""
    lag_alert: int | None = None
    """Consumer lag above which monitoring alerts, where the catalog sets one."""
    every_instance: bool = False
    """Whether every instance of a consuming service reads every message (settings that
    each instance applies), so consumers share no group."""
    default_retention_ms: int | None = None
    """The retention applied when neither the catalog pins one nor the environment sets the
    broker-wide ``KAFKA_CFG_LOG_RETENTION_HOURS``; None leaves the broker's."""
    key_field: str = "tenant_id"
    """Dotted path of the payload field whose value is the message key."""


@dataclass(frozen=True, slots=True)
class Contract:
    """A payload contract: its schema folder, topics, registry level and key field."""

    name: str
    topics: tuple[str, ...]
    """Keys into the catalog's topics."""
    key_field: str
    """Dotted path of the payload field whose value is the message key (the tenant id),
    so that Kafka keeps each tenant's messages in order."""
    compatibility: CompatibilityLevel | None = None
    """A level the catalog pins; None: the project's (``default-level``, FULL_TRANSITIVE
    unless configured)."""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Catalog:
    """Topics (by key) and the contracts they carry (by name), read from ``source``."""

    topics: Mapping[str, Topic] = field(default_factory=lambda: MappingProxyType({}))
    contracts: Mapping[str, Contract] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""
    """The file the catalog was read from, for messages; empty for an empty catalog."""
    legacy_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Topic names a source document uses that match no topic, and the key they stand for."""

    def contract(self, name: str) -> Contract:
        """The entry of contract ``name``; raise :class:`UnknownContractError` if none."""
        try:
            return self.contracts[name]
        except KeyError:
            raise UnknownContractError(name, tuple(self.contracts), self.source) from None

    def topic(self, key: str) -> Topic:
        """The topic with key ``key``."""
        return self.topics[key]


def subject_for_topic(topic_name: str) -> str:
    """The value subject of a topic under Confluent's TopicNameStrategy."""
    return f"{topic_name}-value"

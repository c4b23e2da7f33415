"""The platform's catalog: which contract travels on which topic, as the platform's
document says, read from ``catalog/platform.toml`` like any service's catalog.

:data:`PLATFORM` is the catalog; :data:`TOPICS` (default names, producers, consumers,
retention, partitions, lag alert, environment override) and :data:`CONTRACTS` (topics,
key field, compatibility level) are its tables. What the environment changes (topic
names, the consumer group, how to reach Kafka) is
:mod:`somacontracts.catalog.environment`.

Subjects follow Confluent's default TopicNameStrategy, ``<topic>-value``, so they
follow a topic rename made through the environment.
"""

from __future__ import annotations

from collections.abc import Mapping

from somacontracts.catalog.entries import Catalog, Contract, Topic, subject_for_topic
from somacontracts.catalog.reading import platform_catalog

__all__ = [
    "CONTRACTS",
    "LEGACY_TOPIC_NAMES",
    "PLATFORM",
    "TOPICS",
    "Contract",
    "Topic",
    "contract",
    "subject_for_topic",
]

PLATFORM: Catalog = platform_catalog()
"""The platform's catalog."""

TOPICS: Mapping[str, Topic] = PLATFORM.topics
"""Every topic of the platform, keyed by :attr:`Topic.key`."""

CONTRACTS: Mapping[str, Contract] = PLATFORM.contracts
"""Every contract of the platform, keyed by name (the folder name under ``avro/``)."""

LEGACY_TOPIC_NAMES: Mapping[str, str] = PLATFORM.legacy_names
"""Names the platform's document uses that match no topic, and the key they stand for."""


def contract(name: str) -> Contract:
    """The platform's entry of contract ``name``; raise
    :class:`~somacontracts.errors.UnknownContractError` if none."""
    return PLATFORM.contract(name)

"""The catalog (runtime): which contract travels on which topic, with each topic's
producers, consumers, retention and partitioning, as data (:mod:`~somacontracts.catalog.entries`,
read by :mod:`~somacontracts.catalog.reading`: a project's ``[tool.somacontracts.topics]``,
or this package's own, :mod:`~somacontracts.catalog.platform`), and the environment's
topic names, group and Kafka security turned into client configurations
(:mod:`~somacontracts.catalog.environment`)."""

from somacontracts.catalog.entries import Catalog, Contract, Topic, subject_for_topic
from somacontracts.catalog.environment import (
    DEFAULT_BOOTSTRAP_SERVERS,
    DEFAULT_TOOL_EXECUTOR_GROUP,
    KAFKA_LOG,
    RETENTION_VARIABLE,
    SASL_MECHANISMS,
    SECURITY_PROTOCOLS,
    KafkaSecurity,
    MetricsSettings,
    Settings,
    load_settings,
    load_topic_settings,
)
from somacontracts.catalog.platform import (
    CONTRACTS,
    LEGACY_TOPIC_NAMES,
    PLATFORM,
    TOPICS,
    contract,
)
from somacontracts.catalog.reading import (
    CATALOG_VARIABLE,
    catalog_of_project,
    find_catalog,
    read_catalog_file,
)

__all__ = [
    "CATALOG_VARIABLE",
    "CONTRACTS",
    "DEFAULT_BOOTSTRAP_SERVERS",
    "DEFAULT_TOOL_EXECUTOR_GROUP",
    "KAFKA_LOG",
    "LEGACY_TOPIC_NAMES",
    "PLATFORM",
    "RETENTION_VARIABLE",
    "SASL_MECHANISMS",
    "SECURITY_PROTOCOLS",
    "TOPICS",
    "Catalog",
    "Contract",
    "KafkaSecurity",
    "MetricsSettings",
    "Settings",
    "Topic",
    "catalog_of_project",
    "contract",
    "find_catalog",
    "load_settings",
    "load_topic_settings",
    "read_catalog_file",
    "subject_for_topic",
]

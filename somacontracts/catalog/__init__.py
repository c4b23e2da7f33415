"""The catalog (runtime): which contract travels on which topic, with each topic's
producers, consumers, retention and partitioning (:mod:`~somacontracts.catalog.platform`),
and the environment's topic names, group and Kafka security turned into client
configurations (:mod:`~somacontracts.catalog.environment`)."""

from somacontracts.catalog.environment import (
    DEFAULT_BOOTSTRAP_SERVERS,
    DEFAULT_TOOL_EXECUTOR_GROUP,
    KAFKA_LOG,
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
    TOPICS,
    Contract,
    Topic,
    contract,
    subject_for_topic,
)

__all__ = [
    "CONTRACTS",
    "DEFAULT_BOOTSTRAP_SERVERS",
    "DEFAULT_TOOL_EXECUTOR_GROUP",
    "KAFKA_LOG",
    "LEGACY_TOPIC_NAMES",
    "SASL_MECHANISMS",
    "SECURITY_PROTOCOLS",
    "TOPICS",
    "Contract",
    "KafkaSecurity",
    "MetricsSettings",
    "Settings",
    "Topic",
    "contract",
    "load_settings",
    "load_topic_settings",
    "subject_for_topic",
]

"""The catalog: which contract travels on which topic, as the platform's document says.

Static facts only: :data:`TOPICS` (default names, producers, consumers, retention,
partitions, lag alert, environment override) and :data:`CONTRACTS` (topics, key field,
compatibility level). What the environment changes (topic names, the consumer group,
how to reach Kafka) is :mod:`somacontracts.catalog.environment`.

Subjects follow Confluent's default TopicNameStrategy, ``<topic>-value``, so they
follow a topic rename made through the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import UnknownContractError

__all__ = [
    "CONTRACTS",
    "LEGACY_TOPIC_NAMES",
    "TOPICS",
    "Contract",
    "Topic",
    "contract",
    "subject_for_topic",
]

_DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Topic:
    """A Kafka topic of the platform with its default name and provisioning settings."""

    key: str
    """Stable identifier used in code, for example ``tool_requests``."""
    default_name: str
    contract: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    retention_ms: int
    partitions: int = 3
    cleanup_policy: str = "delete"
    env_var: str | None = None
    """Environment variable that overrides the name, where the platform defines one."""
    in_source_document: bool = True
    """False for topics this library adds to the platform's document (see README)."""
    lag_alert: int | None = None
    """Consumer lag above which monitoring alerts, where the document sets one."""
    every_instance: bool = False
    """Whether every instance of a consuming service reads every message (settings that
    each instance applies), so consumers share no group."""


@dataclass(frozen=True, slots=True)
class Contract:
    """A payload contract: its schema folder, topics, registry level and key field."""

    name: str
    topics: tuple[str, ...]
    """Keys into :data:`TOPICS`."""
    key_field: str
    """Dotted path of the payload field whose value is the message key (the tenant id),
    so that Kafka keeps each tenant's messages in order."""
    compatibility: CompatibilityLevel = CompatibilityLevel.FULL_TRANSITIVE
    description: str = ""


TOPICS: Mapping[str, Topic] = MappingProxyType(
    {
        topic.key: topic
        for topic in (
            Topic(
                key="tool_requests",
                default_name="tool.requests",
                contract="ToolInvocation",
                producers=("gateway", "orchestrator"),
                consumers=("tool-executor",),
                retention_ms=7 * _DAY_MS,
                env_var="TOOL_REQUESTS_TOPIC",
                lag_alert=500,
            ),
            Topic(
                key="tool_results",
                default_name="tool.results",
                contract="ToolResult",
                producers=("tool-executor",),
                consumers=("gateway", "orchestrator"),
                retention_ms=7 * _DAY_MS,
                env_var="TOOL_RESULTS_TOPIC",
            ),
            Topic(
                key="conversation_inbound",
                default_name="conversation.inbound",
                contract="ConversationEvent",
                producers=("gateway",),
                consumers=("conversation-worker",),
                retention_ms=3 * _DAY_MS,
            ),
            Topic(
                key="conversation_outbound",
                default_name="conversation.outbound",
                contract="ConversationEvent",
                producers=("conversation-worker",),
                consumers=("gateway", "ui"),
                retention_ms=3 * _DAY_MS,
            ),
            Topic(
                key="config_updates",
                default_name="config_updates",
                contract="SettingsPayload",
                producers=("config-publisher",),
                consumers=("gateway",),
                retention_ms=1 * _DAY_MS,
                every_instance=True,
            ),
            Topic(
                key="task_delegated",
                default_name="task.delegated",
                contract="DelegatedTask",
                producers=("orchestrator",),
                consumers=("task-worker",),
                retention_ms=7 * _DAY_MS,
                in_source_document=False,
            ),
        )
    }
)
"""Every topic of the platform, keyed by :attr:`Topic.key`."""

CONTRACTS: Mapping[str, Contract] = MappingProxyType(
    {
        c.name: c
        for c in (
            Contract(
                name="ToolInvocation",
                topics=("tool_requests",),
                key_field="tenant_id",
                description="A tool call requested by the gateway or orchestrator.",
            ),
            Contract(
                name="ToolResult",
                topics=("tool_results",),
                key_field="metadata.tenant_id",
                description="The outcome of a tool call, from the tool executor.",
            ),
            Contract(
                name="ConversationEvent",
                topics=("conversation_inbound", "conversation_outbound"),
                key_field="tenant_id",
                description="User input, agent output and progress of a conversation.",
            ),
            Contract(
                name="SettingsPayload",
                topics=("config_updates",),
                key_field="tenant_id",
                description="A settings change from the config publisher.",
            ),
            Contract(
                name="DelegatedTask",
                topics=("task_delegated",),
                key_field="tenant_id",
                description="Background work handed by the orchestrator to a task worker.",
            ),
        )
    }
)
"""Every contract, keyed by name (the folder name under ``avro/``)."""

#: Names the platform's document uses that match no topic of the catalog, and what
#: they stand for. ``somastack.tools`` appears only in its monitoring notes; the lag
#: alert it describes belongs to the tool executor's input, ``tool.requests``.
LEGACY_TOPIC_NAMES: Mapping[str, str] = MappingProxyType({"somastack.tools": "tool_requests"})


def contract(name: str) -> Contract:
    """The catalog entry of contract ``name``; raise :class:`UnknownContractError` if none."""
    try:
        return CONTRACTS[name]
    except KeyError:
        raise UnknownContractError(name, tuple(CONTRACTS)) from None


def subject_for_topic(topic_name: str) -> str:
    """The value subject of a topic under Confluent's TopicNameStrategy."""
    return f"{topic_name}-value"

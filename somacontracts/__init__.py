"""somacontracts: the data contracts of the agent platform's Kafka payloads.

The typed payload classes (:mod:`somacontracts.models`, generated from the versioned
Avro schemas that ship inside the package), the serializers that put them on Kafka in
Confluent's wire format (:mod:`somacontracts.serde`), the catalog of topics and subjects
(:mod:`somacontracts.catalog`, :mod:`somacontracts.settings`), and one exception root,
:class:`ContractError`.

The names below load on first use: ``import somacontracts.models`` in a service loads
the models and their runtime, not the serdes, the registry client or the schema tree.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from somacontracts.errors import (
    ConfigurationError,
    ContractError,
    DeserializationError,
    IncompatibleWriterError,
    MessageError,
    ReadRuleError,
    RegistryError,
    RegistryFeatureError,
    RegistryUnavailableError,
    RuleError,
    RulesMissingError,
    RulesUnavailableError,
    SchemaError,
    SchemaLoadError,
    SchemaNotFoundError,
    SerializationError,
    UnknownContractError,
    WriteRuleError,
)

if TYPE_CHECKING:
    from somacontracts.catalog import CONTRACTS, TOPICS, Contract, Topic
    from somacontracts.compat.levels import CompatibilityLevel
    from somacontracts.models import (
        ConversationEvent,
        ConversationEventMetadata,
        ConversationEventType,
        ConversationRole,
        DelegatedTask,
        DelegatedTaskMetadata,
        SettingsChangeKind,
        SettingsPayload,
        SettingsPayloadMetadata,
        ToolInvocation,
        ToolInvocationMetadata,
        ToolResult,
        ToolResultMetadata,
        ToolResultMetrics,
        ToolResultStatus,
    )
    from somacontracts.schemas import ContractSchemas, SchemaVersion, bundled
    from somacontracts.serde import ContractDeserializer, ContractSerializer, RuleOptions
    from somacontracts.settings import Settings, load_settings

__all__ = [
    "CONTRACTS",
    "TOPICS",
    "CompatibilityLevel",
    "ConfigurationError",
    "Contract",
    "ContractDeserializer",
    "ContractError",
    "ContractSchemas",
    "ContractSerializer",
    "ConversationEvent",
    "ConversationEventMetadata",
    "ConversationEventType",
    "ConversationRole",
    "DelegatedTask",
    "DelegatedTaskMetadata",
    "DeserializationError",
    "IncompatibleWriterError",
    "MessageError",
    "ReadRuleError",
    "RegistryError",
    "RegistryFeatureError",
    "RegistryUnavailableError",
    "RuleError",
    "RuleOptions",
    "RulesMissingError",
    "RulesUnavailableError",
    "SchemaError",
    "SchemaLoadError",
    "SchemaNotFoundError",
    "SchemaVersion",
    "SerializationError",
    "Settings",
    "SettingsChangeKind",
    "SettingsPayload",
    "SettingsPayloadMetadata",
    "ToolInvocation",
    "ToolInvocationMetadata",
    "ToolResult",
    "ToolResultMetadata",
    "ToolResultMetrics",
    "ToolResultStatus",
    "Topic",
    "UnknownContractError",
    "WriteRuleError",
    "bundled",
    "load_settings",
]

__version__ = "0.1.0"

_MODELS = (
    "ConversationEvent",
    "ConversationEventMetadata",
    "ConversationEventType",
    "ConversationRole",
    "DelegatedTask",
    "DelegatedTaskMetadata",
    "SettingsChangeKind",
    "SettingsPayload",
    "SettingsPayloadMetadata",
    "ToolInvocation",
    "ToolInvocationMetadata",
    "ToolResult",
    "ToolResultMetadata",
    "ToolResultMetrics",
    "ToolResultStatus",
)
_HOMES: dict[str, str] = {
    **dict.fromkeys(("CONTRACTS", "TOPICS", "Contract", "Topic"), "catalog"),
    "CompatibilityLevel": "compat.levels",
    **dict.fromkeys(_MODELS, "models"),
    **dict.fromkeys(("ContractSchemas", "SchemaVersion", "bundled"), "schemas"),
    **dict.fromkeys(("ContractDeserializer", "ContractSerializer", "RuleOptions"), "serde"),
    **dict.fromkeys(("Settings", "load_settings"), "settings"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later uses skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""somacontracts: the data contracts of the agent platform's Kafka payloads.

The typed payload classes (:mod:`somacontracts.models`, generated from the versioned
Avro schemas that ship inside the package), the serializers that put them on Kafka in
Confluent's wire format (:mod:`somacontracts.serde`), the catalog of topics and subjects
(:mod:`somacontracts.catalog.platform`, :mod:`somacontracts.catalog.environment`), and one
exception root,
:class:`ContractError`.

The names below load on first use: ``import somacontracts.models`` in a service loads
the models and their runtime, not the serdes, the registry client or the schema tree.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
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
    from somacontracts.catalog.entries import Catalog, Contract, Topic
    from somacontracts.catalog.environment import Settings, load_settings
    from somacontracts.catalog.platform import CONTRACTS, TOPICS
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
    from somacontracts.serde import ContractDeserializer, ContractSerializer, RuleOptions
    from somacontracts.tooling.sources import ContractSchemas, SchemaVersion, bundled

__all__ = [
    "CONTRACTS",
    "TOPICS",
    "Catalog",
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


def lazy_exports(
    package: str, homes: Mapping[str, str], exported: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package of this library whose names load on
    first use: each name of ``homes`` is imported from its module (a full module name) at
    its first use, then kept in the package, so importing the package costs only what its
    callers use (a service importing its models never loads the serdes)."""
    names = frozenset(exported)

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)  # later uses skip this function
        return value

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return getattr_, dir_


_HOMES: dict[str, str] = {
    **dict.fromkeys(
        ("CONTRACTS", "TOPICS", "Catalog", "Contract", "Topic"), "somacontracts.catalog"
    ),
    "CompatibilityLevel": "somacontracts.compat.levels",
    **dict.fromkeys(_MODELS, "somacontracts.models"),
    **dict.fromkeys(
        ("ContractSchemas", "SchemaVersion", "bundled"), "somacontracts.tooling.sources"
    ),
    **dict.fromkeys(
        ("ContractDeserializer", "ContractSerializer", "RuleOptions"), "somacontracts.serde"
    ),
    **dict.fromkeys(("Settings", "load_settings"), "somacontracts.catalog"),
}

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)

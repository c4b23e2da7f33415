"""somacontracts: the data contracts of the agent platform's Kafka payloads.

The typed payload classes (:mod:`somacontracts.models`, generated from the versioned
Avro schemas that ship inside the package), the serializers that put them on Kafka in
Confluent's wire format (:mod:`somacontracts.serde`), the catalog of topics and subjects
(:mod:`somacontracts.catalog`), and one exception root, :class:`ContractError`.
"""

from somacontracts.catalog import CONTRACTS, TOPICS, Contract, Topic
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import (
    ConfigurationError,
    ContractError,
    DeserializationError,
    IncompatibleWriterError,
    MessageError,
    RegistryError,
    RegistryUnavailableError,
    SchemaError,
    SchemaLoadError,
    SchemaNotFoundError,
    SerializationError,
    UnknownContractError,
)
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
from somacontracts.serde import ContractDeserializer, ContractSerializer
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
    "RegistryError",
    "RegistryUnavailableError",
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
    "bundled",
    "load_settings",
]

__version__ = "0.1.0"

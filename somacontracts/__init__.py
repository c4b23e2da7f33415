"""somacontracts: the data contracts of the agent platform's Kafka payloads.

The catalog (:mod:`somacontracts.catalog`) says which contract travels on which topic;
the versioned Avro schemas (:mod:`somacontracts.schemas`) ship inside the package; every
error the library raises derives from :class:`ContractError`.
"""

from somacontracts.catalog import (
    CONTRACTS,
    TOPICS,
    CompatibilityLevel,
    Contract,
    Settings,
    Topic,
    load_settings,
)
from somacontracts.errors import (
    ConfigurationError,
    ContractError,
    SchemaError,
    SchemaLoadError,
    UnknownContractError,
)
from somacontracts.schemas import ContractSchemas, SchemaVersion, bundled

__all__ = [
    "CONTRACTS",
    "TOPICS",
    "CompatibilityLevel",
    "ConfigurationError",
    "Contract",
    "ContractError",
    "ContractSchemas",
    "SchemaError",
    "SchemaLoadError",
    "SchemaVersion",
    "Settings",
    "Topic",
    "UnknownContractError",
    "bundled",
    "load_settings",
]

__version__ = "0.1.0"

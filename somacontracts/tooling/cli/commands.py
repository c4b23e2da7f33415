"""The subcommands of ``somacontracts`` and their one-line help, without importing them.

The command line imports only the module of the command it runs (each module is named
after its command), so that starting it costs what that command needs; the listing of
``somacontracts --help`` comes from here.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COMMANDS"]

COMMANDS: Mapping[str, str] = {
    "alerts": "Prometheus alerting rules for the catalog's topics and the typed clients",
    "asyncapi": "an AsyncAPI 3.0 document of the catalog's topics, contracts and services",
    "check": "check compatibility, lint rules and immutability of every contract",
    "codegen": "generate the typed model classes from the contract schemas",
    "consume": "print a topic's messages as plain JSON, decoded through the registry",
    "contracts": "list the contracts, their versions, topics and registry subjects",
    "demo": "send one message of every contract through a local Kafka and read it back",
    "dev": "run the project's local Kafka broker and schema registry in the background",
    "diff": "report what changed between contract versions and the rollout order",
    "docs": "generate a static documentation site of the contracts and topics",
    "lag": "a consumer group's lag per partition, against the catalog's alert thresholds",
    "lock": "record every new contract version in the lock file",
    "produce": "produce plain-JSON lines to a topic as its contract",
    "readers": "list each topic's consumer groups, reader versions and liveness; retire one",
    "register": "register every contract version with a schema registry",
    "registry": "run a local schema registry speaking Confluent's REST API",
    "release": "the next version from the contract changes: changelog, tag, checked distributions",
    "status": "compare the contracts with what a schema registry holds",
    "topics": "create or update the catalog's Kafka topics",
    "validate": "check that every contract version is a valid, well-formed Avro schema",
}
"""Command name (and module name under ``somacontracts.tooling.cli``) -> its help line."""

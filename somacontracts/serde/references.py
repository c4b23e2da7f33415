"""Shared types: named types a schema uses that other schemas define, registered under
subjects of their own, as Confluent Schema Registry's schema references.

A generated model whose schema uses shared types carries them as ``REFERENCES`` (full
name -> ``{"schema": ..., "references": [...]}``, each after those it references; see
:func:`somacontracts.schema.shared_types`). Each is registered under the subject named
after its full name (Confluent's convention for references), and the model's schema is
sent with Confluent's ``references`` array naming the versions they got there.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient

from somacontracts.errors import RegistryError, SchemaNotFoundError
from somacontracts.serde.registry_client import call, url_of

if TYPE_CHECKING:
    from somacontracts.schema import NamedNode

__all__ = ["reference_nodes", "references_of", "register_references", "shared_schema"]

_NOT_FOUND = (40401, 40403)


def shared_schema(entry: Mapping[str, Any], versions: Mapping[str, int]) -> Schema:
    """What the subject of a shared type holds: its text, with references to the shared
    types it uses at ``versions``."""
    text = json.dumps(entry["schema"], separators=(",", ":"), ensure_ascii=False)
    names = entry.get("references", ())
    return Schema(text, "AVRO", [SchemaReference(n, n, versions[n]) for n in names])


def register_references(
    client: SchemaRegistryClient,
    shared: Mapping[str, Mapping[str, Any]],
    used: Sequence[str],
    *,
    register: bool,
) -> list[SchemaReference]:
    """The ``references`` array of a schema using the shared types ``used`` (full names),
    looking each of ``shared`` up under its subject and, with ``register``, registering
    the missing ones first; raise :class:`SchemaNotFoundError` for one missing otherwise."""
    versions: dict[str, int] = {}
    for name, entry in shared.items():
        schema = shared_schema(entry, versions)
        lookup = functools.partial(client.lookup_schema, name, schema, normalize_schemas=True)
        try:
            found = call(client, lookup)
        except RegistryError as err:
            if err.error_code not in _NOT_FOUND:
                raise
            if not register:
                raise SchemaNotFoundError(
                    url_of(client),
                    f'subject "{name}" holds no version of the shared type {name}; '
                    "run `somacontracts register` first",
                    status=err.status,
                    error_code=err.error_code,
                ) from err
            call(
                client,
                functools.partial(client.register_schema, name, schema, normalize_schemas=True),
            )
            found = call(client, lookup)
        if found.version is None:
            raise SchemaNotFoundError(url_of(client), f'lookup under "{name}" gave no version')
        versions[name] = found.version
    return [SchemaReference(name, name, versions[name]) for name in used]


def references_of(
    client: SchemaRegistryClient, used: Mapping[str, NamedNode]
) -> list[SchemaReference]:
    """The ``references`` array of a schema using the shared types ``used`` (by full name),
    registering them (and those they use) under their full names first, where missing."""
    if not used:
        return []
    from somacontracts.schema import shared_types

    return register_references(client, shared_types(used.values()), tuple(used), register=True)


def reference_nodes(shared: Mapping[str, Mapping[str, Any]]) -> dict[str, NamedNode]:
    """The named types of ``shared`` parsed by the one schema model, by full name."""
    from somacontracts.schema import parse

    nodes: dict[str, NamedNode] = {}
    for name, entry in shared.items():
        nodes.update(parse(entry["schema"], source=name, references=nodes).named)
    return nodes

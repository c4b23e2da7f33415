"""The one schema model: parse schema JSON once, into a graph every tool reads.

:func:`parse` checks a schema and builds the graph of :mod:`~somacontracts.schema.graph`
nodes; :mod:`~somacontracts.schema.names` is the one place names are resolved;
:mod:`~somacontracts.schema.forms` prints the text a registry stores and the Parsing
Canonical Form. Validation, the compatibility engine, the change report, lint, codegen,
the local registry and the serializer's explanations all read this graph; none of them
walks schema JSON itself. Pure, on the standard library and the runtime's JSON decoder:
both halves of the package use it (the runtime only on rare paths, imported there when
needed).
"""

from somacontracts.schema.forms import (
    canonical_form,
    fingerprint,
    named_text,
    registry_text,
    shared_form,
    shared_types,
    standalone,
)
from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FieldNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    ParsedSchema,
    PrimitiveNode,
    RecordNode,
    UnionNode,
)
from somacontracts.schema.names import (
    JSON_LOGICAL_TYPE,
    NAMED_TYPES,
    PRIMITIVE_TYPES,
    full_name,
    json_pointer,
    resolve,
)
from somacontracts.schema.parse import MAX_NESTING, decode, parse

__all__ = [
    "JSON_LOGICAL_TYPE",
    "MAX_NESTING",
    "NAMED_TYPES",
    "PRIMITIVE_TYPES",
    "ArrayNode",
    "EnumNode",
    "FieldNode",
    "FixedNode",
    "MapNode",
    "NamedNode",
    "Node",
    "ParsedSchema",
    "PrimitiveNode",
    "RecordNode",
    "UnionNode",
    "canonical_form",
    "decode",
    "fingerprint",
    "full_name",
    "json_pointer",
    "named_text",
    "parse",
    "registry_text",
    "resolve",
    "shared_form",
    "shared_types",
    "standalone",
]

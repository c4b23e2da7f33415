"""Schemas parsed once into the graph the compatibility checker walks.

:func:`parse` checks a schema with :func:`somacontracts.validation.validate_schema`,
then builds a graph of nodes in which every reference to a named type is the node of
its definition, as Apache Avro Java's parser does. The checker memoizes on pairs of
nodes, so this sharing is what makes recursive types terminate and what lets a type
used twice be compared once.

A :class:`ParsedSchema` can be checked against many others: checking every pair of
many versions parses each version once.

Besides what :func:`validate_schema` rejects, two things Apache Avro Java's parser
refuses are refused here too, so that every accepted pair has a Java verdict: a schema
object whose ``type`` is itself an object or array, ``aliases`` that are not an array of
strings, and a field default holding a value of a record that encloses the field (Java
checks defaults before such a record has its fields).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from somacontracts.compat.results import InvalidSchemaError
from somacontracts.errors import SchemaError
from somacontracts.validation import PRIMITIVE_TYPES, json_pointer, qualified_name, validate_schema

__all__ = [
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
    "parse",
]


class Node:
    """A schema in the parsed graph; ``kind`` is ``record`` for both records and errors."""

    __slots__ = ("json", "kind", "logical_type")

    def __init__(self, kind: str, json_: Any, logical_type: str | None = None) -> None:
        self.kind = kind
        self.json = json_
        self.logical_type = logical_type

    def describe(self) -> str:
        """How messages name this type: ``int``, ``record "ns.Payment"``, ``array``."""
        if self.logical_type:
            return f"{self.kind} ({self.logical_type})"
        return self.kind

    def fragment(self) -> str:
        """The schema JSON this node was built from, compact."""
        return json.dumps(self.json, separators=(",", ":"))


class PrimitiveNode(Node):
    """``null``, ``boolean``, ``int``, ``long``, ``float``, ``double``, ``bytes``, ``string``."""

    __slots__ = ()


class ArrayNode(Node):
    """An array; ``items`` is the node of its items."""

    __slots__ = ("items",)

    def __init__(self, json_: Any, items: Node, logical_type: str | None) -> None:
        super().__init__("array", json_, logical_type)
        self.items = items


class MapNode(Node):
    """A map; ``values`` is the node of its values."""

    __slots__ = ("values",)

    def __init__(self, json_: Any, values: Node, logical_type: str | None) -> None:
        super().__init__("map", json_, logical_type)
        self.values = values


class UnionNode(Node):
    """A union; ``branches`` in declared order."""

    __slots__ = ("branches",)

    def __init__(self, json_: Any, branches: tuple[Node, ...]) -> None:
        super().__init__("union", json_)
        self.branches = branches

    def describe(self) -> str:
        return f"union [{', '.join(branch.describe() for branch in self.branches)}]"


class NamedNode(Node):
    """A record, enum or fixed: ``name`` is the short name, ``aliases`` are full names."""

    __slots__ = ("aliases", "full_name", "name")

    def __init__(
        self,
        kind: str,
        json_: Any,
        full_name: str,
        aliases: frozenset[str],
        logical_type: str | None,
    ) -> None:
        super().__init__(kind, json_, logical_type)
        self.full_name = full_name
        self.name = full_name.rpartition(".")[2]
        self.aliases = aliases

    def describe(self) -> str:
        return f'{self.kind} "{self.full_name}"'


class FixedNode(NamedNode):
    """A fixed of ``size`` bytes."""

    __slots__ = ("size",)

    def __init__(
        self,
        json_: Any,
        full_name: str,
        aliases: frozenset[str],
        size: int,
        logical_type: str | None,
    ) -> None:
        super().__init__("fixed", json_, full_name, aliases, logical_type)
        self.size = size


class EnumNode(NamedNode):
    """An enum; ``default`` is the symbol readers use for symbols they lack."""

    __slots__ = ("default", "symbol_set", "symbols")

    def __init__(
        self,
        json_: Any,
        full_name: str,
        aliases: frozenset[str],
        symbols: tuple[str, ...],
        default: str | None,
    ) -> None:
        super().__init__("enum", json_, full_name, aliases, None)
        self.symbols = symbols
        self.symbol_set = frozenset(symbols)
        self.default = default


class FieldNode:
    """A record field; ``position`` is its index in the record's ``fields``."""

    __slots__ = ("aliases", "has_default", "name", "node", "position")

    def __init__(
        self, name: str, aliases: tuple[str, ...], node: Node, position: int, has_default: bool
    ) -> None:
        self.name = name
        self.aliases = aliases
        self.node = node
        self.position = position
        self.has_default = has_default


class RecordNode(NamedNode):
    """A record (or error); its fields are filled in after it is registered."""

    __slots__ = ("by_name", "fields")

    def __init__(self, json_: Any, full_name: str, aliases: frozenset[str]) -> None:
        super().__init__("record", json_, full_name, aliases, None)
        self.fields: tuple[FieldNode, ...] = ()
        self.by_name: dict[str, FieldNode] = {}


@dataclass(frozen=True, slots=True, eq=False)
class ParsedSchema:
    """A schema checked and parsed once, ready to be checked against many others."""

    schema: Any
    """The schema JSON as given (after decoding, if it was given as text)."""
    root: Node
    source: str | None = None


def parse(schema: Any, *, source: str | None = None) -> ParsedSchema:
    """Check ``schema`` and parse it for :func:`~somacontracts.compat.check_reader_writer`.

    ``schema`` is schema JSON as text, or decoded (a dict, list or str; a str that is
    not JSON text is taken as a type name such as ``int``), or a :class:`ParsedSchema`,
    returned as is. ``source`` names where the schema came from, for error messages.
    Raise :class:`InvalidSchemaError` if the schema is not valid.
    """
    if isinstance(schema, ParsedSchema):
        return schema
    if isinstance(schema, str):
        schema = _decode(schema, source)
    try:
        validate_schema(schema, source=source)
    except SchemaError as err:
        raise InvalidSchemaError(err.reason, location=err.location, source=source) from err
    return ParsedSchema(schema=schema, root=_Builder(source).build(schema, "", ""), source=source)


def _decode(text: str, source: str | None) -> Any:
    stripped = text.strip()
    if not stripped.startswith(("{", "[", '"')):
        return stripped
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as err:
        raise InvalidSchemaError(
            f"is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})",
            source=source,
        ) from err


class _Builder:
    """Builds the node graph of one schema that :func:`validate_schema` accepted."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.named: dict[str, NamedNode] = {}
        self.open: set[RecordNode] = set()

    def fail(self, reason: str, location: str) -> InvalidSchemaError:
        return InvalidSchemaError(reason, location=location, source=self.source)

    def lookup(self, name: str, namespace: str) -> NamedNode:
        # Same order as the validator and Java: the enclosing namespace, then no namespace.
        return self.named.get(qualified_name(name, namespace)) or self.named[name]

    def build(self, schema: Any, at: str, namespace: str) -> Node:
        if isinstance(schema, str):
            if schema in PRIMITIVE_TYPES:
                return PrimitiveNode(schema, schema)
            return self.lookup(schema, namespace)
        if isinstance(schema, list):
            branches = tuple(
                self.build(branch, json_pointer(at, index), namespace)
                for index, branch in enumerate(schema)
            )
            return UnionNode(schema, branches)
        type_ = schema["type"]
        if not isinstance(type_, str):
            raise self.fail(
                '"type" of a schema object must name a type; Apache Avro rejects a nested schema',
                json_pointer(at, "type"),
            )
        logical = schema.get("logicalType")
        logical = logical if isinstance(logical, str) else None
        if type_ in PRIMITIVE_TYPES:
            return PrimitiveNode(type_, schema, logical)
        if type_ == "array":
            items = self.build(schema["items"], json_pointer(at, "items"), namespace)
            return ArrayNode(schema, items, logical)
        if type_ == "map":
            values = self.build(schema["values"], json_pointer(at, "values"), namespace)
            return MapNode(schema, values, logical)
        if type_ in ("record", "error", "enum", "fixed"):
            return self.named_type(schema, type_, at, namespace, logical)
        return self.lookup(type_, namespace)

    def named_type(
        self, schema: dict[str, Any], type_: str, at: str, namespace: str, logical: str | None
    ) -> NamedNode:
        own_namespace = schema.get("namespace", namespace) or ""
        full_name = qualified_name(schema["name"], own_namespace)
        inner_namespace = full_name.rpartition(".")[0]
        aliases = frozenset(
            qualified_name(alias, inner_namespace) for alias in self.aliases(schema, at)
        )
        node: NamedNode
        if type_ == "fixed":
            node = FixedNode(schema, full_name, aliases, schema["size"], logical)
        elif type_ == "enum":
            node = EnumNode(
                schema, full_name, aliases, tuple(schema["symbols"]), schema.get("default")
            )
        else:
            node = RecordNode(schema, full_name, aliases)
        # Registered before its fields are built, so that they may refer to it.
        self.named[full_name] = node
        if isinstance(node, RecordNode):
            self.fill(node, schema, at, inner_namespace)
        return node

    def fill(self, node: RecordNode, schema: dict[str, Any], at: str, namespace: str) -> None:
        self.open.add(node)
        fields = []
        for position, field in enumerate(schema["fields"]):
            where = json_pointer(at, "fields", position)
            # Java keeps field aliases in an ordered set: a repeated alias counts once.
            aliases = tuple(dict.fromkeys(self.aliases(field, where)))
            field_node = self.build(field["type"], json_pointer(where, "type"), namespace)
            if "default" in field and self.reaches_open(field_node, field["default"]):
                raise self.fail(
                    f'default of field "{field["name"]}" holds a value of a record whose '
                    "definition encloses the field; Apache Avro rejects it",
                    json_pointer(where, "default"),
                )
            fields.append(
                FieldNode(field["name"], aliases, field_node, position, "default" in field)
            )
        node.fields = tuple(fields)
        node.by_name = {field.name: field for field in fields}
        self.open.discard(node)

    def reaches_open(self, node: Node, value: Any) -> bool:
        """Whether checking ``value`` as a default of ``node`` reads a record still open.

        Java checks a default as it parses the field, before the records enclosing the
        field have their fields, and fails on reaching one of them.
        """
        if isinstance(node, UnionNode):
            # The validator made the default match the first branch, where Java stops.
            return self.reaches_open(node.branches[0], value)
        if isinstance(node, RecordNode):
            if node in self.open:
                return True
            return any(
                self.reaches_open(field.node, value[field.name])
                for field in node.fields
                if field.name in value
            )
        if isinstance(node, ArrayNode):
            return any(self.reaches_open(node.items, item) for item in value)
        if isinstance(node, MapNode):
            return any(self.reaches_open(node.values, item) for item in value.values())
        return False

    def aliases(self, schema: dict[str, Any], at: str) -> list[str]:
        aliases = schema.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise self.fail('"aliases" must be an array of strings', json_pointer(at, "aliases"))
        return aliases

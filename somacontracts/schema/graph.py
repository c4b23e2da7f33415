"""The parsed schema: one graph of nodes that every tool reads instead of schema JSON.

:func:`~somacontracts.schema.parse` builds it. Every reference to a named type is the
node of its definition, as in Apache Avro Java's parser, so the graph of a recursive
type has a cycle and a type used twice is one node. Each node keeps where it was
defined (a JSON pointer into the source), what was written (``json``) and the
attributes the Avro specification does not reserve (``props``: logical types,
precision, scale, custom attributes), in the order written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

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
]


class Node:
    """A schema in the parsed graph; ``kind`` is ``record`` for both records and errors.

    ``props`` holds every attribute the specification does not reserve for the kind, in
    the order written: ``logicalType``, ``precision``, ``scale`` and custom ones.
    """

    __slots__ = ("json", "kind", "logical_type", "pointer", "props", "shape_memo")

    def __init__(
        self,
        kind: str,
        json_: Any,
        pointer: str,
        props: Mapping[str, Any],
        logical_type: str | None = None,
    ) -> None:
        self.kind = kind
        self.json = json_
        self.pointer = pointer
        self.props = props
        self.logical_type = logical_type
        # The compatibility engine keeps this node's structural key here (compat.shapes).
        self.shape_memo: Any = None

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

    def __init__(
        self, json_: Any, pointer: str, props: Mapping[str, Any], items: Node, logical: str | None
    ) -> None:
        super().__init__("array", json_, pointer, props, logical)
        self.items = items


class MapNode(Node):
    """A map; ``values`` is the node of its values (keys are strings)."""

    __slots__ = ("values",)

    def __init__(
        self, json_: Any, pointer: str, props: Mapping[str, Any], values: Node, logical: str | None
    ) -> None:
        super().__init__("map", json_, pointer, props, logical)
        self.values = values


class UnionNode(Node):
    """A union; ``branches`` in declared order."""

    __slots__ = ("branches",)

    def __init__(self, json_: Any, pointer: str, branches: tuple[Node, ...]) -> None:
        super().__init__("union", json_, pointer, {})
        self.branches = branches

    def describe(self) -> str:
        return f"union [{', '.join(branch.describe() for branch in self.branches)}]"


class NamedNode(Node):
    """A record, enum or fixed.

    ``name`` is the short name, ``namespace`` the namespace of its full name; ``aliases``
    are full names (resolved against that namespace), ``aliases_written`` the aliases
    as the file wrote them.
    """

    __slots__ = ("aliases", "aliases_written", "doc", "full_name", "name", "namespace")

    def __init__(
        self,
        kind: str,
        json_: Any,
        pointer: str,
        props: Mapping[str, Any],
        full_name: str,
        aliases_written: tuple[str, ...],
        aliases: frozenset[str],
        doc: str | None,
        logical_type: str | None,
    ) -> None:
        super().__init__(kind, json_, pointer, props, logical_type)
        self.full_name = full_name
        self.namespace, _, self.name = full_name.rpartition(".")
        self.aliases_written = aliases_written
        self.aliases = aliases
        self.doc = doc

    def describe(self) -> str:
        return f'{self.kind} "{self.full_name}"'


class FixedNode(NamedNode):
    """A fixed of ``size`` bytes."""

    __slots__ = ("size",)

    def __init__(self, *args: Any, size: int) -> None:
        super().__init__("fixed", *args)
        self.size = size


class EnumNode(NamedNode):
    """An enum; ``default`` is the symbol readers use for symbols they lack."""

    __slots__ = ("default", "symbol_set", "symbols")

    def __init__(self, *args: Any, symbols: tuple[str, ...], default: str | None) -> None:
        super().__init__("enum", *args)
        self.symbols = symbols
        self.symbol_set = frozenset(symbols)
        self.default = default


@dataclass(eq=False, slots=True)
class FieldNode:
    """A record field; ``position`` is its index in the record's ``fields``."""

    name: str
    aliases: tuple[str, ...]
    """As written, repeats dropped (Java keeps field aliases in an ordered set)."""
    node: Node
    position: int
    pointer: str
    has_default: bool
    default: Any = None
    """The default as written in JSON (valid for the field's type)."""
    doc: str | None = None
    order: str | None = None
    """``order`` as written (``ascending``, ``descending`` or ``ignore``), if written."""
    props: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None


class RecordNode(NamedNode):
    """A record (or an error, ``is_error``); its fields are filled in after it is registered."""

    __slots__ = ("by_name", "fields", "is_error")

    def __init__(self, *args: Any, is_error: bool = False) -> None:
        super().__init__("record", *args)
        self.is_error = is_error
        self.fields: tuple[FieldNode, ...] = ()
        self.by_name: dict[str, FieldNode] = {}


@dataclass(frozen=True, slots=True, eq=False)
class ParsedSchema:
    """A schema checked and parsed once, ready for every tool that reads schemas."""

    schema: Any
    """The schema JSON as given (decoded, if it was given as text)."""
    root: Node
    named: Mapping[str, NamedNode] = field(default_factory=dict)
    """Every named type defined in the schema (or by its references), by full name."""
    source: str | None = None
    references: frozenset[str] = frozenset()
    """Full names of the named types the schema's references define, not the schema."""

    def defined(self) -> Iterator[NamedNode]:
        """The named types this schema itself defines, in the order they appear."""
        return (node for name, node in self.named.items() if name not in self.references)

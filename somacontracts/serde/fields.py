"""Which fields of a schema carry which tags, and a walk that visits only those fields.

A Data Contract rule with ``tags`` applies to the fields that carry one of them: tags
written in the schema (``"confluent:tags": ["PII"]`` on a field) and tags the version's
``metadata.tags`` give to field names by wildcard (``"app.Event.content": ["PII"]``,
``"**.email"``). Fields are named ``<record full name>.<field name>``, as
confluent-kafka's rule executors name them.

:func:`tagged_walk` compiles, once per schema and rule, a function that applies a
transform to the values of the selected fields only (through unions, arrays and maps,
as confluent-kafka's walk does) and leaves the rest of a datum untouched: the cost of a
message is that of its sensitive fields, not of its size.

Pure: no I/O, no registry; the schema is the one schema model's graph
(:mod:`somacontracts.schema`), the datums are those fastavro reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from somacontracts.schema.graph import (
    ArrayNode,
    MapNode,
    NamedNode,
    Node,
    RecordNode,
    UnionNode,
)

__all__ = ["Leaf", "Walk", "inline_tags", "tagged_walk"]


@dataclass(frozen=True, slots=True)
class Leaf:
    """A value a rule transforms: the field it belongs to and its Avro type."""

    full_name: str
    """``<record full name>.<field name>``."""
    name: str
    type: str
    """``string``, ``bytes``, ``int``, ``enum``, ``fixed``, ...: what the value is written as."""
    tags: frozenset[str]


Transform = Callable[[Leaf, Any], Any]
Walk = Callable[[Any, Transform], Any]
"""``walk(datum, transform)``: the datum with ``transform(leaf, value)`` applied to every
selected value (in place for records, maps and arrays)."""


def _records(root: Node) -> list[RecordNode]:
    """Every record reachable from ``root``, each once (recursive types included)."""
    found: dict[str, RecordNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, UnionNode):
            stack.extend(node.branches)
        elif isinstance(node, ArrayNode):
            stack.append(node.items)
        elif isinstance(node, MapNode):
            stack.append(node.values)
        elif isinstance(node, RecordNode) and node.full_name not in found:
            found[node.full_name] = node
            stack.extend(field.node for field in node.fields)
    return list(found.values())


def inline_tags(root: Node) -> dict[str, frozenset[str]]:
    """The ``confluent:tags`` written on the fields of a schema, by field full name."""
    found: dict[str, frozenset[str]] = {}
    for record in _records(root):
        for field in record.fields:
            tags = field.props.get("confluent:tags")
            if isinstance(tags, list) and tags:
                found[f"{record.full_name}.{field.name}"] = frozenset(map(str, tags))
    return found


def tagged_walk(
    root: Node,
    tags_of: Callable[[str], frozenset[str]],
    rule_tags: Collection[str],
) -> Walk | None:
    """A walk applying a transform to the fields whose tags meet ``rule_tags`` (every field
    when ``rule_tags`` is empty); None when no field of the schema ``root`` is selected."""
    wanted = frozenset(rule_tags)
    records: dict[str, _RecordWalk] = {}

    def selected(tags: frozenset[str]) -> bool:
        return not wanted or not wanted.isdisjoint(tags)

    def node_walk(node: Node, leaf: Leaf | None) -> _NodeWalk | None:
        if isinstance(node, UnionNode):
            branches = [(b, node_walk(b, leaf)) for b in node.branches]
            if all(w is None for _, w in branches):
                return None
            return _union_walk(branches)
        if isinstance(node, ArrayNode):
            items = node_walk(node.items, leaf)
            return None if items is None else _array_walk(items)
        if isinstance(node, MapNode):
            values = node_walk(node.values, leaf)
            return None if values is None else _map_walk(values)
        if isinstance(node, RecordNode):
            return record_walk(node)
        return _leaf_walk(leaf, node.kind)

    def record_walk(node: RecordNode) -> _NodeWalk | None:
        known = records.get(node.full_name)
        if known is None:
            known = records[node.full_name] = _RecordWalk()
            fields = []
            for field in node.fields:
                full_name = f"{node.full_name}.{field.name}"
                tags = tags_of(full_name)
                leaf = Leaf(full_name, field.name, "", tags) if selected(tags) else None
                walk = node_walk(field.node, leaf)
                if walk is not None:
                    fields.append((field.name, walk))
            known.fields = tuple(fields)
            known.done = True
        if known.done and not known.fields:
            return None
        return known

    root_walk = node_walk(root, None)
    if root_walk is None:
        return None
    walk = root_walk

    def run(datum: Any, transform: Transform) -> Any:
        return walk(datum, transform)

    return run


_NodeWalk = Callable[[Any, Transform], Any]


class _RecordWalk:
    """The walk of a record, built once per named record (recursive records refer to it)."""

    __slots__ = ("done", "fields")

    def __init__(self) -> None:
        self.fields: tuple[tuple[str, _NodeWalk], ...] = ()
        self.done = False

    def __call__(self, datum: Any, transform: Transform) -> Any:
        if isinstance(datum, tuple):  # (name, record): a branch of a union, named
            return (datum[0], self(datum[1], transform))
        if not isinstance(datum, dict):
            return datum
        for name, walk in self.fields:
            if name in datum:
                datum[name] = walk(datum[name], transform)
        return datum


def _leaf_walk(leaf: Leaf | None, kind: str) -> _NodeWalk | None:
    if leaf is None or kind == "null":
        return None
    typed = Leaf(leaf.full_name, leaf.name, kind, leaf.tags)

    def walk(value: Any, transform: Transform) -> Any:
        return value if value is None else transform(typed, value)

    return walk


def _array_walk(items: _NodeWalk) -> _NodeWalk:
    def walk(value: Any, transform: Transform) -> Any:
        if not isinstance(value, list):
            return value
        return [items(item, transform) for item in value]

    return walk


def _map_walk(values: _NodeWalk) -> _NodeWalk:
    def walk(value: Any, transform: Transform) -> Any:
        if not isinstance(value, dict):
            return value
        return {key: values(item, transform) for key, item in value.items()}

    return walk


_PYTHON_KINDS: dict[type, tuple[str, ...]] = {
    str: ("string", "enum"),
    bytes: ("bytes", "fixed"),
    bool: ("boolean",),
    int: ("int", "long"),
    float: ("double", "float"),
    dict: ("record", "map"),
    list: ("array",),
}


def _union_walk(branches: list[tuple[Node, _NodeWalk | None]]) -> _NodeWalk:
    """A union's walk: the branch a value belongs to, found as fastavro writes it. A named
    branch comes as ``(full name, datum)`` (fastavro's ``return_named_type``, and the
    generated models' ``to_avro``); the full name decides, since two named types of one
    union may share their short name."""
    kinds = [
        (node.kind, node.full_name if isinstance(node, NamedNode) else None, walk)
        for node, walk in branches
    ]

    def walk(value: Any, transform: Transform) -> Any:
        if value is None:
            return None
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            for _, name, branch in kinds:
                if name == value[0]:
                    return value if branch is None else (value[0], branch(value[1], transform))
            return value
        accepted = _PYTHON_KINDS.get(type(value), ())
        for kind, _, branch in kinds:
            if kind in accepted:
                return value if branch is None else branch(value, transform)
        return value

    return walk

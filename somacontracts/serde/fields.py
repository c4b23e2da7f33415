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

Pure: no I/O, no registry; the datums are those fastavro reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Leaf", "Walk", "inline_tags", "tagged_walk"]

_PRIMITIVE = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


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


def inline_tags(schema: Any, named: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The ``confluent:tags`` of every field of a fastavro-parsed schema, by field full name."""
    found: dict[str, frozenset[str]] = {}
    seen: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, str):
            if node in named and node not in seen:
                visit(named[node])
            return
        if isinstance(node, list):
            for branch in node:
                visit(branch)
            return
        kind = node.get("type")
        if kind == "array":
            visit(node["items"])
        elif kind == "map":
            visit(node["values"])
        elif kind in ("record", "error"):
            name = node["name"]
            if name in seen:
                return
            seen.add(name)
            for field in node["fields"]:
                tags = field.get("confluent:tags")
                if tags:
                    found[f"{name}.{field['name']}"] = frozenset(map(str, tags))
                visit(field["type"])
        elif isinstance(kind, (dict, list)):
            visit(kind)

    visit(schema)
    return found


def tagged_walk(
    schema: Any,
    named: Mapping[str, Any],
    tags_of: Callable[[str], frozenset[str]],
    rule_tags: Collection[str],
) -> Walk | None:
    """A walk applying a transform to the fields whose tags meet ``rule_tags`` (every field
    when ``rule_tags`` is empty); None when no field of ``schema`` is selected."""
    wanted = frozenset(rule_tags)
    records: dict[str, _RecordWalk] = {}

    def selected(tags: frozenset[str]) -> bool:
        return not wanted or not wanted.isdisjoint(tags)

    def node_walk(node: Any, leaf: Leaf | None) -> _NodeWalk | None:
        if isinstance(node, str):
            if node in _PRIMITIVE:
                return _leaf_walk(leaf, node)
            node = named[node]
        if isinstance(node, list):
            branches = [(b, node_walk(b, leaf)) for b in node]
            if all(w is None for _, w in branches):
                return None
            return _union_walk(branches, named)
        kind = node.get("type")
        if isinstance(kind, (dict, list)):
            return node_walk(kind, leaf)
        if kind == "array":
            items = node_walk(node["items"], leaf)
            return None if items is None else _array_walk(items)
        if kind == "map":
            values = node_walk(node["values"], leaf)
            return None if values is None else _map_walk(values)
        if kind in ("record", "error"):
            return record_walk(node)
        if kind in _PRIMITIVE or kind in ("enum", "fixed"):
            return _leaf_walk(leaf, str(kind))
        return None

    def record_walk(node: Mapping[str, Any]) -> _NodeWalk | None:
        name = node["name"]
        known = records.get(name)
        if known is None:
            known = records[name] = _RecordWalk()
            fields = []
            for field in node["fields"]:
                full_name = f"{name}.{field['name']}"
                tags = tags_of(full_name)
                leaf = Leaf(full_name, field["name"], "", tags) if selected(tags) else None
                walk = node_walk(field["type"], leaf)
                if walk is not None:
                    fields.append((field["name"], walk))
            known.fields = tuple(fields)
            known.done = True
        if known.done and not known.fields:
            return None
        return known

    root = node_walk(schema, None)
    if root is None:
        return None
    walk = root

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
    dict: ("record", "error", "map"),
    list: ("array",),
}


def _kind(node: Any, named: Mapping[str, Any]) -> tuple[str, str | None]:
    """A branch's kind and, for named types, its full name."""
    if isinstance(node, str):
        if node in _PRIMITIVE:
            return node, None
        node = named[node]
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(kind, str) and kind in _PRIMITIVE:
            return kind, None
        return str(kind), node.get("name")
    return "union", None


def _union_walk(
    branches: list[tuple[Any, _NodeWalk | None]], named: Mapping[str, Any]
) -> _NodeWalk:
    """A union's walk: the branch a value belongs to, found as fastavro writes it."""
    kinds = [(_kind(node, named), walk) for node, walk in branches]

    def walk(value: Any, transform: Transform) -> Any:
        if value is None:
            return None
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            for (_, name), branch in kinds:
                if name == value[0] or (name and name.rpartition(".")[2] == value[0]):
                    return value if branch is None else (value[0], branch(value[1], transform))
            return value
        accepted = _PYTHON_KINDS.get(type(value), ())
        for (kind, _), branch in kinds:
            if kind in accepted:
                return value if branch is None else branch(value, transform)
        return value

    return walk

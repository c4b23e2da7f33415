"""Structural keys of parsed schemas: the engine's shortcut for pairs that cannot differ.

:func:`shape` gives a text that two nodes share only when they are the same type: the
same kinds, full names, fields (names, aliases and types, in order), enum symbols and
default, fixed sizes and union branches in order; logical types are left out, as
Apache Avro Java's checker ignores them. A type always reads data written with an
identical one, so the engine need not walk such a pair. A type that contains itself
has no key (None): recursive pairs are checked in full.

:func:`record_summary` keeps, per record, the (name, key) pairs of its fields, their
names and the names of those with a default, so that the engine can tell from set
operations (in C, not a Python loop per field) that a reader record reads a writer
record: every reader field the writer has with another key, or lacks, must be one the
writer lacks and that has a default.

Keys are kept on the nodes (``shape_memo``), computed once per parsed schema, and
reused by every check that parsed schema takes part in.
"""

from __future__ import annotations

from dataclasses import dataclass

from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    RecordNode,
    UnionNode,
)

__all__ = ["RecordSummary", "Shape", "record_summary", "shape"]


@dataclass(frozen=True, slots=True)
class Shape:
    """A node's structural key (None when its type contains itself) and whether a record
    in it has a field with aliases (Java may then match one reader field twice)."""

    key: str | None
    aliased: bool
    summary: RecordSummary | None = None


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """A record's fields as sets, for the engine's shortcut."""

    pairs: frozenset[tuple[str, str]]
    """(field name, key of its type) of every field."""
    names: frozenset[str]
    defaulted: frozenset[str]
    """Names of the fields with a default."""


def shape(node: Node) -> Shape:
    """The structural key of ``node``, computed once."""
    memo = node.shape_memo
    if memo is None:
        memo = _compute(node, set())
    assert isinstance(memo, Shape)
    return memo


def record_summary(record: RecordNode) -> RecordSummary | None:
    """The field sets of ``record``, or None if its type contains itself."""
    return shape(record).summary


def _compute(node: Node, active: set[str]) -> Shape:
    memo = node.shape_memo
    if memo is not None:
        assert isinstance(memo, Shape)
        return memo
    if isinstance(node, NamedNode):
        if node.full_name in active:
            return Shape(None, False)  # a cycle: every node on it has no key
        active.add(node.full_name)
        try:
            found = _named(node, active)
        finally:
            active.discard(node.full_name)
    elif isinstance(node, ArrayNode):
        found = _wrap("[", _compute(node.items, active), "]")
    elif isinstance(node, MapNode):
        found = _wrap("{", _compute(node.values, active), "}")
    elif isinstance(node, UnionNode):
        parts = [_compute(branch, active) for branch in node.branches]
        keys = [part.key for part in parts]
        aliased = any(part.aliased for part in parts)
        found = Shape(
            None if None in keys else "(" + ",".join(k or "" for k in keys) + ")", aliased
        )
    else:
        found = Shape(node.kind, False)
    node.shape_memo = found
    return found


def _wrap(opening: str, inner: Shape, closing: str) -> Shape:
    key = None if inner.key is None else f"{opening}{inner.key}{closing}"
    return Shape(key, inner.aliased)


def _named(node: NamedNode, active: set[str]) -> Shape:
    if isinstance(node, EnumNode):
        return Shape(f"E:{node.full_name}:{','.join(node.symbols)}:{node.default}", False)
    if isinstance(node, FixedNode):
        return Shape(f"F:{node.full_name}:{node.size}", False)
    assert isinstance(node, RecordNode)
    fields = [(f, _compute(f.node, active)) for f in node.fields]
    aliased = any(f.aliases or inner.aliased for f, inner in fields)
    if any(inner.key is None for _, inner in fields):
        return Shape(None, aliased)
    pairs = [(f.name, inner.key or "") for f, inner in fields]
    key = (
        f"R:{node.full_name}{{"
        + ";".join(f"{f.name}|{','.join(f.aliases)}|{inner.key}" for f, inner in fields)
        + "}"
    )
    summary = RecordSummary(
        pairs=frozenset(pairs),
        names=frozenset(f.name for f, _ in fields),
        defaulted=frozenset(f.name for f, _ in fields if f.has_default),
    )
    return Shape(key, aliased, summary)

"""Bound what a writer's bytes may claim before fastavro reads them.

fastavro reads an array block by block, and an item that takes no bytes (a ``null``, a
record of nulls, a ``fixed`` of size 0) takes no bytes at all: a message of a few bytes
can claim 2**40 of them, and fastavro would loop that many times, or build a list of
them. The model's own codec caps such blocks (:class:`~somacontracts.runtime.Reader`);
for a writer schema with such arrays, :func:`scan` walks the message first with the same
bounds-checked reader, allowing at most :data:`MAX_EMPTY_ITEMS` such items in all.

Only writer schemas that have such arrays are scanned (:func:`needs_scan`): every other
message is bounded by its own length, which fastavro's reads check.
"""

from __future__ import annotations

from somacontracts.runtime import Reader
from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FixedNode,
    MapNode,
    Node,
    RecordNode,
    UnionNode,
)

__all__ = ["MAX_EMPTY_ITEMS", "needs_scan", "scan"]

MAX_EMPTY_ITEMS = 1 << 24
"""Items that take no bytes one message may hold, over all its arrays."""

_WIDTHS = {"boolean": 1, "int": 1, "long": 1, "float": 4, "double": 8, "bytes": 1, "string": 1}


def width(node: Node, _open: frozenset[int] = frozenset()) -> int:
    """The fewest bytes a value of ``node`` takes."""
    if node.kind in _WIDTHS:
        return _WIDTHS[node.kind]
    if isinstance(node, FixedNode):
        return node.size
    if isinstance(node, RecordNode):
        if id(node) in _open:
            return 0
        inner = _open | {id(node)}
        return sum(width(field.node, inner) for field in node.fields)
    return 0 if node.kind == "null" else 1  # an enum, union, array or map: a varint


def needs_scan(root: Node) -> bool:
    """Whether the schema has an array whose items may take no bytes."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ArrayNode):
            if width(node.items) == 0:
                return True
            pending.append(node.items)
        elif isinstance(node, MapNode):
            pending.append(node.values)
        elif isinstance(node, UnionNode):
            pending.extend(node.branches)
        elif isinstance(node, RecordNode):
            pending.extend(field.node for field in node.fields)
    return False


def scan(root: Node, data: bytes, start: int) -> int:
    """Walk one datum of ``root`` in ``data`` from ``start``; return where it ends.

    Raise ``ValueError`` (or ``IndexError`` at the end of the data) if the bytes are not
    one datum, or claim more than :data:`MAX_EMPTY_ITEMS` items that take no bytes.
    """
    walker = _Scan(Reader(data, start))
    walker.value(root)
    return walker.reader.pos


class _Scan:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.empty = 0

    def value(self, node: Node) -> None:
        reader, kind = self.reader, node.kind
        if kind in ("int", "long"):
            reader.read_long()
        elif kind in ("bytes", "string"):
            reader.read_bytes()
        elif kind == "boolean":
            reader.read_boolean()
        elif kind in ("float", "double"):
            reader.read_fixed(_WIDTHS[kind])
        elif isinstance(node, FixedNode):
            reader.read_fixed(node.size)
        elif isinstance(node, EnumNode):
            reader.read_index(len(node.symbols))
        elif isinstance(node, UnionNode):
            self.value(node.branches[reader.read_index(len(node.branches))])
        elif isinstance(node, RecordNode):
            for field in node.fields:
                self.value(field.node)
        elif isinstance(node, ArrayNode):
            self.array(node.items)
        elif isinstance(node, MapNode):
            while count := self.reader.read_count(1):
                for _ in range(count):
                    reader.read_bytes()
                    self.value(node.values)

    def array(self, items: Node) -> None:
        item_width = width(items)
        while count := self.reader.read_count(item_width):
            if item_width == 0:
                self.empty += count
                if self.empty > MAX_EMPTY_ITEMS:
                    raise ValueError(
                        f"the message claims more than {MAX_EMPTY_ITEMS} array items that take "
                        "no bytes"
                    )
                continue  # they take no bytes: nothing to walk
            for _ in range(count):
                self.value(items)

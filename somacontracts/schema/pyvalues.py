"""What a generated Python class can hold of a contract's schema: the checks contract
validation and codegen share.

Every contract becomes generated Python classes, so contract validation (``validate``,
``check`` and every command that loads a schema tree) refuses, at the JSON pointer where
it is, what such a class could not hold; codegen converts defaults with the same
functions, so the two never disagree. Valid Avro, refused:

* a default that Python's types cannot hold or the class could not write: a timestamp
  or date outside the years 1 to 9999 (``datetime``'s range), a time of day outside
  0 to 24 hours, a ``uuid`` that is not a UUID, a decimal with more digits than its
  precision, a ``float`` beyond the range of a 32-bit float, ``json`` text that is not
  JSON every reader reads alike (NaN, infinity);
* a union of free-form JSON and any branch but ``null``: every JSON value is also a
  string, number, list or dict, so no one could tell which branch a value is;
* an empty union, which has no values;
* types nested more than :data:`MAX_NESTING` levels deep.

A ``float`` default becomes the nearest 32-bit float (what the class writes and reads
back); every other default converts exactly.

Pure, standard library and the runtime's JSON decoder.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import struct
import uuid
from collections.abc import Iterator
from typing import Any

from somacontracts.runtime.jsontext import load_json
from somacontracts.schema.graph import (
    ArrayNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    ParsedSchema,
    RecordNode,
    UnionNode,
)
from somacontracts.schema.names import JSON_LOGICAL_TYPE, json_pointer

__all__ = ["MAX_NESTING", "first_problem", "python_default"]

MAX_NESTING = 22
"""How many levels deep a contract's types may nest, its record being the first: each
array or map level is a loop in a generated ``write_avro``, and CPython compiles at most
20 nested loops in one function."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)  # local-timestamp-* and time-* are naive
_DAY_MICROS = 86_400_000_000
_FLOAT = struct.Struct("<f")


def python_default(node: Node, value: Any) -> Any:
    """The Python value of ``value``, a valid JSON default of the scalar type ``node``.

    Raise ``ValueError`` with the reason where Python cannot hold it. Records, enums,
    arrays, maps and unions are the caller's: this converts their leaves.
    """
    kind, logical = node.kind, node.logical_type or ""
    if kind == "float":
        return _float32(float(value))
    if kind == "double":
        return float(value)
    if kind in ("int", "long") and logical in _TEMPORAL:
        return _temporal(logical, value)
    if kind == "string" and logical == "uuid":
        try:
            return uuid.UUID(value)
        except ValueError:
            raise ValueError(f"default {value!r} is not a UUID") from None
    if kind == "string" and logical == JSON_LOGICAL_TYPE:
        try:
            return load_json(value)
        except ValueError as err:
            raise ValueError(f"default {value!r} is not JSON every reader reads: {err}") from None
    if kind in ("bytes", "fixed"):
        data = str(value).encode("latin-1")
        if logical == "decimal" and "precision" in node.props:
            return _decimal(node, data)
        if logical == "uuid" and isinstance(node, FixedNode) and node.size == 16:
            return uuid.UUID(bytes=data)
        return data
    return value


_TEMPORAL = frozenset(
    {
        "date",
        "time-millis",
        "time-micros",
        "timestamp-millis",
        "timestamp-micros",
        "local-timestamp-millis",
        "local-timestamp-micros",
    }
)


def _float32(number: float) -> float:
    """``number`` as the 32-bit float a ``float`` field holds."""
    try:
        packed = _FLOAT.pack(number)
    except OverflowError:
        raise ValueError(f"default {number} is beyond the range of a 32-bit float") from None
    rounded: float = _FLOAT.unpack(packed)[0]
    if math.isinf(rounded) and not math.isinf(number):
        raise ValueError(f"default {number} is beyond the range of a 32-bit float")
    return rounded


def _temporal(logical: str, value: int) -> Any:
    try:
        if logical == "date":
            return (_EPOCH + dt.timedelta(days=value)).date()
        if logical.startswith("time-"):
            micros = value * 1000 if logical == "time-millis" else value
            if not 0 <= micros < _DAY_MICROS:
                raise OverflowError
            return (_EPOCH_NAIVE + dt.timedelta(microseconds=micros)).time()
        micros = value * 1000 if logical.endswith("millis") else value
        epoch = _EPOCH_NAIVE if logical.startswith("local-") else _EPOCH
        return epoch + dt.timedelta(microseconds=micros)
    except OverflowError:
        if logical.startswith("time-"):
            held = "is not a time of day (0 to 24 hours), which is all Python's datetime.time holds"
        else:
            held = "is outside the years 1 to 9999, the range Python's datetime holds"
        raise ValueError(f"default {value} of {logical} {held}") from None


def _decimal(node: Node, data: bytes) -> decimal.Decimal:
    precision, scale = node.props["precision"], node.props.get("scale", 0)
    unscaled = int.from_bytes(data, "big", signed=True)
    if abs(unscaled) >= 10**precision:
        raise ValueError(
            f"default {unscaled}e-{scale} has more digits than the precision {precision} "
            "of its decimal"
        )
    return decimal.Decimal(unscaled).scaleb(-scale)


def first_problem(parsed: ParsedSchema) -> tuple[str, str] | None:
    """The first thing of ``parsed`` a generated class cannot hold: (reason, JSON pointer)."""
    return next(_problems(parsed.root, parsed.root.pointer, 1, set()), None)


def _problems(node: Node, at: str, depth: int, seen: set[str]) -> Iterator[tuple[str, str]]:
    if depth > MAX_NESTING:
        yield (
            f"types nest more than {MAX_NESTING} levels deep, more than generated Python "
            "code can (CPython allows 20 nested loops in a function)",
            at,
        )
        return
    if isinstance(node, NamedNode):
        if node.full_name in seen:  # a reference, or a recursion: checked where defined
            return
        seen.add(node.full_name)
    if isinstance(node, UnionNode):
        yield from _union_problems(node, at)
        for index, branch in enumerate(node.branches):
            yield from _problems(branch, json_pointer(at, index), depth + 1, seen)
    elif isinstance(node, ArrayNode):
        yield from _problems(node.items, json_pointer(at, "items"), depth + 1, seen)
    elif isinstance(node, MapNode):
        yield from _problems(node.values, json_pointer(at, "values"), depth + 1, seen)
    elif isinstance(node, RecordNode):
        for field in node.fields:
            where = json_pointer(field.pointer, "type")
            yield from _problems(field.node, where, depth + 1, seen)
            if field.has_default:
                problem = _default_problem(field.node, field.default)
                if problem:
                    yield problem, json_pointer(field.pointer, "default")


def _union_problems(node: UnionNode, at: str) -> Iterator[tuple[str, str]]:
    if not node.branches:
        yield "an empty union has no values, so no Python type", at
    kinds = [(b.kind, b.logical_type) for b in node.branches]
    if ("string", JSON_LOGICAL_TYPE) in kinds and any(
        k[0] not in ("null", "string") for k in kinds
    ):
        index = kinds.index(("string", JSON_LOGICAL_TYPE))
        yield (
            f"union branch {index} is free-form JSON, which overlaps every other branch "
            "but null; no one could tell which branch a value belongs to",
            at,
        )


def _default_problem(node: Node, value: Any) -> str | None:
    """Why Python cannot hold ``value``, a valid JSON default of ``node``; None if it can."""
    if isinstance(node, UnionNode):
        return _default_problem(node.branches[0], value)
    if isinstance(node, RecordNode):
        for field in node.fields:
            if field.name in value:
                problem = _default_problem(field.node, value[field.name])
                if problem:
                    return problem
        return None
    if isinstance(node, ArrayNode):
        return next(filter(None, (_default_problem(node.items, v) for v in value)), None)
    if isinstance(node, MapNode):
        return next(filter(None, (_default_problem(node.values, v) for v in value.values())), None)
    if node.kind == "enum" or node.kind == "null":
        return None
    try:
        python_default(node, value)
    except ValueError as err:
        return str(err)
    return None

"""Defaults: whether a field's JSON default is a value of the field's type.

Union defaults follow the Avro specification: the default must match the *first*
branch. Bytes and fixed defaults are JSON strings whose code points are the byte values
0-255. A free-form JSON field's default must be JSON text. Pure: nodes and JSON in,
a reason (or None) out.
"""

from __future__ import annotations

import json
from typing import Any

from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FixedNode,
    MapNode,
    Node,
    RecordNode,
    UnionNode,
)
from somacontracts.schema.names import JSON_LOGICAL_TYPE

__all__ = ["default_problem", "describe_value"]

_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)


def default_problem(node: Node, value: Any) -> str | None:
    """Why ``value`` is not a valid JSON default for ``node``, or None if it is one."""
    if isinstance(node, UnionNode):
        if not node.branches:
            return "cannot be given for an empty union"
        problem = default_problem(node.branches[0], value)
        return f"must match the first branch of the union: it {problem}" if problem else None
    if isinstance(node, RecordNode):
        if not isinstance(value, dict):
            return f"must be an object for record {node.json['name']}, not {describe_value(value)}"
        for field in node.fields:
            if field.name in value:
                problem = default_problem(field.node, value[field.name])
            elif field.has_default:
                problem = None
            else:
                problem = "has no value and the field has no default"
            if problem:
                return f'has field "{field.name}" that {problem}'
        return None
    if isinstance(node, EnumNode):
        if value not in node.symbols:
            return f"must be one of the symbols of enum {node.json['name']}, not {value!r}"
        return None
    if isinstance(node, FixedNode):
        problem = _primitive_default_problem("bytes", value)
        if problem is None and len(value) != node.size:
            return f"must be {node.size} bytes long, not {len(value)}"
        return problem
    if isinstance(node, ArrayNode):
        if not isinstance(value, list):
            return f"must be an array, not {describe_value(value)}"
        for index, item in enumerate(value):
            problem = default_problem(node.items, item)
            if problem:
                return f"has item {index} that {problem}"
        return None
    if isinstance(node, MapNode):
        if not isinstance(value, dict):
            return f"must be an object, not {describe_value(value)}"
        for key, item in value.items():
            problem = default_problem(node.values, item)
            if problem:
                return f"has key {key!r} that {problem}"
        return None
    problem = _primitive_default_problem(node.kind, value)
    if problem is None and node.logical_type == JSON_LOGICAL_TYPE:
        try:
            json.loads(value)
        except ValueError:
            return f"is not JSON text: {value!r}"
    return problem


def _primitive_default_problem(type_: str, value: Any) -> str | None:
    if type_ == "null":
        return None if value is None else f"must be null, not {describe_value(value)}"
    if type_ == "boolean":
        if isinstance(value, bool):
            return None
        return f"must be true or false, not {describe_value(value)}"
    if type_ in ("int", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"must be a whole number for {type_}, not {describe_value(value)}"
        low, high = _INT_RANGE if type_ == "int" else _LONG_RANGE
        return None if low <= value <= high else f"is out of range for {type_}: {value}"
    if type_ in ("float", "double"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"must be a number for {type_}, not {describe_value(value)}"
    if type_ == "string":
        return None if isinstance(value, str) else f"must be a string, not {describe_value(value)}"
    # bytes (and fixed): a JSON string whose code points are the byte values 0-255.
    if not isinstance(value, str):
        return f"must be a string of code points 0-255 for bytes, not {describe_value(value)}"
    if any(ord(c) > 255 for c in value):
        return "must hold only code points 0-255 (one per byte)"
    return None


def describe_value(value: Any) -> str:
    """A JSON-ish name for the type of ``value``, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

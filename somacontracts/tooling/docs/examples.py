"""Example messages for the docs: a payload of any schema in the platform's plain JSON.

:func:`example` builds one from the schema alone, the same every time: a field's
default where it is a plain number, string or boolean (``schema_version`` shows its
version); otherwise a value of its type: the field's name for a string, ``{}`` for a
free-form JSON field, a UUID derived from the field's path, 2025-01-01 for dates and
timestamps, an enum's first symbol, one item for arrays and maps, a union's first
branch that has a finite value (an empty array or map, or null, where a record would
contain itself). :func:`avro_size` is the size of the example's Avro binary. Pure: no I/O.
"""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import fastavro

from somacontracts.schema import (
    JSON_LOGICAL_TYPE,
    ArrayNode,
    EnumNode,
    FixedNode,
    MapNode,
    Node,
    RecordNode,
    UnionNode,
)
from somacontracts.tooling.plainjson import from_plain_json

__all__ = ["NoExampleError", "avro_size", "example"]

_DAY = "2025-01-01"
_INSTANT = "2025-01-01T00:00:00Z"
_NAMESPACE = uuid.UUID("9f3c2a52-0b1e-4c7e-8d3a-5b6f1e2d4c70")


class NoExampleError(ValueError):
    """Raised for a schema no finite message fits: a record that contains itself with no
    null branch, empty array or empty map on the way to stop."""


def example(root: Node) -> Any:
    """A plain-JSON payload of the schema whose parsed root is ``root``; raise
    :class:`NoExampleError` if no finite payload exists."""
    return _value(root, "", frozenset(), None)


def avro_size(schema: Any, plain: Any) -> int:
    """Bytes of the Avro binary of ``plain`` (plain JSON) under ``schema`` (schema JSON),
    without the 5 bytes of Confluent's framing."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), from_plain_json(schema, plain))
    return out.tell()


def _value(node: Node, path: str, building: frozenset[str], name: str | None) -> Any:
    if isinstance(node, RecordNode):
        if node.full_name in building:
            raise NoExampleError(f"record {node.full_name} contains itself at {path or '/'}")
        inside = building | {node.full_name}
        return {
            f.name: _field(f.node, f"{path}/{f.name}", inside, f.name, f.has_default, f.default)
            for f in node.fields
        }
    if isinstance(node, UnionNode):
        for branch in node.branches:
            if branch.kind == "null":
                continue
            try:
                return _value(branch, path, building, name)
            except NoExampleError:
                continue
        if any(branch.kind == "null" for branch in node.branches):
            return None
        raise NoExampleError(f"no branch of the union at {path or '/'} has a finite value")
    if isinstance(node, EnumNode):
        return node.symbols[0]
    if node.logical_type == "decimal":
        scale = int(node.json.get("scale", 0))
        return "1" if scale == 0 else "1." + "0" * scale
    if isinstance(node, FixedNode):
        return base64.b64encode(bytes(node.size)).decode()
    if isinstance(node, ArrayNode):
        try:
            return [_value(node.items, f"{path}/0", building, name)]
        except NoExampleError:
            return []
    if isinstance(node, MapNode):
        try:
            return {"key": _value(node.values, f"{path}/key", building, name)}
        except NoExampleError:
            return {}
    return _primitive(node, path, name)


def _field(
    node: Node, path: str, building: frozenset[str], name: str, has_default: bool, default: Any
) -> Any:
    # Defaults are written in Avro's JSON encoding: the same as plain JSON for these kinds.
    plain = node.kind in ("boolean", "int", "long", "float", "double", "string")
    if has_default and plain and node.logical_type is None:
        return default
    return _value(node, path, building, name)


def _primitive(node: Node, path: str, name: str | None) -> Any:
    logical = node.logical_type
    if logical == JSON_LOGICAL_TYPE:
        return {}
    if logical == "uuid":
        return str(uuid.uuid5(_NAMESPACE, path))
    if logical in ("timestamp-millis", "timestamp-micros"):
        return _INSTANT
    if logical == "date":
        return _DAY
    kind = node.kind
    if kind == "null":
        return None
    if kind == "boolean":
        return True
    if kind in ("int", "long"):
        return 1
    if kind in ("float", "double"):
        return 0.5
    if kind == "bytes":
        return base64.b64encode(b"\x00").decode()
    return name or "text"

"""Plain JSON form of contract payloads: what people write in documents and HTTP bodies.

The platform's documents show payloads as plain JSON: ``task_id`` as a string,
timestamps as ISO 8601 text, free-form ``payload`` as a nested JSON object. The Avro
datum of the same payload (what fastavro writes and reads) holds a ``uuid.UUID``, a
timezone-aware ``datetime`` and the JSON *text* of the free-form part.
:func:`from_plain_json` and :func:`to_plain_json` convert between the two, driven by the
schema, and fill absent fields from their defaults.

Mapping, per schema type:

* ``string`` with logical type ``json`` <-> any JSON value (encoded compactly, key order kept);
* ``uuid`` <-> canonical UUID text; ``timestamp-millis``/``-micros`` <-> ISO 8601 text in
  UTC (``2025-10-09T16:59:00Z``); ``date`` <-> ``YYYY-MM-DD``;
* ``decimal`` (on ``bytes`` or ``fixed``) <-> its exact decimal text at the schema's scale
  (``"12.5000"``; a whole number is taken too, a JSON fraction is not: it may already have
  lost digits);
* ``bytes`` and ``fixed`` <-> base64 text; enums <-> their symbol;
* a union <-> the value of its first branch that accepts it; records and maps <-> objects.

The free-form JSON representation: a free-form value travels as an Avro ``string``
holding its RFC 8259 JSON text, marked ``"logicalType": "json"``. Text keeps every JSON
value exactly, nested objects, arrays, integers of any size, floats, booleans and null
included, and any Avro reader in any language can read it; a recursive Avro union type
would break Kafka Connect, Spark and other Avro consumers that cannot handle recursion.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from somacontracts.errors import SchemaError
from somacontracts.runtime import dump_json, load_json
from somacontracts.schema import (
    JSON_LOGICAL_TYPE,
    ArrayNode,
    EnumNode,
    MapNode,
    Node,
    RecordNode,
    UnionNode,
    parse,
)

__all__ = ["dump_json_value", "from_plain_json", "to_plain_json"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def dump_json_value(value: Any) -> str:
    """The compact JSON text of a free-form value; raise ``ValueError`` if it is not JSON."""
    return dump_json(value)


def from_plain_json(schema: Mapping[str, Any], value: Any) -> Any:
    """Convert a plain JSON payload into the Avro datum of ``schema`` (fastavro's form).

    Raises :class:`SchemaError` with a JSON pointer into ``value`` when it does not fit.
    """
    converter = _Converter(schema)
    return converter.to_datum(converter.root, value, "")


def to_plain_json(schema: Mapping[str, Any], datum: Any) -> Any:
    """Convert an Avro datum of ``schema`` (as fastavro reads it) into plain JSON."""
    converter = _Converter(schema)
    return converter.to_plain(converter.root, datum, "")


class _Converter:
    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = parse(dict(schema), source="schema").root

    def fail(self, reason: str, at: str) -> SchemaError:
        return SchemaError(reason, location=at or "/", source="plain JSON payload")

    # -- plain JSON -> datum ---------------------------------------------------

    def to_datum(self, node: Node, value: Any, at: str) -> Any:
        if isinstance(node, UnionNode):
            return self.union_to_datum(node, value, at)
        if isinstance(node, RecordNode):
            if not isinstance(value, dict):
                raise self.fail(
                    f"expected an object for {node.json['name']}, got {type(value).__name__}", at
                )
            return self.record_to_datum(node, value, at)
        if isinstance(node, MapNode):
            if not isinstance(value, dict):
                raise self.fail("expected an object", at)
            return {k: self.to_datum(node.values, v, f"{at}/{k}") for k, v in value.items()}
        if isinstance(node, ArrayNode):
            if not isinstance(value, list):
                raise self.fail("expected an array", at)
            return [self.to_datum(node.items, v, f"{at}/{i}") for i, v in enumerate(value)]
        if isinstance(node, EnumNode):
            if value not in node.symbols:
                raise self.fail(f"{value!r} is not one of {', '.join(node.symbols)}", at)
            return value
        if node.logical_type == "decimal":
            return self.decimal_to_datum(node, value, at)
        return self.scalar_to_datum(node.kind, node.logical_type, value, at)

    def decimal_to_datum(self, node: Node, value: Any, at: str) -> decimal.Decimal:
        """A decimal's text (or a whole number) as the value fastavro writes, at the scale
        and within the precision of ``node``."""
        scale, precision = _scale(node), int(node.json.get("precision", 0))
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail('expected a decimal as text, such as "12.50"', at)
        try:
            number = decimal.Decimal(value)
        except decimal.InvalidOperation:
            number = decimal.Decimal("NaN")
        if not number.is_finite():
            raise self.fail(f"{value!r} is not a decimal number", at)
        try:
            exact = number.quantize(decimal.Decimal(1).scaleb(-scale), context=_WIDE)
        except decimal.InvalidOperation:
            raise self.fail(
                f"{value!r} has more than the {precision} digits of the field", at
            ) from None
        if exact != number:
            raise self.fail(f"{value!r} has more than the {scale} decimal places of the field", at)
        if len(exact.as_tuple().digits) > max(precision, 1) and exact != 0:
            raise self.fail(f"{value!r} has more than the {precision} digits of the field", at)
        return exact

    def record_to_datum(self, node: RecordNode, value: Mapping[str, Any], at: str) -> Any:
        unknown = sorted(set(value) - set(node.by_name))
        if unknown:
            raise self.fail(f"unknown field {unknown[0]!r} for {node.json['name']}", at)
        datum: dict[str, Any] = {}
        for field in node.fields:
            where = f"{at}/{field.name}"
            if field.name in value:
                datum[field.name] = self.to_datum(field.node, value[field.name], where)
            elif field.has_default:
                datum[field.name] = self.default_to_datum(field.node, field.default, where)
            else:
                raise self.fail(f"required field {field.name!r} is missing", where)
        return datum

    def default_to_datum(self, node: Node, default: Any, at: str) -> Any:
        """Avro default JSON (bytes as code points, timestamps as numbers) -> datum."""
        if isinstance(node, UnionNode):
            return self.default_to_datum(node.branches[0], default, at)
        if isinstance(node, RecordNode):
            return {
                f.name: self.default_to_datum(f.node, default.get(f.name, f.default), at)
                for f in node.fields
            }
        if isinstance(node, MapNode):
            return {k: self.default_to_datum(node.values, v, at) for k, v in default.items()}
        if isinstance(node, ArrayNode):
            return [self.default_to_datum(node.items, v, at) for v in default]
        if node.kind in ("bytes", "fixed") and node.logical_type == "decimal":
            unscaled = int.from_bytes(default.encode("latin-1"), "big", signed=True)
            return decimal.Decimal(unscaled).scaleb(-_scale(node), context=_WIDE)
        if node.kind in ("bytes", "fixed"):
            return default.encode("latin-1")
        logical = node.logical_type
        if logical in ("timestamp-millis", "timestamp-micros", "date", "uuid"):
            plain = _logical_default_as_plain(logical, default)
            return self.scalar_to_datum(node.kind, logical, plain, at)
        return default

    def union_to_datum(self, node: UnionNode, value: Any, at: str) -> Any:
        errors = []
        for branch in node.branches:
            try:
                return self.to_datum(branch, value, at)
            except SchemaError as err:
                errors.append(err.reason)
        raise self.fail(f"fits no branch of the union ({'; '.join(errors)})", at)

    def scalar_to_datum(self, type_: str, logical: str | None, value: Any, at: str) -> Any:
        if type_ == "null":
            if value is not None:
                raise self.fail("expected null", at)
            return None
        if type_ == "boolean":
            if not isinstance(value, bool):
                raise self.fail("expected true or false", at)
            return value
        if logical == JSON_LOGICAL_TYPE and type_ == "string":
            try:
                return dump_json_value(value)
            except (TypeError, ValueError) as err:
                raise self.fail(f"is not JSON: {err}", at) from err
        if logical == "uuid" and type_ == "string":
            try:
                return uuid.UUID(value)
            except (TypeError, ValueError, AttributeError) as err:
                raise self.fail(f"{value!r} is not a UUID", at) from err
        if logical in ("timestamp-millis", "timestamp-micros") and type_ == "long":
            return _parse_timestamp(value, at, self)
        if logical == "date" and type_ == "int":
            try:
                return dt.date.fromisoformat(value)
            except (TypeError, ValueError) as err:
                raise self.fail(f"{value!r} is not a YYYY-MM-DD date", at) from err
        if type_ in ("int", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.fail("expected a whole number", at)
            return value
        if type_ in ("float", "double"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise self.fail("expected a number", at)
            return float(value)
        if type_ == "string":
            if not isinstance(value, str):
                raise self.fail("expected a string", at)
            return value
        if type_ in ("bytes", "fixed"):
            if not isinstance(value, str):
                raise self.fail("expected base64 text", at)
            try:
                return base64.b64decode(value, validate=True)
            except ValueError as err:
                raise self.fail("is not base64 text", at) from err
        raise self.fail(f"type {type_} is not supported in plain JSON", at)

    # -- datum -> plain JSON ---------------------------------------------------

    def to_plain(self, node: Node, datum: Any, at: str) -> Any:
        if isinstance(node, UnionNode):
            for branch in node.branches:
                if _datum_fits(branch, datum):
                    return self.to_plain(branch, datum, at)
            raise self.fail("fits no branch of the union", at)
        if isinstance(node, RecordNode):
            return {
                f.name: self.to_plain(f.node, datum[f.name], f"{at}/{f.name}") for f in node.fields
            }
        if isinstance(node, MapNode):
            return {k: self.to_plain(node.values, v, f"{at}/{k}") for k, v in datum.items()}
        if isinstance(node, ArrayNode):
            return [self.to_plain(node.items, v, f"{at}/{i}") for i, v in enumerate(datum)]
        if node.logical_type == JSON_LOGICAL_TYPE and node.kind == "string":
            return load_json(datum)
        if isinstance(datum, uuid.UUID):
            return str(datum)
        if isinstance(datum, dt.datetime):
            return _format_timestamp(datum)
        if isinstance(datum, dt.date):
            return datum.isoformat()
        if isinstance(datum, bytes):
            return base64.b64encode(datum).decode("ascii")
        if isinstance(datum, decimal.Decimal):
            return str(datum.quantize(decimal.Decimal(1).scaleb(-_scale(node)), context=_WIDE))
        return datum


def _datum_fits(node: Node, datum: Any) -> bool:
    """Whether ``datum`` (as fastavro reads it) belongs to union branch ``node``."""
    kind, logical = node.kind, node.logical_type
    if kind == "null":
        return datum is None
    if kind == "boolean":
        return isinstance(datum, bool)
    if logical in ("timestamp-millis", "timestamp-micros"):
        return isinstance(datum, dt.datetime)
    if logical == "uuid":
        return isinstance(datum, uuid.UUID)
    if logical == "date":
        return isinstance(datum, dt.date)
    if logical == "decimal":
        return isinstance(datum, decimal.Decimal)
    if kind in ("int", "long"):
        return isinstance(datum, int) and not isinstance(datum, bool)
    if kind in ("float", "double"):
        return isinstance(datum, float)
    if kind in ("string", "enum"):
        return isinstance(datum, str)
    if kind in ("bytes", "fixed"):
        return isinstance(datum, bytes)
    if isinstance(node, ArrayNode):
        return isinstance(datum, list)
    if isinstance(node, MapNode):
        return isinstance(datum, dict)
    if isinstance(node, RecordNode):
        return isinstance(datum, dict) and all(f.name in datum for f in node.fields)
    return False


_WIDE = decimal.Context(prec=1000)
"""Room for any decimal a schema allows, so quantizing never rounds or overflows."""


def _scale(node: Node) -> int:
    return int(node.json.get("scale", 0))


def _logical_default_as_plain(logical: str, default: Any) -> Any:
    if logical == "timestamp-millis":
        return _format_timestamp(_EPOCH + dt.timedelta(milliseconds=default))
    if logical == "timestamp-micros":
        return _format_timestamp(_EPOCH + dt.timedelta(microseconds=default))
    if logical == "date":
        return (_EPOCH.date() + dt.timedelta(days=default)).isoformat()
    return default


def _parse_timestamp(value: Any, at: str, converter: _Converter) -> dt.datetime:
    if not isinstance(value, str):
        raise converter.fail("expected an ISO 8601 timestamp string", at)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as err:
        raise converter.fail(f"{value!r} is not an ISO 8601 timestamp", at) from err
    if parsed.tzinfo is None:
        raise converter.fail(f"{value!r} has no time zone; add Z or an offset", at)
    return parsed.astimezone(dt.UTC)


def _format_timestamp(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    spec = "seconds" if value.microsecond == 0 else "microseconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"

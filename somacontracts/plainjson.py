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
import uuid
from collections.abc import Mapping
from typing import Any

from fastavro.schema import parse_schema

from somacontracts.errors import SchemaError
from somacontracts.runtime import dump_json, load_json
from somacontracts.validation import JSON_LOGICAL_TYPE

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
        self.named: dict[str, Any] = {}
        # fastavro's parsed form names every referenced type by its full name.
        self.root = parse_schema(dict(schema), named_schemas=self.named)

    def fail(self, reason: str, at: str) -> SchemaError:
        return SchemaError(reason, location=at or "/", source="plain JSON payload")

    def deref(self, schema: Any) -> Any:
        while isinstance(schema, str) and schema in self.named:
            schema = self.named[schema]
        if isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
            return self.deref(schema["type"])
        if isinstance(schema, dict) and schema.get("type") in self.named:
            return self.named[schema["type"]]
        return schema

    # -- plain JSON -> datum ---------------------------------------------------

    def to_datum(self, schema: Any, value: Any, at: str) -> Any:
        schema = self.deref(schema)
        if isinstance(schema, list):
            return self.union_to_datum(schema, value, at)
        type_ = schema if isinstance(schema, str) else schema["type"]
        logical = None if isinstance(schema, str) else schema.get("logicalType")
        if type_ in ("record", "error"):
            if not isinstance(value, dict):
                raise self.fail(
                    f"expected an object for {schema['name']}, got {type(value).__name__}", at
                )
            return self.record_to_datum(schema, value, at)
        if type_ == "map":
            if not isinstance(value, dict):
                raise self.fail("expected an object", at)
            return {k: self.to_datum(schema["values"], v, f"{at}/{k}") for k, v in value.items()}
        if type_ == "array":
            if not isinstance(value, list):
                raise self.fail("expected an array", at)
            return [self.to_datum(schema["items"], v, f"{at}/{i}") for i, v in enumerate(value)]
        if type_ == "enum":
            if value not in schema["symbols"]:
                raise self.fail(f"{value!r} is not one of {', '.join(schema['symbols'])}", at)
            return value
        return self.scalar_to_datum(type_, logical, value, at)

    def record_to_datum(
        self, schema: Mapping[str, Any], value: Mapping[str, Any], at: str
    ) -> dict[str, Any]:
        known = {f["name"] for f in schema["fields"]}
        unknown = sorted(set(value) - known)
        if unknown:
            raise self.fail(f"unknown field {unknown[0]!r} for {schema['name']}", at)
        datum: dict[str, Any] = {}
        for field in schema["fields"]:
            name = field["name"]
            where = f"{at}/{name}"
            if name in value:
                datum[name] = self.to_datum(field["type"], value[name], where)
            elif "default" in field:
                datum[name] = self.default_to_datum(field["type"], field["default"], where)
            else:
                raise self.fail(f"required field {name!r} is missing", where)
        return datum

    def default_to_datum(self, schema: Any, default: Any, at: str) -> Any:
        """Avro default JSON (bytes as code points, timestamps as numbers) -> datum."""
        schema = self.deref(schema)
        if isinstance(schema, list):
            return self.default_to_datum(schema[0], default, at)
        type_ = schema if isinstance(schema, str) else schema["type"]
        logical = None if isinstance(schema, str) else schema.get("logicalType")
        if type_ in ("record", "error"):
            return {
                f["name"]: self.default_to_datum(
                    f["type"], default[f["name"]] if f["name"] in default else f["default"], at
                )
                for f in schema["fields"]
            }
        if type_ == "map":
            return {k: self.default_to_datum(schema["values"], v, at) for k, v in default.items()}
        if type_ == "array":
            return [self.default_to_datum(schema["items"], v, at) for v in default]
        if type_ in ("bytes", "fixed"):
            return default.encode("latin-1")
        if logical in ("timestamp-millis", "timestamp-micros", "date", "uuid"):
            return self.scalar_to_datum(
                type_, logical, _logical_default_as_plain(logical, default), at
            )
        return default

    def union_to_datum(self, branches: list[Any], value: Any, at: str) -> Any:
        errors = []
        for branch in branches:
            try:
                return self.to_datum(branch, value, at)
            except SchemaError as err:
                errors.append(err.reason)
        raise self.fail(f"fits no branch of the union ({'; '.join(errors)})", at)

    def scalar_to_datum(self, type_: str, logical: Any, value: Any, at: str) -> Any:
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

    def to_plain(self, schema: Any, datum: Any, at: str) -> Any:
        schema = self.deref(schema)
        if isinstance(schema, list):
            for branch in schema:
                if _datum_fits(self.deref(branch), datum):
                    return self.to_plain(branch, datum, at)
            raise self.fail("fits no branch of the union", at)
        type_ = schema if isinstance(schema, str) else schema["type"]
        logical = None if isinstance(schema, str) else schema.get("logicalType")
        if type_ in ("record", "error"):
            return {
                f["name"]: self.to_plain(f["type"], datum[f["name"]], f"{at}/{f['name']}")
                for f in schema["fields"]
            }
        if type_ == "map":
            return {k: self.to_plain(schema["values"], v, f"{at}/{k}") for k, v in datum.items()}
        if type_ == "array":
            return [self.to_plain(schema["items"], v, f"{at}/{i}") for i, v in enumerate(datum)]
        if logical == JSON_LOGICAL_TYPE and type_ == "string":
            return load_json(datum)
        if isinstance(datum, uuid.UUID):
            return str(datum)
        if isinstance(datum, dt.datetime):
            return _format_timestamp(datum)
        if isinstance(datum, dt.date):
            return datum.isoformat()
        if isinstance(datum, bytes):
            return base64.b64encode(datum).decode("ascii")
        return datum


def _datum_fits(schema: Any, datum: Any) -> bool:
    """Whether ``datum`` (as fastavro reads it) belongs to union branch ``schema``."""
    type_ = schema if isinstance(schema, str) else schema.get("type")
    logical = None if isinstance(schema, str) else schema.get("logicalType")
    if type_ == "null":
        return datum is None
    if type_ == "boolean":
        return isinstance(datum, bool)
    if logical in ("timestamp-millis", "timestamp-micros"):
        return isinstance(datum, dt.datetime)
    if logical == "uuid":
        return isinstance(datum, uuid.UUID)
    if logical == "date":
        return isinstance(datum, dt.date)
    if type_ in ("int", "long"):
        return isinstance(datum, int) and not isinstance(datum, bool)
    if type_ in ("float", "double"):
        return isinstance(datum, float)
    if type_ in ("string", "enum"):
        return isinstance(datum, str)
    if type_ in ("bytes", "fixed"):
        return isinstance(datum, bytes)
    if type_ == "array":
        return isinstance(datum, list)
    if type_ == "map":
        return isinstance(datum, dict)
    if type_ in ("record", "error"):
        return isinstance(datum, dict) and all(f["name"] in datum for f in schema["fields"])
    return False


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

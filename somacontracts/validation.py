"""Structural validation of Avro schemas, stricter than fastavro's parser.

fastavro's ``parse_schema`` accepts schemas that other Avro implementations reject or
silently misread: a default of the wrong type, an enum default that is not a symbol, a
union default that matches a later branch, an invalid name, a logical type on the
wrong base type. :func:`validate_schema` walks the schema JSON once and reports the
first such problem as a :class:`~somacontracts.errors.SchemaError` whose ``location``
is a JSON pointer into the schema (``/fields/4/type/fields/0/default``).

Union defaults follow the Avro specification: the default must match the *first*
branch. Apache Avro's Java parser accepts any branch, but fastavro, the C and the Rust
implementations fill such a default with the first branch, so a contract that relies
on the Java relaxation reads differently in different languages.

This module is pure: it takes parsed JSON and raises; it reads no files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from somacontracts.errors import SchemaError

__all__ = [
    "JSON_LOGICAL_TYPE",
    "PRIMITIVE_TYPES",
    "json_pointer",
    "qualified_name",
    "validate_schema",
]

#: The logical type that marks a ``string`` holding free-form JSON text.
JSON_LOGICAL_TYPE = "json"

PRIMITIVE_TYPES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
_FIELD_ORDERS = frozenset({"ascending", "descending", "ignore"})

# Logical type -> the base types it may annotate ("fixed" means a fixed of any size,
# checked further below where a size is implied).
_LOGICAL_BASES: dict[str, frozenset[str]] = {
    "decimal": frozenset({"bytes", "fixed"}),
    "big-decimal": frozenset({"bytes"}),
    "uuid": frozenset({"string", "fixed"}),
    "date": frozenset({"int"}),
    "time-millis": frozenset({"int"}),
    "time-micros": frozenset({"long"}),
    "timestamp-millis": frozenset({"long"}),
    "timestamp-micros": frozenset({"long"}),
    "timestamp-nanos": frozenset({"long"}),
    "local-timestamp-millis": frozenset({"long"}),
    "local-timestamp-micros": frozenset({"long"}),
    "local-timestamp-nanos": frozenset({"long"}),
    "duration": frozenset({"fixed"}),
    JSON_LOGICAL_TYPE: frozenset({"string"}),
}


def validate_schema(schema: Any, *, source: str | None = None) -> None:
    """Raise :class:`SchemaError` for the first structural problem of ``schema``.

    ``schema`` is parsed schema JSON (a dict, list or str). ``source`` names where it
    came from (a file path) and is carried into the error.
    """
    _Walker(source).walk(schema, "", "")


def json_pointer(base: str, *parts: str | int) -> str:
    """Extend a JSON pointer, escaping ``~`` and ``/`` as RFC 6901 requires."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/".join((base, *escaped))


def qualified_name(name: str, namespace: str) -> str:
    """The full name of the Avro name ``name`` written inside ``namespace``."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


class _Walker:
    """One validation pass; remembers the named types defined so far."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.named: dict[str, Mapping[str, Any]] = {}

    def fail(self, reason: str, location: str) -> SchemaError:
        return SchemaError(reason, location=location, source=self.source)

    def resolve(self, name: str, namespace: str, at: str) -> tuple[str, Mapping[str, Any]]:
        """The full name and definition of the named type ``name`` refers to."""
        for candidate in (qualified_name(name, namespace), name):
            if candidate in self.named:
                return candidate, self.named[candidate]
        raise self.fail(f'type "{name}" is not defined (before this point)', at)

    # -- schemas -------------------------------------------------------------------

    def walk(self, schema: Any, at: str, namespace: str) -> None:
        if isinstance(schema, str):
            if schema not in PRIMITIVE_TYPES:
                self.resolve(schema, namespace, at)
        elif isinstance(schema, list):
            self.union(schema, at, namespace)
        elif isinstance(schema, dict):
            self.complex(schema, at, namespace)
        else:
            raise self.fail(
                f"a schema must be a string, an object or an array, not {_kind(schema)}", at
            )

    def union(self, branches: list[Any], at: str, namespace: str) -> None:
        seen: dict[str, int] = {}
        for index, branch in enumerate(branches):
            where = json_pointer(at, index)
            if isinstance(branch, list):
                raise self.fail("a union may not directly contain another union", where)
            self.walk(branch, where, namespace)
            key = self.branch_key(branch, namespace)
            if key in seen:
                raise self.fail(
                    f"union branches {seen[key]} and {index} are both {key}; "
                    "a union holds each type once",
                    where,
                )
            seen[key] = index

    def branch_key(self, branch: Any, namespace: str) -> str:
        """The identity of a union branch: its full name if named, else its type."""
        if isinstance(branch, str):
            if branch in PRIMITIVE_TYPES:
                return branch
            return self.resolve(branch, namespace, "")[0]
        type_ = branch.get("type")
        if type_ in ("record", "error", "enum", "fixed"):
            return qualified_name(str(branch["name"]), str(branch.get("namespace", namespace)))
        return str(type_)

    def complex(self, schema: dict[str, Any], at: str, namespace: str) -> None:
        if "type" not in schema:
            raise self.fail('a schema object needs a "type"', at)
        type_ = schema["type"]
        if isinstance(type_, (dict, list)):
            # Apache Avro's parser takes "type" of a schema object as a name only.
            raise self.fail(
                f'"type" must be a type name, not {_kind(type_)}; '
                'a nested schema belongs under a field\'s "type"',
                json_pointer(at, "type"),
            )
        if not isinstance(type_, str):
            raise self.fail(
                f'"type" must be a string, not {_kind(type_)}', json_pointer(at, "type")
            )
        if type_ in ("record", "error", "enum", "fixed"):
            namespace = self.define(schema, at, namespace)
        if type_ in ("record", "error"):
            self.record(schema, at, namespace)
        elif type_ == "enum":
            self.enum(schema, at)
        elif type_ == "fixed":
            size = schema.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise self.fail(
                    'a fixed needs a "size" that is a whole number >= 0', json_pointer(at, "size")
                )
        elif type_ == "array":
            if "items" not in schema:
                raise self.fail('an array needs "items"', at)
            self.walk(schema["items"], json_pointer(at, "items"), namespace)
        elif type_ == "map":
            if "values" not in schema:
                raise self.fail('a map needs "values"', at)
            self.walk(schema["values"], json_pointer(at, "values"), namespace)
        elif type_ not in PRIMITIVE_TYPES:
            self.resolve(type_, namespace, json_pointer(at, "type"))
            return
        if "logicalType" in schema:
            self.logical(schema, at)

    def define(self, schema: dict[str, Any], at: str, namespace: str) -> str:
        """Register a named type; return the namespace its body is read in."""
        name = schema.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail(f'a {schema["type"]} needs a "name"', at)
        own_namespace = schema.get("namespace", namespace)
        if own_namespace is None:
            own_namespace = ""
        if not isinstance(own_namespace, str):
            raise self.fail('"namespace" must be a string', json_pointer(at, "namespace"))
        full = qualified_name(name, own_namespace)
        parts = full.split(".")
        for part in parts:
            if not _NAME.match(part):
                raise self.fail(
                    f'"{full}" is not a valid Avro name '
                    "(each dotted part must match [A-Za-z_][A-Za-z0-9_]*)",
                    json_pointer(at, "name"),
                )
        if parts[-1] in PRIMITIVE_TYPES:
            raise self.fail(
                f'"{name}" is a primitive type and cannot name a {schema["type"]}',
                json_pointer(at, "name"),
            )
        if full in self.named:
            raise self.fail(f'type "{full}" is defined twice', json_pointer(at, "name"))
        self.named[full] = schema
        aliases = schema.get("aliases", [])
        if not isinstance(aliases, list):
            raise self.fail('"aliases" must be an array of names', json_pointer(at, "aliases"))
        for index, alias in enumerate(aliases):
            if not isinstance(alias, str) or not all(_NAME.match(p) for p in alias.split(".")):
                raise self.fail(
                    f"alias {alias!r} is not a valid Avro name", json_pointer(at, "aliases", index)
                )
        return ".".join(parts[:-1])

    def record(self, schema: dict[str, Any], at: str, namespace: str) -> None:
        fields = schema.get("fields")
        if not isinstance(fields, list):
            raise self.fail('a record needs "fields", an array', at)
        names: set[str] = set()
        for index, field in enumerate(fields):
            where = json_pointer(at, "fields", index)
            if not isinstance(field, dict):
                raise self.fail(f"a field must be an object, not {_kind(field)}", where)
            name = field.get("name")
            if not isinstance(name, str) or not _NAME.match(name):
                raise self.fail(
                    f"field name {name!r} is not a valid Avro name", json_pointer(where, "name")
                )
            if name in names:
                raise self.fail(f'field "{name}" appears twice', json_pointer(where, "name"))
            names.add(name)
            if "type" not in field:
                raise self.fail(f'field "{name}" needs a "type"', where)
            aliases = field.get("aliases", [])
            if not isinstance(aliases, list) or not all(
                isinstance(a, str) and _NAME.match(a) for a in aliases
            ):
                raise self.fail(
                    f'"aliases" of field "{name}" must be an array of names',
                    json_pointer(where, "aliases"),
                )
            self.walk(field["type"], json_pointer(where, "type"), namespace)
            order = field.get("order", "ascending")
            if order not in _FIELD_ORDERS:
                raise self.fail(
                    f"field order must be ascending, descending or ignore, not {order!r}",
                    json_pointer(where, "order"),
                )
            if "default" in field:
                problem = self.default_problem(field["type"], field["default"], namespace)
                if problem:
                    raise self.fail(
                        f'default of field "{name}" {problem}', json_pointer(where, "default")
                    )

    def enum(self, schema: dict[str, Any], at: str) -> None:
        symbols = schema.get("symbols")
        if not isinstance(symbols, list):
            raise self.fail('an enum needs "symbols", an array of names', at)
        seen: set[str] = set()
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not _NAME.match(symbol):
                raise self.fail(
                    f"enum symbol {symbol!r} is not a valid Avro name",
                    json_pointer(at, "symbols", index),
                )
            if symbol in seen:
                raise self.fail(
                    f'enum symbol "{symbol}" appears twice', json_pointer(at, "symbols", index)
                )
            seen.add(symbol)
        if "default" in schema and schema["default"] not in seen:
            raise self.fail(
                f"enum default {schema['default']!r} is not one of its symbols",
                json_pointer(at, "default"),
            )

    def logical(self, schema: dict[str, Any], at: str) -> None:
        logical = schema["logicalType"]
        where = json_pointer(at, "logicalType")
        if not isinstance(logical, str):
            raise self.fail('"logicalType" must be a string', where)
        bases = _LOGICAL_BASES.get(logical)
        if bases is None:
            return  # Unknown logical types are legal Avro: readers use the base type.
        base = schema["type"]
        if base not in bases:
            allowed = " or ".join(sorted(bases))
            raise self.fail(f"logical type {logical} must annotate {allowed}, not {base}", where)
        size = schema.get("size")
        if logical == "uuid" and base == "fixed" and size != 16:
            raise self.fail("logical type uuid on a fixed needs size 16", where)
        if logical == "duration" and size != 12:
            raise self.fail("logical type duration needs a fixed of size 12", where)
        if logical == "decimal":
            self.decimal(schema, at)

    def decimal(self, schema: dict[str, Any], at: str) -> None:
        precision = schema.get("precision")
        scale = schema.get("scale", 0)
        if not isinstance(precision, int) or isinstance(precision, bool) or precision < 1:
            raise self.fail(
                "decimal needs a precision that is a whole number >= 1",
                json_pointer(at, "precision"),
            )
        if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= precision:
            raise self.fail(
                f"decimal scale must be a whole number from 0 to the precision {precision}",
                json_pointer(at, "scale"),
            )
        if schema["type"] == "fixed":
            size = int(schema["size"])
            most = len(str(2 ** (8 * size - 1) - 1)) - 1 if size > 0 else 0
            if precision > most:
                raise self.fail(
                    f"a fixed of size {size} holds a decimal of at most {most} digits",
                    json_pointer(at, "precision"),
                )

    # -- defaults ------------------------------------------------------------------

    def default_problem(self, schema: Any, value: Any, namespace: str) -> str | None:
        """Why ``value`` is not a valid JSON default for ``schema``, or None if it is."""
        if isinstance(schema, list):
            if not schema:
                return "cannot be given for an empty union"
            problem = self.default_problem(schema[0], value, namespace)
            if problem:
                return f"must match the first branch of the union: it {problem}"
            return None
        if isinstance(schema, str):
            if schema in PRIMITIVE_TYPES:
                return _primitive_default_problem(schema, value)
            return self.default_problem(self.resolve(schema, namespace, "")[1], value, namespace)
        type_ = schema["type"]
        if type_ in PRIMITIVE_TYPES:
            problem = _primitive_default_problem(type_, value)
            if problem is None and schema.get("logicalType") == JSON_LOGICAL_TYPE:
                try:
                    json.loads(value)
                except ValueError:
                    return f"is not JSON text: {value!r}"
            return problem
        if type_ in ("record", "error"):
            namespace = self.namespace_of(schema, namespace)
            if not isinstance(value, dict):
                return f"must be an object for record {schema['name']}, not {_kind(value)}"
            for field in schema["fields"]:
                name = field["name"]
                if name in value:
                    problem = self.default_problem(field["type"], value[name], namespace)
                elif "default" in field:
                    problem = None
                else:
                    problem = "has no value and the field has no default"
                if problem:
                    return f'has field "{name}" that {problem}'
            return None
        if type_ == "enum":
            if value not in schema["symbols"]:
                return f"must be one of the symbols of enum {schema['name']}, not {value!r}"
            return None
        if type_ == "fixed":
            problem = _primitive_default_problem("bytes", value)
            if problem is None and len(value) != schema["size"]:
                return f"must be {schema['size']} bytes long, not {len(value)}"
            return problem
        if type_ == "array":
            if not isinstance(value, list):
                return f"must be an array, not {_kind(value)}"
            for index, item in enumerate(value):
                problem = self.default_problem(schema["items"], item, namespace)
                if problem:
                    return f"has item {index} that {problem}"
            return None
        if type_ == "map":
            if not isinstance(value, dict):
                return f"must be an object, not {_kind(value)}"
            for key, item in value.items():
                problem = self.default_problem(schema["values"], item, namespace)
                if problem:
                    return f"has key {key!r} that {problem}"
            return None
        return self.default_problem(self.resolve(type_, namespace, "")[1], value, namespace)

    def namespace_of(self, schema: Mapping[str, Any], namespace: str) -> str:
        full = qualified_name(str(schema["name"]), str(schema.get("namespace", namespace) or ""))
        return full.rpartition(".")[0]


def _primitive_default_problem(type_: str, value: Any) -> str | None:
    if type_ == "null":
        return None if value is None else f"must be null, not {_kind(value)}"
    if type_ == "boolean":
        return None if isinstance(value, bool) else f"must be true or false, not {_kind(value)}"
    if type_ in ("int", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"must be a whole number for {type_}, not {_kind(value)}"
        low, high = _INT_RANGE if type_ == "int" else _LONG_RANGE
        return None if low <= value <= high else f"is out of range for {type_}: {value}"
    if type_ in ("float", "double"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"must be a number for {type_}, not {_kind(value)}"
    if type_ == "string":
        return None if isinstance(value, str) else f"must be a string, not {_kind(value)}"
    # bytes (and fixed): a JSON string whose code points are the byte values 0-255.
    if not isinstance(value, str):
        return f"must be a string of code points 0-255 for bytes, not {_kind(value)}"
    if any(ord(c) > 255 for c in value):
        return "must hold only code points 0-255 (one per byte)"
    return None


def _kind(value: Any) -> str:
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

"""Why an object cannot be written: the field path and the offending value, in one line.

The serializer writes a model through its generated codec, which refuses any value
that a reader would refuse or read back as something else (see
:mod:`somacontracts.runtime.codec`). The codec is straight-line code and says only
what went wrong, not where; :func:`value_problem` walks the object along the model's
schema and names the first value the schema cannot carry, as a path from the record:
``ToolInvocation.metadata.timestamp: a naive datetime ...`` or
``ToolInvocation.payload["args"][2]: uuid.UUID is not a JSON value``.

Each leaf is judged by the codec's own function for its type, so the explanation
follows the codec's rules; records must be the generated class of the model's own
version. For a model without a generated codec, :func:`value_problem` is the check
itself, run before fastavro writes.

Off the hot path: it runs only for an object the codec refused, or for the rare
models without a codec.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from typing import Any

from somacontracts.runtime import codec, jsontext

__all__ = ["value_problem"]

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})

# Kind (codec.LOGICAL_KINDS / PRIMITIVE_KINDS, refined by Avro type) -> what the value must
# be, for messages, and the codec function that writes or converts it.
_Writer = Callable[[Any, Mapping[str, Any]], object]
_LEAVES: dict[str, tuple[str, _Writer]] = {
    "boolean": ("True or False", lambda v, s: codec.write_boolean(bytearray(), v)),
    "int:int": ("int", lambda v, s: codec.write_int(bytearray(), v)),
    "int:long": ("int", lambda v, s: codec.write_long(bytearray(), v)),
    "float:float": ("float", lambda v, s: codec.write_float(bytearray(), v)),
    "float:double": ("float", lambda v, s: codec.write_double(bytearray(), v)),
    "string": ("str", lambda v, s: codec.write_string(bytearray(), v)),
    "bytes": ("bytes", lambda v, s: codec.write_bytes(bytearray(), v)),
    "fixed": ("bytes", lambda v, s: codec.write_fixed(bytearray(), v, s["size"])),
    "uuid": ("uuid.UUID", lambda v, s: codec.write_uuid(bytearray(), v)),
    "fixed_uuid": ("uuid.UUID", lambda v, s: codec.write_fixed_uuid(bytearray(), v)),
    "datetime:timestamp-millis": ("datetime.datetime", lambda v, s: codec.timestamp_millis(v)),
    "datetime:timestamp-micros": ("datetime.datetime", lambda v, s: codec.timestamp_micros(v)),
    "datetime:local-timestamp-millis": (
        "datetime.datetime",
        lambda v, s: codec.local_timestamp_millis(v),
    ),
    "datetime:local-timestamp-micros": (
        "datetime.datetime",
        lambda v, s: codec.local_timestamp_micros(v),
    ),
    "date": ("datetime.date", lambda v, s: codec.date_days(v)),
    "time:time-millis": ("datetime.time", lambda v, s: codec.time_millis(v)),
    "time:time-micros": ("datetime.time", lambda v, s: codec.time_micros(v)),
    "decimal:bytes": (
        "decimal.Decimal",
        lambda v, s: codec.decimal_bytes(v, s["precision"], s.get("scale", 0)),
    ),
    "decimal:fixed": (
        "decimal.Decimal",
        lambda v, s: codec.decimal_fixed(v, s["precision"], s.get("scale", 0), s["size"]),
    ),
}


def value_problem(
    model: type[Any], obj: object, parsed: Any, named: Mapping[str, Any], label: str
) -> str | None:
    """The first value of ``obj`` that ``model``'s schema cannot carry, or None.

    ``parsed`` is the model's schema as fastavro parses it and ``named`` its named types
    by full name; ``label`` names the record at the start of the path. The answer reads
    ``<path>: <reason>``.
    """
    problem = _Walk(model, named).check(parsed, obj, label)
    return None if problem is None else problem.text


@dataclasses.dataclass(frozen=True, slots=True)
class _Problem:
    text: str
    wrong_type: bool
    """The value is not of the type the schema asks for (rather than a bad value of it)."""


def _wrong(path: str, expected: str, value: object) -> _Problem:
    return _Problem(f"{path}: {codec.wrong_type(expected, value)}", wrong_type=True)


class _Walk:
    def __init__(self, model: type[Any], named: Mapping[str, Any]) -> None:
        self.named = named
        self.version = getattr(model, "SCHEMA_VERSION", None)
        self.module = sys.modules.get(model.__module__)

    def check(self, schema: Any, value: object, path: str) -> _Problem | None:
        if isinstance(schema, list):
            return self.union(schema, value, path)
        if isinstance(schema, str):
            if schema not in _PRIMITIVES:
                return self.check(self.named[schema], value, path)
            schema = {"type": schema}
        type_ = schema["type"]
        if isinstance(type_, (dict, list)) or (
            isinstance(type_, str) and type_ not in _PRIMITIVES and type_ in self.named
        ):
            return self.check(type_, value, path)
        if type_ in ("record", "error"):
            return self.record(schema, value, path)
        if type_ == "enum":
            return self.enum(schema, value, path)
        if type_ == "array":
            return self.array(schema, value, path)
        if type_ == "map":
            return self.map(schema, value, path)
        if type_ == "null":
            return None if value is None else _wrong(path, "None", value)
        return self.leaf(schema, value, path)

    def leaf(self, schema: Mapping[str, Any], value: object, path: str) -> _Problem | None:
        type_: str = schema["type"]
        logical = str(schema.get("logicalType", ""))
        kind = codec.LOGICAL_KINDS.get((type_, logical)) or codec.PRIMITIVE_KINDS.get(type_, type_)
        if kind == "fixed_uuid" and schema.get("size") != 16:
            kind = "fixed"
        if kind == "json":
            problem = jsontext.json_problem(value)
            if problem is None:
                return None
            text = f"{path}{problem}" if problem.startswith("[") else f"{path}: {problem}"
            return _Problem(text, wrong_type=False)
        if kind in ("int", "float", "decimal"):
            key = f"{kind}:{type_}"
        elif kind in ("datetime", "time"):
            key = f"{kind}:{logical}"
        else:
            key = kind
        expected, write = _LEAVES[key]
        if kind == "string" and not isinstance(value, str):
            return _wrong(path, expected, value)
        try:
            write(value, schema)
        except TypeError as err:  # the codec's own words: what it expected, what it got
            return _Problem(f"{path}: {err}", wrong_type=True)
        except AttributeError:
            return _wrong(path, expected, value)
        except UnicodeEncodeError as err:
            reason = (
                f"{_short(value)} holds a lone surrogate at {err.start}, which UTF-8 cannot encode"
            )
            return _Problem(f"{path}: {reason}", wrong_type=False)
        except (ValueError, OverflowError) as err:
            return _Problem(f"{path}: {err}", wrong_type=False)
        return None

    def record(self, schema: Mapping[str, Any], value: object, path: str) -> _Problem | None:
        full_name = schema["name"]
        kind = type(value)
        if (
            getattr(kind, "FULL_NAME", None) != full_name
            or getattr(kind, "SCHEMA_VERSION", None) != self.version
            or not dataclasses.is_dataclass(value)
        ):
            return _wrong(path, self.class_name(full_name), value)
        for field_schema, field in zip(schema["fields"], dataclasses.fields(value), strict=False):
            problem = self.check(field_schema["type"], getattr(value, field.name), _at(path, field))
            if problem is not None:
                return problem
        return None

    def class_name(self, full_name: str) -> str:
        """The generated class of the record ``full_name`` in the model's version."""
        for name, candidate in vars(self.module or object).items():
            if (
                isinstance(candidate, type)
                and getattr(candidate, "FULL_NAME", None) == full_name
                and getattr(candidate, "SCHEMA_VERSION", None) == self.version
                and not name.startswith("_")
            ):
                return candidate.__name__
        return f"a record {full_name} of version {self.version}"

    def enum(self, schema: Mapping[str, Any], value: object, path: str) -> _Problem | None:
        symbols = schema["symbols"]
        try:
            if value in symbols and isinstance(value, str):
                return None
        except TypeError:
            pass
        name = schema["name"].rpartition(".")[2]
        text = f"{path}: {_short(value)} is not a symbol of enum {name} ({', '.join(symbols)})"
        return _Problem(text, wrong_type=not isinstance(value, str))

    def array(self, schema: Mapping[str, Any], value: object, path: str) -> _Problem | None:
        if not isinstance(value, list):
            return _wrong(path, "list", value)
        for index, item in enumerate(value):
            problem = self.check(schema["items"], item, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None

    def map(self, schema: Mapping[str, Any], value: object, path: str) -> _Problem | None:
        if not isinstance(value, dict):
            return _wrong(path, "dict", value)
        for key, item in value.items():
            if not isinstance(key, str):
                text = f"{path}: key {_short(key)} ({type_name(key)}) is not a string"
                return _Problem(text, wrong_type=False)
            where = f"{path}[{key!r}]"
            try:
                codec.write_string(bytearray(), key)
            except UnicodeEncodeError as err:
                reason = f"holds a lone surrogate at {err.start}, which UTF-8 cannot encode"
                return _Problem(f"{path}: key {_short(key)} {reason}", wrong_type=False)
            problem = self.check(schema["values"], item, where)
            if problem is not None:
                return problem
        return None

    def union(self, branches: list[Any], value: object, path: str) -> _Problem | None:
        if value is None and "null" in branches:
            return None
        problems = [self.check(branch, value, path) for branch in branches if branch != "null"]
        if any(problem is None for problem in problems):
            return None
        # The branch of the value's own type explains best; else no branch fits at all.
        for problem in problems:
            if problem is not None and not problem.wrong_type:
                return problem
        names = ", ".join(self.describe(b) for b in branches)
        text = f"{path}: {type_name(value)} {_short(value)} is of no branch of the union [{names}]"
        return _Problem(text, wrong_type=True)

    def describe(self, branch: Any) -> str:
        if isinstance(branch, str):
            return branch.rpartition(".")[2]
        if isinstance(branch, dict):
            name = branch.get("name")
            if isinstance(name, str):
                return name.rpartition(".")[2]
            logical = branch.get("logicalType")
            return f"{branch['type']} ({logical})" if logical else str(branch["type"])
        return "union"


def type_name(value: object) -> str:
    """How messages name the type of ``value``."""
    return codec.type_name(value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _at(path: str, field: dataclasses.Field[Any]) -> str:
    return f"{path}.{field.name}"

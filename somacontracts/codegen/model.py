"""From a schema version to the Python classes that represent it: pure, no source text yet.

:func:`build_version` walks one ``vN.avsc`` schema and returns a :class:`VersionModel`:
the record and enum classes with their Python names, every field's Python type and
default, and the Avro facts the generated code needs (full names for union branches,
logical types). Everything a schema can say that generated code cannot express is
refused here, as a :class:`CodegenError` naming the file and the JSON pointer.

Refused, because the generated code could not tell the branches apart:

* a union of free-form JSON (``string`` with logical type ``json``) and any branch other
  than ``null``: every JSON value is also a string, number, list or dict;
* a union of two branches holding the same Python type whose Avro encodings differ:
  two ``uuid`` (string and fixed), two ``time`` (millis and micros), two ``decimal``;
* an empty union, which has no values.

Refused, because Python cannot hold the default: a ``uuid`` default that is not a
UUID, a timestamp, date or time default outside the range of :mod:`datetime`, a float
default that is NaN or infinite (not JSON).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from somacontracts.codegen import names
from somacontracts.errors import SchemaError
from somacontracts.runtime.codec import LOGICAL_KINDS as _LOGICAL_KINDS
from somacontracts.runtime.codec import PRIMITIVE_KINDS as _PRIMITIVE_KINDS
from somacontracts.schemas import SchemaVersion
from somacontracts.validation import (
    PRIMITIVE_TYPES,
    json_pointer,
    qualified_name,
)

__all__ = [
    "CodegenError",
    "EnumDefault",
    "EnumModel",
    "FieldModel",
    "JsonDefault",
    "RecordDefault",
    "RecordModel",
    "TypeModel",
    "VersionModel",
    "build_version",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)  # local-timestamp-* and time-* are naive
_DAY_MILLIS = 86_400_000

# Kinds of which one union may hold one only: their values share a Python type but
# not an encoding, so nothing tells which branch a value was meant for.
_ONE_PER_UNION = {
    "uuid": "uuid.UUID",
    "fixed_uuid": "uuid.UUID",
    "time": "datetime.time",
    "decimal": "decimal.Decimal",
}


class CodegenError(SchemaError):
    """Raised when a schema holds something generated Python code cannot express."""


@dataclasses.dataclass(frozen=True, slots=True)
class TypeModel:
    """An Avro type as generated code sees it.

    ``kind`` is one of null, boolean, int, float, string, bytes, json, uuid, fixed_uuid,
    datetime, date, time, decimal, enum, record, fixed, array, map, union.
    """

    kind: str
    avro_type: str
    """The Avro type name fastavro matches a union branch by: ``long``, ``array``, or the
    full name of a named type."""
    logical: str | None = None
    named: str | None = None
    """Full name of the record, enum or fixed."""
    items: TypeModel | None = None
    """Item type of an array, value type of a map."""
    branches: tuple[TypeModel, ...] = ()
    location: str = ""
    size: int | None = None
    precision: int | None = None
    scale: int | None = None

    @property
    def is_named(self) -> bool:
        """Whether fastavro may return this union branch as a ``(name, datum)`` tuple."""
        return self.named is not None

    @property
    def non_null(self) -> tuple[TypeModel, ...]:
        """The branches of a union other than ``null``."""
        return tuple(b for b in self.branches if b.kind != "null")

    @property
    def nullable(self) -> bool:
        """Whether a union has a ``null`` branch."""
        return any(b.kind == "null" for b in self.branches)


@dataclasses.dataclass(frozen=True, slots=True)
class JsonDefault:
    """The default of a free-form JSON field: the decoded JSON value."""

    value: Any


@dataclasses.dataclass(frozen=True, slots=True)
class EnumDefault:
    """The default of an enum field: a member."""

    enum: str
    member: str


@dataclasses.dataclass(frozen=True, slots=True)
class RecordDefault:
    """The default of a record field: an instance built from these field values."""

    record: str
    values: tuple[tuple[str, Any], ...]
    """(attribute, Python default) for each field the default names."""


@dataclasses.dataclass(frozen=True, slots=True)
class FieldModel:
    """A record field and the dataclass attribute that holds it."""

    avro_name: str
    attribute: str
    type: TypeModel
    doc: str | None
    has_default: bool
    default: Any
    """The default as a Python value (``JsonDefault``, ``EnumDefault``, ``RecordDefault``,
    lists and dicts of them, or a plain value)."""
    location: str


@dataclasses.dataclass(frozen=True, slots=True)
class RecordModel:
    """A record and its dataclass."""

    full_name: str
    class_name: str
    base_name: str
    """The class name without the version suffix."""
    doc: str | None
    fields: tuple[FieldModel, ...]
    location: str


@dataclasses.dataclass(frozen=True, slots=True)
class EnumModel:
    """An enum and its ``StrEnum`` class."""

    full_name: str
    class_name: str
    base_name: str
    doc: str | None
    members: tuple[tuple[str, str], ...]
    """(member name, symbol) in the schema's order."""
    location: str

    def member(self, symbol: str) -> str:
        """The member name of ``symbol``."""
        return next(m for m, s in self.members if s == symbol)


@dataclasses.dataclass(frozen=True, slots=True)
class VersionModel:
    """One schema version: its classes, root record first, and its constants."""

    version: SchemaVersion
    root: RecordModel
    records: tuple[RecordModel, ...]
    enums: tuple[EnumModel, ...]

    @property
    def named(self) -> dict[str, RecordModel | EnumModel]:
        """Records and enums by full name."""
        named: list[RecordModel | EnumModel] = [*self.records, *self.enums]
        return {m.full_name: m for m in named}


def build_version(version: SchemaVersion) -> VersionModel:
    """The classes of ``version``; raise :class:`CodegenError` for what code cannot express."""
    return _Builder(version).build()


@dataclasses.dataclass(slots=True)
class _Named:
    kind: str
    schema: Mapping[str, Any]
    full_name: str
    location: str
    type: TypeModel | None = None
    fields: list[tuple[Mapping[str, Any], TypeModel, str]] = dataclasses.field(default_factory=list)


class _Builder:
    def __init__(self, version: SchemaVersion) -> None:
        self.version = version
        self.source = str(version.path)
        self.named: dict[str, _Named] = {}

    def fail(self, reason: str, location: str) -> CodegenError:
        return CodegenError(reason, location=location or "/", source=self.source)

    def build(self) -> VersionModel:
        root_type = self.walk(self.version.schema, "", "")
        assert root_type.named is not None  # a contract schema is a record
        class_names = self.class_names()
        enums: list[EnumModel] = []
        records: list[RecordModel] = []
        for full_name, named in self.named.items():
            if named.kind == "enum":
                base = class_names[full_name]
                class_name = f"{base}V{self.version.version}"
                doc = named.schema.get("doc")
                taken: list[str] = []
                for symbol in named.schema["symbols"]:
                    taken.append(names.enum_member_name(symbol, taken))
                enums.append(
                    EnumModel(
                        full_name=full_name,
                        class_name=class_name,
                        base_name=base,
                        doc=doc,
                        members=tuple(zip(taken, named.schema["symbols"], strict=True)),
                        location=named.location,
                    )
                )
        enum_models = {e.full_name: e for e in enums}
        for full_name, named in self.named.items():
            if named.kind != "record":
                continue
            base = class_names[full_name]
            attributes: list[str] = []
            fields: list[FieldModel] = []
            for field, type_, location in named.fields:
                attribute = names.field_attribute_name(field["name"], attributes)
                attributes.append(attribute)
                has_default = "default" in field
                default = (
                    self.default(
                        type_, field["default"], json_pointer(location, "default"), enum_models
                    )
                    if has_default
                    else None
                )
                fields.append(
                    FieldModel(
                        avro_name=field["name"],
                        attribute=attribute,
                        type=type_,
                        doc=field.get("doc"),
                        has_default=has_default,
                        default=default,
                        location=location,
                    )
                )
            records.append(
                RecordModel(
                    full_name=full_name,
                    class_name=f"{base}V{self.version.version}",
                    base_name=base,
                    doc=named.schema.get("doc"),
                    fields=tuple(fields),
                    location=named.location,
                )
            )
        return VersionModel(
            version=self.version, root=records[0], records=tuple(records), enums=tuple(enums)
        )

    # -- names ---------------------------------------------------------------------

    def class_names(self) -> dict[str, str]:
        """Class base names of records and enums, unique within the version."""
        result: dict[str, str] = {}
        taken: set[str] = set()
        for full_name, named in self.named.items():
            if named.kind == "fixed":
                continue
            namespace, _, short = full_name.rpartition(".")
            base = names.class_base_name(short)
            if base in taken and namespace:
                base = "".join(names.capwords(p) for p in namespace.split(".")) + base
            candidate, counter = base, 2
            while candidate in taken:
                candidate, counter = f"{base}{counter}", counter + 1
            taken.add(candidate)
            result[full_name] = candidate
        return result

    # -- types ---------------------------------------------------------------------

    def walk(self, schema: Any, at: str, namespace: str) -> TypeModel:
        if isinstance(schema, str):
            if schema in PRIMITIVE_TYPES:
                return TypeModel(kind=_PRIMITIVE_KINDS[schema], avro_type=schema, location=at)
            return self.reference(schema, namespace, at)
        if isinstance(schema, list):
            return self.union(schema, at, namespace)
        type_ = schema["type"]
        if isinstance(type_, (dict, list)):
            return self.walk(type_, json_pointer(at, "type"), namespace)
        if type_ in ("record", "error", "enum", "fixed"):
            return self.define(schema, at, namespace)
        if type_ == "array":
            items = self.walk(schema["items"], json_pointer(at, "items"), namespace)
            return TypeModel(kind="array", avro_type="array", items=items, location=at)
        if type_ == "map":
            values = self.walk(schema["values"], json_pointer(at, "values"), namespace)
            return TypeModel(kind="map", avro_type="map", items=values, location=at)
        if type_ in PRIMITIVE_TYPES:
            logical = str(schema.get("logicalType", ""))
            kind = _LOGICAL_KINDS.get((type_, logical), _PRIMITIVE_KINDS[type_])
            return TypeModel(
                kind=kind,
                avro_type=type_,
                logical=logical if kind != _PRIMITIVE_KINDS[type_] else None,
                location=at,
                precision=schema.get("precision"),
                scale=schema.get("scale", 0) if kind == "decimal" else None,
            )
        return self.reference(type_, namespace, at)

    def reference(self, name: str, namespace: str, at: str) -> TypeModel:
        for candidate in (qualified_name(name, namespace), name):
            named = self.named.get(candidate)
            if named is not None and named.type is not None:
                return dataclasses.replace(named.type, location=at)
        raise self.fail(f'type "{name}" is not defined before this point', at)

    def define(self, schema: Mapping[str, Any], at: str, namespace: str) -> TypeModel:
        own = schema.get("namespace", namespace)
        full_name = qualified_name(str(schema["name"]), own or "")
        inner_namespace = full_name.rpartition(".")[0]
        kind = "record" if schema["type"] in ("record", "error") else schema["type"]
        named = _Named(kind=kind, schema=schema, full_name=full_name, location=at)
        self.named[full_name] = named
        if kind == "fixed":
            logical = str(schema.get("logicalType", ""))
            fixed_kind = _LOGICAL_KINDS.get(("fixed", logical), "fixed")
            if fixed_kind == "fixed_uuid" and schema.get("size") != 16:
                fixed_kind = "fixed"
            named.type = TypeModel(
                kind=fixed_kind,
                avro_type=full_name,
                logical=logical if fixed_kind != "fixed" else None,
                named=full_name,
                location=at,
                size=schema["size"],
                precision=schema.get("precision"),
                scale=schema.get("scale", 0) if fixed_kind == "decimal" else None,
            )
            return named.type
        named.type = TypeModel(kind=kind, avro_type=full_name, named=full_name, location=at)
        if kind == "record":
            for index, field in enumerate(schema["fields"]):
                where = json_pointer(at, "fields", index)
                field_type = self.walk(field["type"], json_pointer(where, "type"), inner_namespace)
                named.fields.append((field, field_type, where))
        return named.type

    def union(self, branches: Sequence[Any], at: str, namespace: str) -> TypeModel:
        if not branches:
            raise self.fail("an empty union has no values, so no Python type", at)
        models = tuple(
            self.walk(branch, json_pointer(at, index), namespace)
            for index, branch in enumerate(branches)
        )
        kinds = [m.kind for m in models]
        if "json" in kinds and any(k not in ("json", "null") for k in kinds):
            index = kinds.index("json")
            raise self.fail(
                f"union branch {index} is free-form JSON, which overlaps every other branch "
                "but null; generated code could not tell which branch a value belongs to",
                at,
            )
        seen: dict[str, int] = {}
        for index, kind in enumerate(kinds):
            python_type = _ONE_PER_UNION.get(kind)
            if python_type is None:
                continue
            if python_type in seen:
                raise self.fail(
                    f"union branches {seen[python_type]} and {index} are both Python "
                    f"{python_type} with different encodings; generated code could not tell "
                    "which branch a value belongs to",
                    at,
                )
            seen[python_type] = index
        return TypeModel(kind="union", avro_type="union", branches=models, location=at)

    # -- defaults ------------------------------------------------------------------

    def default(self, type_: TypeModel, value: Any, at: str, enums: Mapping[str, EnumModel]) -> Any:
        """The Python value of the Avro JSON default ``value`` of ``type_``."""
        kind = type_.kind
        if kind == "union":
            return self.default(type_.branches[0], value, at, enums)
        if kind in ("null", "boolean", "string"):
            return value
        if kind == "int":
            return int(value)
        if kind == "float":
            number = float(value)
            if math.isnan(number) or math.isinf(number):
                raise self.fail(f"default {value!r} is not a JSON number", at)
            return number
        if kind in ("bytes", "fixed"):
            return str(value).encode("latin-1")
        if kind == "json":
            parsed = json.loads(value)
            try:
                json.dumps(parsed, allow_nan=False)
            except ValueError as err:
                raise self.fail(f"default {value!r} is not JSON: {err}", at) from err
            return JsonDefault(parsed)
        if kind in ("uuid", "fixed_uuid"):
            try:
                if kind == "uuid":
                    return uuid.UUID(value)
                return uuid.UUID(bytes=str(value).encode("latin-1"))
            except ValueError as err:
                raise self.fail(f"default {value!r} is not a UUID", at) from err
        if kind in ("datetime", "date", "time"):
            return self.temporal_default(type_, value, at)
        if kind == "decimal":
            unscaled = int.from_bytes(str(value).encode("latin-1"), "big", signed=True)
            return decimal.Decimal(unscaled).scaleb(-(type_.scale or 0))
        if kind == "enum":
            assert type_.named is not None
            model = enums[type_.named]
            return EnumDefault(enum=type_.named, member=model.member(value))
        if kind == "array":
            assert type_.items is not None
            return [self.default(type_.items, v, at, enums) for v in value]
        if kind == "map":
            assert type_.items is not None
            return {k: self.default(type_.items, v, at, enums) for k, v in value.items()}
        assert type_.named is not None
        named = self.named[type_.named]
        values: list[tuple[str, Any]] = []
        attributes: list[str] = []
        for field, field_type, _ in named.fields:
            attribute = names.field_attribute_name(field["name"], attributes)
            attributes.append(attribute)
            if field["name"] in value:
                values.append(
                    (attribute, self.default(field_type, value[field["name"]], at, enums))
                )
        return RecordDefault(record=type_.named, values=tuple(values))

    def temporal_default(self, type_: TypeModel, value: int, at: str) -> Any:
        logical = type_.logical or ""
        try:
            if logical == "date":
                return (_EPOCH + dt.timedelta(days=value)).date()
            if logical.startswith("time-"):
                micros = value * 1000 if logical == "time-millis" else value
                limit = _DAY_MILLIS * 1000
                if not 0 <= micros < limit:
                    raise OverflowError
                moment = _EPOCH_NAIVE + dt.timedelta(microseconds=micros)
                return moment.time()
            micros = value * 1000 if logical.endswith("millis") else value
            epoch = _EPOCH_NAIVE if logical.startswith("local-") else _EPOCH
            return epoch + dt.timedelta(microseconds=micros)
        except OverflowError as err:
            raise self.fail(
                f"default {value} of {logical} is outside the range Python's datetime holds", at
            ) from err

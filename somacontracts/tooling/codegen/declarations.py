"""From a schema version to the Python classes that represent it: pure, no source text yet.

:func:`build_version` walks one ``vN.avsc`` schema and returns a :class:`VersionModel`:
the record and enum classes with their Python names, every field's Python type and
default, and the Avro facts the generated code needs (full names for union branches,
logical types).

What a generated class could not hold is refused by contract validation
(:mod:`somacontracts.schema.pyvalues`, which also converts the defaults here), so
``validate`` and codegen agree on every schema; codegen checks it again and raises a
:class:`CodegenError` naming the file and the JSON pointer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from somacontracts.errors import SchemaError
from somacontracts.runtime.kinds import LOGICAL_KINDS as _LOGICAL_KINDS
from somacontracts.runtime.kinds import PRIMITIVE_KINDS as _PRIMITIVE_KINDS
from somacontracts.schema import (
    ArrayNode,
    EnumNode,
    FieldNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    RecordNode,
    UnionNode,
    json_pointer,
)
from somacontracts.schema.pyvalues import MAX_NESTING, first_problem, python_default
from somacontracts.tooling.codegen import names
from somacontracts.tooling.sources import SchemaVersion

__all__ = [
    "MAX_NESTING",
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
    aliases: tuple[str, ...] = ()
    """The field's Avro aliases: the names it had before a rename."""


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
    shared: tuple[NamedNode, ...] = ()
    """The records and enums the version uses that other files define (shared types),
    whose classes are those files' models."""

    @property
    def named(self) -> dict[str, RecordModel | EnumModel]:
        """Records and enums by full name."""
        named: list[RecordModel | EnumModel] = [*self.records, *self.enums]
        return {m.full_name: m for m in named}


def build_version(version: SchemaVersion) -> VersionModel:
    """The classes of ``version``; raise :class:`CodegenError` for what code cannot express."""
    return _Builder(version).build()


class _Builder:
    """Walks the version's parsed schema (:mod:`somacontracts.schema`) into type models."""

    def __init__(self, version: SchemaVersion) -> None:
        self.version = version
        self.source = str(version.path)
        self.types: dict[str, TypeModel] = {}
        """The type model of each named type met so far, by full name."""
        self.fields: dict[str, list[tuple[FieldNode, TypeModel]]] = {}
        self.class_names: frozenset[str] = frozenset()
        """The version's class names, which no field may shadow in a class body."""
        self.nodes: dict[str, NamedNode] = {}
        """The node of each named type met so far, by full name."""

    def fail(self, reason: str, location: str) -> CodegenError:
        return CodegenError(reason, location=location or "/", source=self.source)

    def build(self) -> VersionModel:
        parsed = self.version.parsed
        problem = first_problem(parsed)
        if problem is not None:
            raise self.fail(*problem)
        root_type = self.walk(parsed.root, "")
        assert root_type.named is not None  # a contract schema is a record
        defined = [node for node in parsed.defined() if node.full_name in self.types]
        class_names = _class_names(defined)
        suffix = f"V{self.version.version}"
        self.class_names = frozenset(name + suffix for name in class_names.values())
        enums: list[EnumModel] = []
        for node in defined:
            if isinstance(node, EnumNode):
                enums.append(_enum_model(node, class_names[node.full_name], self.version.version))
        enum_models = {e.full_name: e for e in enums}
        for node in self.nodes.values():  # shared enums: their members, for defaults
            if isinstance(node, EnumNode) and node.full_name not in enum_models:
                enum_models[node.full_name] = _enum_model(node, names.class_base_name(node.name), 0)
        records: list[RecordModel] = []
        for node in defined:
            if isinstance(node, RecordNode):
                records.append(self.record(node, class_names[node.full_name], enum_models))
        own = {node.full_name for node in defined}
        shared = tuple(
            node
            for name, node in self.nodes.items()
            if name not in own and not isinstance(node, FixedNode)
        )
        return VersionModel(
            version=self.version,
            root=records[0],
            records=tuple(records),
            enums=tuple(enums),
            shared=shared,
        )

    def record(
        self, node: RecordNode, base: str, enum_models: Mapping[str, EnumModel]
    ) -> RecordModel:
        attributes: list[str] = []
        fields: list[FieldModel] = []
        for field, type_ in self.fields[node.full_name]:
            attribute = names.field_attribute_name(field.name, [*attributes, *self.class_names])
            attributes.append(attribute)
            default = (
                self.default(field.node, type_, field.default, enum_models)
                if field.has_default
                else None
            )
            fields.append(
                FieldModel(
                    avro_name=field.name,
                    attribute=attribute,
                    type=type_,
                    doc=field.doc,
                    has_default=field.has_default,
                    default=default,
                    location=field.pointer,
                    aliases=field.aliases,
                )
            )
        return RecordModel(
            full_name=node.full_name,
            class_name=f"{base}V{self.version.version}",
            base_name=base,
            doc=node.doc,
            fields=tuple(fields),
            location=node.pointer,
        )

    # -- types ---------------------------------------------------------------------

    def walk(self, node: Node, at: str) -> TypeModel:
        """The type model of ``node`` used at ``at``."""
        return self.walk_type(node, at)

    def walk_type(self, node: Node, at: str) -> TypeModel:
        if isinstance(node, NamedNode):
            known = self.types.get(node.full_name)
            if known is not None:
                return dataclasses.replace(known, location=at)
            return self.define(node, at)
        if isinstance(node, UnionNode):
            return self.union(node, at)
        if isinstance(node, ArrayNode):
            items = self.walk(node.items, json_pointer(at, "items"))
            return TypeModel(kind="array", avro_type="array", items=items, location=at)
        if isinstance(node, MapNode):
            values = self.walk(node.values, json_pointer(at, "values"))
            return TypeModel(kind="map", avro_type="map", items=values, location=at)
        logical = node.logical_type or ""
        kind = _LOGICAL_KINDS.get((node.kind, logical), _PRIMITIVE_KINDS[node.kind])
        return TypeModel(
            kind=kind,
            avro_type=node.kind,
            logical=logical if kind != _PRIMITIVE_KINDS[node.kind] else None,
            location=at,
            precision=node.props.get("precision"),
            scale=node.props.get("scale", 0) if kind == "decimal" else None,
        )

    def define(self, node: NamedNode, at: str) -> TypeModel:
        full = node.full_name
        self.nodes[full] = node
        if isinstance(node, FixedNode):
            logical = node.logical_type or ""
            kind = _LOGICAL_KINDS.get(("fixed", logical), "fixed")
            if kind == "fixed_uuid" and node.size != 16:
                kind = "fixed"
            self.types[full] = TypeModel(
                kind=kind,
                avro_type=full,
                logical=logical if kind != "fixed" else None,
                named=full,
                location=at,
                size=node.size,
                precision=node.props.get("precision"),
                scale=node.props.get("scale", 0) if kind == "decimal" else None,
            )
            return self.types[full]
        self.types[full] = TypeModel(kind=node.kind, avro_type=full, named=full, location=at)
        if isinstance(node, RecordNode):
            self.fields[full] = []  # before the fields, which may refer to the record
            self.fields[full] = [
                (field, self.walk(field.node, json_pointer(field.pointer, "type")))
                for field in node.fields
            ]
        return self.types[full]

    def union(self, node: UnionNode, at: str) -> TypeModel:
        models = tuple(
            self.walk(branch, json_pointer(at, index)) for index, branch in enumerate(node.branches)
        )
        return TypeModel(kind="union", avro_type="union", branches=models, location=at)

    # -- defaults ------------------------------------------------------------------

    def default(
        self, node: Node, type_: TypeModel, value: Any, enums: Mapping[str, EnumModel]
    ) -> Any:
        """The Python value of the Avro JSON default ``value`` of ``node`` (``type_``)."""
        kind = type_.kind
        if isinstance(node, UnionNode):
            return self.default(node.branches[0], type_.branches[0], value, enums)
        if kind == "json":
            return JsonDefault(python_default(node, value))
        if kind == "enum":
            assert type_.named is not None
            model = enums[type_.named]
            return EnumDefault(enum=type_.named, member=model.member(value))
        if isinstance(node, ArrayNode):
            assert type_.items is not None
            return [self.default(node.items, type_.items, v, enums) for v in value]
        if isinstance(node, MapNode):
            assert type_.items is not None
            return {k: self.default(node.values, type_.items, v, enums) for k, v in value.items()}
        if not isinstance(node, RecordNode):
            return python_default(node, value)
        values: list[tuple[str, Any]] = []
        attributes: list[str] = []
        for field, field_type in self.fields[node.full_name]:
            attribute = names.field_attribute_name(field.name, [*attributes, *self.class_names])
            attributes.append(attribute)
            if field.name in value:
                item = self.default(field.node, field_type, value[field.name], enums)
                values.append((attribute, item))
        return RecordDefault(record=node.full_name, values=tuple(values))


def _enum_model(node: EnumNode, base: str, version: int) -> EnumModel:
    taken: list[str] = []
    for symbol in node.symbols:
        taken.append(names.enum_member_name(symbol, taken))
    return EnumModel(
        full_name=node.full_name,
        class_name=f"{base}V{version}",
        base_name=base,
        doc=node.doc,
        members=tuple(zip(taken, node.symbols, strict=True)),
        location=node.pointer,
    )


def _class_names(defined: Sequence[NamedNode]) -> dict[str, str]:
    """Class base names of records and enums, unique within the version."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for node in defined:
        if isinstance(node, FixedNode):
            continue
        base = names.class_base_name(node.name)
        if base in taken and node.namespace:
            base = "".join(names.capwords(p) for p in node.namespace.split(".")) + base
        candidate, counter = base, 2
        while candidate in taken:
            candidate, counter = f"{base}{counter}", counter + 1
        taken.add(candidate)
        result[node.full_name] = candidate
    return result

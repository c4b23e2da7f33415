"""Render contracts into Python modules: schema versions in, module source text out.

Pure: no file is read or written here. :func:`render_tree` returns every module of a
models package (one per contract plus ``__init__.py``) as text keyed by file name;
:mod:`somacontracts.codegen.writer` puts them on disk.

What the generated code does, and why:

* a ``dataclass(slots=True, kw_only=True)`` per record. Keyword-only construction keeps
  call sites valid when a later version adds a field; slots make attribute access and
  construction cheap. Not frozen: a frozen dataclass's ``__init__`` assigns every field
  through ``object.__setattr__``, which makes construction about four times slower,
  and ``from_avro`` constructs one instance per record of every message read;
  ``dataclasses.replace`` still makes changed copies, and instances compare by value;
* a ``StrEnum`` per enum whose values are the symbols, so a member *is* the string
  fastavro writes and ``to_avro`` passes it through untouched;
* ``to_avro`` and ``from_avro`` are straight-line code written per class: no loop over
  fields, no reflection. Logical types stay the Python objects fastavro converts itself
  (``UUID``, ``datetime``, ``Decimal``); only free-form JSON (text <-> value), records
  and unions need work;
* a record in a union is written in fastavro's tuple notation ``(full_name, datum)``,
  which picks the branch by name instead of trying each branch's validation; so is an
  enum next to a string-like branch, an int next to a float and a datetime next to a
  date, where fastavro's first match would pick the wrong branch. ``from_avro`` of a union takes the
  ``(name, datum)`` pairs fastavro's reader returns with ``return_named_type=True`` (or
  ``return_record_name=True``), and a plain datum wherever its Python type alone tells
  the branch.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from somacontracts.codegen import binary, names, templates
from somacontracts.codegen.model import (
    CodegenError,
    EnumDefault,
    EnumModel,
    FieldModel,
    JsonDefault,
    RecordDefault,
    RecordModel,
    TypeModel,
    VersionModel,
    build_version,
)
from somacontracts.codegen.pysource import (
    LINE_LENGTH,
    call_lines,
    docstring_lines,
    literal_lines,
    string_literal,
)
from somacontracts.schema import registry_text
from somacontracts.schemas import ContractSchemas, SchemaVersion

__all__ = ["DEFAULT_COMMAND", "INIT_MODULE", "render_contract", "render_tree"]

DEFAULT_COMMAND = "somacontracts codegen"
INIT_MODULE = "__init__.py"

_INDENT = "    "

# Python types a value of each kind has in a model (for isinstance) and in a datum
# fastavro reads (for telling union branches apart), most specific first where one
# is a subclass of another (bool of int, datetime of date).
_VALUE_CHECK = {
    "boolean": "bool",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "time": "datetime.time",
    "decimal": "decimal.Decimal",
    "uuid": "uuid.UUID",
    "fixed_uuid": "uuid.UUID",
    "int": "int",
    "float": "float",
    "string": "str",
    "bytes": "bytes",
    "fixed": "bytes",
    "array": "list",
    "map": "dict",
}
_DATUM_CHECK = {
    **_VALUE_CHECK,
    "fixed_uuid": "bytes",
    "enum": "str",
    "json": "str",
    "record": "dict",
}
_CHECK_ORDER = (
    "bool",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "decimal.Decimal",
    "uuid.UUID",
    "int",
    "float",
    "str",
    "bytes",
    "list",
    "dict",
)
_ANNOTATIONS = {
    "null": "None",
    "boolean": "bool",
    "int": "int",
    "float": "float",
    "string": "str",
    "bytes": "bytes",
    "fixed": "bytes",
    "json": "_rt.JsonValue",
    "uuid": "uuid.UUID",
    "fixed_uuid": "uuid.UUID",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "time": "datetime.time",
    "decimal": "decimal.Decimal",
}
_STRING_LIKE = frozenset({"string", "enum", "uuid"})
_MODULES = ("collections.abc", "dataclasses", "datetime", "decimal", "enum", "typing", "uuid")


def render_tree(
    contracts: Mapping[str, ContractSchemas],
    *,
    subjects: Mapping[str, Sequence[str]] | None = None,
    command: str = DEFAULT_COMMAND,
) -> dict[str, str]:
    """Source of every module of a models package for ``contracts``, keyed by file name.

    ``subjects`` gives each contract's registry subjects (none where absent);
    ``command`` is the command the headers tell readers to regenerate with.
    """
    subjects = subjects or {}
    modules: dict[str, str] = {}
    exports: dict[str, list[str]] = {}
    owners: dict[str, str] = {}
    for name, contract in contracts.items():
        module = names.module_name(name)
        if module in owners:
            raise CodegenError(
                f"contracts {owners[module]} and {name} would both be module {module}.py",
                source=str(contract.directory),
            )
        owners[module] = name
        source, exported = _render_contract(
            contract.versions, subjects=tuple(subjects.get(name, ())), command=command
        )
        modules[f"{module}.py"] = source
        exports[module] = exported
    root = next(iter(contracts.values())).directory.parent.name if contracts else "avro"
    modules[INIT_MODULE] = _render_init(exports, root=root, command=command)
    return modules


def render_contract(
    versions: Sequence[SchemaVersion],
    *,
    subjects: Sequence[str] = (),
    command: str = DEFAULT_COMMAND,
) -> str:
    """Source of the module of one contract, from all its ``versions`` (oldest first)."""
    return _render_contract(versions, subjects=tuple(subjects), command=command)[0]


def _render_contract(
    versions: Sequence[SchemaVersion], *, subjects: tuple[str, ...], command: str
) -> tuple[str, list[str]]:
    models = [build_version(v) for v in versions]
    return _Module(models, subjects=subjects, command=command).render()


# -- the package's __init__ --------------------------------------------------------------


def _render_init(exports: Mapping[str, Sequence[str]], *, root: str, command: str) -> str:
    seen: dict[str, int] = {}
    for exported in exports.values():
        for name in exported:
            seen[name] = seen.get(name, 0) + 1
    clashing = sorted(n for n, count in seen.items() if count > 1)
    lines = _comment_lines(templates.INIT_HEADER.format(root=root, command=command))
    lines += docstring_lines([templates.INIT_DOC], 0)
    everything: list[str] = []
    imports: list[str] = []
    for module in sorted(exports):
        members = sorted((n for n in exports[module] if seen[n] == 1), key=_isort_key)
        if not members:
            continue
        everything += members
        inline = f"from .{module} import {', '.join(members)}"
        if len(inline) <= LINE_LENGTH:
            imports.append(inline)
        else:
            imports += [f"from .{module} import (", *(f"    {m}," for m in members), ")"]
    if imports:
        lines += ["", *imports]
    if clashing:
        lines += ["", *_comment_lines(templates.SKIPPED_EXPORTS.format(names=", ".join(clashing)))]
    lines += ["", *_all_lines(sorted(everything, key=_isort_key))]
    return "\n".join(lines) + "\n"


# -- one contract's module ---------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class _Helpers:
    """Module-level functions generated for one class: conversions and default factories."""

    blocks: list[list[str]] = dataclasses.field(default_factory=list)
    """Conversion helpers, placed after the class (its methods call them)."""
    factories: list[list[str]] = dataclasses.field(default_factory=list)
    """Default factories, placed before the class (its body refers to them)."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Owner:
    """The record whose conversion is being written, and where its helpers go."""

    record: RecordModel
    helpers: _Helpers


class _Module:
    def __init__(
        self, versions: Sequence[VersionModel], *, subjects: tuple[str, ...], command: str
    ) -> None:
        self.versions = versions
        self.subjects = subjects
        self.command = command
        self.contract = versions[0].version.contract
        self.imports: set[str] = set()
        self.uses_runtime = False
        self.mixed_case = False
        self.function_names: set[str] = set()
        self.helper_names: dict[tuple[str, str, str], str] = {}
        self.classes: dict[str, RecordModel | EnumModel] = {}
        self.current: VersionModel = versions[0]
        self.binary = False

    # -- the module --------------------------------------------------------------------

    def render(self) -> tuple[str, list[str]]:
        body: list[list[str]] = []
        exported: list[str] = []
        for version in self.versions:
            self.current = version
            self.classes = version.named
            with_codec = binary.supported(version, self.value_check)
            self.binary |= with_codec
            for enum in version.enums:
                body.append(self.enum_class(enum))
                if with_codec:
                    body.append(binary.enum_table_lines(enum))
                exported.append(enum.class_name)
            for record in version.records:
                helpers = _Helpers()
                block = self.record_class(record, version, helpers, with_codec=with_codec)
                body += [*helpers.factories, block, *helpers.blocks]
                exported.append(record.class_name)
        aliases: list[str] = []
        latest = self.versions[-1]
        defined = set(exported)
        latest_named: list[RecordModel | EnumModel] = [*latest.records, *latest.enums]
        for named in latest_named:
            if named.base_name not in defined:
                aliases.append(f"{named.base_name} = {named.class_name}")
                exported.append(named.base_name)
                defined.add(named.base_name)
        if aliases:
            body.append(aliases)
        head = self.head(exported)
        blocks = "\n\n\n".join("\n".join(block) for block in body)
        return "\n".join(head) + "\n\n\n" + blocks + "\n", exported

    def head(self, exported: list[str]) -> list[str]:
        sources = ", ".join(
            f"{v.version.path.parent.parent.name}/{self.contract}/{v.version.path.name}"
            if i == 0
            else v.version.path.name
            for i, v in enumerate(self.versions)
        )
        lines = _comment_lines(templates.HEADER.format(sources=sources, command=self.command))
        if self.mixed_case:
            lines += templates.MIXED_CASE_NOQA
        latest = self.versions[-1]
        listing = ", ".join(
            f"{v.root.class_name} is version {v.version.version}" for v in self.versions
        )
        doc = [
            templates.MODULE_DOC.format(contract=self.contract),
            templates.MODULE_DOC_LATEST.format(
                versions=listing[0].upper() + listing[1:], root=latest.root.base_name
            ),
            *([templates.MODULE_DOC_BINARY] if self.binary else []),
        ]
        lines += docstring_lines(doc, 0)
        lines += ["", "from __future__ import annotations", ""]
        lines += [f"import {module}" for module in _MODULES if module in self.imports]
        if self.uses_runtime:
            lines += ["", templates.RUNTIME_IMPORT]
        lines += ["", *_all_lines(sorted(exported, key=_isort_key))]
        return lines

    # -- classes -----------------------------------------------------------------------

    def enum_class(self, enum: EnumModel) -> list[str]:
        self.imports.add("enum")
        lines = [templates.ENUM_CLASS.format(name=enum.class_name)]
        doc = [*([enum.doc] if enum.doc else [])]
        doc.append(
            templates.ENUM_DOC.format(
                full_name=enum.full_name,
                version=self.current.version.version,
                contract=self.contract,
            )
        )
        lines += docstring_lines(doc, 1)
        if enum.members:
            lines.append("")
        for member, symbol in enum.members:
            self.mixed_case |= names.is_mixed_case(member)
            lines.append(f"{_INDENT}{member} = {string_literal(symbol)}")
        return lines

    def record_class(
        self, record: RecordModel, version: VersionModel, helpers: _Helpers, *, with_codec: bool
    ) -> list[str]:
        self.imports.update(("dataclasses", "typing", "collections.abc"))
        lines = [
            templates.DATACLASS_DECORATOR,
            templates.RECORD_CLASS.format(name=record.class_name),
        ]
        doc = [*([record.doc] if record.doc else [])]
        doc.append(
            templates.CLASS_DOC.format(
                full_name=record.full_name, version=version.version.version, contract=self.contract
            )
        )
        lines += docstring_lines(doc, 1)
        lines.append("")
        is_root = record is version.root
        lines += self.constants(record, version, is_root)
        if record.fields:
            lines.append("")
        for field in record.fields:
            lines += self.field(record, field, helpers)
        lines.append("")
        lines += self.to_avro(record, helpers)
        lines.append("")
        lines += self.from_avro(record, helpers)
        if with_codec:
            lines += ["", *self.codec_methods(record, version, helpers)]
        if is_root:
            # The schema as a registry stores it (normalized): white space, key order and
            # how names are spelled change neither the registry's schema nor the models.
            stored = json.loads(registry_text(version.version.parsed, normalize=True))
            lines.append("")
            lines += literal_lines(stored, 1, "SCHEMA: typing.ClassVar[dict[str, typing.Any]] = ")
        return lines

    def codec_methods(
        self, record: RecordModel, version: VersionModel, helpers: _Helpers
    ) -> list[str]:
        """``write_avro`` and ``read_avro`` of ``record``; their helpers go to ``helpers``."""
        self.uses_runtime = True

        def helper(path: str, body: list[str], annotation: str) -> str:
            key = (record.class_name, path, "read_avro")
            if key not in self.helper_names:
                name = self.function_name(path, "read_avro")
                self.helper_names[key] = name
                define = _def_lines(
                    templates.HELPER_READ_AVRO_DEF, name=name, annotation=annotation
                )
                helpers.blocks.append([*define, *body])
            return self.helper_names[key]

        codec = binary.Codec(
            records={r.full_name: r for r in version.records},
            enums={e.full_name: e for e in version.enums},
            class_name=self.class_name,
            value_check=self.value_check,
            annotation=self.annotation,
            helper=helper,
        )
        return [*codec.write_method(record), "", *codec.read_method(record)]

    def constants(self, record: RecordModel, version: VersionModel, is_root: bool) -> list[str]:
        lines = literal_lines(record.full_name, 1, "FULL_NAME: typing.ClassVar[str] = ")
        lines.append(f"{_INDENT}SCHEMA_VERSION: typing.ClassVar[int] = {version.version.version}")
        if not is_root:
            return lines
        lines += _tuple_lines(
            f"{_INDENT}SUBJECTS: typing.ClassVar[tuple[str, ...]] = ", self.subjects
        )
        if self.subjects:
            lines += literal_lines(self.subjects[0], 1, "SUBJECT: typing.ClassVar[str] = ")
        fingerprint = version.version.fingerprint
        return lines + literal_lines(fingerprint, 1, "FINGERPRINT: typing.ClassVar[str] = ")

    def field(self, record: RecordModel, field: FieldModel, helpers: _Helpers) -> list[str]:
        self.mixed_case |= names.is_mixed_case(field.attribute)
        annotation = self.annotation(field.type)
        prefix = f"{field.attribute}: {annotation}"
        if not field.has_default:
            lines = [f"{_INDENT}{prefix}"]
        else:
            lines = self.default_lines(record, field, prefix, helpers)
        doc = [field.doc] if field.doc else []
        if field.attribute != field.avro_name:
            doc.append(templates.FIELD_RENAMED_DOC.format(avro_name=field.avro_name))
        if doc:
            lines += docstring_lines([" ".join(doc)], 1)
        return lines

    def default_lines(
        self, record: RecordModel, field: FieldModel, prefix: str, helpers: _Helpers
    ) -> list[str]:
        value = field.default
        if isinstance(value, JsonDefault):
            value = value.value
            if isinstance(value, (dict, list)) and value:
                return self.factory(record, field, prefix, helpers)
        if isinstance(value, (dict, list)):
            if value:
                return self.factory(record, field, prefix, helpers)
            factory = "dict" if isinstance(value, dict) else "list"
            return call_lines(
                "dataclasses.field", [f"default_factory={factory}"], 1, prefix=f"{prefix} = "
            )
        if isinstance(value, RecordDefault) or _is_uuid(value):
            return self.factory(record, field, prefix, helpers)
        if isinstance(value, EnumDefault):
            enum = self.classes[value.enum]
            return [f"{_INDENT}{prefix} = {enum.class_name}.{value.member}"]
        self.note_literal(value)
        return literal_lines(value, 1, f"{prefix} = ")

    def factory(
        self, record: RecordModel, field: FieldModel, prefix: str, helpers: _Helpers
    ) -> list[str]:
        name = self.function_name(field.attribute, "default")
        annotation = self.annotation(field.type)
        lines = _def_lines(templates.FACTORY_DEF, name=name, annotation=annotation)
        lines += self.default_expression(field.default, 1, "return ", "")
        helpers.factories.append(lines)
        return call_lines(
            "dataclasses.field", [f"default_factory={name}"], 1, prefix=f"{prefix} = "
        )

    def default_expression(self, value: Any, indent: int, prefix: str, suffix: str) -> list[str]:
        """Lines of an expression building the default ``value``."""
        pad = _INDENT * indent
        if isinstance(value, JsonDefault):
            return literal_lines(value.value, indent, prefix, suffix)
        if isinstance(value, EnumDefault):
            return [f"{pad}{prefix}{self.classes[value.enum].class_name}.{value.member}{suffix}"]
        if isinstance(value, RecordDefault):
            callee = self.classes[value.record].class_name
            parts = [(f"{attribute}=", item) for attribute, item in value.values]
            return self.compound(callee + "(", ")", parts, indent, prefix, suffix)
        if isinstance(value, list):
            return self.compound("[", "]", [("", item) for item in value], indent, prefix, suffix)
        if isinstance(value, dict):
            parts = [(string_literal(k) + ": ", item) for k, item in value.items()]
            return self.compound("{", "}", parts, indent, prefix, suffix)
        self.note_literal(value)
        return literal_lines(value, indent, prefix, suffix)

    def compound(
        self,
        opening: str,
        closing: str,
        parts: list[tuple[str, Any]],
        indent: int,
        prefix: str,
        suffix: str,
    ) -> list[str]:
        pad = _INDENT * indent
        rendered = [self.default_expression(item, indent + 1, label, ",") for label, item in parts]
        if all(len(r) == 1 for r in rendered):
            inline = ", ".join(r[0].strip()[:-1] for r in rendered)
            line = f"{pad}{prefix}{opening}{inline}{closing}{suffix}"
            if len(line) <= LINE_LENGTH:
                return [line]
        lines = [f"{pad}{prefix}{opening}"]
        for r in rendered:
            lines += r
        return [*lines, f"{pad}{closing}{suffix}"]

    def note_literal(self, value: Any) -> None:
        kind = type(value).__name__
        if kind in ("datetime", "date", "time"):
            self.imports.add("datetime")
        elif kind == "Decimal":
            self.imports.add("decimal")
        elif kind == "UUID":
            self.imports.add("uuid")

    # -- conversions -------------------------------------------------------------------

    def to_avro(self, record: RecordModel, helpers: _Helpers) -> list[str]:
        owner = _Owner(record, helpers)
        pad = _INDENT * 2
        lines = [f"{_INDENT}{templates.TO_AVRO_DEF}"]
        lines += docstring_lines([templates.TO_AVRO_DOC], 2)
        if not record.fields:
            return [*lines, f"{pad}return {{}}"]
        lines.append(f"{pad}return {{")
        for field in record.fields:
            key = string_literal(field.avro_name) + ": "
            source = f"self.{field.attribute}"
            expression = self.to_avro_expression(field.type, source, owner, field.attribute, 0)
            line = f"{pad}{_INDENT}{key}{expression or source},"
            if len(line) > LINE_LENGTH and expression is not None:
                name = self.to_avro_helper(field.type, owner, field.attribute, whole=True)
                lines += _long_name_lines(call_lines(name, [source], 3, prefix=key, suffix=","))
            else:
                lines.append(line)
        return [*lines, f"{pad}}}"]

    def from_avro(self, record: RecordModel, helpers: _Helpers) -> list[str]:
        owner = _Owner(record, helpers)
        pad = _INDENT * 2
        lines = [f"{_INDENT}@classmethod", f"{_INDENT}{templates.FROM_AVRO_DEF}"]
        lines += docstring_lines([templates.FROM_AVRO_DOC], 2)
        if not record.fields:
            return [*lines, f"{pad}return cls()"]
        lines.append(f"{pad}return cls(")
        for field in record.fields:
            source = f"datum[{string_literal(field.avro_name)}]"
            expression = self.from_avro_expression(field.type, source, owner, field.attribute, 0)
            line = f"{pad}{_INDENT}{field.attribute}={expression or source},"
            if len(line) > LINE_LENGTH and expression is not None:
                name = self.from_avro_helper(field.type, owner, field.attribute)
                lines += _long_name_lines(
                    call_lines(name, [source], 3, prefix=f"{field.attribute}=", suffix=",")
                )
            else:
                lines.append(line)
        return [*lines, f"{pad})"]

    def to_avro_expression(
        self, type_: TypeModel, source: str, owner: _Owner, path: str, depth: int
    ) -> str | None:
        """Expression converting ``source`` to its datum, or None if it is its own datum."""
        kind = type_.kind
        if kind == "record":
            return f"{source}.to_avro()"
        if kind == "json":
            self.uses_runtime = True
            return f"_rt.dump_json({source})"
        if kind == "fixed_uuid":
            return f"{source}.bytes"
        if kind in ("array", "map"):
            assert type_.items is not None
            item = f"v{depth}"
            nested = f"{path}_{'items' if kind == 'array' else 'values'}"
            inner = self.to_avro_expression(type_.items, item, owner, nested, depth + 1)
            if inner is None:
                return None
            if kind == "array":
                return f"[{inner} for {item} in {source}]"
            return f"{{k{depth}: {inner} for k{depth}, {item} in {source}.items()}}"
        if kind != "union":
            return None
        branches = type_.non_null
        if len(branches) > 1:
            return f"{self.to_avro_helper(type_, owner, path)}({source})"
        if not branches:
            return None
        (branch,) = branches
        if branch.kind == "record":
            inner = f"({string_literal(branch.avro_type)}, {source}.to_avro())"
        else:
            inner = self.to_avro_expression(branch, source, owner, path, depth)
        if inner is None or not type_.nullable:
            return inner
        return f"None if {source} is None else {inner}"

    def from_avro_expression(
        self, type_: TypeModel, source: str, owner: _Owner, path: str, depth: int
    ) -> str | None:
        """Expression converting the datum ``source`` to its value, or None if it is one."""
        kind = type_.kind
        if kind == "record":
            return f"{self.class_name(type_)}.from_avro({source})"
        if kind == "enum":
            return f"{self.class_name(type_)}({source})"
        if kind == "json":
            self.uses_runtime = True
            return f"_rt.load_json({source})"
        if kind == "fixed_uuid":
            self.imports.add("uuid")
            return f"uuid.UUID(bytes={source})"
        if kind in ("array", "map"):
            assert type_.items is not None
            item = f"v{depth}"
            nested = f"{path}_{'items' if kind == 'array' else 'values'}"
            inner = self.from_avro_expression(type_.items, item, owner, nested, depth + 1)
            if inner is None:
                return None
            if kind == "array":
                return f"[{inner} for {item} in {source}]"
            return f"{{k{depth}: {inner} for k{depth}, {item} in {source}.items()}}"
        if kind != "union":
            return None
        branches = type_.non_null
        if not branches:
            return None
        if len(branches) == 1 and not branches[0].is_named:
            inner = self.from_avro_expression(branches[0], source, owner, path, depth)
            if inner is None or not type_.nullable:
                return inner
            return f"None if {source} is None else {inner}"
        return f"{self.from_avro_helper(type_, owner, path)}({source})"

    def to_avro_helper(
        self, type_: TypeModel, owner: _Owner, path: str, *, whole: bool = False
    ) -> str:
        """A function converting a value of ``type_``; ``whole`` for a field too long inline."""
        purpose = "to_avro_field" if whole else "to_avro"
        key = (owner.record.class_name, path, purpose)
        if key in self.helper_names:
            return self.helper_names[key]
        name = self.function_name(path, "to_avro")
        self.helper_names[key] = name
        annotation = self.annotation(type_)
        lines = _def_lines(templates.HELPER_TO_AVRO_DEF, name=name, annotation=annotation)
        if type_.kind == "union":
            lines += self.union_to_avro_body(type_, owner, path)
        else:
            expression = self.to_avro_expression(type_, "value", owner, path, 0)
            lines.append(f"{_INDENT}return {expression or 'value'}")
        owner.helpers.blocks.append(lines)
        return name

    def from_avro_helper(self, type_: TypeModel, owner: _Owner, path: str) -> str:
        """A function converting a datum of ``type_`` to its value."""
        key = (owner.record.class_name, path, "from_avro")
        if key in self.helper_names:
            return self.helper_names[key]
        name = self.function_name(path, "from_avro")
        self.helper_names[key] = name
        annotation = self.annotation(type_)
        lines = _def_lines(templates.HELPER_FROM_AVRO_DEF, name=name, annotation=annotation)
        if type_.kind == "union":
            lines += self.union_from_avro_body(type_, owner, path)
        else:
            expression = self.from_avro_expression(type_, "value", owner, path, 0)
            lines.append(f"{_INDENT}return {expression or 'value'}")
        owner.helpers.blocks.append(lines)
        return name

    def union_to_avro_body(self, type_: TypeModel, owner: _Owner, path: str) -> list[str]:
        pad = _INDENT
        lines: list[str] = []
        if type_.nullable:
            lines += [f"{pad}if value is None:", f"{pad}{_INDENT}return None"]
        chosen: list[tuple[str, str]] = []
        seen: set[str] = set()
        if len(type_.non_null) == 1:  # nothing to tell apart
            (branch,) = type_.non_null
            return [*lines, f"{pad}return {self.branch_to_avro(branch, type_, owner, path)}"]
        for branch in sorted(type_.non_null, key=_value_rank):
            check = self.value_check(branch)
            if check in seen:
                continue
            seen.add(check)
            chosen.append((check, self.branch_to_avro(branch, type_, owner, path)))
        for number, (check, result) in enumerate(chosen):
            if number == len(chosen) - 1:
                lines.append(f"{pad}return {result}")
            else:
                lines += [f"{pad}if isinstance(value, {check}):", f"{pad}{_INDENT}return {result}"]
        return lines

    def branch_to_avro(self, branch: TypeModel, union: TypeModel, owner: _Owner, path: str) -> str:
        """The datum of union branch ``branch``, in tuple notation where fastavro needs it."""
        others = [b.kind for b in union.non_null if b is not branch]
        name = string_literal(branch.avro_type)
        if branch.kind == "record":
            return f"({name}, value.to_avro())"
        if branch.kind == "enum" and _STRING_LIKE.intersection(others):
            return f"({name}, value)"
        if branch.kind == "int" and "float" in others:
            ints = [b.avro_type for b in union.non_null if b.kind == "int"]
            return f"({string_literal('long' if 'long' in ints else ints[0])}, value)"
        if branch.kind == "boolean" and {"int", "float"}.intersection(others):
            return f"({name}, value)"
        if branch.kind == "datetime" and "date" in others:  # a datetime is a date too
            return f"({name}, value)"
        return self.to_avro_expression(branch, "value", owner, path, 0) or "value"

    def union_from_avro_body(self, type_: TypeModel, owner: _Owner, path: str) -> list[str]:
        pad = _INDENT
        where = string_literal(f"{owner.record.class_name}.{path}")
        self.uses_runtime = True
        lines: list[str] = []
        if type_.nullable:
            lines += [f"{pad}if value is None:", f"{pad}{_INDENT}return None"]
        named = [b for b in type_.non_null if b.is_named]
        if named:
            lines += [f"{pad}if isinstance(value, tuple):", f"{pad}{_INDENT}name, body = value"]
            for branch in named:
                result = self.branch_from_avro(branch, "body", owner, path, tuple_form=True)
                lines += [
                    f"{pad}{_INDENT}if name == {string_literal(branch.avro_type)}:",
                    f"{pad}{_INDENT * 2}return {result}",
                ]
            lines += call_lines("raise _rt.unknown_branch", [where, "value"], 2)
        for check in _CHECK_ORDER:
            plain = [b for b in type_.non_null if not b.is_named and _DATUM_CHECK[b.kind] == check]
            by_name = [b for b in named if _DATUM_CHECK[b.kind] == check]
            if not plain and len(by_name) != 1:
                continue
            branch = (plain or by_name)[0]
            result = self.branch_from_avro(branch, "value", owner, path, tuple_form=False)
            self.note_check(check)
            lines += [f"{pad}if isinstance(value, {check}):", f"{pad}{_INDENT}return {result}"]
        return lines + call_lines("raise _rt.unknown_branch", [where, "value"], 1)

    def branch_from_avro(
        self, branch: TypeModel, source: str, owner: _Owner, path: str, *, tuple_form: bool
    ) -> str:
        expression = self.from_avro_expression(branch, source, owner, path, 0)
        if expression is not None:
            return expression
        if tuple_form:
            # The datum of a (name, datum) pair is untyped: convert it to give it its type.
            if branch.kind == "decimal":
                self.imports.add("decimal")
                return f"decimal.Decimal({source})"
            return f"bytes({source})"
        return source

    # -- names and types ---------------------------------------------------------------

    def function_name(self, path: str, purpose: str) -> str:
        """A module-level function name, numbered when another class took it first.

        It leaves out the class name so a call fits on its line beside the field name.
        """
        base = f"_{path.lower()}_{purpose}"
        name, counter = base, 2
        while name in self.function_names:
            name, counter = f"{base}_{counter}", counter + 1
        self.function_names.add(name)
        return name

    def class_name(self, type_: TypeModel) -> str:
        assert type_.named is not None
        return self.classes[type_.named].class_name

    def annotation(self, type_: TypeModel) -> str:
        kind = type_.kind
        if kind in ("record", "enum"):
            return self.class_name(type_)
        if kind == "array":
            assert type_.items is not None
            return f"list[{self.annotation(type_.items)}]"
        if kind == "map":
            assert type_.items is not None
            return f"dict[str, {self.annotation(type_.items)}]"
        if kind == "union":
            parts = _unique(self.annotation(b) for b in type_.non_null)
            if type_.nullable:
                parts.append("None")
            return " | ".join(parts)
        annotation = _ANNOTATIONS[kind]
        self.note_check(annotation)
        return annotation

    def value_check(self, branch: TypeModel) -> str:
        if branch.kind in ("record", "enum"):
            return self.class_name(branch)
        check = _VALUE_CHECK[branch.kind]
        self.note_check(check)
        return check

    def note_check(self, text: str) -> None:
        if text.startswith("_rt."):
            self.uses_runtime = True
        module = text.rpartition(".")[0]
        if module:
            self.imports.add(module if module != "_rt" else "typing")


def _tuple_lines(prefix: str, items: Sequence[str]) -> list[str]:
    """``prefix`` + a tuple of strings, exploded one per line if it does not fit."""
    inline = ", ".join(string_literal(item) for item in items)
    inline = f"({inline},)" if len(items) == 1 else f"({inline})"
    if len(prefix + inline) <= LINE_LENGTH:
        return [prefix + inline]
    pad = prefix[: len(prefix) - len(prefix.lstrip())]
    return [
        prefix + "(",
        *(f"{pad}{_INDENT}{string_literal(item)}," for item in items),
        pad + ")",
    ]


def _long_name_lines(lines: list[str]) -> list[str]:
    """``lines`` of a call, its first line marked when a long field name leaves no way to
    fit it (the field name appears twice: as the key and in the helper's name)."""
    first = lines[0]
    if len(first) <= LINE_LENGTH or " " not in first.strip():  # E501 spares one-word lines
        return lines
    return [first + "  # noqa: E501", *lines[1:]]


def _value_rank(branch: TypeModel) -> int:
    if branch.kind in ("record", "enum"):
        return -1
    return _CHECK_ORDER.index(_VALUE_CHECK[branch.kind])


def _is_uuid(value: Any) -> bool:
    return type(value).__name__ == "UUID"


def _unique(items: Iterable[str]) -> list[str]:
    result: list[str] = []
    for item in items:
        if item not in result:
            result.append(item)
    return result


def _def_lines(template: tuple[str, str, str], **values: str) -> list[str]:
    opening, parameter, closing = (part.format(**values) for part in template)
    inline = f"{opening}{parameter}{closing}"
    if len(inline) <= LINE_LENGTH:
        return [inline]
    return [opening, f"{_INDENT}{parameter},", closing]


def _comment_lines(text: str) -> list[str]:
    return [
        "# " + line
        for line in textwrap.wrap(
            text, width=LINE_LENGTH - 2, break_long_words=False, break_on_hyphens=False
        )
    ]


def _all_lines(exported: Sequence[str]) -> list[str]:
    items = [f"    {string_literal(name)}," for name in exported]
    inline = "__all__ = [" + ", ".join(string_literal(n) for n in exported) + "]"
    if len(inline) <= LINE_LENGTH:
        return [inline]
    return ["__all__ = [", *items, "]"]


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _isort_key(name: str) -> tuple[Any, ...]:
    """isort's order of imported names (and ruff's of ``__all__``): CONSTANTS, Classes, rest."""
    if len(name) > 1 and name.isupper():
        category = 0
    elif name[:1].isupper():
        category = 1
    else:
        category = 2
    return (category, _natural(name))

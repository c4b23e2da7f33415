"""Render contracts into Python modules: schema versions in, module source text out.

Pure: no file is read or written here. :func:`render_tree` returns every module of a
models package (one per contract plus ``__init__.py``) as text keyed by file name;
:mod:`somacontracts.tooling.codegen.writer` puts them on disk.

What the generated code does, and why:

* a ``dataclass(slots=True, kw_only=True)`` per record. Keyword-only construction keeps
  call sites valid when a later version adds a field; slots make attribute access and
  construction cheap. Not frozen: a frozen dataclass's ``__init__`` assigns every field
  through ``object.__setattr__``, which makes construction about four times slower,
  and ``from_avro`` constructs one instance per record of every message read;
  ``dataclasses.replace`` still makes changed copies, and instances compare by value;
* a ``StrEnum`` per enum whose values are the symbols, so a member *is* the string
  fastavro writes and ``to_avro`` passes it through untouched;
* ``to_avro`` and ``from_avro`` (fastavro's datums,
  :mod:`~somacontracts.tooling.codegen.datum_methods`)
  and ``write_avro`` and ``read_avro`` (Avro binary,
  :mod:`~somacontracts.tooling.codegen.codec_methods`)
  are straight-line code written per class: no loop over fields, no reflection.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence

from somacontracts.schema import FixedNode, NamedNode, registry_text, shared_types
from somacontracts.tooling.codegen import codec_methods, names, templates
from somacontracts.tooling.codegen.datum_methods import Helpers
from somacontracts.tooling.codegen.declarations import (
    CodegenError,
    EnumModel,
    FieldModel,
    RecordModel,
    VersionModel,
    build_version,
)
from somacontracts.tooling.codegen.defaults import FieldDefaults
from somacontracts.tooling.codegen.init_module import render_init
from somacontracts.tooling.codegen.owners import Owner, class_owners
from somacontracts.tooling.codegen.pysource import (
    DEFAULT_LINE_LENGTH,
    all_key,
    all_lines,
    comment_lines,
    def_lines,
    docstring_lines,
    import_key,
    laid_out_for,
    line_length,
    literal_lines,
    string_literal,
)
from somacontracts.tooling.codegen.renames import kept_names, property_lines
from somacontracts.tooling.sources import ContractSchemas, SchemaVersion

__all__ = ["DEFAULT_COMMAND", "INIT_MODULE", "render_contract", "render_tree"]

DEFAULT_COMMAND = "somacontracts codegen"
INIT_MODULE = "__init__.py"

_INDENT = "    "

_MODULES = (
    "collections.abc",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "typing",
    "uuid",
    "warnings",
)


def render_tree(
    contracts: Mapping[str, ContractSchemas],
    *,
    subjects: Mapping[str, Sequence[str]] | None = None,
    command: str = DEFAULT_COMMAND,
    line_length: int = DEFAULT_LINE_LENGTH,
) -> dict[str, str]:
    """Source of every module of a models package for ``contracts``, keyed by file name.

    ``subjects`` gives each contract's registry subjects (none where absent);
    ``command`` is the command the headers tell readers to regenerate with; the code is
    laid out as ``ruff format`` lays it out for lines of ``line_length``.
    """
    with laid_out_for(line_length):
        return _render_tree(contracts, subjects or {}, command)


def _render_tree(
    contracts: Mapping[str, ContractSchemas], subjects: Mapping[str, Sequence[str]], command: str
) -> dict[str, str]:
    modules: dict[str, str] = {}
    exports: dict[str, dict[str, tuple[str, str]]] = {}
    owners: dict[str, str] = {}
    built = {name: [build_version(v) for v in c.versions] for name, c in contracts.items()}
    classes = class_owners(built)
    for name, contract in contracts.items():
        module = names.module_name(name)
        if module in owners:
            raise CodegenError(
                f"contracts {owners[module]} and {name} would both be module {module}.py",
                source=str(contract.directory),
            )
        owners[module] = name
        rendered = _Module(
            built[name],
            subjects=tuple(subjects.get(name, ())),
            command=command,
            owners=classes,
            module=module,
        )
        modules[f"{module}.py"], _ = rendered.render()
        exports[module] = rendered.identities
    root = next(iter(contracts.values())).directory.parent.name if contracts else "avro"
    modules[INIT_MODULE] = render_init(exports, root=root, command=command)
    return modules


def render_contract(
    versions: Sequence[SchemaVersion],
    *,
    subjects: Sequence[str] = (),
    command: str = DEFAULT_COMMAND,
    line_length: int = DEFAULT_LINE_LENGTH,
) -> str:
    """Source of the module of one contract, from all its ``versions`` (oldest first),
    which define every type they use (:func:`render_tree` renders contracts that share
    types)."""
    defined = {id(node) for v in versions for node in v.parsed.defined()}
    for version in versions:
        for name, node in sorted(version.references.items()):
            if id(node) not in defined:
                raise CodegenError(
                    f"uses {name}, a type another contract defines: render the whole tree "
                    "(render_tree) to import its class",
                    source=str(version.path),
                )
    with laid_out_for(line_length):
        return _render_contract(versions, subjects=tuple(subjects), command=command)[0]


def _render_contract(
    versions: Sequence[SchemaVersion], *, subjects: tuple[str, ...], command: str
) -> tuple[str, list[str]]:
    models = [build_version(v) for v in versions]
    return _Module(models, subjects=subjects, command=command).render()


# -- one contract's module ---------------------------------------------------------------


class _Module(FieldDefaults):
    def __init__(
        self,
        versions: Sequence[VersionModel],
        *,
        subjects: tuple[str, ...],
        command: str,
        owners: Mapping[NamedNode, Owner] | None = None,
        module: str = "",
    ) -> None:
        super().__init__()
        self.versions = versions
        self.subjects = subjects
        self.command = command
        self.contract = versions[0].version.contract
        self.module = module or names.module_name(self.contract)
        self.owners = class_owners({self.contract: versions}) if owners is None else owners
        """The class of each named type of the tree, by node (:mod:`.owners`)."""
        self.imported: dict[str, set[str]] = {}
        """Classes of other modules this one uses (shared types), by module."""
        self.identities: dict[str, tuple[str, str]] = {}
        """Each exported name -> the class it is: its module and its name there."""
        self.enum_tables: dict[str, tuple[str, str]] = {}
        """The module's tables of each enum class, by class name."""
        self.mixed_case = False
        self.current: VersionModel = versions[0]
        self.tables: dict[str, tuple[str, str]] = {}
        """The current version's enum tables, by full name."""
        # No generated function or table may take a field's name: a class body that
        # names one (a default factory) would find the field instead.
        self.function_names.update(
            field.attribute for v in versions for r in v.records for field in r.fields
        )
        self.kept = kept_names(versions)
        """The old names renamed fields keep as deprecated properties."""
        self.function_names.update(name for names in self.kept.values() for name in names)

    # -- the module --------------------------------------------------------------------

    def render(self) -> tuple[str, list[str]]:
        body: list[list[str]] = []
        exported: list[str] = []
        for version in self.versions:
            self.current = version
            self.classes = self.classes_of(version)
            self.tables = {}
            for shared in self.classes.values():
                if isinstance(shared, EnumModel) and shared.full_name not in version.named:
                    # A shared enum's tables are this module's own: private names stay put.
                    self.tables[shared.full_name] = self.tables_of(shared, body)
            for enum in version.enums:
                own = self.classes[enum.full_name]
                assert isinstance(own, EnumModel)  # alike, so an enum too
                if own is enum:
                    body.append(self.enum_class(enum))
                elif own.class_name != enum.class_name:
                    body.append([f"{enum.class_name} = {own.class_name}"])
                self.tables[enum.full_name] = self.tables_of(own, body)
                exported.append(self.export(enum.class_name, version, enum))
            for record in version.records:
                own = self.classes[record.full_name]
                if own is record:
                    helpers = Helpers()
                    block = self.record_class(record, version, helpers)
                    body += [*helpers.factories, block, *helpers.blocks]
                elif own.class_name != record.class_name:
                    body.append([f"{record.class_name} = {own.class_name}"])
                exported.append(self.export(record.class_name, version, record))
        aliases: list[str] = []
        latest = self.versions[-1]
        defined = set(exported)
        latest_named: list[RecordModel | EnumModel] = [*latest.records, *latest.enums]
        for named in latest_named:
            if named.base_name not in defined:
                aliases.append(f"{named.base_name} = {named.class_name}")
                exported.append(self.export(named.base_name, latest, named))
                defined.add(named.base_name)
        if self.alias_lines:
            body.append(self.alias_lines)
        if aliases:
            body.append(aliases)
        head = self.head(exported)
        blocks = "\n\n\n".join("\n".join(block) for block in body)
        return "\n".join(head) + "\n\n\n" + blocks + "\n", exported

    def classes_of(self, version: VersionModel) -> dict[str, RecordModel | EnumModel]:
        """The class of each record and enum ``version`` defines or uses, by full name: its
        own, an earlier one alike, or another module's (noted for import)."""
        found: dict[str, RecordModel | EnumModel] = {}
        for node in (*version.version.parsed.defined(), *version.shared):
            if isinstance(node, FixedNode):
                continue
            owner = self.owners.get(node)
            if owner is None:
                raise CodegenError(
                    f'uses the type "{node.full_name}" of another file, whose model is not '
                    "generated with it: generate the whole tree",
                    source=str(version.version.path),
                )
            model = owner.model
            if owner.module != self.module:
                local = version.named.get(node.full_name)
                imported = model.class_name
                if local is not None and local.class_name != model.class_name:
                    # Defined alike in another module first: imported under this one's name.
                    imported = f"{model.class_name} as {local.class_name}"
                    model = dataclasses.replace(model, class_name=local.class_name)
                self.imported.setdefault(owner.module, set()).add(imported)
            found[node.full_name] = model
        return found

    def export(self, name: str, version: VersionModel, named: RecordModel | EnumModel) -> str:
        """``name``, exported as the class of ``named`` of ``version``."""
        node = version.version.parsed.named[named.full_name]
        owner = self.owners[node]
        self.identities[name] = (owner.module, owner.model.class_name)
        return name

    def tables_of(self, enum: EnumModel, body: list[list[str]]) -> tuple[str, str]:
        """The module's tables of the class ``enum``, added to ``body`` the first time."""
        tables = self.enum_tables.get(enum.class_name)
        if tables is None:
            self.enum_tables[enum.class_name] = tables = self.table_names(enum)
            body.append(codec_methods.enum_table_lines(enum, *tables))
        return tables

    def head(self, exported: list[str]) -> list[str]:
        sources = ", ".join(
            f"{v.version.path.parent.parent.name}/{self.contract}/{v.version.path.name}"
            if i == 0
            else v.version.path.name
            for i, v in enumerate(self.versions)
        )
        lines = comment_lines(templates.HEADER.format(sources=sources, command=self.command))
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
            templates.MODULE_DOC_BINARY,
        ]
        lines += docstring_lines(doc, 0)
        lines += ["", "from __future__ import annotations", ""]
        lines += [f"import {module}" for module in _MODULES if module in self.imports]
        if self.uses_runtime:
            lines += ["", templates.RUNTIME_IMPORT]
        if self.imported:
            lines.append("")
        for module in sorted(self.imported):
            members = sorted(self.imported[module], key=import_key)
            # isort keeps an import under another name in a statement of its own.
            renamed = [m for m in members if " as " in m]
            members = [m for m in members if " as " not in m]
            inline = f"from .{module} import {', '.join(members)}"
            if len(inline) <= line_length():
                lines += [inline] if members else []
            else:
                lines += [f"from .{module} import (", *(f"    {m}," for m in members), ")"]
            lines += [f"from .{module} import {m}" for m in renamed]
        lines += ["", *all_lines(sorted(exported, key=all_key))]
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
        self, record: RecordModel, version: VersionModel, helpers: Helpers
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
        for field in record.fields:
            for old in self.kept.get(
                (version.version.version, record.full_name, field.attribute), ()
            ):
                lines += ["", *self.deprecated(record, field, old)]
        lines.append("")
        lines += self.to_avro(record, helpers)
        lines.append("")
        lines += self.from_avro(record, helpers)
        lines += ["", *self.codec_methods(record, version, helpers)]
        if is_root:
            # The schema as a registry stores it (normalized): white space, key order and
            # how names are spelled change neither the registry's schema nor the models.
            stored = json.loads(registry_text(version.version.parsed, normalize=True))
            lines.append("")
            lines += literal_lines(stored, 1, "SCHEMA: typing.ClassVar[dict[str, typing.Any]] = ")
            used = version.version.references
            if used:
                # The shared types the schema names, each registered under its full name.
                shared = shared_types(used.values())
                lines += ["", *literal_lines(shared, 1, templates.REFERENCES)]
            # The version's Data Contract parts travel with its model: a serializer refuses
            # a registered version that lacks them instead of trusting the registry's copy.
            parts = (("metadata", version.version.metadata), ("ruleSet", version.version.rule_set))
            contract = {key: part for key, part in parts if part is not None}
            if contract:
                lines += ["", *literal_lines(contract, 1, templates.DATA_CONTRACT)]
        return lines

    def codec_methods(
        self, record: RecordModel, version: VersionModel, helpers: Helpers
    ) -> list[str]:
        """``write_avro`` and ``read_avro`` of ``record``; their helpers go to ``helpers``."""
        self.uses_runtime = True

        def helper(path: str, body: list[str], annotation: str) -> str:
            key = (record.class_name, path, "read_avro")
            if key not in self.helper_names:
                name = self.function_name(path, "read_avro")
                self.helper_names[key] = name
                define = def_lines(templates.HELPER_READ_AVRO_DEF, name=name, annotation=annotation)
                helpers.blocks.append([*define, *body])
            return self.helper_names[key]

        codec = codec_methods.Codec(
            records={n: r for n, r in self.classes.items() if isinstance(r, RecordModel)},
            enums={n: e for n, e in self.classes.items() if isinstance(e, EnumModel)},
            class_name=self.class_name,
            tables=self.tables,
            annotation=self.fitted,
            helper=helper,
        )
        return [*codec.write_method(record), "", *codec.read_method(record)]

    def table_names(self, enum: EnumModel) -> tuple[str, str]:
        """Unique module-level names of ``enum``'s symbol -> index and index -> member tables."""
        stem = enum.class_name.upper()
        found: list[str] = []
        for kind in ("INDEX", "MEMBERS"):
            name, counter = f"_{stem}_{kind}", 2
            while name in self.function_names:
                name, counter = f"_{stem}_{kind}_{counter}", counter + 1
            self.function_names.add(name)
            found.append(name)
        return found[0], found[1]

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

    def deprecated(self, record: RecordModel, field: FieldModel, old: str) -> list[str]:
        """The property keeping the old name ``old`` of the renamed ``field``."""
        self.imports.add("warnings")
        self.mixed_case |= names.is_mixed_case(old)
        room = line_length() - len(f"{_INDENT}def {old}(self, value: ) -> None:")
        annotation = self.fitted(field.type, room)
        return property_lines(record.class_name, old, field.attribute, annotation)

    def field(self, record: RecordModel, field: FieldModel, helpers: Helpers) -> list[str]:
        self.mixed_case |= names.is_mixed_case(field.attribute)
        room = line_length() - len(f"{_INDENT}{field.attribute}: ")
        if field.has_default:
            room -= len(" = dataclasses.field(")
        annotation = self.fitted(field.type, room)
        prefix = f"{field.attribute}: {annotation}"
        if not field.has_default:
            lines = [f"{_INDENT}{prefix}"]
        else:
            lines = self.default_lines(record, field, prefix, helpers)
        doc = [field.doc] if field.doc else []
        if field.attribute != field.avro_name:
            doc.append(templates.FIELD_RENAMED_DOC.format(avro_name=field.avro_name))
        if doc:
            lines += docstring_lines([" ".join(doc)], 1, attribute=True)
        return lines


def _tuple_lines(prefix: str, items: Sequence[str]) -> list[str]:
    """``prefix`` + a tuple of strings, exploded one per line if it does not fit."""
    inline = ", ".join(string_literal(item) for item in items)
    inline = f"({inline},)" if len(items) == 1 else f"({inline})"
    if len(prefix + inline) <= line_length():
        return [prefix + inline]
    pad = prefix[: len(prefix) - len(prefix.lstrip())]
    return [
        prefix + "(",
        *(f"{pad}{_INDENT}{string_literal(item)}," for item in items),
        pad + ")",
    ]

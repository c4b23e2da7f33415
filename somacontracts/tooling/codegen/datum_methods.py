"""The source of ``to_avro`` / ``from_avro``: a record to fastavro's datum and back.

Pure: record models in, lines of Python out; :mod:`somacontracts.tooling.codegen.render` puts
them in the class. ``to_avro`` of a union writes the branch
:mod:`~somacontracts.tooling.codegen.unions` chooses for the value (as ``write_avro`` does), in
fastavro's tuple notation ``(name, datum)`` where fastavro's first match would take
another branch. ``from_avro`` of a union takes the ``(name, datum)`` pairs fastavro's
reader returns with ``return_named_type=True`` (or ``return_record_name=True``) and those
``to_avro`` writes, and a plain datum wherever its Python type alone tells the branch.
Conversions too long for their line go to module-level helper functions.
"""

from __future__ import annotations

import dataclasses

from somacontracts.tooling.codegen import templates, unions
from somacontracts.tooling.codegen.declarations import RecordModel, TypeModel
from somacontracts.tooling.codegen.pysource import (
    call_lines,
    def_lines,
    docstring_lines,
    if_lines,
    line_length,
    long_name_lines,
    return_lines,
    signature_lines,
    statement_lines,
    string_literal,
)
from somacontracts.tooling.codegen.pytypes import CHECK_ORDER, DATUM_TYPES, TypeNames

__all__ = ["DatumMethods", "Helpers", "Owner"]

_INDENT = "    "


@dataclasses.dataclass(slots=True)
class Helpers:
    """Module-level functions generated for one class: conversions and default factories."""

    blocks: list[list[str]] = dataclasses.field(default_factory=list)
    """Conversion helpers, placed after the class (its methods call them)."""
    factories: list[list[str]] = dataclasses.field(default_factory=list)
    """Default factories, placed before the class (its body refers to them)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Owner:
    """The record whose conversion is being written, and where its helpers go."""

    record: RecordModel
    helpers: Helpers


class DatumMethods(TypeNames):
    """Writes ``to_avro`` and ``from_avro`` of records, and the helpers they call."""

    def __init__(self) -> None:
        super().__init__()
        self.helper_names: dict[tuple[str, str, str], str] = {}

    def to_avro(self, record: RecordModel, helpers: Helpers) -> list[str]:
        owner = Owner(record, helpers)
        pad = _INDENT * 2
        lines = signature_lines(templates.TO_AVRO_DEF, 1)
        lines += docstring_lines([templates.TO_AVRO_DOC], 2)
        if not record.fields:
            return [*lines, f"{pad}return {{}}"]
        lines.append(f"{pad}return {{")
        for field in record.fields:
            key = string_literal(field.avro_name) + ": "
            source = f"self.{field.attribute}"
            expression = self.to_avro_expression(field.type, source, owner, field.attribute, 0)
            line = f"{pad}{_INDENT}{key}{expression or source},"
            if len(line) > line_length() and expression is not None:
                name = self.to_avro_helper(field.type, owner, field.attribute, whole=True)
                lines += long_name_lines(call_lines(name, [source], 3, prefix=key, suffix=","))
            else:
                lines.append(line)
        return [*lines, f"{pad}}}"]

    def from_avro(self, record: RecordModel, helpers: Helpers) -> list[str]:
        owner = Owner(record, helpers)
        pad = _INDENT * 2
        lines = [f"{_INDENT}@classmethod", *signature_lines(templates.FROM_AVRO_DEF, 1)]
        lines += docstring_lines([templates.FROM_AVRO_DOC], 2)
        if not record.fields:
            return [*lines, f"{pad}return cls()"]
        lines.append(f"{pad}return cls(")
        for field in record.fields:
            source = f"datum[{string_literal(field.avro_name)}]"
            expression = self.from_avro_expression(field.type, source, owner, field.attribute, 0)
            line = f"{pad}{_INDENT}{field.attribute}={expression or source},"
            if len(line) > line_length() and expression is not None:
                name = self.from_avro_helper(field.type, owner, field.attribute)
                lines += long_name_lines(
                    call_lines(name, [source], 3, prefix=f"{field.attribute}=", suffix=",")
                )
            else:
                lines.append(line)
        return [*lines, f"{pad})"]

    def to_avro_expression(
        self, type_: TypeModel, source: str, owner: Owner, path: str, depth: int
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
            return self.collection_expression(type_, source, owner, path, depth, to_avro=True)
        if kind != "union":
            return None
        branches = type_.non_null
        if len(branches) > 1:
            return f"{self.to_avro_helper(type_, owner, path)}({source})"
        if not branches:
            return None
        (branch,) = branches
        inner = self.to_avro_expression(branch, source, owner, path, depth)
        if unions.named(type_, type_.branches.index(branch), self.field_types):
            inner = f"({string_literal(unions.tuple_name(branch))}, {inner or source})"
        if inner is None or not type_.nullable:
            return inner
        return f"None if {source} is None else {inner}"

    def collection_expression(
        self, type_: TypeModel, source: str, owner: Owner, path: str, depth: int, *, to_avro: bool
    ) -> str | None:
        """Comprehension converting each item of an array or map (``to_avro``, else
        ``from_avro``); items that are collections themselves go to a helper function, so
        that comprehensions never nest and every one fits its lines."""
        assert type_.items is not None
        item = f"v{depth}"
        nested = f"{path}_{'items' if type_.kind == 'array' else 'values'}"
        convert = self.to_avro_expression if to_avro else self.from_avro_expression
        inner = convert(type_.items, item, owner, nested, depth + 1)
        if inner is None:
            return None
        if type_.items.kind in ("array", "map"):
            if to_avro:
                inner = f"{self.to_avro_helper(type_.items, owner, nested)}({item})"
            else:
                inner = f"{self.from_avro_helper(type_.items, owner, nested)}({item})"
        if type_.kind == "array":
            return f"[{inner} for {item} in {source}]"
        return f"{{k{depth}: {inner} for k{depth}, {item} in {source}.items()}}"

    def from_avro_expression(
        self, type_: TypeModel, source: str, owner: Owner, path: str, depth: int
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
            return self.collection_expression(type_, source, owner, path, depth, to_avro=False)
        if kind != "union":
            return None
        branches = type_.non_null
        if not branches:
            return None
        position = type_.branches.index(branches[0])
        single = len(branches) == 1 and not branches[0].is_named
        if single and not unions.named(type_, position, self.field_types):
            inner = self.from_avro_expression(branches[0], source, owner, path, depth)
            if inner is None or not type_.nullable:
                return inner
            return f"None if {source} is None else {inner}"
        return f"{self.from_avro_helper(type_, owner, path)}({source})"

    def to_avro_helper(
        self, type_: TypeModel, owner: Owner, path: str, *, whole: bool = False
    ) -> str:
        """A function converting a value of ``type_``; ``whole`` for a field too long inline."""
        purpose = "to_avro_field" if whole else "to_avro"
        key = (owner.record.class_name, path, purpose)
        if key in self.helper_names:
            return self.helper_names[key]
        name = self.function_name(path, "to_avro")
        self.helper_names[key] = name
        annotation = self.fitted(type_, line_length() - len("    value: ,"))
        lines = def_lines(templates.HELPER_TO_AVRO_DEF, name=name, annotation=annotation)
        if type_.kind == "union":
            lines += self.union_to_avro_body(type_, owner, path)
        else:
            expression = self.to_avro_expression(type_, "value", owner, path, 0)
            lines += return_lines(expression or "value")
        owner.helpers.blocks.append(lines)
        return name

    def from_avro_helper(self, type_: TypeModel, owner: Owner, path: str) -> str:
        """A function converting a datum of ``type_`` to its value."""
        key = (owner.record.class_name, path, "from_avro")
        if key in self.helper_names:
            return self.helper_names[key]
        name = self.function_name(path, "from_avro")
        self.helper_names[key] = name
        annotation = self.fitted(type_, line_length() - len(") -> :"))
        lines = def_lines(templates.HELPER_FROM_AVRO_DEF, name=name, annotation=annotation)
        if type_.kind == "union":
            lines += self.union_from_avro_body(type_, owner, path)
        else:
            expression = self.from_avro_expression(type_, "value", owner, path, 0)
            lines += return_lines(expression or "value")
        owner.helpers.blocks.append(lines)
        return name

    def union_to_avro_body(self, type_: TypeModel, owner: Owner, path: str) -> list[str]:
        pad = _INDENT
        if len(type_.non_null) == 1:  # nothing to tell apart
            none = [f"{pad}if value is None:", f"{pad}{_INDENT}return None"]
            (branch,) = type_.non_null
            datum = self.branch_to_avro(branch, branch.kind == "record", owner, path)
            return [*(none if type_.nullable else []), *return_lines(datum)]
        where = string_literal(f"{owner.record.class_name}.{path}")
        self.uses_runtime = True
        clauses: list[tuple[list[str], list[str]]] = []  # (isinstance targets, body)
        for group in unions.groups(type_, self.class_name, self.field_types):
            if group.check is None:
                clauses.append(([], return_lines("None", 2)))
                continue
            self.note_check(group.check)
            results = [
                (choice.fits, self.branch_to_avro(choice.branch, choice.named, owner, path))
                for choice in group.choices
            ]
            kept: list[tuple[str | None, str]] = []
            for fits, result in reversed(results):
                if not (kept and kept[-1] == (None, result)):  # else the next one writes it
                    kept.append((fits, result))
            results = kept[::-1]
            body: list[str] = []  # inside the clause's if
            for fits, result in results:
                if fits is None:
                    body += return_lines(result, 2)
                else:
                    test = f"{pad * 2}if {fits.format(v='value')}:"
                    body += [*statement_lines(test), *return_lines(result, 3)]
            if not group.exhaustive:
                body += call_lines("raise _rt.no_branch", [where, "value"], 2)
            clauses.append(([group.check], body))
        lines: list[str] = []
        for checks, body in unions.merged(clauses):
            lines += [*statement_lines(f"{pad}if {unions.condition(checks, 'value')}:"), *body]
        return lines + call_lines("raise _rt.no_branch", [where, "value"], 1)

    def branch_to_avro(self, branch: TypeModel, named: bool, owner: Owner, path: str) -> str:
        """The datum of union branch ``branch``, as ``(name, datum)`` if ``named``."""
        datum = self.to_avro_expression(branch, "value", owner, path, 0) or "value"
        if named:
            return f"({string_literal(unions.tuple_name(branch))}, {datum})"
        return datum

    def union_from_avro_body(self, type_: TypeModel, owner: Owner, path: str) -> list[str]:
        """A datum as fastavro reads it, or as ``to_avro`` writes it: ``(name, datum)`` for a
        named type or a branch ``to_avro`` names, else a plain datum."""
        pad = _INDENT
        where = string_literal(f"{owner.record.class_name}.{path}")
        self.uses_runtime = True
        lines: list[str] = []
        if type_.nullable:
            lines += [f"{pad}if value is None:", f"{pad}{_INDENT}return None"]
        named = [b for b in type_.non_null if b.is_named]
        plain = [b for b in type_.non_null if not b.is_named]
        lines += [f"{pad}if isinstance(value, tuple):", f"{pad}{_INDENT}name, body = value"]
        for branch in type_.non_null:
            result = self.branch_from_avro(branch, "body", owner, path, tuple_form=True)
            tests = [f"name == {string_literal(unions.tuple_name(branch))}"]
            if not branch.is_named:  # the datum's type is checked: body is untyped
                check = DATUM_TYPES[branch.kind]
                self.note_check(check)
                tests.append(f"isinstance(body, {check})")
            lines += [*if_lines(tests, 2), *return_lines(result, 3)]
        lines += call_lines("raise _rt.unknown_branch", [where, "value"], 2)
        for check in CHECK_ORDER:
            matching = [b for b in plain if DATUM_TYPES[b.kind] == check]
            by_name = [b for b in named if DATUM_TYPES[b.kind] == check]
            if check == "int" and not matching:  # an int to_avro wrote in a float branch
                matching = [b for b in plain if b.kind == "float"]
            if not matching and not by_name:
                continue
            branch = (matching or by_name)[0]
            result = self.branch_from_avro(branch, "value", owner, path, tuple_form=False)
            self.note_check(check)
            lines += [*statement_lines(f"{pad}if isinstance(value, {check}):")]
            lines += return_lines(result, 2)
        return lines + call_lines("raise _rt.unknown_branch", [where, "value"], 1)

    def branch_from_avro(
        self, branch: TypeModel, source: str, owner: Owner, path: str, *, tuple_form: bool
    ) -> str:
        expression = self.from_avro_expression(branch, source, owner, path, 0)
        if expression is not None:
            return expression
        if tuple_form and branch.is_named:
            # The datum of a (name, datum) pair is untyped: convert it to give it its type.
            if branch.kind == "decimal":
                self.imports.add("decimal")
                return f"decimal.Decimal({source})"
            return f"bytes({source})"
        return source

    # -- names and types ---------------------------------------------------------------

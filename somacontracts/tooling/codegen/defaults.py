"""The source of a field's default: a literal on the field's line, ``dataclasses.field``
with a default or a default factory, or a module-level factory function building a
record, list, dict or UUID; laid out as ruff keeps it.
"""

from __future__ import annotations

import math
from typing import Any

from somacontracts.tooling.codegen import templates
from somacontracts.tooling.codegen.datum_methods import DatumMethods, Helpers
from somacontracts.tooling.codegen.declarations import (
    EnumDefault,
    FieldModel,
    JsonDefault,
    RecordDefault,
    RecordModel,
)
from somacontracts.tooling.codegen.pysource import (
    call_lines,
    def_lines,
    line_length,
    literal_lines,
    string_literal,
    value_literal,
)

__all__ = ["FieldDefaults"]

_INDENT = "    "


class FieldDefaults(DatumMethods):
    """Writes the defaults of record fields, and the factories they call."""

    def default_lines(
        self, record: RecordModel, field: FieldModel, prefix: str, helpers: Helpers
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
            member = f"{enum.class_name}.{value.member}"
            line = f"{_INDENT}{prefix} = {member}"
            if len(line) <= line_length() or len(f"{_INDENT * 2}{member}") > line_length():
                return [line]
            return [f"{_INDENT}{prefix} = (", f"{_INDENT * 2}{member}", f"{_INDENT})"]
        self.note_literal(value)
        if _never_parenthesized(value):
            literal = value_literal(value)
            if len(f"{_INDENT}{prefix} = {literal}") > line_length():
                # ruff keeps a number, None, True or False on the line of the "=" and
                # splits the annotation instead; a call it splits like any other
                return call_lines(
                    "dataclasses.field", [f"default={literal}"], 1, prefix=f"{prefix} = "
                )
        return literal_lines(value, 1, f"{prefix} = ")

    def factory(
        self, record: RecordModel, field: FieldModel, prefix: str, helpers: Helpers
    ) -> list[str]:
        name = self.function_name(field.attribute, "default")
        annotation = self.fitted(field.type, line_length() - len(f"def {name}() -> :"))
        if len(f"def {name}() -> {annotation}:") > line_length() and annotation.endswith("]"):
            # ruff splits a subscript in its brackets, anything else in parentheses
            annotation = self.fitted(field.type, 0)
        lines = def_lines(templates.FACTORY_DEF, name=name, annotation=annotation)
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
            if len(line) <= line_length():
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


def _is_uuid(value: Any) -> bool:
    return type(value).__name__ == "UUID"


def _never_parenthesized(value: object) -> bool:
    """Whether ruff leaves ``value``'s literal unparenthesized on the right of ``=``."""
    if value is None or isinstance(value, (bool, int)):
        return True
    return isinstance(value, float) and math.isfinite(value)

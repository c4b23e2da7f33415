"""How the types of a model appear in Python: annotations, isinstance targets, names.

:class:`TypeNames` is what every generator of a module's code shares: the class name of
each record and enum of the version being written, the annotation of a type, the
``isinstance`` target of a union branch, the imports those need, and unique names for
module-level helper functions. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from somacontracts.tooling.codegen import names
from somacontracts.tooling.codegen.declarations import EnumModel, RecordModel, TypeModel
from somacontracts.tooling.codegen.pysource import line_length
from somacontracts.tooling.codegen.unions import CHECK_ORDER, DATUM_TYPES

__all__ = ["ANNOTATIONS", "CHECK_ORDER", "DATUM_TYPES", "TypeNames", "unique"]

ANNOTATIONS = {
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


class TypeNames:
    """The names, annotations and imports of the version whose classes are being written."""

    def __init__(self) -> None:
        self.imports: set[str] = set()
        self.uses_runtime = False
        self.function_names: set[str] = set()
        self.classes: dict[str, RecordModel | EnumModel] = {}
        self.aliases: dict[str, str] = {}
        """Type aliases of annotations too long for their place, by annotation."""
        self.alias_lines: list[str] = []
        """Their definitions, each after the aliases it uses."""

    def function_name(self, path: str, purpose: str) -> str:
        """A module-level function name, numbered when a name of the module took it first.

        It leaves out the class name so a call fits on its line beside the field name.
        """
        name = names.function_name(path, purpose, self.function_names)
        self.function_names.add(name)
        return name

    def field_types(self, full_name: str) -> list[TypeModel]:
        """The field types of the record ``full_name`` of the version being written."""
        record = self.classes[full_name]
        assert isinstance(record, RecordModel)
        return [field.type for field in record.fields]

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
            return " | ".join(text for text, _ in self.union_parts(type_))
        annotation = ANNOTATIONS[kind]
        self.note_check(annotation)
        return annotation

    def union_parts(self, type_: TypeModel) -> list[tuple[str, TypeModel | None]]:
        """The annotations a union's annotation joins, with their branches (None: null)."""
        parts: list[tuple[str, TypeModel | None]] = []
        for branch in type_.non_null:
            text = self.annotation(branch)
            if text not in [p for p, _ in parts]:
                parts.append((text, branch))
        texts = [p for p, _ in parts]
        if "int" in texts and "float" in texts:  # typing's float takes an int (PEP 484)
            del parts[texts.index("int")]
        if type_.nullable:
            parts.append(("None", None))
        return parts

    def fitted(self, type_: TypeModel, room: int) -> str:
        """The annotation of ``type_``, or a type alias of it where it is longer than ``room``
        characters: the formatter's ways of splitting a long annotation vary by place."""
        text = self.annotation(type_)
        if len(text) <= room or type_.kind not in ("union", "array", "map"):
            return text
        if text not in self.aliases:
            name = names.unique_alias(len(self.aliases) + 1, self.function_names)
            self.function_names.add(name)
            body = self.composed(type_, line_length() - len(name) - len(" = "))
            self.aliases[text] = name
            self.alias_lines.append("\n".join(_alias_lines(name, body)))
        return self.aliases[text]

    def composed(self, type_: TypeModel, room: int) -> str:
        """The annotation of ``type_`` in at most ``room`` characters where aliases of its
        parts make it fit."""
        assert type_.kind in ("union", "array", "map")
        if type_.kind != "union":
            assert type_.items is not None
            opening = "list[" if type_.kind == "array" else "dict[str, "
            return f"{opening}{self.fitted(type_.items, room - len(opening) - 1)}]"
        parts = self.union_parts(type_)
        texts = [text for text, _ in parts]
        while len(" | ".join(texts)) > room:
            composite = [
                i
                for i, (text, branch) in enumerate(parts)
                if branch is not None and branch.kind in ("array", "map") and text == texts[i]
            ]
            if not composite:
                break
            widest = max(composite, key=lambda i: len(texts[i]))
            branch = parts[widest][1]
            assert branch is not None
            texts[widest] = self.fitted(branch, 0)
        return " | ".join(texts)

    def note_check(self, text: str) -> None:
        if text.startswith("_rt."):
            self.uses_runtime = True
        module = text.rpartition(".")[0]
        if module:
            self.imports.add(module if module != "_rt" else "typing")


def unique(items: Iterable[str]) -> list[str]:
    result: list[str] = []
    for item in items:
        if item not in result:
            result.append(item)
    return result


def _alias_lines(name: str, annotation: str) -> list[str]:
    """``name = annotation``, as ruff lays it out: a union too long for the line in
    parentheses, on one line if it fits there, else an operand a line."""
    inline = f"{name} = {annotation}"
    if len(inline) <= line_length():
        return [inline]
    if len(f"    {annotation}") <= line_length():
        return [f"{name} = (", f"    {annotation}", ")"]
    first, *rest = annotation.split(" | ")
    return [f"{name} = (", f"    {first}", *(f"    | {part}" for part in rest), ")"]

"""How the types of a model appear in Python: annotations, isinstance targets, names.

:class:`TypeNames` is what every generator of a module's code shares: the class name of
each record and enum of the version being written, the annotation of a type, the
``isinstance`` target of a union branch, the imports those need, and unique names for
module-level helper functions. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from somacontracts.codegen.model import EnumModel, RecordModel, TypeModel

__all__ = [
    "ANNOTATIONS",
    "CHECK_ORDER",
    "DATUM_CHECK",
    "STRING_LIKE",
    "VALUE_CHECK",
    "TypeNames",
    "unique",
    "value_rank",
]

# Python types a value of each kind has in a model (for isinstance) and in a datum
# fastavro reads (for telling union branches apart), most specific first where one
# is a subclass of another (bool of int, datetime of date).
VALUE_CHECK = {
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
DATUM_CHECK = {
    **VALUE_CHECK,
    "fixed_uuid": "bytes",
    "enum": "str",
    "json": "str",
    "record": "dict",
}
CHECK_ORDER = (
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
STRING_LIKE = frozenset({"string", "enum", "uuid"})


class TypeNames:
    """The names, annotations and imports of the version whose classes are being written."""

    def __init__(self) -> None:
        self.imports: set[str] = set()
        self.uses_runtime = False
        self.function_names: set[str] = set()
        self.classes: dict[str, RecordModel | EnumModel] = {}

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
            parts = unique(self.annotation(b) for b in type_.non_null)
            if "int" in parts and "float" in parts:  # typing's float takes an int (PEP 484)
                parts.remove("int")
            if type_.nullable:
                parts.append("None")
            return " | ".join(parts)
        annotation = ANNOTATIONS[kind]
        self.note_check(annotation)
        return annotation

    def value_check(self, branch: TypeModel) -> str:
        if branch.kind in ("record", "enum"):
            return self.class_name(branch)
        check = VALUE_CHECK[branch.kind]
        self.note_check(check)
        return check

    def note_check(self, text: str) -> None:
        if text.startswith("_rt."):
            self.uses_runtime = True
        module = text.rpartition(".")[0]
        if module:
            self.imports.add(module if module != "_rt" else "typing")


def value_rank(branch: TypeModel) -> int:
    if branch.kind in ("record", "enum"):
        return -1
    return CHECK_ORDER.index(VALUE_CHECK[branch.kind])


def unique(items: Iterable[str]) -> list[str]:
    result: list[str] = []
    for item in items:
        if item not in result:
            result.append(item)
    return result

"""Old attribute names a renamed field keeps, as deprecated properties, for one major version.

Avro renames a field without breaking the wire when the new field lists the old name in
its ``aliases``; Python code reading ``obj.old_name`` would still break. So a record class
keeps, as a property that warns (``DeprecationWarning``) and reads and writes the new
attribute, the attribute name of every field an earlier version of the same major
version (``application.major.version``, Confluent's compatibility group) had under a name
the new field lists as an alias. The next major version drops them: a new major is a
breaking release anyway. Pure: version models in, names and source lines out.
"""

from __future__ import annotations

from collections.abc import Sequence

from somacontracts.schema.datacontract import major_version
from somacontracts.tooling.codegen import templates
from somacontracts.tooling.codegen.declarations import FieldModel, RecordModel, VersionModel
from somacontracts.tooling.codegen.pysource import (
    call_lines,
    docstring_lines,
    signature_lines,
    string_literal,
)

__all__ = ["kept_names", "property_lines"]

_INDENT = "    "


def kept_names(
    versions: Sequence[VersionModel],
) -> dict[tuple[int, str, str], tuple[str, ...]]:
    """(version, record full name, attribute) -> the old attribute names the field keeps.

    ``versions`` are a contract's version models, oldest first.
    """
    kept: dict[tuple[int, str, str], tuple[str, ...]] = {}
    for position, model in enumerate(versions):
        major = major_version(model.version.metadata)
        earlier = [v for v in versions[:position] if major_version(v.version.metadata) == major]
        for record in model.records:
            taken = {field.attribute for field in record.fields}
            for field in record.fields:
                names = _old_names(field, record, earlier, taken)
                if names:
                    kept[model.version.version, record.full_name, field.attribute] = names
                    taken.update(names)
    return kept


def _old_names(
    field: FieldModel, record: RecordModel, earlier: Sequence[VersionModel], taken: set[str]
) -> tuple[str, ...]:
    if not field.aliases:
        return ()
    found: list[str] = []
    for model in earlier:
        before = model.named.get(record.full_name)
        if not isinstance(before, RecordModel):
            continue
        for old in before.fields:
            if (
                old.avro_name in field.aliases
                and old.attribute not in taken
                and old.attribute not in found
            ):
                found.append(old.attribute)
    return tuple(found)


def property_lines(class_name: str, old: str, new: str, annotation: str) -> list[str]:
    """The deprecated property ``old`` of ``class_name``, reading and writing ``new``."""
    warning = call_lines(
        "warnings.warn",
        [
            string_literal(templates.DEPRECATED_MESSAGE.format(cls=class_name, old=old, new=new)),
            "DeprecationWarning",
            "stacklevel=2",
        ],
        2,
    )
    doc = templates.DEPRECATED_DOC.format(new=new)
    return [
        f"{_INDENT}@property",
        *signature_lines((f"def {old}(", ("self",), f") -> {annotation}:"), 1),
        *docstring_lines([doc], 2),
        *warning,
        f"{_INDENT * 2}return self.{new}",
        "",
        f"{_INDENT}@{old}.setter",
        *signature_lines((f"def {old}(", ("self", f"value: {annotation}"), ") -> None:"), 1),
        *docstring_lines([doc], 2),
        *warning,
        f"{_INDENT * 2}self.{new} = value",
    ]

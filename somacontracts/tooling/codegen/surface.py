"""The Python API of the generated classes, and what of it a new tree breaks.

A service imports the generated classes and reads their attributes: that is a contract
too, apart from the wire. :func:`python_surface` gives the public surface of a tree's
models package, computed from the schemas as codegen writes the classes (nothing is
imported): every exported class, with its fields and their Python types, the old names
renamed fields keep as deprecated properties, its constructor's required arguments, and
an enum's members. A class is named by its base name in types (``ToolInvocationMetadata``,
not ``...V2``), so the latest version's types move on with the plain names.

:func:`api_breaks` compares two surfaces and reports, as ``PYTHON_API_BROKEN`` changes,
whatever breaks code written against the old one: an exported class gone or of another
kind, an attribute gone, an attribute's type changed, a new required constructor
argument, an enum member gone; :func:`version_breaks` says which new version of a contract
brings each. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from somacontracts.compat.report import Change, ChangeKind
from somacontracts.tooling.codegen.declarations import (
    EnumModel,
    RecordModel,
    VersionModel,
    build_version,
)
from somacontracts.tooling.codegen.pytypes import TypeNames
from somacontracts.tooling.codegen.renames import kept_names
from somacontracts.tooling.sources import ContractSchemas

__all__ = ["ClassSurface", "api_breaks", "python_surface", "version_breaks"]


@dataclasses.dataclass(frozen=True, slots=True)
class ClassSurface:
    """What importing code sees of one exported class."""

    contract: str
    kind: str
    """``record`` or ``enum``."""
    attributes: Mapping[str, str]
    """Attribute -> its Python type as annotated (fields and deprecated properties)."""
    required: frozenset[str]
    """The constructor's required (keyword) arguments."""
    members: tuple[str, ...] = ()
    """An enum's member names."""


def python_surface(contracts: Mapping[str, ContractSchemas]) -> dict[str, ClassSurface]:
    """Exported class name -> its surface, for the models package of ``contracts``."""
    built = {name: [build_version(v) for v in c.versions] for name, c in contracts.items()}
    bases: dict[str, RecordModel | EnumModel] = {}
    for versions in built.values():
        for model in versions:
            for named in model.named.values():
                bases.setdefault(named.full_name, _by_base(named))
    names = TypeNames()
    names.classes = bases
    surface: dict[str, ClassSurface] = {}
    for contract, versions in built.items():
        kept = kept_names(versions)
        for model in versions:
            for named in model.named.values():
                surface[named.class_name] = _class(contract, model, named, kept, names)
        for latest in versions[-1].named.values():
            surface.setdefault(latest.base_name, surface[latest.class_name])
    return surface


def _by_base(named: RecordModel | EnumModel) -> RecordModel | EnumModel:
    return dataclasses.replace(named, class_name=named.base_name)


def _class(
    contract: str,
    model: VersionModel,
    named: RecordModel | EnumModel,
    kept: Mapping[tuple[int, str, str], tuple[str, ...]],
    names: TypeNames,
) -> ClassSurface:
    if isinstance(named, EnumModel):
        members = tuple(member for member, _ in named.members)
        return ClassSurface(contract, "enum", {}, frozenset(), members)
    attributes: dict[str, str] = {}
    for field in named.fields:
        attributes[field.attribute] = annotation = names.annotation(field.type)
        for old in kept.get((model.version.version, named.full_name, field.attribute), ()):
            attributes[old] = annotation
    required = frozenset(f.attribute for f in named.fields if not f.has_default)
    return ClassSurface(contract, "record", attributes, required)


def api_breaks(
    old: Mapping[str, ClassSurface], new: Mapping[str, ClassSurface]
) -> dict[str, list[Change]]:
    """Contract -> the ``PYTHON_API_BROKEN`` changes from surface ``old`` to ``new``; a
    class gone is reported under the contract that exported it."""
    found: dict[str, list[Change]] = {}
    for name, before in old.items():
        after = new.get(name)
        problems = _class_breaks(name, before, after)
        if problems:
            contract = after.contract if after is not None else before.contract
            found.setdefault(contract, []).extend(
                Change(ChangeKind.PYTHON_API_BROKEN, f"python:{where}", message)
                for where, message in problems
            )
    return found


def _class_breaks(
    name: str, before: ClassSurface, after: ClassSurface | None
) -> list[tuple[str, str]]:
    if after is None:
        return [(name, f'Class "{name}" is no longer generated.')]
    if after.kind != before.kind:
        return [(name, f'Class "{name}" was a {before.kind} and is now a {after.kind}.')]
    problems: list[tuple[str, str]] = []
    for attribute, annotation in before.attributes.items():
        where = f"{name}.{attribute}"
        now = after.attributes.get(attribute)
        if now is None:
            problems.append((where, f'Attribute "{attribute}" of "{name}" was removed.'))
        elif now != annotation:
            problems.append(
                (where, f'Attribute "{attribute}" of "{name}" was {annotation} and is now {now}.')
            )
    for argument in sorted(after.required - before.required):
        problems.append(
            (
                f"{name}.{argument}",
                f'"{name}" takes a new required argument "{argument}" (a field without a default).',
            )
        )
    for member in before.members:
        if member not in after.members:
            problems.append((f"{name}.{member}", f'Member "{member}" of "{name}" was removed.'))
    return problems


def version_breaks(
    contract: ContractSchemas, released: ContractSchemas | None, new: Iterable[int]
) -> dict[int, list[Change]]:
    """Version of ``new`` -> the ``PYTHON_API_BROKEN`` changes it brings to the classes of
    ``contract`` as ``released`` generated them: each change under the first version whose
    tree has it (none for a contract not released yet)."""
    if released is None:
        return {}
    before = python_surface({contract.name: released})
    seen: set[tuple[str, str]] = set()
    found: dict[int, list[Change]] = {}
    for number in sorted(new):
        upto = dataclasses.replace(contract, versions=contract.versions[:number])
        changes = api_breaks(before, python_surface({contract.name: upto})).get(contract.name, [])
        fresh = [c for c in changes if (c.location, c.message) not in seen]
        seen |= {(c.location, c.message) for c in changes}
        if fresh:
            found[number] = fresh
    return found

"""The Python API of the generated classes, and what of it a new tree breaks.

A service imports the generated classes and reads their attributes: that is a contract
too, apart from the wire. :func:`python_surface` gives the public surface of a tree's
models package, computed from the schemas as codegen writes the classes (nothing is
imported): every exported class, with its fields and their Python types, the old names
renamed fields keep as deprecated properties, its constructor's required arguments, and
an enum's members.

A type names the class it takes. In the classes under the plain names (the latest
versions'), that is the plain name where the plain name gives that very class
(``ToolInvocationMetadata``, so the latest version's types move on with the plain names),
else the versioned name of the class (``StockLineV1``: a model that still takes an older
class than the plain name gives, which code passing the plain name's objects breaks on).
In the versioned classes it is always the versioned name of the class: an unchanged type
is one class in every version (:mod:`.owners`), so ``StockReservedV2.line`` is a
``StockLineV1``.

:func:`api_breaks` compares two surfaces and reports, as ``PYTHON_API_BROKEN`` changes,
whatever breaks code written against the old one: an exported class gone or of another
kind, an attribute gone, an attribute's type changed, a new required constructor
argument, an enum member gone; :func:`version_breaks` says which new version of the tree
brings each. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from somacontracts.compat.report import Change, ChangeKind
from somacontracts.schema import FixedNode, NamedNode
from somacontracts.tooling.codegen.declarations import (
    EnumModel,
    RecordModel,
    VersionModel,
    build_version,
)
from somacontracts.tooling.codegen.owners import Owner, class_owners
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
    """Exported class name -> its surface, for the models package of ``contracts`` (a
    whole tree: every type a version uses is defined in it): the names its ``__init__``
    exports, so none that is a different class in two modules."""
    built = _built(contracts)
    return _surface(built, class_owners(built))


def _built(contracts: Mapping[str, ContractSchemas]) -> dict[str, list[VersionModel]]:
    return {name: [build_version(v) for v in c.versions] for name, c in contracts.items()}


def _surface(
    built: Mapping[str, Sequence[VersionModel]], owners: Mapping[NamedNode, Owner]
) -> dict[str, ClassSurface]:
    """The surface of the versions ``built``, each named type the class ``owners`` gives."""
    classes: dict[str, set[tuple[str, str]]] = {}
    plain: dict[str, Owner] = {}
    for versions in built.values():
        for model in versions:
            for named in model.named.values():
                owner = owners[model.version.parsed.named[named.full_name]]
                classes.setdefault(named.class_name, set()).add(_identity(owner))
                if model is versions[-1]:
                    classes.setdefault(named.base_name, set()).add(_identity(owner))
                    plain.setdefault(named.base_name, owner)
    exported = {name for name, found in classes.items() if len(found) == 1}
    surface: dict[str, ClassSurface] = {}
    for contract, versions in built.items():
        kept = kept_names(versions)
        for model in versions:
            pinned = _names(model, owners, lambda owner: owner.model.class_name)
            for named in model.named.values():
                found = _class(contract, model, named, kept, pinned)
                surface.setdefault(named.class_name, found)
        latest = versions[-1]
        following = _names(
            latest,
            owners,
            lambda owner: (
                owner.model.base_name
                if owner.model.base_name in exported
                and _identity(plain.get(owner.model.base_name, owner)) == _identity(owner)
                else owner.model.class_name
            ),
        )
        for named in latest.named.values():
            surface.setdefault(named.base_name, _class(contract, latest, named, kept, following))
    return {name: found for name, found in surface.items() if name in exported}


def _identity(owner: Owner) -> tuple[str, str]:
    return owner.module, owner.model.class_name


def _names(
    model: VersionModel, owners: Mapping[NamedNode, Owner], name: Callable[[Owner], str]
) -> TypeNames:
    """The annotations of ``model``'s types, each class called ``name(its owner)``."""
    names = TypeNames()
    for node in (*model.version.parsed.defined(), *model.shared):
        if not isinstance(node, FixedNode):
            owner = owners[node]
            model_named = dataclasses.replace(owner.model, class_name=name(owner))
            names.classes[node.full_name] = model_named
    return names


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
    tree: Mapping[str, ContractSchemas], released: Mapping[str, ContractSchemas]
) -> dict[tuple[str, int], list[Change]]:
    """(contract, version) -> the ``PYTHON_API_BROKEN`` changes that version of ``tree``
    brings to the classes ``released`` generated, for every version new since (past the
    count ``released`` has of its contract).

    The new versions are added one at a time, contracts in the tree's order and each
    oldest first, and each change goes under the first version whose tree has it, also a
    change to the classes of another contract (a shared type made a new class). Every
    named type is the class the whole ``tree`` makes it, so a version that uses a type of
    another contract is judged with it."""
    built = _built(tree)
    owners = class_owners(built)
    before = {
        name: surface
        for name, surface in python_surface(released).items()
        if surface.contract in tree
    }
    shown = {
        name: min(len(versions), len(released[name].versions)) if name in released else 0
        for name, versions in built.items()
    }
    seen: set[tuple[str, str]] = set()
    found: dict[tuple[str, int], list[Change]] = {}
    for name, versions in built.items():
        for number in range(shown[name] + 1, len(versions) + 1):
            shown[name] = number
            upto = {n: built[n][:count] for n, count in shown.items() if count}
            after = _surface(upto, owners)
            changes = [c for cs in api_breaks(before, after).values() for c in cs]
            fresh = [c for c in changes if (c.location, c.message) not in seen]
            seen |= {(c.location, c.message) for c in changes}
            if fresh:
                found[name, number] = fresh
    return found

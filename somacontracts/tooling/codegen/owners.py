"""One class per named type and definition: which generated class each record and enum is.

A named type defined alike in several version files (a ``LineItem`` unchanged from
``v1.avsc`` to ``v2.avsc``, or one type two contracts define, or one a contract uses as a
shared type) is one Python class, so that objects flow between versions and contracts:
``StockReleased(line=reservation.line)`` takes the ``line`` of any version of
``StockReserved`` that defines it alike. The first definition in the tree's order
(contracts by name, then versions) is generated as a class; the later ones are aliases of
it (``LineItemV2 = LineItemV1``) and the versions that use it as a shared type import it.
A contract's root record is always a class of its own version, which carries that
version's schema, subjects and number.

Alike means as a registry stores it (docs, defaults and every type it uses included:
:func:`~somacontracts.schema.forms.named_text`) and with the same Python attributes (the
attribute names and the old names renamed fields keep), so the one class is exactly what
each of those versions would have generated. A type that changed is a new class; the
versions that define the older one keep it. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from somacontracts.schema import NamedNode, forms
from somacontracts.tooling.codegen import names
from somacontracts.tooling.codegen.declarations import EnumModel, RecordModel, VersionModel
from somacontracts.tooling.codegen.renames import kept_names

__all__ = ["Owner", "class_owners"]


@dataclasses.dataclass(frozen=True, slots=True)
class Owner:
    """The generated class of a named type: its model, in the module that defines it."""

    module: str
    model: RecordModel | EnumModel


def class_owners(built: Mapping[str, Sequence[VersionModel]]) -> dict[NamedNode, Owner]:
    """The class of every record and enum the versions ``built`` (by contract, oldest
    first) define, by node: the first definition alike of its full name."""
    owners: dict[NamedNode, Owner] = {}
    first: dict[tuple[object, ...], Owner] = {}
    for contract, versions in built.items():
        module = names.module_name(contract)
        kept = kept_names(versions)
        for model in versions:
            for node in model.version.parsed.defined():
                named = model.named.get(node.full_name)
                if named is None:  # a fixed: no class
                    continue
                if named is model.root:  # a version's own: its schema, subjects, version
                    owners[node] = Owner(module, named)
                    continue
                if isinstance(named, EnumModel):
                    attributes: tuple[object, ...] = named.members
                else:
                    number = model.version.version
                    attributes = tuple(
                        (f.attribute, kept.get((number, named.full_name, f.attribute)))
                        for f in named.fields
                    )
                key = (node.full_name, forms.named_text(node), attributes)
                owners[node] = first.setdefault(key, Owner(module, named))
    return owners

"""Change reports: what changed between two versions of a contract, and how to roll it out.

:func:`diff_versions` walks two schemas side by side and lists each change with a
stable kind (``FIELD_ADDED``, ``ENUM_SYMBOL_ADDED``, ``TYPE_PROMOTED``, ...), the JSON
pointer in the new schema, and a sentence. It then asks the compatibility engine
which way data can flow and turns that into rollout advice: with a backward-compatible
change the consumers upgrade first (new readers read old data); with a forward-compatible
one the producers upgrade first (old readers read new data); with both, any order.

Pure: schemas in (walked as the one schema model), values out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from somacontracts.compat.contract_changes import contract_changes
from somacontracts.compat.engine import check_reader_writer
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.compat.report import Change, ChangeKind, ChangeReport
from somacontracts.schema.datacontract import major_version, migrates
from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FieldNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    RecordNode,
    UnionNode,
)
from somacontracts.schema.parse import parse

__all__ = ["diff_versions"]

_PROMOTIONS = {
    ("int", "long"),
    ("int", "float"),
    ("int", "double"),
    ("long", "float"),
    ("long", "double"),
    ("float", "double"),
    ("string", "bytes"),
    ("bytes", "string"),
}


def diff_versions(
    old: Any,
    new: Any,
    *,
    old_version: int,
    new_version: int,
    level: CompatibilityLevel,
    old_contract: tuple[Any, Any] = (None, None),
    new_contract: tuple[Any, Any] = (None, None),
) -> ChangeReport:
    """Report the changes from ``old`` to ``new`` (schema JSON or parsed) and their rollout.

    ``old_contract`` and ``new_contract`` are the versions' Data Contract parts
    (``metadata``, ``ruleSet``, as in ``vN.contract.json``): rules added, removed or
    changed are changes too, and a rule that transforms data on read makes consumers
    deploy first.
    """
    old_parsed, new_parsed = parse(old, source="old schema"), parse(new, source="new schema")
    changes = list(_Differ().diff(old_parsed.root, new_parsed.root, "", ""))
    contract_changes_found, readers_first = contract_changes(old_contract, new_contract)
    changes += contract_changes_found
    return ChangeReport(
        old_version=old_version,
        new_version=new_version,
        changes=tuple(changes),
        backward=check_reader_writer(new_parsed, old_parsed).compatible,
        forward=check_reader_writer(old_parsed, new_parsed).compatible,
        level=level,
        readers_first=readers_first,
        majors=(major_version(old_contract[0]), major_version(new_contract[0])),
        migrated=migrates(new_contract[1], "UPGRADE") and migrates(new_contract[1], "DOWNGRADE"),
    )


def _kind(node: Node) -> str:
    """The type name as the schema writes it: ``int``, ``record``, ``error``, ``union``."""
    return "error" if isinstance(node, RecordNode) and node.is_error else node.kind


def _describe(node: Node) -> str:
    if isinstance(node, UnionNode):
        return "union [" + ", ".join(_describe(b) for b in node.branches) + "]"
    if isinstance(node, NamedNode):
        return f'{_kind(node)} "{node.json["name"]}"'
    if node.logical_type:
        return f"{node.kind} ({node.logical_type})"
    if isinstance(node, ArrayNode):
        return f"array of {_describe(node.items)}"
    if isinstance(node, MapNode):
        return f"map of {_describe(node.values)}"
    return node.kind


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _branch_key(node: Node) -> str:
    return node.full_name if isinstance(node, NamedNode) else _kind(node)


class _Differ:
    """Walks an old and a new schema graph; each named type of the new one is reported once."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def diff(self, old: Node, new: Node, at: str, owner: str) -> Iterator[Change]:
        if isinstance(new, UnionNode) or isinstance(old, UnionNode):
            yield from self.union(old, new, at, owner)
            return
        old_kind, new_kind = _kind(old), _kind(new)
        if old_kind != new_kind:
            if (old_kind, new_kind) in _PROMOTIONS:
                yield Change(
                    ChangeKind.TYPE_PROMOTED,
                    at,
                    f"{owner} was promoted from {old_kind} to {new_kind}.",
                )
            else:
                yield Change(
                    ChangeKind.TYPE_CHANGED,
                    at,
                    f"{owner} changed type from {_describe(old)} to {_describe(new)}.",
                )
            return
        if old.logical_type != new.logical_type:
            yield Change(
                ChangeKind.LOGICAL_TYPE_CHANGED,
                at,
                f"{owner} changed logical type from {old.logical_type or 'none'} "
                f"to {new.logical_type or 'none'}.",
            )
        if isinstance(old, NamedNode) and isinstance(new, NamedNode):
            yield from self.named(old, new, at)
        elif isinstance(old, ArrayNode) and isinstance(new, ArrayNode):
            yield from self.diff(old.items, new.items, f"{at}/items", f"the items of {owner}")
        elif isinstance(old, MapNode) and isinstance(new, MapNode):
            yield from self.diff(old.values, new.values, f"{at}/values", f"the values of {owner}")

    def union(self, old: Node, new: Node, at: str, owner: str) -> Iterator[Change]:
        old_branches = old.branches if isinstance(old, UnionNode) else (old,)
        new_branches = new.branches if isinstance(new, UnionNode) else (new,)
        old_keys = {_branch_key(b): b for b in old_branches}
        old_at = {_branch_key(b): f"{b.pointer}" for b in old_branches}
        new_keys = {_branch_key(b): (i, b) for i, b in enumerate(new_branches)}
        is_union = isinstance(new, UnionNode)
        if not isinstance(old, UnionNode) and is_union and set(new_keys) == {"null", *old_keys}:
            yield Change(
                ChangeKind.MADE_OPTIONAL, at, f"{owner} became optional (null or {_describe(old)})."
            )
        else:
            for key, (index, _) in new_keys.items():
                if key not in old_keys:
                    where = f"{at}/{index}" if is_union else at
                    yield Change(
                        ChangeKind.UNION_BRANCH_ADDED, where, f"{owner} gained union branch {key}."
                    )
            for key in old_keys:
                if key not in new_keys:
                    yield Change(
                        ChangeKind.UNION_BRANCH_REMOVED,
                        old_at[key],
                        f"{owner} lost union branch {key}.",
                        in_old=True,
                    )
        for key, (index, branch) in new_keys.items():
            if key in old_keys:
                where = f"{at}/{index}" if is_union else at
                yield from self.diff(old_keys[key], branch, where, owner)

    def named(self, old: NamedNode, new: NamedNode, at: str) -> Iterator[Change]:
        label = f'{_kind(new)} "{new.full_name}"'
        if new.full_name in self.seen:
            return
        self.seen.add(new.full_name)
        if old.full_name != new.full_name:
            how = (
                "with an alias to the old name"
                if old.full_name in new.aliases
                else "without an alias"
            )
            yield Change(
                ChangeKind.TYPE_RENAMED,
                f"{at}/name",
                f'{_upper(label)} was renamed from "{old.full_name}" {how}.',
            )
        if (old.doc or "") != (new.doc or ""):
            yield Change(ChangeKind.DOC_CHANGED, f"{at}/doc", f"The doc of {label} changed.")
        if isinstance(old, FixedNode) and isinstance(new, FixedNode) and old.size != new.size:
            yield Change(
                ChangeKind.FIXED_SIZE_CHANGED,
                f"{at}/size",
                f"{_upper(label)} changed size from {old.size} to {new.size}.",
            )
        if isinstance(old, EnumNode) and isinstance(new, EnumNode):
            yield from self.enum(old, new, at, label)
        if isinstance(old, RecordNode) and isinstance(new, RecordNode):
            yield from self.fields(old, new, at, label)

    def enum(self, old: EnumNode, new: EnumNode, at: str, label: str) -> Iterator[Change]:
        for index, symbol in enumerate(new.symbols):
            if symbol not in old.symbol_set:
                yield Change(
                    ChangeKind.ENUM_SYMBOL_ADDED,
                    f"{at}/symbols/{index}",
                    f'{_upper(label)} gained symbol "{symbol}".',
                )
        for index, symbol in enumerate(old.symbols):
            if symbol not in new.symbol_set:
                yield Change(
                    ChangeKind.ENUM_SYMBOL_REMOVED,
                    f"{old.pointer}/symbols/{index}",
                    f'{_upper(label)} lost symbol "{symbol}".',
                    in_old=True,
                )
        if old.default != new.default:
            yield Change(
                ChangeKind.ENUM_DEFAULT_CHANGED,
                f"{at}/default",
                f"The default symbol of {label} changed from {_short(old.default)} "
                f"to {_short(new.default)}.",
            )

    def fields(self, old: RecordNode, new: RecordNode, at: str, label: str) -> Iterator[Change]:
        matched: set[str] = set()
        for index, field in enumerate(new.fields):
            where = f"{at}/fields/{index}"
            before = old.by_name.get(field.name)
            if before is None:
                alias = next((a for a in field.aliases if a in old.by_name), None)
                if alias is not None:
                    before = old.by_name[alias]
                    yield Change(
                        ChangeKind.FIELD_RENAMED,
                        f"{where}/name",
                        f'Field "{alias}" of {label} was renamed to "{field.name}" (alias kept).',
                    )
            if before is None:
                default = (
                    f"with default {_short(field.default)}"
                    if field.has_default
                    else "without a default"
                )
                yield Change(
                    ChangeKind.FIELD_ADDED,
                    where,
                    f'Field "{field.name}" ({_describe(field.node)}) was added to {label} '
                    f"{default}.",
                )
                continue
            matched.add(before.name)
            owner = f'field "{field.name}" of {label}'
            yield from self.field_default(before, field, where, owner)
            if (before.doc or "") != (field.doc or ""):
                yield Change(ChangeKind.DOC_CHANGED, f"{where}/doc", f"The doc of {owner} changed.")
            yield from self.field_tags(before, field, where, owner)
            yield from self.diff(before.node, field.node, f"{where}/type", _upper(owner))
        for removed in old.fields:
            if removed.name not in matched:
                default = "it had a default" if removed.has_default else "it had no default"
                yield Change(
                    ChangeKind.FIELD_REMOVED,
                    removed.pointer,
                    f'Field "{removed.name}" was removed from {label} ({default}).',
                    in_old=True,
                )

    def field_tags(self, old: FieldNode, new: FieldNode, at: str, owner: str) -> Iterator[Change]:
        before, after = _tags(old), _tags(new)
        if before == after:
            return
        parts = []
        if after - before:
            parts.append(f"tagged {', '.join(sorted(after - before))}")
        if before - after:
            parts.append(f"untagged {', '.join(sorted(before - after))}")
        yield Change(
            ChangeKind.FIELD_TAGS_CHANGED,
            f"{at}/confluent:tags",
            f"{_upper(owner)} was {' and '.join(parts)}.",
        )

    def field_default(
        self, old: FieldNode, new: FieldNode, at: str, owner: str
    ) -> Iterator[Change]:
        if new.has_default and not old.has_default:
            yield Change(
                ChangeKind.FIELD_DEFAULT_ADDED,
                f"{at}/default",
                f"The {owner} gained default {_short(new.default)}.",
            )
        elif old.has_default and not new.has_default:
            yield Change(ChangeKind.FIELD_DEFAULT_REMOVED, at, f"The {owner} lost its default.")
        elif old.has_default and old.default != new.default:
            yield Change(
                ChangeKind.FIELD_DEFAULT_CHANGED,
                f"{at}/default",
                f"The default of {owner} changed from {_short(old.default)} "
                f"to {_short(new.default)}.",
            )


def _tags(field: FieldNode) -> frozenset[str]:
    tags = field.props.get("confluent:tags")
    return frozenset(map(str, tags)) if isinstance(tags, list) else frozenset()


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]

"""Change reports: what changed between two versions of a contract, and how to roll it out.

:func:`diff_versions` walks two schemas side by side and lists each change with a
stable kind (``FIELD_ADDED``, ``ENUM_SYMBOL_ADDED``, ``TYPE_PROMOTED``, ...), the JSON
pointer in the new schema, and a sentence. It then asks the compatibility engine
which way data can flow and turns that into rollout advice: with a backward-compatible
change the consumers upgrade first (new readers read old data); with a forward-compatible
one the producers upgrade first (old readers read new data); with both, any order.

Pure: schema JSON in, values out.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from somacontracts.catalog import CompatibilityLevel
from somacontracts.compat.engine import check_reader_writer
from somacontracts.compat.levels import directions
from somacontracts.compat.results import Direction
from somacontracts.validation import qualified_name

__all__ = ["Change", "ChangeKind", "ChangeReport", "diff_versions"]

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
_NAMED = ("record", "error", "enum", "fixed")


class ChangeKind(StrEnum):
    """Kinds of change between two versions of a schema."""

    FIELD_ADDED = "FIELD_ADDED"
    FIELD_REMOVED = "FIELD_REMOVED"
    FIELD_RENAMED = "FIELD_RENAMED"
    FIELD_DEFAULT_ADDED = "FIELD_DEFAULT_ADDED"
    FIELD_DEFAULT_REMOVED = "FIELD_DEFAULT_REMOVED"
    FIELD_DEFAULT_CHANGED = "FIELD_DEFAULT_CHANGED"
    TYPE_PROMOTED = "TYPE_PROMOTED"
    TYPE_CHANGED = "TYPE_CHANGED"
    LOGICAL_TYPE_CHANGED = "LOGICAL_TYPE_CHANGED"
    MADE_OPTIONAL = "MADE_OPTIONAL"
    UNION_BRANCH_ADDED = "UNION_BRANCH_ADDED"
    UNION_BRANCH_REMOVED = "UNION_BRANCH_REMOVED"
    ENUM_SYMBOL_ADDED = "ENUM_SYMBOL_ADDED"
    ENUM_SYMBOL_REMOVED = "ENUM_SYMBOL_REMOVED"
    ENUM_DEFAULT_CHANGED = "ENUM_DEFAULT_CHANGED"
    TYPE_RENAMED = "TYPE_RENAMED"
    FIXED_SIZE_CHANGED = "FIXED_SIZE_CHANGED"
    DOC_CHANGED = "DOC_CHANGED"


@dataclass(frozen=True, slots=True)
class Change:
    """One change, located by a JSON pointer into the newer schema."""

    kind: ChangeKind
    location: str
    message: str


@dataclass(frozen=True, slots=True)
class ChangeReport:
    """The changes from one version to another and what they mean for rollout."""

    old_version: int
    new_version: int
    changes: tuple[Change, ...]
    backward: bool
    """The new version reads data written with the old one."""
    forward: bool
    """The old version reads data written with the new one."""
    level: CompatibilityLevel

    @property
    def allowed(self) -> bool:
        """Whether the level's directions all hold for this pair."""
        needed = directions(self.level)
        return (Direction.BACKWARD not in needed or self.backward) and (
            Direction.FORWARD not in needed or self.forward
        )

    @property
    def rollout(self) -> str:
        """Which side must deploy first, in one sentence."""
        if self.backward and self.forward:
            return "Deploy in any order: producers and consumers may upgrade independently."
        if self.backward:
            return (
                "Upgrade consumers first: the new version reads old data, but old consumers "
                "cannot read data written with the new version."
            )
        if self.forward:
            return (
                "Upgrade producers first: old consumers read the new data, but the new "
                "version cannot read data already written with the old one."
            )
        return (
            "Neither side can read the other's data: coordinate a migration "
            "(a new topic or a drained one); the registry refuses this at any level but NONE."
        )


def diff_versions(
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    old_version: int,
    new_version: int,
    level: CompatibilityLevel,
) -> ChangeReport:
    """Report the changes from ``old`` to ``new`` schema JSON and their rollout."""
    differ = _Differ(copy.deepcopy(old), copy.deepcopy(new))
    changes = tuple(differ.diff(differ.old, differ.new, "", ""))
    return ChangeReport(
        old_version=old_version,
        new_version=new_version,
        changes=changes,
        backward=check_reader_writer(new, old).compatible,
        forward=check_reader_writer(old, new).compatible,
        level=level,
    )


def _describe(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "union [" + ", ".join(_describe(b) for b in schema) + "]"
    type_ = schema.get("type")
    if isinstance(type_, (dict, list)):
        return _describe(type_)
    if type_ in _NAMED:
        return f'{type_} "{schema["name"]}"'
    if "logicalType" in schema:
        return f"{type_} ({schema['logicalType']})"
    if type_ == "array":
        return f"array of {_describe(schema['items'])}"
    if type_ == "map":
        return f"map of {_describe(schema['values'])}"
    return str(type_)


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Differ:
    """Walks an old and a new schema; remembers named types to resolve references."""

    def __init__(self, old: Any, new: Any) -> None:
        self.old, self.new = old, new
        self.old_named: dict[str, Any] = {}
        self.new_named: dict[str, Any] = {}
        _collect(old, "", self.old_named)
        _collect(new, "", self.new_named)
        self.seen: set[str] = set()

    def resolve(self, schema: Any, named: dict[str, Any]) -> Any:
        if isinstance(schema, str) and schema in named:
            return named[schema]
        if isinstance(schema, str):
            short = [v for k, v in named.items() if k.rpartition(".")[2] == schema]
            if short:
                return short[0]
        if isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
            return self.resolve(schema["type"], named)
        return schema

    def diff(self, old: Any, new: Any, at: str, owner: str) -> Iterator[Change]:
        old = self.resolve(old, self.old_named)
        new = self.resolve(new, self.new_named)
        old_kind, new_kind = _kind(old), _kind(new)
        if isinstance(new, list) or isinstance(old, list):
            yield from self.union(old, new, at, owner)
            return
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
        if isinstance(old, dict) and isinstance(new, dict):
            if old.get("logicalType") != new.get("logicalType"):
                yield Change(
                    ChangeKind.LOGICAL_TYPE_CHANGED,
                    at,
                    f"{owner} changed logical type from {old.get('logicalType') or 'none'} "
                    f"to {new.get('logicalType') or 'none'}.",
                )
            if new_kind in _NAMED:
                yield from self.named(old, new, at)
            elif new_kind == "array":
                yield from self.diff(
                    old["items"], new["items"], f"{at}/items", f"the items of {owner}"
                )
            elif new_kind == "map":
                yield from self.diff(
                    old["values"], new["values"], f"{at}/values", f"the values of {owner}"
                )

    def union(self, old: Any, new: Any, at: str, owner: str) -> Iterator[Change]:
        old_branches = old if isinstance(old, list) else [old]
        new_branches = new if isinstance(new, list) else [new]
        old_keys = {_branch_key(self.resolve(b, self.old_named)): b for b in old_branches}
        new_keys = {
            _branch_key(self.resolve(b, self.new_named)): (i, b) for i, b in enumerate(new_branches)
        }
        if (
            not isinstance(old, list)
            and isinstance(new, list)
            and set(new_keys) == {"null", *old_keys}
        ):
            yield Change(
                ChangeKind.MADE_OPTIONAL, at, f"{owner} became optional (null or {_describe(old)})."
            )
        else:
            for key, (index, _) in new_keys.items():
                if key not in old_keys:
                    where = f"{at}/{index}" if isinstance(new, list) else at
                    yield Change(
                        ChangeKind.UNION_BRANCH_ADDED, where, f"{owner} gained union branch {key}."
                    )
            for key in old_keys:
                if key not in new_keys:
                    yield Change(
                        ChangeKind.UNION_BRANCH_REMOVED, at, f"{owner} lost union branch {key}."
                    )
        for key, (index, branch) in new_keys.items():
            if key in old_keys:
                where = f"{at}/{index}" if isinstance(new, list) else at
                yield from self.diff(old_keys[key], branch, where, owner)

    def named(self, old: dict[str, Any], new: dict[str, Any], at: str) -> Iterator[Change]:
        old_full, new_full = _full(old), _full(new)
        label = f'{new["type"]} "{new_full}"'
        if new_full in self.seen:
            return
        self.seen.add(new_full)
        if old_full != new_full:
            how = (
                "with an alias to the old name" if old_full in _aliases(new) else "without an alias"
            )
            yield Change(
                ChangeKind.TYPE_RENAMED,
                f"{at}/name",
                f'{_upper(label)} was renamed from "{old_full}" {how}.',
            )
        if (old.get("doc") or "") != (new.get("doc") or ""):
            yield Change(ChangeKind.DOC_CHANGED, f"{at}/doc", f"The doc of {label} changed.")
        if new["type"] == "fixed" and old["size"] != new["size"]:
            yield Change(
                ChangeKind.FIXED_SIZE_CHANGED,
                f"{at}/size",
                f"{_upper(label)} changed size from {old['size']} to {new['size']}.",
            )
        if new["type"] == "enum":
            yield from self.enum(old, new, at, label)
        if new["type"] in ("record", "error"):
            yield from self.fields(old, new, at, label)

    def enum(
        self, old: dict[str, Any], new: dict[str, Any], at: str, label: str
    ) -> Iterator[Change]:
        for index, symbol in enumerate(new["symbols"]):
            if symbol not in old["symbols"]:
                yield Change(
                    ChangeKind.ENUM_SYMBOL_ADDED,
                    f"{at}/symbols/{index}",
                    f'{_upper(label)} gained symbol "{symbol}".',
                )
        for symbol in old["symbols"]:
            if symbol not in new["symbols"]:
                yield Change(
                    ChangeKind.ENUM_SYMBOL_REMOVED,
                    f"{at}/symbols",
                    f'{_upper(label)} lost symbol "{symbol}".',
                )
        if old.get("default") != new.get("default"):
            yield Change(
                ChangeKind.ENUM_DEFAULT_CHANGED,
                f"{at}/default",
                f"The default symbol of {label} changed from {_short(old.get('default'))} "
                f"to {_short(new.get('default'))}.",
            )

    def fields(
        self, old: dict[str, Any], new: dict[str, Any], at: str, label: str
    ) -> Iterator[Change]:
        old_fields = {f["name"]: f for f in old["fields"]}
        matched: set[str] = set()
        for index, field in enumerate(new["fields"]):
            where = f"{at}/fields/{index}"
            name = field["name"]
            before = old_fields.get(name)
            if before is None:
                alias = next((a for a in field.get("aliases", []) if a in old_fields), None)
                if alias is not None:
                    before = old_fields[alias]
                    yield Change(
                        ChangeKind.FIELD_RENAMED,
                        f"{where}/name",
                        f'Field "{alias}" of {label} was renamed to "{name}" (alias kept).',
                    )
            if before is None:
                default = (
                    f"with default {_short(field['default'])}"
                    if "default" in field
                    else "without a default"
                )
                yield Change(
                    ChangeKind.FIELD_ADDED,
                    where,
                    f'Field "{name}" ({_describe(field["type"])}) was added to {label} {default}.',
                )
                continue
            matched.add(before["name"])
            owner = f'field "{name}" of {label}'
            yield from self.field_default(before, field, where, owner)
            if (before.get("doc") or "") != (field.get("doc") or ""):
                yield Change(ChangeKind.DOC_CHANGED, f"{where}/doc", f"The doc of {owner} changed.")
            yield from self.diff(before["type"], field["type"], f"{where}/type", _upper(owner))
        for name, field in old_fields.items():
            if name not in matched:
                default = "it had a default" if "default" in field else "it had no default"
                yield Change(
                    ChangeKind.FIELD_REMOVED,
                    at,
                    f'Field "{name}" was removed from {label} ({default}).',
                )

    def field_default(
        self, old: dict[str, Any], new: dict[str, Any], at: str, owner: str
    ) -> Iterator[Change]:
        if "default" in new and "default" not in old:
            yield Change(
                ChangeKind.FIELD_DEFAULT_ADDED,
                f"{at}/default",
                f"The {owner} gained default {_short(new['default'])}.",
            )
        elif "default" in old and "default" not in new:
            yield Change(ChangeKind.FIELD_DEFAULT_REMOVED, at, f"The {owner} lost its default.")
        elif "default" in old and old["default"] != new["default"]:
            yield Change(
                ChangeKind.FIELD_DEFAULT_CHANGED,
                f"{at}/default",
                f"The default of {owner} changed from {_short(old['default'])} "
                f"to {_short(new['default'])}.",
            )


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _kind(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "union"
    return str(schema.get("type"))


def _full(schema: dict[str, Any]) -> str:
    return str(schema.get("_full_name", schema["name"]))


def _aliases(schema: dict[str, Any]) -> set[str]:
    space = _full(schema).rpartition(".")[0]
    return {a if "." in a or not space else f"{space}.{a}" for a in schema.get("aliases", [])}


def _branch_key(schema: Any) -> str:
    if isinstance(schema, dict) and schema.get("type") in _NAMED:
        return _full(schema)
    return _kind(schema)


def _collect(schema: Any, namespace: str, named: dict[str, Any]) -> None:
    """Index named types by full name, noting each one's full name in it (on a copy)."""
    if isinstance(schema, list):
        for branch in schema:
            _collect(branch, namespace, named)
        return
    if not isinstance(schema, dict):
        return
    type_ = schema.get("type")
    if isinstance(type_, (dict, list)):
        _collect(type_, namespace, named)
        return
    if type_ in _NAMED:
        full = qualified_name(str(schema["name"]), schema.get("namespace", namespace) or "")
        schema["_full_name"] = full
        named[full] = schema
        namespace = full.rpartition(".")[0]
        for field in schema.get("fields", []):
            _collect(field["type"], namespace, named)
    for key in ("items", "values"):
        if key in schema:
            _collect(schema[key], namespace, named)

"""Change reports: each kind of change is found at the right place; rollout follows the engine."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from somacontracts.compat.changes import diff_versions
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.compat.report import ChangeKind

BASE: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "doc": "An order.",
    "fields": [
        {"name": "id", "type": "string", "doc": "Id."},
        {"name": "amount", "type": "int", "doc": "Amount."},
        {"name": "note", "type": ["null", "string"], "default": None, "doc": "Note."},
        {
            "name": "state",
            "doc": "State.",
            "type": {
                "type": "enum",
                "name": "State",
                "symbols": ["NEW", "PAID", "UNKNOWN"],
                "default": "UNKNOWN",
            },
        },
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 16}, "doc": "Hash."},
        {
            "name": "tags",
            "type": {"type": "array", "items": "string"},
            "default": [],
            "doc": "Tags.",
        },
    ],
}


def changed(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    new = copy.deepcopy(BASE)
    edit(new)
    return new


def field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


CASES: list[tuple[str, Callable[[dict[str, Any]], None], ChangeKind, str, bool, bool]] = [
    (
        "add optional",
        lambda s: s["fields"].append({"name": "x", "type": "int", "default": 0}),
        ChangeKind.FIELD_ADDED,
        "/fields/6",
        True,
        True,
    ),
    (
        "add required",
        lambda s: s["fields"].append({"name": "x", "type": "int"}),
        ChangeKind.FIELD_ADDED,
        "/fields/6",
        False,
        True,
    ),
    # what was removed is located in the older schema
    (
        "remove defaulted",
        lambda s: s["fields"].pop(2),
        ChangeKind.FIELD_REMOVED,
        "/fields/2",
        True,
        True,
    ),
    (
        "remove required",
        lambda s: s["fields"].pop(1),
        ChangeKind.FIELD_REMOVED,
        "/fields/1",
        True,
        False,
    ),
    (
        "promote",
        lambda s: field(s, "amount").update(type="long"),
        ChangeKind.TYPE_PROMOTED,
        "/fields/1/type",
        True,
        False,
    ),
    (
        "change type",
        lambda s: field(s, "amount").update(type="string"),
        ChangeKind.TYPE_CHANGED,
        "/fields/1/type",
        False,
        False,
    ),
    (
        "made optional",
        lambda s: field(s, "id").update(type=["null", "string"]),
        ChangeKind.MADE_OPTIONAL,
        "/fields/0/type",
        True,
        False,
    ),
    (
        "union branch",
        lambda s: field(s, "note").update(type=["null", "string", "int"]),
        ChangeKind.UNION_BRANCH_ADDED,
        "/fields/2/type/2",
        True,
        False,
    ),
    (
        "symbol added",
        lambda s: field(s, "state")["type"]["symbols"].insert(2, "SHIPPED"),
        ChangeKind.ENUM_SYMBOL_ADDED,
        "/fields/3/type/symbols/2",
        True,
        True,
    ),
    (
        "symbol removed",
        lambda s: field(s, "state")["type"]["symbols"].remove("PAID"),
        ChangeKind.ENUM_SYMBOL_REMOVED,
        "/fields/3/type/symbols/1",
        True,
        True,
    ),
    (
        "fixed size",
        lambda s: field(s, "hash")["type"].update(size=32),
        ChangeKind.FIXED_SIZE_CHANGED,
        "/fields/4/type/size",
        False,
        False,
    ),
    (
        "rename with alias",
        lambda s: field(s, "amount").update(name="total", aliases=["amount"]),
        ChangeKind.FIELD_RENAMED,
        "/fields/1/name",
        True,
        False,
    ),
    (
        "default added",
        lambda s: field(s, "amount").update(default=0),
        ChangeKind.FIELD_DEFAULT_ADDED,
        "/fields/1/default",
        True,
        True,
    ),
    (
        "default changed",
        lambda s: field(s, "tags").update(default=["a"]),
        ChangeKind.FIELD_DEFAULT_CHANGED,
        "/fields/5/default",
        True,
        True,
    ),
    (
        "items changed",
        lambda s: field(s, "tags")["type"].update(items="bytes"),
        ChangeKind.TYPE_PROMOTED,
        "/fields/5/type/items",
        True,
        True,
    ),
    (
        "record renamed",
        lambda s: s.update(name="Purchase", aliases=["shop.Order"]),
        ChangeKind.TYPE_RENAMED,
        "/name",
        True,
        False,
    ),
    ("doc", lambda s: s.update(doc="A purchase."), ChangeKind.DOC_CHANGED, "/doc", True, True),
]


@pytest.mark.parametrize(
    ("name", "edit", "kind", "location", "backward", "forward"), CASES, ids=[c[0] for c in CASES]
)
def test_each_change_kind(
    name: str,
    edit: Callable[[dict[str, Any]], None],
    kind: ChangeKind,
    location: str,
    backward: bool,
    forward: bool,
) -> None:
    report = diff_versions(
        BASE, changed(edit), old_version=1, new_version=2, level=CompatibilityLevel.FULL
    )
    kinds = [(c.kind, c.location) for c in report.changes]
    assert (kind, location) in kinds
    assert len(report.changes) == 1, kinds
    assert report.backward is backward
    assert report.forward is forward
    assert report.allowed is (backward and forward)


def test_rollout_advice_follows_the_directions() -> None:
    promote = changed(lambda s: field(s, "amount").update(type="long"))
    report = diff_versions(
        BASE, promote, old_version=1, new_version=2, level=CompatibilityLevel.BACKWARD
    )
    assert report.allowed
    assert report.rollout.startswith("Upgrade consumers first")
    require = changed(lambda s: s["fields"].append({"name": "x", "type": "int"}))
    report = diff_versions(
        BASE, require, old_version=1, new_version=2, level=CompatibilityLevel.FORWARD
    )
    assert report.allowed
    assert report.rollout.startswith("Upgrade producers first")
    remove = changed(lambda s: s["fields"].pop(1))
    assert not diff_versions(
        BASE, remove, old_version=1, new_version=2, level=CompatibilityLevel.FULL
    ).allowed
    same = diff_versions(
        BASE, BASE, old_version=1, new_version=2, level=CompatibilityLevel.FULL_TRANSITIVE
    )
    assert same.changes == ()
    assert same.rollout.startswith("Deploy in any order")
    broken = changed(lambda s: field(s, "amount").update(type="string"))
    assert diff_versions(
        BASE, broken, old_version=1, new_version=2, level=CompatibilityLevel.NONE
    ).allowed
    assert (
        "coordinate a migration"
        in diff_versions(
            BASE, broken, old_version=1, new_version=2, level=CompatibilityLevel.NONE
        ).rollout
    )


def test_inputs_are_not_modified() -> None:
    old, new = copy.deepcopy(BASE), changed(lambda s: s.update(doc="x"))
    keep_old, keep_new = copy.deepcopy(old), copy.deepcopy(new)
    diff_versions(old, new, old_version=1, new_version=2, level=CompatibilityLevel.FULL)
    assert (old, new) == (keep_old, keep_new)

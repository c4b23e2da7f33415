"""The Data Contract parts of two versions compared: rules added, changed or removed, and
metadata changed, as :class:`~somacontracts.compat.report.Change` values (pure).

A rule added or changed that transforms data on read (an ENCRYPT rule) makes consumers
deploy first: they must run it before producers write the new version.
"""

from __future__ import annotations

from typing import Any

from somacontracts.compat.report import Change, ChangeKind

__all__ = ["contract_changes"]


_RULE_KINDS = ("domainRules", "migrationRules", "encodingRules")


def contract_changes(old: tuple[Any, Any], new: tuple[Any, Any]) -> tuple[list[Change], str | None]:
    """The changes between two versions' Data Contract parts, and why readers must deploy
    first if a rule added or changed transforms what they read."""
    changes: list[Change] = []
    readers_first: str | None = None
    (old_meta, old_rules), (new_meta, new_rules) = old, new
    if (old_meta or {}) != (new_meta or {}):
        changes.append(
            Change(
                ChangeKind.METADATA_CHANGED,
                "contract:/metadata",
                f"The Data Contract metadata changed: {_metadata_delta(old_meta, new_meta)}.",
            )
        )
    for kind in _RULE_KINDS:
        before = {r.get("name"): r for r in (old_rules or {}).get(kind, [])}
        for index, rule in enumerate((new_rules or {}).get(kind, [])):
            where = f"contract:/ruleSet/{kind}/{index}"
            label = f'{rule.get("type")} rule "{rule.get("name")}"'
            previous = before.pop(rule.get("name"), None)
            if previous == rule:
                continue
            what = ChangeKind.RULE_ADDED if previous is None else ChangeKind.RULE_CHANGED
            verb = "was added" if previous is None else "changed"
            changes.append(Change(what, where, f"{_capital(label)} {verb}."))
            transforms_reads = (
                rule.get("kind") == "TRANSFORM"
                and rule.get("mode") in ("READ", "WRITEREAD")
                and not rule.get("disabled")
            )
            if transforms_reads and readers_first is None:
                readers_first = (
                    f"the {label} transforms data on read, so every consumer needs the "
                    "rules extra and its keys before producers write the new version."
                )
        for name, rule in before.items():
            changes.append(
                Change(
                    ChangeKind.RULE_REMOVED,
                    f"contract:/ruleSet/{kind}",
                    f'{_capital(str(rule.get("type")))} rule "{name}" was removed.',
                    in_old=True,
                )
            )
    return changes, readers_first


def _metadata_delta(old: Any, new: Any) -> str:
    """What changed between two metadata parts, in a few words."""
    said = []
    before, after = (old or {}).get("properties") or {}, (new or {}).get("properties") or {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            said.append(f"property {key} {before.get(key)!r} -> {after.get(key)!r}")
    for part in ("tags", "sensitive"):
        if (old or {}).get(part) != (new or {}).get(part):
            said.append(f"{part} changed")
    return "; ".join(said) or "its form changed"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]

"""The next version of a package of contracts, decided by what changed since the last release.

Semantic versioning, from the change report of every contract version added since the
last release and from the generated classes' Python API (PYTHON_API_BROKEN):

* **major**: a contract version starts another major version (a compatibility group,
  ``application.major.version``), a contract is gone, or the Python API of the generated
  classes breaks code that imports them (an attribute renamed without an alias, a type
  changed, a new required argument, an enum member gone), even where Avro reads both;
* **minor**: a new contract or a new version of one, and nothing breaks;
* **patch**: anything else that changed (docs, lint settings, tooling).

Pure: the two trees and the changed files in, a :class:`ReleasePlan` out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from somacontracts.compat.changes import diff_versions
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.compat.report import Change, ChangeReport
from somacontracts.errors import ReleaseError
from somacontracts.tooling.codegen.surface import api_breaks, python_surface
from somacontracts.tooling.sources import ContractSchemas

__all__ = ["BUMPS", "ContractRelease", "ReleasePlan", "next_version", "plan_release"]

BUMPS = ("patch", "minor", "major")
"""Bumps from the smallest to the largest."""


@dataclasses.dataclass(frozen=True, slots=True)
class ContractRelease:
    """What a release changes of one contract."""

    contract: str
    added: bool
    """A contract the last release did not have."""
    removed: bool
    reports: tuple[ChangeReport, ...]
    """Each version new since the last release against the one before it."""
    api: tuple[Change, ...]
    """The PYTHON_API_BROKEN changes of its generated classes."""
    readers: tuple[str, ...] = ()
    """The consumers of its topics, where the catalog names them."""
    by_readers: Mapping[int, str] = dataclasses.field(default_factory=dict)
    """New version -> the ``--by-readers`` decision the lock records for it, in words."""


@dataclasses.dataclass(frozen=True, slots=True)
class ReleasePlan:
    """The proposed version and why."""

    previous: str | None
    """The last release's tag; None for the first release."""
    version: str
    bump: str
    """``major``, ``minor``, ``patch``, or ``first`` (the version as the project has it)."""
    reasons: tuple[str, ...]
    contracts: tuple[ContractRelease, ...]


def next_version(version: tuple[int, int, int], bump: str) -> str:
    """``version`` raised by ``bump``."""
    major, minor, patch = version
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def plan_release(
    tree: Mapping[str, ContractSchemas],
    released: Mapping[str, ContractSchemas],
    *,
    previous: tuple[str, tuple[int, int, int]],
    changed: Sequence[str],
    levels: Mapping[str, CompatibilityLevel],
    readers: Mapping[str, Sequence[str]],
    by_readers: Mapping[str, Mapping[int, str]] | None = None,
) -> ReleasePlan:
    """The release after ``previous`` (tag, version) whose tree was ``released``, now that
    the tree is ``tree`` and the files ``changed`` changed; ``by_readers`` holds the
    ``--by-readers`` decisions of the lock (contract -> version -> in words)."""
    breaks = api_breaks(python_surface(released), python_surface(tree))
    contracts: list[ContractRelease] = []
    for name in sorted({*tree, *released}):
        release = _contract(name, tree, released, breaks.get(name, []), levels, readers)
        decided = (by_readers or {}).get(name, {})
        new = {r.new_version for r in release.reports}
        if decided.keys() & new:
            release = dataclasses.replace(
                release, by_readers={n: t for n, t in sorted(decided.items()) if n in new}
            )
        if release.added or release.removed or release.reports or release.api:
            contracts.append(release)
    bump, reasons = _bump(contracts)
    if bump is None:
        if not changed:
            raise ReleaseError("contracts", f"nothing changed since {previous[0]}")
        bump = "patch"
        reasons = [
            f"{len(changed)} file(s) changed and no contract version was added "
            "(docs, lint or tooling only)"
        ]
    return ReleasePlan(
        previous=previous[0],
        version=next_version(previous[1], bump),
        bump=bump,
        reasons=tuple(reasons),
        contracts=tuple(contracts),
    )


def _contract(
    name: str,
    tree: Mapping[str, ContractSchemas],
    released: Mapping[str, ContractSchemas],
    api: list[Change],
    levels: Mapping[str, CompatibilityLevel],
    readers: Mapping[str, Sequence[str]],
) -> ContractRelease:
    now, before = tree.get(name), released.get(name)
    reports: list[ChangeReport] = []
    if now is not None and before is not None:
        known = {v.version for v in before.versions}
        for version in now.versions:
            if version.version in known:
                continue
            old = now.version(version.version - 1)
            reports.append(
                diff_versions(
                    old.parsed,
                    version.parsed,
                    old_version=old.version,
                    new_version=version.version,
                    level=levels.get(name, CompatibilityLevel.FULL_TRANSITIVE),
                    old_contract=(old.metadata, old.rule_set),
                    new_contract=(version.metadata, version.rule_set),
                )
            )
    return ContractRelease(
        contract=name,
        added=before is None,
        removed=now is None,
        reports=tuple(reports),
        api=tuple(api),
        readers=tuple(readers.get(name, ())),
    )


def _bump(contracts: Sequence[ContractRelease]) -> tuple[str | None, list[str]]:
    """The largest bump the contracts' changes ask for, and each change's reason."""
    found: list[tuple[str, str]] = []
    for c in contracts:
        if c.removed:
            found.append(("major", f"{c.contract} was removed"))
            continue
        if c.added:
            found.append(("minor", f"{c.contract} is a new contract"))
        for r in c.reports:
            if r.new_major:
                found.append(
                    (
                        "major",
                        f"{c.contract} v{r.new_version} starts major version {r.majors[1]} "
                        "(a new compatibility group)",
                    )
                )
            else:
                found.append(("minor", f"{c.contract} v{r.new_version} is a new version"))
        found += [("major", f"{change.kind.value}: {change.message}") for change in c.api]
    if not found:
        return None, []
    bump = max((b for b, _ in found), key=BUMPS.index)
    return bump, [reason for b, reason in found if b == bump]

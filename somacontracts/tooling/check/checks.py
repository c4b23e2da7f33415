"""The rules ``somacontracts check`` applies to a tree of contracts, as pure functions.

For each contract: every version is compatible with the ones before it of its major
version at the contract's level (each schema parsed once), and passes the lint rules. Immutability
against the lock file or a git revision is compared in :mod:`somacontracts.tooling.check.lock`.
"""

from __future__ import annotations

from collections.abc import Mapping

from somacontracts.compat import Direction, check_level
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.schema.datacontract import major_version
from somacontracts.tooling.check.findings import Category, Finding
from somacontracts.tooling.check.lint import lint
from somacontracts.tooling.sources import ContractSchemas

__all__ = ["check_compatibility", "check_tree"]


def check_compatibility(contract: ContractSchemas, level: CompatibilityLevel) -> list[Finding]:
    """Findings for every version that breaks ``level`` with the versions before it of
    its major version (``application.major.version`` in its metadata, if any: a new
    major version may break, and migration rules carry data across)."""
    findings = []
    versions = contract.versions
    for index in range(1, len(versions)):
        new = versions[index]
        major = major_version(new.metadata)
        before = [v for v in versions[:index] if major_version(v.metadata) == major]
        if not before:
            continue
        result = check_level(level, new.parsed, [v.parsed for v in before])
        for problem in result.problems:
            old = before[(problem.version or len(before)) - 1]
            if problem.direction is Direction.FORWARD:
                reader, summary = (
                    old,
                    f"v{old.version} cannot read data written with v{new.version}",
                )
            else:
                reader, summary = (
                    new,
                    f"v{new.version} cannot read data written with v{old.version}",
                )
            findings.append(
                Finding(
                    rule=problem.type.value,
                    category=Category.COMPATIBILITY,
                    contract=contract.name,
                    version=new.version,
                    path=str(reader.path),
                    location=problem.location,
                    message=f"{summary} ({level.value}): {problem.message}",
                )
            )
    return findings


def check_tree(
    tree: Mapping[str, ContractSchemas],
    levels: Mapping[str, CompatibilityLevel],
    *,
    disabled: frozenset[str] = frozenset(),
    severities: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Compatibility and lint findings for every contract of ``tree``, grouped by contract."""
    findings = []
    for name, contract in tree.items():
        findings += check_compatibility(contract, levels[name])
        findings += lint(contract.versions, disabled=disabled, severities=severities)
    return findings

"""The findings of ``check`` on a project's tree without a registry: rules, lock, models.

What ``check`` and ``release`` (which refuses to release a project ``check`` fails) both
run: every rule of :func:`~somacontracts.tooling.check.check_tree` at the contracts'
levels, the lock file against the tree, and the generated models against the schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from somacontracts.tooling import sources
from somacontracts.tooling.check.checks import check_tree
from somacontracts.tooling.check.findings import Category, Finding
from somacontracts.tooling.check.lock import compare, read_lock
from somacontracts.tooling.codegen import compare_modules
from somacontracts.tooling.codegen.names import module_name
from somacontracts.tooling.codegen.package import render_project
from somacontracts.tooling.configuration import ProjectConfig

__all__ = ["models_findings", "project_findings"]


def project_findings(
    tree: Mapping[str, sources.ContractSchemas], config: ProjectConfig, lock_path: Path
) -> list[Finding]:
    """The rules' findings on ``tree``, the lock's, and those of the models of ``config``."""
    levels = {name: config.level_of(name) for name in tree}
    findings = check_tree(
        tree, levels, disabled=config.disabled_rules, severities=config.severities
    )
    lock = read_lock(lock_path)
    findings += compare(lock.versions, tree, baseline=str(lock_path), report_unrecorded=True)
    if config.models is not None:
        findings += models_findings(tree, config, config.models)
    return findings


def models_findings(
    tree: Mapping[str, sources.ContractSchemas], config: ProjectConfig, models: Path
) -> list[Finding]:
    """Findings for generated model modules that differ from what the schemas produce."""
    owners = {f"{module_name(name)}.py": name for name in tree}
    return [
        Finding(
            rule="MODELS_UP_TO_DATE",
            category=Category.IMMUTABILITY,
            contract=owners.get(difference.path.name, difference.path.name),
            version=None,
            path=str(difference.path),
            location="",
            message=f'Generated module "{difference.path.name}" is {difference.kind}; '
            "run `somacontracts codegen`.",
        )
        for difference in compare_modules(render_project(dict(tree), config), models)
    ]

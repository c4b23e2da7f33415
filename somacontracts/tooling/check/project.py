"""The findings of ``check`` on a project's tree without a registry: rules, lock, models.

What ``check`` and ``release`` (which refuses to release a project ``check`` fails) both
run: every rule of :func:`~somacontracts.tooling.check.check_tree` at the contracts'
levels, the lock file against the tree, and the generated models against the schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from somacontracts.catalog.entries import Contract
from somacontracts.catalog.reading import platform_catalog
from somacontracts.errors import SchemaLoadError
from somacontracts.schema.keys import key_problem
from somacontracts.tooling import sources
from somacontracts.tooling.check.checks import check_tree
from somacontracts.tooling.check.findings import Category, Finding
from somacontracts.tooling.check.lock import compare, read_lock
from somacontracts.tooling.codegen import compare_modules
from somacontracts.tooling.codegen.names import module_name
from somacontracts.tooling.codegen.package import render_project
from somacontracts.tooling.configuration import ProjectConfig

__all__ = ["catalog_findings", "models_findings", "project_findings", "require_catalog_match"]


def project_findings(
    tree: Mapping[str, sources.ContractSchemas],
    config: ProjectConfig,
    lock_path: Path,
    root: Path,
) -> list[Finding]:
    """The rules' findings on ``tree`` (read from ``root``), the catalog's, the lock's,
    and those of the models of ``config``."""
    levels = {name: config.level_of(name) for name in tree}
    findings = check_tree(
        tree, levels, disabled=config.disabled_rules, severities=config.severities
    )
    findings += catalog_findings(tree, root, config)
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


def catalog_findings(
    tree: Mapping[str, sources.ContractSchemas], root: Path, config: ProjectConfig
) -> list[Finding]:
    """Where the project's catalog and the tree at ``root`` disagree: a topic carrying a
    contract without a folder (``CATALOG_CONTRACT``; for this package's own tree, also a
    folder no topic carries), a contract's ``key`` that names no field of its newest
    version fit to key messages (``CATALOG_KEY``), or one that names personal data
    (``KEY_PII``; :mod:`somacontracts.schema.keys`). Only the project's own tree is
    compared (not another given by ``--schemas``), and not under the platform's catalog (a
    service without topics of its own: the platform's topics are not its to carry)."""
    catalog = config.catalog
    bundled = root.resolve() == sources.bundled_root().resolve()
    own = config.schemas is not None and root.resolve() == config.schemas.resolve()
    if not bundled and (not own or catalog is platform_catalog()):
        return []
    missing = [
        (
            name,
            f'topic "{catalog.topic(entry.topics[0]).default_name}" of the catalog '
            f"({catalog.source}) carries contract {name}, but there is no {name}/ folder",
        )
        for name, entry in catalog.contracts.items()
        if name not in tree
    ]
    missing += [
        (name, f"folder {name}/ is not a contract of the catalog ({catalog.source})")
        for name in (tree if bundled else ())
        if name not in catalog.contracts
    ]
    findings = [
        Finding("CATALOG_CONTRACT", Category.CATALOG, name, None, catalog.source or None, "", why)
        for name, why in missing
    ]
    for name, entry in catalog.contracts.items():
        if name in tree:
            findings += _key_findings(tree[name].versions[-1], entry, config)
    return findings


def _key_findings(
    newest: sources.SchemaVersion, entry: Contract, config: ProjectConfig
) -> list[Finding]:
    problem = key_problem(
        newest.parsed.root,
        entry.key_field,
        metadata=newest.metadata,
        rule_set=newest.rule_set,
    )
    if problem is None:
        return []
    topics = ", ".join(f'"{config.catalog.topic(key).default_name}"' for key in entry.topics)
    return [
        Finding(
            rule=problem.rule,
            category=Category.CATALOG,
            contract=entry.name,
            version=newest.version,
            path=str(newest.path),
            location=problem.pointer,
            message=f'The key "{entry.key_field}" of topic {topics} ({config.catalog.source}) '
            f"cannot key {entry.name} v{newest.version}: {problem.reason}.",
        )
    ]


def require_catalog_match(
    tree: Mapping[str, sources.ContractSchemas], root: Path, config: ProjectConfig
) -> None:
    """Raise :class:`~somacontracts.errors.SchemaLoadError` with the first of
    :func:`catalog_findings` (``validate``, ``docs``)."""
    for finding in catalog_findings(tree, root, config)[:1]:
        if finding.rule == "CATALOG_CONTRACT":  # no file of the tree to name
            raise SchemaLoadError(finding.message, source=str(root))
        raise SchemaLoadError(finding.message, location=finding.location, source=finding.path)

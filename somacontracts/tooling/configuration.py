"""The project's configuration: ``[tool.somacontracts]`` in ``pyproject.toml``, read by
every command the same way.

Without ``--config``, commands read the nearest ``pyproject.toml`` holding the table, in
the current folder or one above it (:func:`find_config`); relative paths in it are
relative to that file. Without one, the defaults apply: this package's own contracts,
and ``somacontracts.lock`` in the current folder.

Keys (all optional)::

    [tool.somacontracts]
    schemas = "avro"                 # folder of <Contract>/vN.avsc, relative to the file
    lock = "somacontracts.lock"      # lock file, relative to the file
    models = "src/payments/models"   # generated models of the tree (codegen's output)
    line-length = 100                # of generated models (default: [tool.ruff]'s, else 88)
    default-level = "FULL_TRANSITIVE"

    [tool.somacontracts.levels]      # per-contract compatibility levels
    Payment = "BACKWARD"

    [tool.somacontracts.lint]
    disable = ["FIELD_DOC"]          # lint rule ids to turn off
    severity = {PII_UNTAGGED = "error"}   # or "warning": reported, not failing

    [tool.somacontracts.subjects]    # registry subjects per contract (check --registry)
    Payment = ["payments-value"]

    [tool.somacontracts.topics."payments.captured"]   # the catalog: one table per topic
    contract = "Payment"
    key = "tenant_id"                # the payload field that keys its messages
    partitions = 3                   # and the other keys of catalog.reading.TOPIC_KEYS

A project's catalog is its ``topics`` tables, or the catalog file its ``catalog`` key
names (``catalog = "somacontracts/catalog/platform.toml"``: this package's); a project
that declares neither, and no configuration, has this package's catalog. A contract
without a level here takes ``default-level``; a contract without subjects here takes its
topics' (``<topic>-value``, after environment overrides). Any bad value is a
:class:`~somacontracts.errors.ConfigurationError` naming the file and key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from somacontracts.catalog.entries import Catalog
from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.catalog.reading import catalog_of_project, platform_catalog
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import ConfigurationError

__all__ = ["ProjectConfig", "find_config", "load_config", "read_config"]

_KEYS = frozenset(
    {
        "schemas",
        "lock",
        "models",
        "line-length",
        "default-level",
        "levels",
        "lint",
        "subjects",
        "catalog",
        "topics",
        "contracts",
        "legacy-names",
    }
)
DEFAULT_LINE_LENGTH = 88
"""ruff's default line length: generated models are laid out for it unless configured."""


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """Where the contracts are and which rules and levels apply to them."""

    schemas: Path | None = None
    """The schema folder; None means this package's own contracts."""
    lock: Path = Path("somacontracts.lock")
    models: Path | None = None
    """The folder of the tree's generated models, which ``check`` compares with the schemas."""
    line_length: int = DEFAULT_LINE_LENGTH
    """The line length generated models are laid out for: ``line-length`` here, else
    ``[tool.ruff] line-length``, else ruff's default."""
    default_level: CompatibilityLevel = CompatibilityLevel.FULL_TRANSITIVE
    levels: Mapping[str, CompatibilityLevel] = field(default_factory=dict)
    disabled_rules: frozenset[str] = frozenset()
    severities: Mapping[str, str] = field(default_factory=dict)
    """Lint rule id -> ``error`` or ``warning``, where the configuration changes a rule's."""
    subjects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    catalog: Catalog = field(default_factory=platform_catalog)
    """The project's topics and the contracts they carry: its ``topics`` tables, or the
    file its ``catalog`` key names; this package's own catalog for no configuration."""

    def settings(self, environ: Mapping[str, str] | None = None) -> Settings:
        """The environment's settings (default ``os.environ``) for this project's catalog."""
        return load_settings(environ, catalog=self.catalog)

    def subjects_of(
        self, contract: str, *, environ: Mapping[str, str] | None = None
    ) -> tuple[str, ...]:
        """The registry subjects of ``contract``: from configuration, else from the catalog
        (topic names after the overrides of ``environ``, default ``os.environ``)."""
        if contract in self.subjects:
            return self.subjects[contract]
        if contract in self.catalog.contracts:
            return self.settings(environ).subjects_of(contract)
        raise ConfigurationError(
            f"[tool.somacontracts.subjects] {contract}",
            "is not set, and no topic of the catalog carries the contract "
            f'(declare one: [tool.somacontracts.topics."TOPIC"] contract = "{contract}")',
        )

    def level_of(self, contract: str) -> CompatibilityLevel:
        """The compatibility level that applies to ``contract``."""
        if contract in self.levels:
            return self.levels[contract]
        entry = self.catalog.contracts.get(contract)
        pinned = None if entry is None else entry.compatibility
        return self.default_level if pinned is None else pinned


def find_config(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.somacontracts]`` table, in ``start``
    (the current folder) or a folder above it, as ruff and mypy find theirs; relative to
    ``start``; None if there is none."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_table(candidate):
            # relative to the start, as paths in reports and annotations should be
            return Path(os.path.relpath(candidate, start))
    return None


def _has_table(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return True  # a broken file is reported by load_config, not skipped
    tool = data.get("tool")
    return isinstance(tool, dict) and "somacontracts" in tool


def read_config(path: Path | None = None, *, start: Path | None = None) -> ProjectConfig:
    """The configuration in ``path``, else in the nearest ``pyproject.toml`` holding one
    from ``start`` (default: the current folder), else the defaults; lint rule ids are
    checked against ``check``'s rules."""
    from somacontracts.tooling.check.lint import RULES  # check reads this module: not at import

    if path is None:
        found = find_config(Path.cwd() if start is None else start)
        # relative to the current folder, as reports and annotations show paths
        path = found if found is None or start is None else start / found
    return load_config(path, known_rules=frozenset(rule.id for rule in RULES))


def load_config(path: Path | None, *, known_rules: frozenset[str]) -> ProjectConfig:
    """Read ``[tool.somacontracts]`` from ``path``; ``None`` gives the defaults (a lock
    file in the current folder). A file that does not exist is an error."""
    if path is None:
        return ProjectConfig(lock=Path("somacontracts.lock"))
    where = str(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(where, "does not exist") from None
    except IsADirectoryError:
        raise ConfigurationError(where, "is a folder, not a TOML file") from None
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigurationError(where, f"cannot be read: {err}") from err
    table = data.get("tool", {}).get("somacontracts", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where} [tool.somacontracts]", "must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigurationError(f"{where} [tool.somacontracts]", f"unknown key {unknown[0]!r}")
    base = path.parent
    schemas = _string(table, "schemas", where)
    lock = _string(table, "lock", where) or "somacontracts.lock"
    models = _string(table, "models", where)
    default_level = _level(table.get("default-level", "FULL_TRANSITIVE"), f"{where} default-level")
    levels_table = table.get("levels", {})
    if not isinstance(levels_table, dict):
        raise ConfigurationError(f"{where} [tool.somacontracts.levels]", "must be a table")
    levels = {
        name: _level(value, f"{where} [tool.somacontracts.levels] {name}")
        for name, value in levels_table.items()
    }
    lint = table.get("lint", {})
    disable = lint.get("disable", []) if isinstance(lint, dict) else None
    if not isinstance(disable, list) or not all(isinstance(r, str) for r in disable):
        raise ConfigurationError(
            f"{where} [tool.somacontracts.lint] disable", "must be a list of rule ids"
        )
    for rule in disable:
        if rule not in known_rules:
            raise ConfigurationError(
                f"{where} [tool.somacontracts.lint] disable",
                f"unknown rule {rule!r}; rules: {', '.join(sorted(known_rules))}",
            )
    severity = lint.get("severity", {}) if isinstance(lint, dict) else {}
    severity_key = f"{where} [tool.somacontracts.lint] severity"
    if not isinstance(severity, dict):
        raise ConfigurationError(severity_key, 'must be a table such as {PII_UNTAGGED = "error"}')
    for rule, value in severity.items():
        if rule not in known_rules:
            raise ConfigurationError(
                f"{severity_key} {rule}",
                f"unknown rule; rules: {', '.join(sorted(known_rules))}",
            )
        if value not in ("error", "warning"):
            raise ConfigurationError(f"{severity_key} {rule}", 'must be "error" or "warning"')
    subjects_table = table.get("subjects", {})
    subjects: dict[str, tuple[str, ...]] = {}
    if not isinstance(subjects_table, dict):
        raise ConfigurationError(f"{where} [tool.somacontracts.subjects]", "must be a table")
    for name, value in subjects_table.items():
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(s, str) and s for s in value)
        ):
            raise ConfigurationError(
                f"{where} [tool.somacontracts.subjects] {name}", "must be a list of subject names"
            )
        subjects[name] = tuple(value)
    return ProjectConfig(
        line_length=_line_length(table, data, where),
        subjects=subjects,
        schemas=base / schemas if schemas else None,
        lock=base / lock,
        models=base / models if models else None,
        default_level=default_level,
        levels=levels,
        disabled_rules=frozenset(disable),
        severities=dict(severity),
        catalog=catalog_of_project(table, path),
    )


def _line_length(table: Mapping[str, Any], data: Mapping[str, Any], where: str) -> int:
    ruff = data.get("tool", {}).get("ruff", {})
    key, value = "line-length", table.get("line-length")
    if value is None and isinstance(ruff, dict):
        key, value = "[tool.ruff] line-length", ruff.get("line-length")
    if value is None:
        return DEFAULT_LINE_LENGTH
    if isinstance(value, bool) or not isinstance(value, int) or not 40 <= value <= 320:
        raise ConfigurationError(f"{where} {key}", "must be a whole number from 40 to 320")
    return value


def _string(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError(f"{where} {key}", "must be a non-empty string")
    return value


def _level(value: Any, where: str) -> CompatibilityLevel:
    try:
        return CompatibilityLevel(str(value).upper())
    except ValueError:
        levels = ", ".join(level.value for level in CompatibilityLevel)
        raise ConfigurationError(
            where, f"unknown compatibility level {value!r}; expected one of {levels}"
        ) from None

"""The files a release writes: the version where the build reads it, and the changelog.

The version is read from and written to ``[project] version`` of ``pyproject.toml``, or,
for a version the build backend reads from a file (``dynamic = ["version"]`` with
hatchling's ``[tool.hatch.version] path``), the ``__version__ = "X.Y.Z"`` line of that
file. The changelog (Keep a Changelog) gets the release's section below
``## [Unreleased]``, whose entries become the release's.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

from somacontracts.errors import ReleaseError
from somacontracts.tooling.release.bump import ContractRelease, ReleasePlan

__all__ = ["changelog_section", "read_version", "with_changelog_section", "with_version"]

_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")
_DUNDER = re.compile(r"""^(__version__\s*=\s*["'])([^"']*)(["'])""", re.MULTILINE)
_PROJECT_VERSION = re.compile(r"""^(version\s*=\s*["'])([^"']*)(["'])""", re.MULTILINE)
_UNRELEASED = "## [Unreleased]"


def _source(root: Path) -> tuple[Path, re.Pattern[str]]:
    """The file holding the version and the pattern of its line."""
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ReleaseError(str(pyproject), f"cannot be read: {err}") from err
    project = data.get("project", {})
    if isinstance(project.get("version"), str):
        return pyproject, _PROJECT_VERSION
    path = data.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
    if "version" in project.get("dynamic", []) and isinstance(path, str):
        return root / path, _DUNDER
    raise ReleaseError(
        str(pyproject),
        'has neither [project] version nor dynamic = ["version"] with '
        "[tool.hatch.version] path: no place to write the release's version",
    )


def read_version(root: Path) -> tuple[Path, tuple[int, int, int]]:
    """The file holding the project's version, and the version."""
    path, pattern = _source(root)
    text = path.read_text(encoding="utf-8")
    match = pattern.search(_project_table(text) if pattern is _PROJECT_VERSION else text)
    if match is None:
        raise ReleaseError(str(path), f"holds no line {pattern.pattern!r}")
    version = _SEMVER.match(match.group(2))
    if version is None:
        raise ReleaseError(str(path), f"version {match.group(2)!r} is not X.Y.Z")
    major, minor, patch = (int(part) for part in version.groups())
    return path, (major, minor, patch)


def with_version(root: Path, version: str) -> tuple[Path, str]:
    """The file holding the project's version and its text with ``version`` in it."""
    path, pattern = _source(root)
    text = path.read_text(encoding="utf-8")
    if pattern is _PROJECT_VERSION:
        table = _project_table(text)
        start = text.index(table)
        changed = pattern.sub(lambda m: f"{m[1]}{version}{m[3]}", table, count=1)
        return path, text[:start] + changed + text[start + len(table) :]
    return path, pattern.sub(lambda m: f"{m[1]}{version}{m[3]}", text, count=1)


def _project_table(text: str) -> str:
    """The ``[project]`` table of a pyproject's text, up to the next table."""
    match = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def changelog_section(plan: ReleasePlan, date: str) -> str:
    """The changelog section of ``plan``: why the version, then per contract what changed,
    who deploys first, which version the readers allowed (``--by-readers``) and which
    readers are affected."""
    lines = [f"## [{plan.version}] - {date}", ""]
    if plan.previous is None:
        lines += ["The first release.", ""]
    else:
        why = "; ".join(plan.reasons)
        lines += [f"A {plan.bump} release since {plan.previous}: {why}.", ""]
    if plan.contracts:
        lines += ["### Contracts", ""]
        for contract in plan.contracts:
            lines += _contract_lines(contract)
    return "\n".join(lines)


def _contract_lines(release: ContractRelease) -> list[str]:
    if release.removed:
        return [f"- **{release.contract}** was removed.", ""]
    head = "new contract" if release.added else "changed"
    lines = [f"- **{release.contract}** ({head})"]
    for report in release.reports:
        lines.append(f"  - v{report.old_version} → v{report.new_version}:")
        lines += [f"    - `{c.kind.value}` {c.message}" for c in report.changes]
        lines.append(f"    - Deploy: {report.rollout}")
        decision = release.by_readers.get(report.new_version)
        if decision:
            lines.append(f"    - {decision[0].upper()}{decision[1:]}.")
    lines += [f"  - `{c.kind.value}` {c.message}" for c in release.api]
    if release.readers and (release.reports or release.api):
        lines.append(f"  - Readers affected: {', '.join(release.readers)}.")
    return [*lines, ""]


def with_changelog_section(text: str | None, section: str) -> str:
    """The changelog ``text`` (None: there is none yet) with ``section`` added: below
    ``## [Unreleased]``, taking its entries, else before the first release."""
    if text is None:
        return f"# Changelog\n\n{_UNRELEASED}\n\n{section}"
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.strip() == _UNRELEASED:
            return "".join([*lines[: number + 1], "\n", section, *_after(lines[number + 1 :])])
    for number, line in enumerate(lines):
        if line.startswith("## "):
            return "".join([*lines[:number], section, "\n", *lines[number:]])
    return text.rstrip("\n") + "\n\n" + section


def _after(rest: Sequence[str]) -> list[str]:
    """The Unreleased section's entries, under the release's heading."""
    entries = list(rest)
    while entries and not entries[0].strip():
        entries.pop(0)
    return ["\n", *entries] if entries else []

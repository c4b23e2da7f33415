"""``somacontracts release``: the next version of the project, from its contract changes.

From the last release (its git tag ``vX.Y.Z``, the newest reachable from HEAD) to the
work tree: a new major version of a contract, a contract removed, or a change that breaks
the generated classes' Python API (PYTHON_API_BROKEN) makes a major release; a new
contract or contract version a minor one; anything else a patch. Without a tag, the
first release is the version the project has.

The release writes the version where the build reads it (``[project] version``, or the
``__version__`` line of hatchling's ``[tool.hatch.version] path``) and the changelog's
section (from the change report: per contract what changed, who deploys first, the
versions the lock records as allowed by readers (``register --by-readers``), the
readers affected), builds the sdist and wheel (``python -m build``), checks them
(``twine check``, the wheel's contents), installs the wheel in a new virtual environment
and runs ``somacontracts --version``, ``check`` and an import of every model there, then
commits the two files and tags the commit. Distributions go to ``--out`` (``dist``).
``--dry-run`` prints the proposed version and why, and changes nothing.

It refuses (exit 1, one line on stderr, nothing written) a dirty work tree, a project
``check`` fails (stale models included: their findings are printed), nothing changed
since the last tag, or a distribution that does not build, check or install. Exit 2:
usage or configuration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from somacontracts.errors import ConfigurationError, ReleaseError, count
from somacontracts.tooling import sources
from somacontracts.tooling.check.findings import ERROR
from somacontracts.tooling.check.lock import read_lock
from somacontracts.tooling.check.project import project_findings
from somacontracts.tooling.check.readers import decision_text, decisions
from somacontracts.tooling.check.report import RENDERERS
from somacontracts.tooling.cli.common import (
    add_config,
    add_schemas,
    command_parser,
    project_files,
)
from somacontracts.tooling.configuration import ProjectConfig, find_config
from somacontracts.tooling.files import replace_text
from somacontracts.tooling.release import distributions, git
from somacontracts.tooling.release.bump import ContractRelease, ReleasePlan, plan_release
from somacontracts.tooling.release.project import (
    changelog_section,
    read_version,
    with_changelog_section,
    with_version,
)

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "release", __doc__)
    parser.add_argument(
        "--dry-run", action="store_true", help="print the proposed version and why; change nothing"
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="where the distributions go (default: dist)"
    )
    parser.add_argument(
        "--no-build-isolation",
        action="store_true",
        help="build with the installed build backend instead of a fresh one from the index",
    )
    parser.add_argument(
        "--find-links",
        action="append",
        default=[],
        metavar="DIR",
        help="where the trial install also finds packages (repeatable; pip's --find-links)",
    )
    parser.add_argument(
        "--no-index",
        action="store_true",
        help="the trial install takes packages from --find-links only (pip's --no-index)",
    )
    add_schemas(parser)
    add_config(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Propose, or make, the next release; exit 1 when it is refused."""
    try:
        return _release(args)
    except ReleaseError as err:
        print(f"somacontracts release: refused: {err}", file=sys.stderr)
        return 1


def _release(args: argparse.Namespace) -> int:
    config, schemas, lock = project_files(args)
    found = args.config or find_config(Path.cwd())
    if found is None:
        raise ConfigurationError(
            "--config", "no pyproject.toml with a [tool.somacontracts] table here or above"
        )
    root = found.parent
    dirty = git.dirty_files(root)
    if dirty:
        shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
        raise ReleaseError("work tree", f"{count(len(dirty), 'file')} not committed: {shown}")
    tree = sources.load_tree(schemas)
    findings = project_findings(tree, config, lock, schemas)
    errors = [f for f in findings if f.severity == ERROR]
    if errors:
        print(RENDERERS["text"](findings, list(tree)), end="")
        raise ReleaseError("check", f"{count(len(errors), 'error')}; fix them first")
    plan = _plan(root, schemas, tree, config, lock)
    print(f"{plan.version} ({plan.bump}" + (f" since {plan.previous})" if plan.previous else ")"))
    for reason in plan.reasons:
        print(f"  {reason}")
    if args.dry_run:
        return 0
    _make(args, root, config, schemas, lock, tree, plan)
    return 0


def _plan(
    root: Path,
    schemas: Path,
    tree: dict[str, sources.ContractSchemas],
    config: ProjectConfig,
    lock: Path,
) -> ReleasePlan:
    previous = git.last_release(root)
    if previous is None:
        _, version = read_version(root)
        added = tuple(ContractRelease(name, True, False, (), ()) for name in tree)
        first = ".".join(map(str, version))
        return ReleasePlan(None, first, "first", ("the first release",), added)
    readers: dict[str, list[str]] = {}
    for topic in config.catalog.topics.values():
        readers.setdefault(topic.contract, []).extend(
            c for c in topic.consumers if c not in readers.get(topic.contract, [])
        )
    with tempfile.TemporaryDirectory() as scratch:
        then = git.export_folder(schemas, previous[0], Path(scratch))
        released = sources.load_tree(then) if then.is_dir() else {}
        return plan_release(
            tree,
            released,
            previous=previous,
            changed=git.changed_files(root, previous[0]),
            levels={name: config.level_of(name) for name in tree},
            readers=readers,
            by_readers={
                name: {number: decision_text(entry) for number, entry in versions.items()}
                for name, versions in decisions(read_lock(lock)).items()
            },
        )


def _make(
    args: argparse.Namespace,
    root: Path,
    config: ProjectConfig,
    schemas: Path,
    lock: Path,
    tree: dict[str, sources.ContractSchemas],
    plan: ReleasePlan,
) -> None:
    version_path, version_text = with_version(root, plan.version)
    changelog = root / "CHANGELOG.md"
    before = {
        version_path: version_path.read_text(encoding="utf-8"),
        changelog: changelog.read_text(encoding="utf-8") if changelog.is_file() else None,
    }
    section = changelog_section(plan, dt.date.today().isoformat())
    try:
        replace_text(version_path, version_text)
        replace_text(changelog, with_changelog_section(before[changelog], section))
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            dists = distributions.build(root, work / "dist", isolation=not args.no_build_isolation)
            expected = distributions.Expected.of(root, schemas, config.models, lock, list(tree))
            distributions.check(dists, expected)
            pip_options = [*(f"--find-links={d}" for d in args.find_links)]
            pip_options += ["--no-index"] if args.no_index else []
            said = distributions.try_installed(
                dists,
                root=root,
                work=work,
                models=config.models,
                contracts=list(tree),
                pip_options=pip_options,
            )
            out = args.out or root / "dist"
            out.mkdir(parents=True, exist_ok=True)
            kept = [Path(shutil.copy2(d, out)) for d in (dists.sdist, dists.wheel)]
    except BaseException:
        for path, text in before.items():
            if text is None:
                path.unlink(missing_ok=True)
            else:
                replace_text(path, text)
        raise
    tag = git.commit_and_tag(
        root, [version_path, changelog], plan.version, f"Release {plan.version}\n\n{section}"
    )
    print(f"built {', '.join(str(k) for k in kept)}; twine check passed")
    print(f"installed in a new environment: {said['version']}; check: {said['check']}")
    if "imports" in said:
        print(f"imported {said['imports']} model modules from the environment")
    print(f"tagged {tag}")

"""Generated code passes the repository's linters and ``mypy --strict`` as it is written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from somacontracts.tooling import sources
from somacontracts.tooling.codegen import render_tree, write_modules
from somacontracts.tooling.codegen.pysource import DEFAULT_LINE_LENGTH
from tests.codegen.conftest import CORPUS
from tests.codegen.fuzz import LINT_IGNORE, LINT_SELECT
from tests.fetched import fetched

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIG = REPOSITORY / "pyproject.toml"


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:  # the test extra installs both: a missing one is a broken environment
        pytest.fail(f"{name} is not installed; install the project with its test extra")
    return found


def _run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)


def _ruff_range() -> tuple[str, str]:
    """The ruff versions the test extra pins the promise to: (lowest, first excluded)."""
    extra = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    (pin,) = [r for r in extra["test"] if r.startswith("ruff")]
    found = re.fullmatch(r"ruff>=([\d.]+),<([\d.]+)", pin)
    assert found, f"the test extra pins ruff as {pin!r}, not a range ruff>=A,<B"
    return found.group(1), found.group(2)


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_the_ruff_the_suite_runs_is_in_the_pinned_range() -> None:
    done = _run(_tool("ruff"), "--version", cwd=REPOSITORY)
    installed = done.stdout.split()[1]
    lowest, excluded = _ruff_range()
    assert _release(lowest) <= _release(installed) < _release(excluded)


@pytest.fixture(scope="session")
def oldest_ruff(pytestconfig: pytest.Config) -> str:
    """The lowest ruff of the pinned range (tools/fetch_ruff.py, downloaded once)."""
    return fetched(pytestconfig, "fetch_ruff.py", "the oldest ruff of the pinned range")


@pytest.mark.parametrize("which", ["installed", "oldest"])
def test_ruff_check_and_format_accept_generated_code(
    corpus_dir: Path, request: pytest.FixtureRequest, which: str
) -> None:
    """Both ends of the pinned range: the repository's rules, and the wider set the fuzz
    test holds every generated module to, at the line length the corpus is laid out for."""
    ruff = _tool("ruff") if which == "installed" else request.getfixturevalue("oldest_ruff")
    length = ("--line-length", str(DEFAULT_LINE_LENGTH), "--no-cache")
    config = ("--config", str(CONFIG), *length)
    wide = ("--isolated", *length, "--select", LINT_SELECT, "--ignore", LINT_IGNORE)
    for options in (config, wide):
        checked = _run(ruff, "check", *options, ".", cwd=corpus_dir)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = _run(ruff, "format", "--check", *config, ".", cwd=corpus_dir)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("width", [79, DEFAULT_LINE_LENGTH, 100, 120])
def test_generated_code_fits_the_service_s_line_length(tmp_path: Path, width: int) -> None:
    """ruff's own defaults and the service's line length: no E501, nothing to reformat."""
    ruff = _tool("ruff")
    out = tmp_path / "models"
    tree = {**sources.load_tree(CORPUS), **sources.bundled()}
    write_modules(render_tree(tree, line_length=width), out)
    isolated = ("--isolated", "--line-length", str(width), "--no-cache")
    checked = _run(ruff, "check", *isolated, "--extend-select", "E501,W", ".", cwd=out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = _run(ruff, "format", "--check", *isolated, ".", cwd=out)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_mypy_strict_accepts_generated_code(corpus_dir: Path) -> None:
    mypy = _tool("mypy")
    done = _run(
        mypy,
        "--strict",
        "--python-version",
        "3.11",
        "--no-incremental",
        "--cache-dir",
        "/dev/null",
        "-p",
        corpus_dir.name,
        cwd=corpus_dir.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr

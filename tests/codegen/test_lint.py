"""Generated code passes the repository's linters and ``mypy --strict`` as it is written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from somacontracts import schemas
from somacontracts.codegen import render_tree, write_modules
from somacontracts.codegen.pysource import DEFAULT_LINE_LENGTH
from tests.codegen.conftest import CORPUS

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIG = REPOSITORY / "pyproject.toml"


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:  # the test extra installs both: a missing one is a broken environment
        pytest.fail(f"{name} is not installed; install the project with its test extra")
    return found


def _run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)


def test_ruff_check_and_format_accept_generated_code(corpus_dir: Path) -> None:
    """The repository's rules, at the default line length the corpus is laid out for."""
    ruff = _tool("ruff")
    config = ("--config", str(CONFIG), "--line-length", str(DEFAULT_LINE_LENGTH), "--no-cache")
    checked = _run(ruff, "check", *config, ".", cwd=corpus_dir)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = _run(ruff, "format", "--check", *config, ".", cwd=corpus_dir)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("width", [79, DEFAULT_LINE_LENGTH, 100, 120])
def test_generated_code_fits_the_service_s_line_length(tmp_path: Path, width: int) -> None:
    """ruff's own defaults and the service's line length: no E501, nothing to reformat."""
    ruff = _tool("ruff")
    out = tmp_path / "models"
    tree = {**schemas.load_tree(CORPUS), **schemas.bundled()}
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

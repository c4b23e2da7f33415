"""Generated code passes the repository's linters and ``mypy --strict`` as it is written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    ruff = _tool("ruff")
    checked = _run(ruff, "check", "--config", str(CONFIG), "--no-cache", ".", cwd=corpus_dir)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = _run(
        ruff, "format", "--check", "--config", str(CONFIG), "--no-cache", ".", cwd=corpus_dir
    )
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

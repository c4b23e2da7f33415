"""Scratch repositories for command-line tests: a copy of the contracts, a config, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from somacontracts.tooling import sources

__all__ = ["CONFIG", "add_version", "make_repo", "run"]

CONFIG = '[tool.somacontracts]\nschemas = "avro"\nlock = "somacontracts.lock"\n'


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``somacontracts ARGS`` in ``cwd`` as a separate process (``stdin``: its input)."""
    return subprocess.run(
        [sys.executable, "-m", "somacontracts", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def make_repo(folder: Path) -> Path:
    """``folder`` with a copy of the package's contracts, a config and a lock file."""
    shutil.copytree(sources.bundled_root(), folder / "avro")
    (folder / "pyproject.toml").write_text(CONFIG)
    locked = run(folder, "lock")
    if locked.returncode != 0:
        raise RuntimeError(locked.stderr)
    return folder


def add_version(repo: Path, contract: str, change: Callable[[dict[str, Any]], object]) -> Path:
    """Write the next version of ``contract``: its latest schema after ``change``."""
    folder = repo / "avro" / contract
    latest = max(int(p.stem[1:]) for p in folder.glob("v*.avsc"))
    schema = json.loads((folder / f"v{latest}.avsc").read_text())
    change(schema)
    path = folder / f"v{latest + 1}.avsc"
    path.write_text(json.dumps(schema, indent=2))
    return path

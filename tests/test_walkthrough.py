"""The README's "Use it in your service", executed as written: its configuration, its
commands and its test file, in a new project holding the example service's first
contract (``examples/shop/avro/Order/v1.avsc``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLE = REPOSITORY / "examples" / "shop"
_BLOCK = re.compile(r"<!-- walkthrough: (?P<name>[^>]+) -->\n```\w*\n(?P<text>.*?)\n```", re.S)


def blocks() -> dict[str, str]:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    return {m["name"].strip(): m["text"] + "\n" for m in _BLOCK.finditer(readme)}


def shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.slow
def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = blocks()
    assert set(steps) == {"configuration", "commands", "tests/test_contracts.py"}
    project = tmp_path / "shop"
    (project / "avro" / "Order").mkdir(parents=True)
    shutil.copy(
        REPOSITORY / "examples" / "shop" / "avro" / "Order" / "v1.avsc", project / "avro" / "Order"
    )
    (project / "src" / "shop").mkdir(parents=True)
    (project / "src" / "shop" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "0.1.0"\n\n' + steps["configuration"]
    )
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("PYTEST_ADDOPTS", None)
    commands = shell(steps["commands"], project, env)
    assert commands.returncode == 0, commands.stdout + commands.stderr
    assert commands.stdout.endswith("1 contract checked: no problems found\n")
    # "A new version is a new file": the example's v2, then the same commands
    shutil.copy(EXAMPLE / "avro" / "Order" / "v2.avsc", project / "avro" / "Order")
    again = shell(steps["commands"], project, env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "locked 1 new version" in again.stdout
    (project / "tests").mkdir()
    (project / "tests" / "test_contracts.py").write_text(steps["tests/test_contracts.py"])
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert "4 passed" in tested.stdout  # two tests, and v1 and v2 read each other

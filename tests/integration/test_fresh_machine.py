"""The README's first set-up command, run as written on a fresh copy of the repository: a
new virtual environment, the install it names (its extras decide whether ``demo`` can run
every contract's rules) and ``somacontracts demo``. The second command is what CI runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_repository import ROOT, readme_commands
from tests.test_walkthrough import shell


def _fresh_copy(target: Path) -> None:
    """The repository's files as a clone has them (tracked and new, none ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            destination = target / os.fsdecode(name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


@pytest.mark.slow
def test_the_main_job_runs_as_written_on_a_fresh_machine(tmp_path: Path) -> None:
    main_job = readme_commands()[0]
    project = tmp_path / "somacontracts"
    _fresh_copy(project)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL", "LOCAL_SECRET"):
        env.pop(name, None)
    env.pop("PYTEST_ADDOPTS", None)
    run = shell(main_job, project, env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.rstrip().endswith("5 of 5 contracts went through Kafka and back")
    assert "ConversationEvent  conversation.inbound" in run.stdout

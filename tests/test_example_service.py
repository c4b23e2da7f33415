"""The example service (``examples/shop``) and the kit it uses: its contracts check, its
tests pass on the pytest plugin and the strategies, its CI workflow runs ``check``, and the
pre-commit hooks work in a scratch repository of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from somacontracts.tooling.cli import EXIT_OK, EXIT_VIOLATIONS
from tests.scratch import run

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLE = REPOSITORY / "examples" / "shop"


def test_the_example_s_contracts_check(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(EXAMPLE, shop)
    checked = run(shop, "check")
    assert checked.returncode == EXIT_OK, checked.stdout + checked.stderr
    assert checked.stdout == "1 contract checked: no problems found\n"
    v2 = shop / "avro" / "Order" / "v2.avsc"
    v2.write_text(v2.read_text().replace("A coupon code", "The coupon code"))
    edited = run(shop, "check", "--format", "github")
    assert edited.returncode == EXIT_VIOLATIONS
    assert edited.stdout.startswith("::error file=avro/Order/v2.avsc")


@pytest.mark.slow
def test_the_example_s_tests_pass_on_the_plugin_and_strategies() -> None:
    """Its own pytest run, in two pytest-xdist workers (each starts its own registry and
    broker): the plugin comes from the installed package's entry point."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"]
    done = subprocess.run(
        [*command, "-n", "2"],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    assert "failed" not in done.stdout


def test_the_example_s_ci_workflow_runs_check() -> None:
    workflow = yaml.safe_load((EXAMPLE / ".github" / "workflows" / "contracts.yml").read_text())
    steps = [step.get("run", "") for step in workflow["jobs"]["contracts"]["steps"]]
    assert any(step.startswith("somacontracts check --format github") for step in steps)
    assert "python -m pytest" in steps


@pytest.fixture(scope="module")
def scratch_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository of the example service, as a service keeps one."""
    root = tmp_path_factory.mktemp("service") / "shop"
    shutil.copytree(EXAMPLE, root)
    git = ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "shop"], cwd=root, check=True)
    return root


@pytest.mark.slow
def test_the_pre_commit_hooks_pass_and_catch_what_they_guard(
    scratch_service: Path, tmp_path: Path
) -> None:
    """``pre-commit try-repo`` installs this repository's hooks as a service would and
    runs all three: on the clean service they pass; with a generated module edited,
    ``check`` and ``codegen --check`` fail and ``lock --check`` passes."""
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit is not None, "the test extra installs pre-commit"
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    command = [pre_commit, "try-repo", str(REPOSITORY), "--all-files"]
    clean = subprocess.run(command, cwd=scratch_service, capture_output=True, text=True, env=env)
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert clean.stdout.count("Passed") == 3
    module = scratch_service / "src" / "shop" / "contracts" / "order.py"
    module.write_text(module.read_text() + "\n")
    try:
        edited = subprocess.run(
            command, cwd=scratch_service, capture_output=True, text=True, env=env
        )
    finally:
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=scratch_service, check=True)
    assert edited.returncode == 1, edited.stdout[-3000:]
    results = {
        line.split(".")[0].strip(): line.rsplit(".", 1)[-1].strip()
        for line in edited.stdout.splitlines()
        if line.startswith("somacontracts ") and line.rstrip().endswith(("Passed", "Failed"))
    }
    assert results == {
        "somacontracts check": "Failed",
        "somacontracts codegen --check": "Failed",
        "somacontracts lock --check": "Passed",
    }

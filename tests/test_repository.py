"""Repository conventions: the README's commands, CI, changelog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from somacontracts.tooling.cli import EXIT_OK, main

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    main_job, tests = commands
    assert main_job.startswith("python3 -m venv .venv && ")
    assert tests.startswith("python3 -m venv .venv && ")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines


def test_changelog_has_an_unreleased_section() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def test_repository_contracts_pass_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(ROOT / "pyproject.toml")]) == EXIT_OK
    out = capsys.readouterr().out
    # ConversationEvent v1 carries message text untagged; v2, the newest, tags and encrypts it
    assert out.endswith("5 contracts checked: no problems found\n")


def test_lock_file_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lock", "--check", "--config", str(ROOT / "pyproject.toml")]) == EXIT_OK


def test_every_import_the_readme_shows_works() -> None:
    """One documented import path for everything the README shows, in code and in text."""
    import importlib

    text = (ROOT / "README.md").read_text()
    found = re.findall(r"^\s*(?:>>> )?from (somacontracts[\w.]*) import ([\w, ]+)$", text, re.M)
    found += re.findall(r"`from (somacontracts[\w.]*) import ([\w, ]+)`", text)
    assert len(found) >= 8
    for module, names in found:
        imported = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(imported, name), f"from {module} import {name}"

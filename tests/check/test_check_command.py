"""``somacontracts check`` and ``lock`` on scratch repositories: formats, exit codes, git refs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from somacontracts.tooling import sources
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS
from tests.scratch import CONFIG, add_version, make_repo, run


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_repo(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "v1")
    return tmp_path


def test_clean_repository(repo: Path) -> None:
    result = run(repo, "check")
    assert result.returncode == EXIT_OK, result.stdout
    assert result.stdout.endswith("5 contracts checked: no problems found\n")
    assert "PII_UNTAGGED" not in result.stdout  # v1's content is tagged in v2, the newest


def test_compatible_evolution_then_lock(repo: Path) -> None:
    def add_field(schema: dict[str, Any]) -> None:
        schema["fields"].append(
            {"name": "trace_id", "type": ["null", "string"], "default": None, "doc": "d"}
        )

    add_version(repo, "ToolInvocation", add_field)
    first = run(repo, "check")
    assert first.returncode == EXIT_VIOLATIONS
    assert "VERSION_LOCKED" in first.stdout
    assert run(repo, "lock").stdout.endswith("locked 1 new version\n")
    assert run(repo, "lock", "--check").returncode == EXIT_OK
    assert run(repo, "check").returncode == EXIT_OK


def test_incompatible_version_in_every_format(repo: Path) -> None:
    def drop_default_add_required(schema: dict[str, Any]) -> None:
        schema["fields"].append({"name": "cost", "type": "double", "doc": "d"})
        # and a doc that names personal data: a warning
        schema["fields"][2]["doc"] = "The customer's e-mail address, for receipts."

    add_version(repo, "ToolResult", drop_default_add_required)
    run(repo, "lock")
    text = run(repo, "check")
    assert text.returncode == EXIT_VIOLATIONS
    assert "ToolResult: " in text.stdout
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in text.stdout
    assert "FIELD_ADDED_WITH_DEFAULT" in text.stdout
    assert "avro/ToolResult/v2.avsc:/fields/5" in text.stdout

    as_json = json.loads(run(repo, "check", "--format", "json").stdout)
    assert as_json["ok"] is False
    rules = {(f["rule"], f["category"], f["version"]) for f in as_json["findings"]}
    assert ("READER_FIELD_MISSING_DEFAULT_VALUE", "compatibility", 2) in rules
    assert ("FIELD_ADDED_WITH_DEFAULT", "lint", 2) in rules

    github = run(repo, "check", "--format", "github").stdout.splitlines()
    errors = [line for line in github if line.startswith("::error")]
    assert errors
    assert all(
        re.match(r"::error file=avro/ToolResult/v2\.avsc,line=\d+,col=\d+,title=ToolResult ", line)
        for line in errors
    )
    v2 = (repo / "avro" / "ToolResult" / "v2.avsc").read_text().splitlines()
    (warning,) = [line for line in github if line.startswith("::warning")]
    # On the line and column where the field's object starts (the file is indented)
    assert warning.startswith("::warning file=avro/ToolResult/v2.avsc,line=")
    line, col = (int(x) for x in re.findall(r"(?:line|col)=(\d+)", warning))
    assert v2[line - 1][col - 1 :].startswith("{")
    assert '"name": "output"' in v2[line]
    assert warning.split(",")[3] == (
        'title=ToolResult PII_UNTAGGED::Field "output" of record '
        '"somastack.contracts.ToolResult" looks like personal data but has no '
        '"confluent:tags": ["PII"]; tag it (in a new version) so that encryption rules '
        "cover it"
    )

    junit = ET.fromstring(run(repo, "check", "--format", "junit").stdout)
    assert junit.get("tests") == "5"
    assert junit.get("failures") == "1"
    failing = [
        case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None
    ]
    assert failing == ["ToolResult"]


def test_disabled_rule_in_configuration(repo: Path) -> None:
    add_version(
        repo,
        "ToolResult",
        lambda s: s["fields"].append({"name": "x", "type": ["null", "int"], "default": None}),
    )
    run(repo, "lock")
    assert "FIELD_DOC" in run(repo, "check").stdout
    (repo / "pyproject.toml").write_text(
        CONFIG + '[tool.somacontracts.lint]\ndisable = ["FIELD_DOC"]\n'
    )
    assert run(repo, "check").returncode == EXIT_OK


def test_edit_in_place_fails(repo: Path) -> None:
    path = repo / "avro" / "ToolResult" / "v1.avsc"
    path.write_text(path.read_text().replace('"duration_ms"', '"duration"'))
    result = run(repo, "check")
    assert result.returncode == EXIT_VIOLATIONS
    assert "VERSION_EDITED" in result.stdout
    lock = run(repo, "lock")
    assert lock.returncode == EXIT_USAGE
    assert "released versions are never edited" in lock.stderr


def test_against_a_git_ref(repo: Path) -> None:
    shutil.rmtree(repo / "avro" / "DelegatedTask")
    path = repo / "avro" / "ToolResult" / "v1.avsc"
    path.write_text(path.read_text().replace('"duration_ms"', '"duration"'))
    result = run(repo, "check", "--against", "main", "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    from_ref = [f for f in findings if "since main" in f["message"] or "is in main" in f["message"]]
    assert {(f["rule"], f["contract"]) for f in from_ref} == {
        ("VERSION_NO_DELETE", "DelegatedTask"),
        ("VERSION_EDITED", "ToolResult"),
    }


@pytest.mark.parametrize(
    ("args", "setup", "words"),
    [
        (
            ["check", "--against", "no-such-ref"],
            None,
            "--against: git ref 'no-such-ref' does not exist",
        ),
        (
            ["check"],
            lambda r: (r / "somacontracts.lock").write_text("{"),
            "somacontracts.lock: is not valid JSON",
        ),
        (
            ["check"],
            lambda r: (r / "pyproject.toml").write_text(CONFIG + 'default-level = "SOMETIMES"\n'),
            "unknown compatibility level 'SOMETIMES'",
        ),
        (
            ["check"],
            lambda r: (r / "pyproject.toml").write_text(
                CONFIG + '[tool.somacontracts.lint]\ndisable = ["NOPE"]\n'
            ),
            "unknown rule 'NOPE'",
        ),
        (
            ["check"],
            lambda r: (r / "avro" / "ToolResult" / "v1.avsc").write_text("{]"),
            "ToolResult/v1.avsc: is not valid JSON",
        ),
        (
            ["check"],
            lambda r: (r / "avro" / "ToolResult" / "v1.avsc").rename(
                r / "avro" / "ToolResult" / "v2.avsc"
            ),
            "v1.avsc missing",
        ),
        (["check", "--format", "yaml"], None, "invalid choice: 'yaml'"),
    ],
)
def test_bad_input_is_one_line_exit_2(repo: Path, args: list[str], setup: Any, words: str) -> None:
    if setup:
        setup(repo)
    result = run(repo, *args)
    assert result.returncode == EXIT_USAGE
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    if "invalid choice" not in words:
        assert len(result.stderr.splitlines()) == 1


def test_outside_git_against_is_a_usage_error(tmp_path: Path) -> None:
    shutil.copytree(sources.bundled_root(), tmp_path / "avro")
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    result = run(tmp_path, "check", "--against", "HEAD")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.startswith("somacontracts check: error: --against: ")


def test_diff_of_a_contract_and_against_a_ref(repo: Path) -> None:
    def evolve(schema: dict[str, Any]) -> None:
        schema["fields"][1]["type"]["symbols"].insert(4, "partial")
        schema["fields"].append(
            {"name": "cost", "type": ["null", "double"], "default": None, "doc": "d"}
        )

    add_version(repo, "ToolResult", evolve)
    text = run(repo, "diff", "ToolResult")
    assert text.returncode == EXIT_OK
    lines = text.stdout.splitlines()
    assert lines[0] == "ToolResult v1 -> v2 (FULL_TRANSITIVE: allowed)"
    assert any(
        line.split()[:2] == ["ENUM_SYMBOL_ADDED", "v2:/fields/1/type/symbols/4"] for line in lines
    )
    assert any(line.split()[:2] == ["FIELD_ADDED", "v2:/fields/5"] for line in lines)
    assert (
        lines[-1]
        == "  rollout: Deploy in any order: producers and consumers may upgrade independently."
    )

    against = json.loads(run(repo, "diff", "--against", "main", "--format", "json").stdout)
    assert [(r["contract"], r["old_version"], r["new_version"]) for r in against] == [
        ("ToolResult", 1, 2)
    ]
    markdown = run(repo, "diff", "ToolResult", "v1", "v2", "--format", "markdown").stdout
    assert markdown.startswith("### ToolResult v1 → v2 (FULL_TRANSITIVE: allowed)")
    assert "| `ENUM_SYMBOL_ADDED` |" in markdown
    assert run(repo, "diff", "ToolInvocation").stdout == "no new versions to compare\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["diff", "Nope"], "unknown contract 'Nope'"),
        (["diff", "ToolResult", "v1", "v7"], "there is no v7.avsc"),
        (["diff", "ToolResult", "one", "two"], "'one' is not a version"),
        (["diff", "ToolResult", "v1"], "give two versions"),
        (["diff"], "name a contract"),
    ],
)
def test_diff_bad_input(repo: Path, args: list[str], words: str) -> None:
    result = run(repo, *args)
    assert result.returncode == EXIT_USAGE
    assert words in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_catalog_topic_without_its_contract_fails_every_command_that_reads_both(
    tmp_path: Path,
) -> None:
    service = tmp_path / "payments"
    shutil.copytree(Path(__file__).parents[1] / "payments_service", service)
    assert run(service, "lock").returncode == 0  # the contracts themselves pass
    pyproject = service / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[tool.somacontracts.topics."payments.audit"]\ncontract = "Nope"\nkey = "x"\n'
    )
    problem = 'topic "payments.audit" of the catalog'
    checked = run(service, "check")
    assert checked.returncode == EXIT_VIOLATIONS, checked.stdout
    assert "CATALOG_CONTRACT" in checked.stdout
    assert problem in checked.stdout
    assert "carries contract Nope, but there is no Nope/ folder" in checked.stdout
    assert checked.stdout.splitlines()[-1] == "1 problem, in Nope; none in the 2 contracts checked"
    refused = run(service, "validate")
    assert refused.returncode == EXIT_USAGE, refused.stderr
    assert problem in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    # docs builds the site of what there is, and says what is missing.
    built = run(service, "docs", "--out", str(tmp_path / "site"))
    assert built.returncode == EXIT_OK, built.stderr
    assert f"somacontracts docs: warning: {problem}" in built.stderr

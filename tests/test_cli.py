"""The somacontracts command: output, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from somacontracts.tooling import sources
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, main


def test_validate_bundled_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "5 contracts, 6 versions: all valid" in out
    assert "ok  ToolInvocation v1  sha256:" in out


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    fingerprints = {(v["contract"], v["version"]): v["fingerprint"] for v in report["versions"]}
    assert fingerprints[("ToolResult", 1)] == sources.bundled()["ToolResult"].version(1).fingerprint


def test_contracts_table_honours_overrides(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_REQUESTS_TOPIC", "staging.requests")
    assert main(["contracts"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["CONTRACT", "VERSIONS", "LEVEL", "KEY", "TOPICS", "SUBJECTS"]
    row = next(line for line in lines if line.startswith("ToolInvocation"))
    assert row.split() == [
        "ToolInvocation",
        "v1",
        "FULL_TRANSITIVE",
        "tenant_id",
        "staging.requests",
        "staging.requests-value",
    ]


def test_contracts_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "--format", "json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert [r["contract"] for r in rows] == [
        "ToolInvocation",
        "ToolResult",
        "ConversationEvent",
        "SettingsPayload",
        "DelegatedTask",
    ]
    assert rows[2]["subjects"] == ["conversation.inbound-value", "conversation.outbound-value"]


def test_bad_environment_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_RESULTS_TOPIC", "")
    assert main(["contracts"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == (
        "somacontracts contracts: error: "
        "TOOL_RESULTS_TOPIC: is set but empty; unset it or give a topic name\n"
    )


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "avro"
    shutil.copytree(sources.bundled_root(), root)
    return root


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            lambda root: (root / "ToolResult" / "v1.avsc").write_text('{"type": "record",,}'),
            "ToolResult/v1.avsc: is not valid JSON",
        ),
        (
            lambda root: (root / "ToolResult" / "v1.avsc").rename(root / "ToolResult" / "v2.avsc"),
            "ToolResult: v1.avsc missing: versions must run from v1 without gaps",
        ),
        (
            lambda root: shutil.copy(
                root / "ToolResult" / "v1.avsc", root / "ToolResult" / "v3.avsc"
            ),
            "ToolResult: v2.avsc missing",
        ),
    ],
)
def test_bad_schema_files_are_one_line_exit_2(
    tmp_path: Path, damage: object, expected: str
) -> None:
    root = _copy_tree(tmp_path)
    damage(root)  # type: ignore[operator]
    result = subprocess.run(
        [sys.executable, "-m", "somacontracts", "validate", "--schemas", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_USAGE
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("somacontracts validate: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err
    assert main([]) == EXIT_USAGE


def test_console_script_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "somacontracts", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "validate" in result.stdout
    assert "contracts" in result.stdout


@pytest.mark.parametrize(
    ("words", "named"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["-v", "--bogus"], "unrecognized arguments: --bogus"),
        (["check", "--bogus"], "unrecognized arguments: --bogus"),
        (["lag", "--threshold", "x"], "argument --threshold: invalid int value: 'x'"),
        (["diff", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    words: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(words) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert named in err
    assert err.rstrip().endswith("--help`)")

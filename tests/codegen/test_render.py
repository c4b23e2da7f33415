"""Rendering: golden modules, determinism, the committed models, names, refused schemas."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from somacontracts.errors import SchemaError
from somacontracts.tooling import sources
from somacontracts.tooling.cli import codegen as codegen_cli
from somacontracts.tooling.cli import main
from somacontracts.tooling.codegen import compare_modules, names, render_tree, write_modules
from somacontracts.tooling.codegen.package import render_modules
from tests.codegen.conftest import CORPUS

EXPECTED = Path(__file__).parent / "expected"
GOLDEN = ("keywords.py", "recursive.py", "tuple_unions.py")
REPOSITORY = Path(__file__).resolve().parents[2]
REPOSITORY_LINE_LENGTH: int = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["tool"][
    "ruff"
]["line-length"]


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="somacontracts")
    codegen_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["codegen", *argv])
    code: int = args.run(args)
    return code


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_modules(name: str) -> None:
    # at the repository's line length, so that its `ruff format --check .` passes them
    rendered = render_modules(CORPUS, line_length=REPOSITORY_LINE_LENGTH)[name]
    if os.environ.get("SOMACONTRACTS_UPDATE_GOLDEN"):
        (EXPECTED / name).write_text(rendered, encoding="utf-8")
    assert rendered == (EXPECTED / name).read_text(encoding="utf-8"), (
        f"regenerate with SOMACONTRACTS_UPDATE_GOLDEN=1 pytest {__file__}"
    )


def test_committed_models_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("--check") == 0
    assert "up to date" in capsys.readouterr().out


def test_rendering_is_deterministic_across_processes() -> None:
    script = (
        "import hashlib, json, sys\n"
        "from somacontracts.tooling import sources\n"
        "from somacontracts.tooling.codegen.package import render_modules, render_project\n"
        "from somacontracts.tooling.configuration import load_config\n"
        "from pathlib import Path\n"
        "config = load_config(Path('pyproject.toml'), known_rules=frozenset())\n"
        "own = render_project(sources.load_tree(Path('avro')), config)\n"
        "modules = {**own, **render_modules(Path(sys.argv[1]))}\n"
        "print(json.dumps({k: hashlib.sha256(v.encode()).hexdigest() for k, v in modules.items()}))"
    )
    outputs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(CORPUS)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=REPOSITORY,
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    assert render_modules(CORPUS) == render_modules(CORPUS)


def test_check_reports_changed_missing_and_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no project configuration: ruff's default line length
    out = tmp_path / "models"
    assert _run("--schemas", str(CORPUS), "--out", str(out)) == 0
    assert _run("--schemas", str(CORPUS), "--out", str(out), "--check") == 0
    (out / "recursive.py").write_text("# edited\n", encoding="utf-8")
    (out / "keywords.py").unlink()
    stale = out / "gone.py"
    stale.write_text((out / "unions.py").read_text(encoding="utf-8"), encoding="utf-8")
    handwritten = out / "helpers.py"
    handwritten.write_text("X = 1\n", encoding="utf-8")
    capsys.readouterr()
    assert _run("--schemas", str(CORPUS), "--out", str(out), "--check") == 1
    report = capsys.readouterr().out
    assert f"{out / 'recursive.py'}: changed" in report
    assert f"{out / 'keywords.py'}: missing" in report
    assert f"{out / 'gone.py'}: stale" in report
    assert "helpers.py" not in report
    assert _run("--schemas", str(CORPUS), "--out", str(out)) == 0
    assert compare_modules(render_modules(CORPUS), out) == []
    assert not stale.exists()
    assert handwritten.exists()
    assert not list(out.glob(".*.tmp"))


def _tree(tmp_path: Path, fields: list[dict[str, object]]) -> Path:
    root = tmp_path / "schemas"
    (root / "Bad").mkdir(parents=True)
    schema = {"type": "record", "name": "Bad", "namespace": "x", "fields": fields}
    (root / "Bad" / "v1.avsc").write_text(json.dumps(schema), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("fields", "location", "reason"),
    [
        (
            [{"name": "a", "type": ["int", {"type": "string", "logicalType": "json"}]}],
            "/fields/0/type",
            "union branch 1 is free-form JSON",
        ),
        ([{"name": "a", "type": []}], "/fields/0/type", "empty union"),
        (
            [{"name": "a", "type": {"type": "string", "logicalType": "uuid"}, "default": "nope"}],
            "/fields/0/default",
            "is not a UUID",
        ),
        (
            [
                {
                    "name": "a",
                    "type": {"type": "long", "logicalType": "timestamp-micros"},
                    "default": 2**62,
                }
            ],
            "/fields/0/default",
            "outside the years 1 to 9999, the range Python's datetime holds",
        ),
        (
            [
                {
                    "name": "t",
                    "type": {"type": "long", "logicalType": "time-micros"},
                    "default": 1700000000000,
                }
            ],
            "/fields/0/default",
            "default 1700000000000 of time-micros is not a time of day (0 to 24 hours)",
        ),
        (
            [
                {
                    "name": "r",
                    "type": {
                        "type": "record",
                        "name": "R",
                        "fields": [
                            {
                                "name": "d",
                                "type": {"type": "int", "logicalType": "date"},
                                "default": 0,
                            },
                            {"name": "days", "type": {"type": "int", "logicalType": "date"}},
                        ],
                    },
                    "default": {"days": 2_932_897},
                }
            ],
            "/fields/0/default",
            "default 2932897 of date is outside",
        ),
        (
            [
                {
                    "name": "price",
                    "type": {
                        "type": "bytes",
                        "logicalType": "decimal",
                        "precision": 2,
                        "scale": 0,
                    },
                    "default": "\u0003\u00e8",
                }
            ],
            "/fields/0/default",
            "more digits than the precision 2",
        ),
        (
            [{"name": "f", "type": "float", "default": 1e300}],
            "/fields/0/default",
            "beyond the range of a 32-bit float",
        ),
        (
            [{"name": "j", "type": {"type": "string", "logicalType": "json"}, "default": "NaN"}],
            "/fields/0/default",
            "is not JSON every reader reads",
        ),
    ],
)
def test_what_a_class_cannot_hold_is_refused_by_validate_and_codegen_alike(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fields: list[dict[str, object]],
    location: str,
    reason: str,
) -> None:
    root = _tree(tmp_path, fields)
    out = tmp_path / "out"
    assert main(["validate", "--schemas", str(root)]) == 2
    refusal = capsys.readouterr().err
    assert refusal.startswith(
        f"somacontracts validate: error: {root / 'Bad' / 'v1.avsc'} at {location}: "
    )
    assert reason in refusal
    assert refusal.count("\n") == 1
    with pytest.raises(SchemaError) as caught:  # codegen refuses it in the same words
        _run("--schemas", str(root), "--out", str(out))
    assert refusal == f"somacontracts validate: error: {caught.value}\n"
    assert not out.exists()


def test_unexpressible_schema_leaves_existing_modules_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_modules(
        render_tree(sources.load_tree(_tree(tmp_path / "good", [{"name": "a", "type": "int"}]))),
        out,
    )
    before = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    bad = _tree(
        tmp_path / "bad",
        [{"name": "a", "type": ["int", {"type": "string", "logicalType": "json"}]}],
    )
    with pytest.raises(SchemaError):
        _run("--schemas", str(bad), "--out", str(out))
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == before


def test_generated_package_exports_every_class(corpus_package: ModuleType) -> None:
    exported = set(corpus_package.__all__)
    assert {"Everything", "EverythingV1", "EverythingV2", "PointV1", "PointV2", "Point"} <= exported
    assert {"Node", "NodeV1", "Tree", "TreeV1", "Recursive"} <= exported
    everything = corpus_package.Everything
    assert everything is corpus_package.EverythingV2
    assert everything.SUBJECTS == ()
    assert not hasattr(everything, "SUBJECT")


@pytest.mark.parametrize(
    ("avro", "python"),
    [
        ("class", "class_"),
        ("None", "None_"),
        ("list", "list_"),
        ("datetime", "datetime_"),
        ("type", "type"),
        ("id", "id"),
        ("to_avro", "to_avro_"),
        ("__x", "avro___x"),
        ("l", "l_"),
        ("userId", "userId"),
    ],
)
def test_field_attribute_names(avro: str, python: str) -> None:
    assert names.field_attribute_name(avro) == python


def test_names_stay_unique_and_readable() -> None:
    assert names.field_attribute_name("class", ["class_"]) == "class__"
    assert names.enum_member_name("True") == "True_"
    assert names.enum_member_name("upper") == "upper_"
    assert names.enum_member_name("_sunder_") == "avro__sunder_"
    assert names.class_base_name("my_record") == "MyRecord"
    assert names.class_base_name("None") == "AvroNone"
    assert names.class_base_name("_1st") == "Avro1st"
    assert names.module_name("ToolInvocation") == "tool_invocation"
    assert names.module_name("HTTPRequest") == "http_request"
    assert names.module_name("Class") == "class_"
    assert names.is_mixed_case("userId")
    assert not names.is_mixed_case("user_id")

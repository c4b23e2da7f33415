"""A released version cannot change: every edit of what the registry stores is one finding.

The lock records the schema text a registry stores for each version (normalized: docs,
defaults, logical types, aliases, order and custom attributes included). Each kind of
edit below fails ``check`` with ``VERSION_EDITED`` at the JSON pointer of the first
difference, and ``lock`` refuses it; white space and key order do not count. The
generated models of the checked tree are compared with the ones committed in it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from somacontracts.tooling import sources
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, main

SAMPLE: dict[str, Any] = {
    "type": "record",
    "name": "Sample",
    "namespace": "test.edits",
    "doc": "A record with one of everything an edit can touch.",
    "aliases": ["OldSample"],
    "fields": [
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}, "doc": "Id."},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}, "doc": "At."},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
            "doc": "Amount.",
        },
        {"name": "priority", "type": "int", "default": 5, "doc": "Priority.", "aliases": ["prio"]},
        {
            "name": "color",
            "type": {
                "type": "enum",
                "name": "Color",
                "doc": "Colors.",
                "symbols": ["RED", "GREEN", "unknown"],
                "default": "unknown",
            },
            "doc": "Color.",
        },
        {"name": "note", "type": "string", "doc": "Note.", "x-owner": "team-a", "x-weight": 1},
        {
            "name": "counts",
            "type": {"type": "map", "values": "int"},
            "default": {"a": 1, "b": 2},
            "doc": "Counts.",
        },
    ],
}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit setting the value at the JSON pointer ``path``."""

    def edit(schema: dict[str, Any]) -> None:
        *parents, last = path.strip("/").split("/")
        node: Any = schema
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


def _swap_fields(schema: dict[str, Any]) -> None:
    fields = schema["fields"]
    fields[4], fields[5] = fields[5], fields[4]


EDITS = [
    ("default", _set("/fields/3/default", 9), "/fields/3/default"),
    (
        "logical type",
        _set("/fields/1/type/logicalType", "timestamp-millis"),
        "/fields/1/type/logicalType",
    ),
    ("precision", _set("/fields/2/type/precision", 10), "/fields/2/type/precision"),
    ("scale", _set("/fields/2/type/scale", 3), "/fields/2/type/scale"),
    ("field alias", _set("/fields/3/aliases", ["prio", "pri"]), "/fields/3/aliases"),
    ("record alias", _set("/aliases", ["Older"]), "/aliases"),
    ("field order", _swap_fields, "/fields/4/name"),
    (
        "enum symbol order",
        _set("/fields/4/type/symbols", ["GREEN", "RED", "unknown"]),
        "/fields/4/type/symbols/0",
    ),
    (
        "enum symbol added",
        _set("/fields/4/type/symbols", ["RED", "GREEN", "BLUE", "unknown"]),
        "/fields/4/type/symbols/2",
    ),
    ("enum default", _set("/fields/4/type/default", "RED"), "/fields/4/type/default"),
    ("namespace", _set("/namespace", "test.other"), "/namespace"),
    ("record doc", _set("/doc", "Another doc."), "/doc"),
    ("field doc", _set("/fields/0/doc", "The id."), "/fields/0/doc"),
    ("custom attribute", _set("/fields/5/x-owner", "team-b"), "/fields/5/x-owner"),
    ("custom attribute added", _set("/x-owner", "team-a"), "/x-owner"),
    ("attribute 1 to true", _set("/fields/5/x-weight", True), "/fields/5/x-weight"),
    ("attribute 1 to 1.0", _set("/fields/5/x-weight", 1.0), "/fields/5/x-weight"),
    (
        "default object key order",
        _set("/fields/6/default", {"b": 2, "a": 1}),
        "/fields/6/default",
    ),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "avro" / "Sample").mkdir(parents=True)
    (tmp_path / "avro" / "Sample" / "v1.avsc").write_text(json.dumps(SAMPLE, indent=2))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.somacontracts]\nschemas = "avro"\nlock = "somacontracts.lock"\n'
        '[tool.somacontracts.lint]\ndisable = ["ENUM_DOC"]\n'
    )
    assert _cli(tmp_path, "lock") == EXIT_OK
    assert _cli(tmp_path, "check") == EXIT_OK
    return tmp_path


def _cli(repo: Path, *args: str) -> int:
    return main([*args, "--config", str(repo / "pyproject.toml")])


def _rewrite(repo: Path, change: Callable[[dict[str, Any]], object], **dump: Any) -> None:
    path = repo / "avro" / "Sample" / "v1.avsc"
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema, **dump))


@pytest.mark.parametrize(("kind", "edit", "pointer"), EDITS, ids=[e[0] for e in EDITS])
def test_each_kind_of_edit_is_refused_where_it_is(
    repo: Path, capsys: pytest.CaptureFixture[str], kind: str, edit: Any, pointer: str
) -> None:
    _rewrite(repo, edit, indent=2)
    capsys.readouterr()
    assert _cli(repo, "check", "--format", "json") == EXIT_VIOLATIONS
    findings = json.loads(capsys.readouterr().out)["findings"]
    edited = [f for f in findings if f["rule"] == "VERSION_EDITED"]
    assert [(f["path"], f["location"]) for f in edited] == [
        (str(repo / "avro" / "Sample" / "v1.avsc"), pointer)
    ], kind
    assert _cli(repo, "lock") == EXIT_USAGE
    assert f"(first at {pointer})" in capsys.readouterr().err


def _reorder_keys(schema: dict[str, Any]) -> None:
    def reverse(node: Any) -> Any:
        # The attributes of the schema, not the keys of a default value: those are data.
        if isinstance(node, dict):
            return {
                key: node[key] if key == "default" else reverse(node[key])
                for key in reversed(list(node))
            }
        if isinstance(node, list):
            return [reverse(item) for item in node]
        return node

    reordered = reverse(schema)
    schema.clear()
    schema.update(reordered)


@pytest.mark.parametrize(
    ("change", "dump"),
    [
        (lambda s: None, {"indent": 4}),
        (lambda s: None, {"separators": (",", ":")}),
        (_reorder_keys, {"indent": 2}),
        (_set("/aliases", ["OldSample"]), {}),
        (_set("/fields/3/aliases", ["prio"]), {}),
    ],
    ids=["indent", "compact", "key order", "same alias", "same field alias"],
)
def test_white_space_and_key_order_are_not_edits(
    repo: Path, change: Callable[[dict[str, Any]], object], dump: dict[str, Any]
) -> None:
    _rewrite(repo, change, **dump)
    assert _cli(repo, "check") == EXIT_OK
    assert _cli(repo, "lock", "--check") == EXIT_OK


def test_a_lock_of_format_1_is_flagged_then_upgraded(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = repo / "somacontracts.lock"
    data = json.loads(lock.read_text())
    data["format"] = 1
    for contract in data["contracts"].values():
        for entry in contract["versions"].values():
            del entry["schema"]
    lock.write_text(json.dumps(data))
    capsys.readouterr()
    assert _cli(repo, "check") == EXIT_VIOLATIONS
    assert "locked in" in capsys.readouterr().out
    assert _cli(repo, "lock") == EXIT_OK
    assert "recorded the registry text of 1 version locked before" in capsys.readouterr().out
    assert json.loads(lock.read_text())["format"] == 2
    assert _cli(repo, "check") == EXIT_OK


def _copy_of_this_repository(tmp_path: Path) -> Path:
    """The contracts, the committed models and a configuration naming both, locked."""
    shutil.copytree(sources.bundled_root(), tmp_path / "avro")
    models = Path(sources.__file__).parents[1] / "models"
    shutil.copytree(models, tmp_path / "models", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.somacontracts]\nschemas = "avro"\nlock = "somacontracts.lock"\nmodels = "models"\n'
        "line-length = 100\n"  # as this repository's [tool.ruff]
    )
    assert _cli(tmp_path, "lock") == EXIT_OK
    assert _cli(tmp_path, "check") == EXIT_OK
    return tmp_path


def test_spelling_alone_changes_neither_the_lock_nor_the_models(tmp_path: Path) -> None:
    """Key order, white space, a namespace moved into a dotted name, a redundant nested
    namespace and an explicit ascending order: the registry stores the same schema."""
    repo = _copy_of_this_repository(tmp_path)
    path = repo / "avro" / "ToolInvocation" / "v1.avsc"
    schema = json.loads(path.read_text())
    _reorder_keys(schema)
    schema["name"] = f"{schema.pop('namespace')}.{schema['name']}"
    schema["fields"][5]["type"]["namespace"] = "somastack.contracts"
    schema["fields"][0]["order"] = "ascending"
    path.write_text(json.dumps(schema, indent=7))
    assert _cli(repo, "check") == EXIT_OK


def test_the_issue_s_two_edits_of_a_copy_of_this_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy with its committed models: each edit fails, and so do the models."""
    tmp_path = _copy_of_this_repository(tmp_path)
    for contract, old, new, pointer in (
        ("DelegatedTask", '"default": 5', '"default": 9', "/fields/4/default"),
        (
            "ToolInvocation",
            "timestamp-micros",
            "timestamp-millis",
            "/fields/5/type/fields/2/type/logicalType",
        ),
    ):
        path = tmp_path / "avro" / contract / "v1.avsc"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
        capsys.readouterr()
        assert _cli(tmp_path, "check", "--format", "json") == EXIT_VIOLATIONS
        findings = json.loads(capsys.readouterr().out)["findings"]
        got = {(f["rule"], f["contract"], f["location"]) for f in findings}
        assert ("VERSION_EDITED", contract, pointer) in got
        assert ("MODELS_UP_TO_DATE", contract, "") in got
        path.write_text(text)


RULES = {
    "ruleSet": {
        "domainRules": [
            {
                "name": "tenantSet",
                "kind": "CONDITION",
                "mode": "WRITE",
                "type": "CEL",
                "expr": 'message.tenant_id != ""',
                "onFailure": "DLQ",
            }
        ]
    },
    "metadata": {"properties": {"owner": "tools"}},
}


def test_a_released_version_s_data_contract_cannot_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rules and metadata are part of a version, as in the registry: adding, editing or
    removing them after release is an edit, refused like one of the schema."""
    repo = _copy_of_this_repository(tmp_path)
    beside = repo / "avro" / "ToolInvocation" / "v1.contract.json"
    beside.write_text(json.dumps(RULES))
    capsys.readouterr()
    assert _cli(repo, "check") == EXIT_VIOLATIONS
    out = capsys.readouterr().out
    assert f"{beside}: v1 VERSION_EDITED" in out
    assert "its Data Contract (metadata and rules) changed" in out
    assert _cli(repo, "lock") == EXIT_USAGE
    assert "v1.contract.json" in capsys.readouterr().err
    # a new version may carry them; the lock records them
    new = repo / "avro" / "ToolInvocation" / "v2.avsc"
    new.write_text((repo / "avro" / "ToolInvocation" / "v1.avsc").read_text())
    beside.rename(repo / "avro" / "ToolInvocation" / "v2.contract.json")
    assert _cli(repo, "lock") == EXIT_OK
    recorded = json.loads((repo / "somacontracts.lock").read_text())
    entry = recorded["contracts"]["ToolInvocation"]["versions"]["2"]
    assert json.loads(entry["contract"]) == RULES
    assert "contract" not in recorded["contracts"]["ToolInvocation"]["versions"]["1"]
    edited = dict(RULES, metadata={"properties": {"owner": "someone else"}})
    (repo / "avro" / "ToolInvocation" / "v2.contract.json").write_text(json.dumps(edited))
    capsys.readouterr()
    assert _cli(repo, "check") == EXIT_VIOLATIONS
    assert "v2.contract.json: v2 VERSION_EDITED" in capsys.readouterr().out

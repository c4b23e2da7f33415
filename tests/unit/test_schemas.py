"""Loading a schema tree: good trees load, every bad input is one SchemaLoadError or SchemaError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from somacontracts.errors import SchemaError, SchemaLoadError, UnknownContractError
from somacontracts.schema import forms
from somacontracts.tooling import sources

MINIMAL = {
    "type": "record",
    "name": "Thing",
    "namespace": "t",
    "doc": "d",
    "fields": [{"name": "a", "type": "int", "doc": "d"}],
}


def write(root: Path, contract: str, version: int, content: object) -> Path:
    folder = root / contract
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"v{version}.avsc"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_bundled_tree_is_the_checkout_or_package_tree() -> None:
    root = sources.bundled_root()
    assert (root / "ToolInvocation" / "v1.avsc").is_file()
    assert sources.bundled()["ToolInvocation"].version(1).path.parent == root / "ToolInvocation"


def test_versions_load_in_order(tmp_path: Path) -> None:
    write(tmp_path, "Thing", 1, MINIMAL)
    v2 = dict(MINIMAL, fields=[*MINIMAL["fields"], {"name": "b", "type": "string", "default": ""}])
    write(tmp_path, "Thing", 2, v2)
    (tmp_path / "Thing" / "README.md").write_text("notes are ignored")
    tree = sources.load_tree(tmp_path)
    thing = tree["Thing"]
    assert [v.version for v in thing.versions] == [1, 2]
    assert thing.latest.version == 2
    assert thing.version(1).fingerprint != thing.version(2).fingerprint
    assert thing.latest.full_name == "t.Thing"


def test_fingerprint_ignores_formatting_and_docs(tmp_path: Path) -> None:
    spaced = write(tmp_path, "Thing", 1, json.dumps(MINIMAL, indent=8))
    other = dict(MINIMAL, doc="another doc")
    assert forms.fingerprint(json.loads(spaced.read_text())) == forms.fingerprint(other)
    assert forms.fingerprint(MINIMAL) != forms.fingerprint(dict(MINIMAL, name="Other"))


def test_known_fingerprint_of_a_primitive() -> None:
    # SHA-256 of the canonical form "\"int\"".
    assert (
        forms.fingerprint("int")
        == "3f2b87a9fe7cc9b13835598c3981cd45e3e355309e5090aa0933d7becb6fba45"
    )


@pytest.mark.parametrize(
    ("files", "where", "words"),
    [
        ({1: "{not json"}, "v1.avsc", "is not valid JSON: Expecting property name"),
        ({1: MINIMAL, 3: MINIMAL}, "Thing", "v2.avsc missing"),
        ({2: MINIMAL}, "Thing", "v1.avsc missing"),
        ({1: dict(MINIMAL, name="Other")}, "v1.avsc at /name", "folder is Thing"),
        (
            {1: {"type": "enum", "name": "Thing", "symbols": ["A"]}},
            "v1.avsc at /type",
            "must be a record",
        ),
        (
            {1: dict(MINIMAL, fields=[{"name": "a", "type": "int", "default": "x"}])},
            "v1.avsc at /fields/0/default",
            "whole number",
        ),
        ({1: "\udcff"}, "v1.avsc", "cannot be read"),
    ],
)
def test_bad_trees_give_one_line(
    tmp_path: Path, files: dict[int, object], where: str, words: str
) -> None:
    for version, content in files.items():
        path = write(tmp_path, "Thing", version, "" if content == "\udcff" else content)
        if content == "\udcff":
            path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(SchemaError) as caught:
        sources.load_tree(tmp_path)
    message = str(caught.value)
    assert where in message
    assert words in message
    assert "\n" not in message


def test_misnamed_file(tmp_path: Path) -> None:
    write(tmp_path, "Thing", 1, MINIMAL)
    (tmp_path / "Thing" / "v01.avsc").write_text(json.dumps(MINIMAL))
    with pytest.raises(SchemaLoadError, match=r"v01.avsc: is not named vN.avsc"):
        sources.load_tree(tmp_path)


def test_empty_folder_and_missing_root(tmp_path: Path) -> None:
    (tmp_path / "Thing").mkdir()
    with pytest.raises(SchemaLoadError, match=r"holds no v1\.avsc"):
        sources.load_tree(tmp_path)
    with pytest.raises(SchemaLoadError, match="is not a folder"):
        sources.load_tree(tmp_path / "absent")


def test_unknown_version_and_contract(tmp_path: Path) -> None:
    shutil.copytree(sources.bundled_root(), tmp_path / "avro")
    tree = sources.load_tree(tmp_path / "avro")
    with pytest.raises(SchemaLoadError, match=r"there is no v9\.avsc"):
        tree["ToolResult"].version(9)
    with pytest.raises(UnknownContractError):
        sources.lookup(tree, "Nope")

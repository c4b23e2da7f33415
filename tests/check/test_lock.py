"""The lock file: released versions are immutable; reading bad files fails in one line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from somacontracts.tooling import sources
from somacontracts.tooling.check.lock import (
    Lock,
    LockError,
    compare,
    read_lock,
    render_lock,
    with_new_versions,
    write_lock,
)


@pytest.fixture
def tree_dir(tmp_path: Path) -> Path:
    root = tmp_path / "avro"
    shutil.copytree(sources.bundled_root(), root)
    return root


def test_lock_round_trip_and_idempotence(tree_dir: Path, tmp_path: Path) -> None:
    tree = sources.load_tree(tree_dir)
    lock = with_new_versions(Lock(), tree, source="x")
    path = tmp_path / "somacontracts.lock"
    write_lock(path, lock)
    again = read_lock(path)
    assert again.versions == lock.versions
    assert render_lock(with_new_versions(again, tree, source="x")) == path.read_text()
    assert compare(again.versions, tree, baseline="lock", report_unrecorded=True) == []
    assert not list(tmp_path.glob(".somacontracts.lock.*"))


def test_edit_delete_and_new_version_are_reported(tree_dir: Path) -> None:
    lock = with_new_versions(Lock(), sources.load_tree(tree_dir), source="x")
    edited = tree_dir / "ToolResult" / "v1.avsc"
    edited.write_text(edited.read_text().replace('"duration_ms"', '"duration_us"'))
    shutil.copy(tree_dir / "ToolInvocation" / "v1.avsc", tree_dir / "ToolInvocation" / "v2.avsc")
    shutil.rmtree(tree_dir / "DelegatedTask")
    findings = compare(
        lock.versions, sources.load_tree(tree_dir), baseline="the lock", report_unrecorded=True
    )
    got = {(f.rule, f.contract, f.version) for f in findings}
    assert got == {
        ("VERSION_EDITED", "ToolResult", 1),
        ("VERSION_LOCKED", "ToolInvocation", 2),
        ("VERSION_NO_DELETE", "DelegatedTask", 1),
    }
    quiet = compare(
        lock.versions, sources.load_tree(tree_dir), baseline="r", report_unrecorded=False
    )
    assert "VERSION_LOCKED" not in {f.rule for f in quiet}
    assert len(quiet) == 2


def test_a_doc_edit_is_an_edit(tree_dir: Path) -> None:
    lock = with_new_versions(Lock(), sources.load_tree(tree_dir), source="x")
    path = tree_dir / "ToolResult" / "v1.avsc"
    path.write_text(path.read_text().replace("How the call ended.", "How the call finished."))
    findings = compare(
        lock.versions, sources.load_tree(tree_dir), baseline="l", report_unrecorded=True
    )
    assert [(f.rule, f.location) for f in findings] == [("VERSION_EDITED", "/fields/1/doc")]


def test_lock_refuses_to_change_a_release(tree_dir: Path) -> None:
    lock = with_new_versions(Lock(), sources.load_tree(tree_dir), source="x")
    path = tree_dir / "ToolResult" / "v1.avsc"
    path.write_text(path.read_text().replace('"duration_ms"', '"duration_us"'))
    with pytest.raises(LockError, match=r"first at /fields/3/type/fields/0/name\); released"):
        with_new_versions(lock, sources.load_tree(tree_dir), source="x")


def test_other_sections_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "l.lock"
    path.write_text(json.dumps({"format": 1, "contracts": {}, "registries": {"prod": {"a": 1}}}))
    lock = read_lock(path)
    assert json.loads(render_lock(lock))["registries"] == {"prod": {"a": 1}}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{", "is not valid JSON"),
        ("[]", "is not a lock file of format 2"),
        ('{"format": 3, "contracts": {}}', "is not a lock file of format 2"),
        (
            '{"format": 2, "contracts": {"A": {"versions": {"1": {"fingerprint": "'
            + "a" * 64
            + '"}}}}}',
            'needs the "schema" text',
        ),
        ('{"format": 1, "contracts": []}', '"contracts" must be an object'),
        ('{"format": 1, "contracts": {"A": {}}}', 'needs a "versions" object'),
        (
            '{"format": 1, "contracts": {"A": {"versions": {"1": {"fingerprint": "x"}}}}}',
            "64-digit",
        ),
    ],
)
def test_bad_lock_files(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "somacontracts.lock"
    path.write_text(content)
    with pytest.raises(LockError) as caught:
        read_lock(path)
    assert words in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_a_lock_that_is_no_regular_file_is_one_error_not_an_endless_read(tmp_path: Path) -> None:
    endless = tmp_path / "somacontracts.lock"
    endless.symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.lock")
    for path in (endless, tmp_path / "pipe.lock", tmp_path):
        with pytest.raises(LockError) as caught:
            read_lock(path)
        assert str(caught.value) == f"{path}: is not a regular file"


def test_missing_lock_is_empty(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "absent.lock").versions == {}

"""``somacontracts codegen`` writes and removes files only inside its folder of models:
a module that is a link leading out stops the run before any file is written; the only
files removed are regular files of the folder that start with the generated header."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, main
from tests.codegen.conftest import CORPUS


def _codegen(out: Path, *options: str) -> int:
    return main(["codegen", "--schemas", str(CORPUS), "--out", str(out), *options])


def _entries(folder: Path) -> dict[str, bytes | str]:
    """Every entry of ``folder``: a file's bytes, anything else by what it is."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            found[path.name] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[path.name] = path.read_bytes()
        else:
            found[path.name] = "not a file"
    return found


@pytest.fixture
def models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "models"
    assert _codegen(out) == EXIT_OK
    capsys.readouterr()
    return out


def test_stale_looking_files_that_are_no_regular_files_of_the_folder_stay(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Codegen finds stale modules by listing its folder, so no name is absolute or holds
    ``..``; what it may find instead: links to files, links to folders, folders, devices
    and pipes named like modules."""
    generated = (models / "unions.py").read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for victim in (tmp_path / "victim.py", elsewhere / "old.py", models.parent / "beside.py"):
        victim.write_bytes(generated)  # each looks like a generated module
    (models / "linked.py").symlink_to(tmp_path / "victim.py")
    (models / "alias.py").symlink_to("unions.py")
    (models / "folder.py").symlink_to(elsewhere)
    (models / "package.py").mkdir()
    (models / "endless.py").symlink_to("/dev/zero")
    os.mkfifo(models / "pipe.py")
    (models / "gone.py").write_bytes(generated)  # the one stale module
    before = _entries(models)

    assert _codegen(models, "--check") == EXIT_VIOLATIONS
    assert capsys.readouterr().out.splitlines()[:-1] == [
        f"out of date  {models / 'gone.py'}: stale"
    ]
    assert _codegen(models) == EXIT_OK
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"removed  {models / 'gone.py'}", f"6 generated files in {models}"]
    assert err.splitlines() == [
        f"somacontracts codegen: warning: {str(models / name)!r} is a symbolic link; not removed"
        for name in ("alias.py", "linked.py")
    ]
    assert _entries(models) == {name: v for name, v in before.items() if name != "gone.py"}
    for victim in (tmp_path / "victim.py", elsewhere / "old.py", models.parent / "beside.py"):
        assert victim.read_bytes() == generated
    assert _codegen(models, "--check") == EXIT_OK


@pytest.mark.parametrize("dangling", [False, True])
def test_a_module_that_is_a_link_leading_out_stops_the_run_before_any_file(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str], dangling: bool
) -> None:
    victim = tmp_path / "victim.py"
    if not dangling:
        victim.write_text("mine\n")
    (models / "recursive.py").unlink()
    (models / "recursive.py").symlink_to(victim)
    (models / "keywords.py").write_text("# edited\n")  # a run that wrote anything mends it
    (models / "unions.py").unlink()
    before = _entries(models)

    assert _codegen(models) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"somacontracts codegen: error: cannot write {models / 'recursive.py'}: leads through "
        f"a symbolic link to {victim}, outside {models}; remove the link, or write elsewhere\n"
    )
    assert _entries(models) == before
    assert victim.exists() is not dangling
    if not dangling:
        assert victim.read_text() == "mine\n"


def test_a_folder_of_models_inside_the_installed_packages_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packages = tmp_path / "lib" / "python3" / "dist-packages"
    linked = tmp_path / "models"
    linked.symlink_to(packages / "shop", target_is_directory=True)
    for out in (packages / "shop", linked):
        assert _codegen(out) == EXIT_USAGE
        assert f"is inside the installed packages ({packages})" in capsys.readouterr().err
    assert not (tmp_path / "lib").exists()

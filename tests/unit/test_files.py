"""The one rule of the tooling's files: written whole or not at all, only inside the
folder they belong to (links followed), removed only as regular files reached without
a link, never inside the installed packages; the process's own descriptors and devices
are written to as they are."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from somacontracts.catalog.environment import load_topic_settings
from somacontracts.errors import FileWriteError
from somacontracts.tooling.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, main
from somacontracts.tooling.docs.site import SUFFIXES
from somacontracts.tooling.files import (
    check_folder,
    installed_packages,
    removal_refusal,
    remove_files,
    replace_text,
)
from somacontracts.tooling.monitoring import render_rules


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.yml"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.yml"
    link.symlink_to(target)
    replace_text(link, "new\n")
    assert link.is_symlink()
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("dangling", [False, True])
def test_a_link_leading_out_of_its_folder_is_refused_and_its_target_untouched(
    tmp_path: Path, dangling: bool
) -> None:
    victim = tmp_path / "victim.txt"
    if not dangling:
        victim.write_text("mine")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "rules.yml").symlink_to(victim)
    with pytest.raises(FileWriteError) as caught:
        replace_text(folder / "rules.yml", "hostile")
    assert f"leads through a symbolic link to {victim}, outside {folder}" in str(caught.value)
    if dangling:
        assert not victim.exists()
    else:
        assert victim.read_text() == "mine"
    assert (folder / "rules.yml").is_symlink()
    assert [p.name for p in folder.iterdir()] == ["rules.yml"]  # no temporary file left


def test_a_folder_on_the_way_that_leads_out_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    site = tmp_path / "site"
    site.mkdir()
    (site / "contracts").symlink_to(elsewhere)
    with pytest.raises(FileWriteError, match="outside"):
        replace_text(site / "contracts" / "A.html", "x", folder=site)
    assert list(elsewhere.iterdir()) == []
    inside = site / "pages"
    inside.mkdir()
    (site / "alias").symlink_to(inside)
    replace_text(site / "alias" / "A.html", "x", folder=site)  # a link that stays inside
    assert (inside / "A.html").read_text() == "x"


def test_a_hard_link_elsewhere_keeps_the_old_text(tmp_path: Path) -> None:
    elsewhere = tmp_path / "victim.txt"
    elsewhere.write_text("mine")
    folder = tmp_path / "out"
    folder.mkdir()
    os.link(elsewhere, folder / "rules.yml")
    replace_text(folder / "rules.yml", "new")
    assert (folder / "rules.yml").read_text() == "new"
    assert elsewhere.read_text() == "mine"


def test_a_device_is_written_to_not_replaced() -> None:
    devnull = Path(os.devnull)
    replace_text(devnull, "discarded\n")
    assert stat.S_ISCHR(devnull.stat().st_mode)  # still the device, also when run as root


def test_a_pipe_in_its_folder_is_written_to(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yml"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    replace_text(fifo, "through the pipe\n")
    reader.join(timeout=10)
    assert got == ["through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("redirect", ["pipe", "file"])
def test_the_commands_own_stdout_is_written_to_as_it_is(tmp_path: Path, redirect: str) -> None:
    """``-o /dev/stdout`` leads out of ``/dev`` (to a pipe, or a file the shell opened):
    the caller opened that descriptor, so it is written to, not refused or replaced."""
    command = [sys.executable, "-m", "somacontracts", "alerts", "-o", "/dev/stdout"]
    printed = render_rules(load_topic_settings()).encode()  # what alerts prints
    if redirect == "pipe":
        done = subprocess.run(command, capture_output=True, check=False)
        assert (done.returncode, done.stderr, done.stdout) == (EXIT_OK, b"", printed)
    else:
        out = tmp_path / "rules.yml"
        with out.open("wb") as handle:
            done = subprocess.run(command, stdout=handle, stderr=subprocess.PIPE, check=False)
        assert (done.returncode, done.stderr) == (EXIT_OK, b"")
        assert out.read_bytes() == printed


@pytest.mark.parametrize("name", ["", ".", "folder"])
def test_a_path_that_names_no_file_is_one_error(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder").mkdir()
    target = tmp_path / name if name else Path(name)
    with pytest.raises(FileWriteError, match=r"names no file|is a folder"):
        replace_text(target, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_nothing_is_written_inside_the_installed_packages(tmp_path: Path) -> None:
    for folder in (
        installed_packages()[0] / "somacontracts",
        tmp_path / "lib" / "python3" / "dist-packages" / "shop",  # another interpreter's
    ):
        with pytest.raises(FileWriteError, match="is inside the installed packages"):
            check_folder(folder)
        with pytest.raises(FileWriteError, match="is inside the installed packages"):
            replace_text(folder / "rules.yml", "x")
    assert not (tmp_path / "lib").exists()
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "a.html").write_text("x")
    assert removal_refusal(site, "a.html", suffixes=SUFFIXES) == "is inside the installed packages"


@pytest.mark.parametrize("command", ["alerts", "asyncapi"])
def test_output_through_a_link_leading_out_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    victim = tmp_path / "victim.yml"
    victim.write_text("mine")
    folder = tmp_path / "monitoring"
    folder.mkdir()
    (folder / "out.yml").symlink_to(victim)
    assert main([command, "-o", str(folder / "out.yml")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == (
        f"somacontracts {command}: error: cannot write {folder / 'out.yml'}: leads through a "
        f"symbolic link to {victim}, outside {folder}; remove the link, or write elsewhere\n"
    )
    assert victim.read_text() == "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["out.yml"]  # no temporary file left


def test_a_lock_file_that_leads_out_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"  # a link to nothing yet reads as an empty lock
    project = tmp_path / "project"
    project.mkdir()
    (project / "somacontracts.lock").symlink_to(victim)
    monkeypatch.chdir(project)
    assert main(["lock"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"somacontracts.lock: leads through a symbolic link to {victim}, outside" in err
    assert not victim.exists()
    assert [p.name for p in project.iterdir()] == ["somacontracts.lock"]


def test_ctrl_c_is_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("somacontracts.tooling.cli.alerts.render_rules", interrupted)
    assert main(["alerts"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "somacontracts alerts: interrupted\n"


def _tree(base: Path) -> Path:
    """A site with pages, a folder, links inside and out, and files beside it."""
    (base / "outside.html").write_text("outside")
    (base / "notes.html").write_text("beside")
    site = base / "site"
    (site / "sub").mkdir(parents=True)
    (site / "dir.html").mkdir()
    for name in ("page.html", "style.css", "notes.txt", "sub/deep.html"):
        (site / name).write_text(name)
    (site / "up").symlink_to("..")
    (site / "out.html").symlink_to("../outside.html")
    (site / "alias.html").symlink_to("page.html")
    (site / "sublink").symlink_to("sub")
    os.mkfifo(site / "pipe.html")
    return site


REMOVABLE = {"page.html", "style.css", "sub/deep.html"}
"""The files of :func:`_tree` the rule lets go: regular, reached without a link, suffixed."""


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("{base}/notes.html", "is an absolute path"),
        ("../notes.html", "leads out of the folder (..)"),
        ("sub/../../notes.html", "leads out of the folder (..)"),
        ("up/notes.html", "goes through the symbolic link 'up'"),
        ("sublink/deep.html", "goes through the symbolic link 'sublink'"),
        ("out.html", "is a symbolic link"),
        ("alias.html", "is a symbolic link"),
        ("dir.html", "is a folder"),
        ("pipe.html", "is not a regular file"),
        ("notes.txt", "does not end in .css, .html, .js, .json or .svg"),
        ("sub", "does not end in .css, .html, .js, .json or .svg"),
        ("", "names no file"),
        ("page\0.html", "names no file"),
        ("missing.html", None),
        ("page.html/x.html", None),
        ("./sub//deep.html", None),
    ],
)
def test_what_may_be_removed_and_why_not(tmp_path: Path, entry: str, reason: str | None) -> None:
    site = _tree(tmp_path)
    assert removal_refusal(site, entry.format(base=tmp_path), suffixes=SUFFIXES) == reason


_PARTS = ["page.html", "style.css", "notes.txt", "sub", "deep.html", "up", "out.html"]
_PARTS += ["alias.html", "sublink", "dir.html", "pipe.html", "notes.html", "..", ".", "site"]


@given(
    entries=st.lists(
        st.tuples(
            st.sampled_from(["", "/", "{base}/", "./"]),
            st.lists(st.sampled_from(_PARTS), min_size=1, max_size=4),
        ).map(lambda e: e[0] + "/".join(e[1])),
        max_size=8,
    )
)
def test_a_manifest_removes_nothing_but_the_site_s_own_files(entries: list[str]) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        site = _tree(base)
        listed = [entry.format(base=base) for entry in entries]
        before = set(base.rglob("*"))
        removed, kept = remove_files(site, listed, suffixes=SUFFIXES)
        expected = {
            site / relative
            for entry in listed
            if not PurePosixPath(entry).is_absolute()
            and (relative := str(PurePosixPath(entry))) in REMOVABLE
        }
        assert set(removed) == expected
        assert {p for p in before if not os.path.lexists(p)} == expected
        assert (base / "outside.html").read_text() == "outside"
        assert (base / "notes.html").read_text() == "beside"
        assert all(k.entry in listed and k.reason for k in kept)
        assert len(removed) + len(kept) <= len(listed)

"""``somacontracts docs --out DIR`` writes and removes files only inside DIR: whatever its
manifest lists and whatever links DIR holds, nothing outside is ever touched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from somacontracts.catalog.environment import load_settings
from somacontracts.tooling import sources
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, main
from somacontracts.tooling.configuration import ProjectConfig
from somacontracts.tooling.docs.site import SUFFIXES, build_site

MANIFEST = ".somacontracts-docs"
THING = {
    "type": "record",
    "name": "Thing",
    "namespace": "example",
    "doc": "A thing.",
    "fields": [{"name": "size", "type": "int", "doc": "How big."}],
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A schema tree of one contract: a site of four files, quick to build."""
    root = tmp_path / "avro"
    (root / "Thing").mkdir(parents=True)
    (root / "Thing" / "v1.avsc").write_text(json.dumps(THING))
    return root


def _docs(site: Path, tree: Path) -> int:
    return main(["docs", "--out", str(site), "--schemas", str(tree)])


def _files(folder: Path) -> dict[str, bytes | str]:
    """Every entry below ``folder``: a file's bytes, a link's target, a folder as ``/``."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            found[name] = "/"
        else:
            found[name] = path.read_bytes()
    return found


def test_every_file_of_a_site_ends_in_a_suffix_docs_may_remove() -> None:
    files = build_site(sources.bundled(), ProjectConfig(), load_settings({}))
    assert {Path(name).suffix for name in files} <= set(SUFFIXES)


def test_manifest_entries_docs_did_not_write_in_the_site_are_kept_with_a_warning(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    assert _docs(site, tree) == EXIT_OK
    assert (site / MANIFEST).read_text() == (
        "contracts/Thing.html\nindex.html\nsearch.js\nstyle.css\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for victim in (tmp_path / "victim.html", tmp_path / "victim.txt", elsewhere / "page.html"):
        victim.write_text("mine")
    (site / "up").symlink_to("..")
    (site / "elsewhere").symlink_to(elsewhere)
    (site / "link.html").symlink_to(tmp_path / "victim.html")
    (site / "old.html").mkdir()
    (site / "notes.txt").write_text("the team's")
    (site / "contracts" / "Gone.html").write_text("a page of an earlier run")
    hostile = {
        str(tmp_path / "victim.txt"): "is an absolute path",
        str(tmp_path / "victim.html"): "is an absolute path",
        "../victim.html": "leads out of the folder (..)",
        "up/victim.html": "goes through the symbolic link 'up'",
        "elsewhere/page.html": "goes through the symbolic link 'elsewhere'",
        "link.html": "is a symbolic link",
        "old.html": "is a folder",
        "notes.txt": "does not end in .css, .html, .js, .json or .svg",
    }
    with (site / MANIFEST).open("a") as manifest:
        manifest.write("\n".join([*hostile, "contracts/Gone.html", "never-written.html", ""]))
    before = _files(site)
    capsys.readouterr()

    assert _docs(site, tree) == EXIT_OK
    out, err = capsys.readouterr()
    assert out == f"wrote 2 pages to {site}; removed 1 stale page\n"
    assert err.splitlines() == sorted(
        f"somacontracts docs: warning: {site / MANIFEST}: {entry!r} {reason}; not removed"
        for entry, reason in hostile.items()
    )
    after = _files(site)
    assert set(before) - set(after) == {"contracts/Gone.html"}
    assert {name: before[name] for name in after if name != MANIFEST} == {
        name: after[name] for name in after if name != MANIFEST
    }
    for victim in (tmp_path / "victim.html", tmp_path / "victim.txt", elsewhere / "page.html"):
        assert victim.read_text() == "mine"
    assert (site / MANIFEST).read_text().splitlines() == [
        "contracts/Thing.html",
        "index.html",
        "search.js",
        "style.css",
    ]


@pytest.mark.parametrize("what", ["page", "folder of pages", "manifest"])
def test_a_path_of_the_site_that_leads_out_stops_the_run_before_any_file(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    site = tmp_path / "site"
    assert _docs(site, tree) == EXIT_OK
    secret = tmp_path / "credentials"
    secret.write_text("password=hunter2\nindex.html\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site / "style.css").unlink()  # a run that wrote anything would bring it back
    linked = {"page": "index.html", "folder of pages": "contracts", "manifest": MANIFEST}[what]
    if what == "folder of pages":
        (site / "contracts" / "Thing.html").rename(elsewhere / "Thing.html")
        (site / "contracts").rmdir()
        (site / "contracts").symlink_to(elsewhere)
    else:
        (site / linked).unlink()
        (site / linked).symlink_to(secret)
    before, outside = _files(site), _files(tmp_path)
    capsys.readouterr()

    assert _docs(site, tree) == EXIT_USAGE
    out, err = capsys.readouterr()
    target = elsewhere / "Thing.html" if what == "folder of pages" else secret
    assert out == ""
    assert err.startswith(
        f"somacontracts docs: error: cannot write {site / linked}"
        f"{'/Thing.html' if what == 'folder of pages' else ''}: "
        f"leads through a symbolic link to {target}, outside {site}"
    )
    assert err.count("\n") == 1
    assert "hunter2" not in err
    assert _files(site) == before
    assert _files(tmp_path) == outside


def test_a_manifest_that_is_no_text_file_is_one_line(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    assert _docs(site, tree) == EXIT_OK
    (site / "contracts" / "Gone.html").write_text("an earlier run's")
    (site / MANIFEST).write_bytes(b"contracts/Gone.html\n\xff\n")
    capsys.readouterr()
    assert _docs(site, tree) == EXIT_OK
    assert capsys.readouterr().err == (
        f"somacontracts docs: warning: {site / MANIFEST}: is not UTF-8 text; "
        "no stale page removed\n"
    )
    assert (site / "contracts" / "Gone.html").exists()
    assert (site / MANIFEST).read_text().startswith("contracts/Thing.html\n")

    (site / MANIFEST).unlink()
    os.mkfifo(site / MANIFEST)  # reading or writing it would wait for another process
    (site / "style.css").unlink()
    assert _docs(site, tree) == EXIT_USAGE
    err = capsys.readouterr().err
    assert (
        err == f"somacontracts docs: error: cannot write {site / MANIFEST}: is not a regular file\n"
    )
    assert not (site / "style.css").exists()


def test_a_link_inside_the_site_is_written_through_and_out_may_be_a_link(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "www" / "docs"
    real.mkdir(parents=True)
    site = tmp_path / "site"
    site.symlink_to(real)
    (real / "home.html").write_text("old")
    (real / "index.html").symlink_to("home.html")
    assert _docs(site, tree) == EXIT_OK
    assert capsys.readouterr().out == f"wrote 2 pages to {site}\n"
    assert (real / "index.html").is_symlink()
    assert (real / "home.html").read_text().startswith("<!DOCTYPE html>")
    assert (real / "contracts" / "Thing.html").is_file()


def test_a_site_inside_the_installed_packages_is_refused(
    tmp_path: Path, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packages = tmp_path / "lib" / "site-packages"
    assert _docs(packages / "site", tree) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == (
        f"somacontracts docs: error: cannot write {packages / 'site'}: is inside the installed "
        f"packages ({packages}); the tooling never writes there: give a folder of your project\n"
    )
    assert not (tmp_path / "lib").exists()

"""What a release asks git: the last release tag, whether the tree is clean, what changed
since the tag, the schema folder as it was then; and the release commit and tag.

git is asked through its command line in the project's folder; a failure is a
:class:`~somacontracts.errors.ReleaseError` with git's last line of error.
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path

from somacontracts.errors import ReleaseError

__all__ = [
    "TAG",
    "changed_files",
    "commit_and_tag",
    "dirty_files",
    "export_folder",
    "last_release",
    "top_level",
]

TAG = re.compile(r"v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")
"""A release tag, ``vX.Y.Z``."""


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError as err:
        raise ReleaseError("git", "git is not installed") from err
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ReleaseError(f"git {args[0]}", reason[-1] if reason else "failed")
    return result.stdout


def top_level(folder: Path) -> Path:
    """The work tree ``folder`` is in."""
    return Path(_git(["rev-parse", "--show-toplevel"], folder).decode().strip())


def dirty_files(folder: Path) -> list[str]:
    """Files of the work tree that differ from the last commit, or are new and not ignored."""
    listing = _git(["status", "--porcelain", "-z", "--untracked-files=all"], folder)
    return [entry[3:] for entry in listing.decode("utf-8", "replace").split("\0") if entry]


def last_release(folder: Path) -> tuple[str, tuple[int, int, int]] | None:
    """The newest ``vX.Y.Z`` tag reachable from HEAD, and its version; None before the first."""
    listing = _git(["tag", "--merged", "HEAD", "--list", "v*"], folder).decode().split()
    tags = [(tag, match) for tag in listing if (match := TAG.match(tag))]
    if not tags:
        return None
    versions = [(tuple(int(part) for part in match.groups()), tag) for tag, match in tags]
    version, tag = max(versions)
    return tag, (version[0], version[1], version[2])


def changed_files(folder: Path, tag: str) -> list[str]:
    """Files changed between ``tag`` and HEAD, relative to the work tree's top."""
    listing = _git(["diff", "--name-only", "-z", tag, "HEAD"], folder)
    return [name for name in listing.decode("utf-8", "replace").split("\0") if name]


def export_folder(folder: Path, tag: str, into: Path) -> Path:
    """Write ``folder`` as it was at ``tag`` below ``into``; return where it is there
    (which may not exist: the folder had no files then)."""
    top = top_level(folder)
    relative = folder.resolve().relative_to(top).as_posix()
    archive = (
        _git(["archive", "--format=tar", tag, "--", relative], top)
        if _exists(top, tag, relative)
        else b""
    )
    if archive:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(into, filter="data")
    return into / relative


def _exists(top: Path, tag: str, relative: str) -> bool:
    return bool(_git(["ls-tree", "--name-only", tag, "--", relative], top).strip())


def commit_and_tag(folder: Path, files: list[Path], version: str, message: str) -> str:
    """Commit ``files`` as the release of ``version`` and tag it ``v<version>``; the tag."""
    tag = f"v{version}"
    _git(["add", "--", *(str(f) for f in files)], folder)
    _git(["commit", "-q", "-m", f"Release {version}", "--", *(str(f) for f in files)], folder)
    _git(["tag", "-a", tag, "-m", message], folder)
    return tag

"""Where the tooling may write and remove files, and how it writes them: the one rule.

Every file the tooling writes or removes (the lock file, the generated models, the docs
site, the documents of ``-o``) belongs to a folder it was given: ``--out DIR``, the
folder of models, the folder a lock file or ``-o FILE`` is named in. That folder may
itself be reached through a symbolic link: whoever typed or configured its path chose
it. Nothing found inside it may lead elsewhere, since a repository can commit links (and
the docs site's manifest) that point at anything its CI can write:

* Nothing is written or removed inside the installed packages (site-packages,
  dist-packages): it would overwrite the library's own models or another
  distribution's files.
* A file is replaced only where it resolves, links followed, strictly inside its folder:
  a link that stays inside is written through (its target replaced, the link kept); one
  that leads out is refused, as is a folder (:class:`FileWriteError`). The text goes to
  a temporary file beside the target, which then takes its place in one ``os.replace``:
  a reader never sees half a file, a failure leaves the old one, and a hard link to the
  old file elsewhere keeps the old text.
* A pipe, socket or device inside its folder (``-o /dev/null``), and the process's own
  open descriptors (``/dev/stdout``, ``/dev/fd/3``: whoever started the command opened
  them), are written to as they are: there is nothing to replace.
* A file is removed only if it is a regular file reached from its folder without a
  symbolic link on the way (not absolute, no ``..``, not a link itself) and its name
  ends in a suffix its writer writes; :func:`removal_refusal` says why anything else is
  kept, for a warning.

Pure standard library.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import site
import stat
import sys
import sysconfig
import tempfile
from collections.abc import Collection, Iterable
from pathlib import Path, PurePath

from somacontracts.errors import FileWriteError

__all__ = [
    "Kept",
    "check_folder",
    "check_writable",
    "installed_packages",
    "removal_refusal",
    "remove_files",
    "replace_text",
]

_MAX_LINKS = 40
"""Links followed in one path before the kernel gives up (Linux's limit)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Kept:
    """A file the tooling was asked to remove and kept: which, and why."""

    entry: str
    reason: str

    def __str__(self) -> str:
        return f"{self.entry!r} {self.reason}; not removed"


@functools.cache  # they do not move while the process runs
def installed_packages() -> tuple[Path, ...]:
    """The folders installed distributions live in: the site-packages of this interpreter
    (and of the one a virtual environment is made from)."""
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    folders = {*site.getsitepackages()}
    for paths in (sysconfig.get_paths(), sysconfig.get_paths(vars=base)):  # venv and its base
        folders |= {paths["purelib"], paths["platlib"]}
    if site.ENABLE_USER_SITE:
        folders.add(site.getusersitepackages())
    return tuple(sorted(Path(folder).resolve() for folder in folders))


def check_folder(folder: Path) -> None:
    """Raise :class:`FileWriteError` if ``folder`` (links followed) is inside the
    installed packages."""
    _refuse_installed(folder, Path(os.path.realpath(folder)))


def check_writable(path: Path, *, folder: Path | None = None) -> None:
    """Raise :class:`FileWriteError` unless :func:`replace_text` may write ``path`` (of
    ``folder``, by default the folder it is named in): for writers that refuse before
    their first file rather than halfway."""
    _target(path, folder)


def replace_text(path: Path, text: str, *, folder: Path | None = None) -> None:
    """Make ``path`` (a file of ``folder``, by default the folder it is named in) hold
    ``text`` (UTF-8, ``\\n`` line ends), whole or not at all.

    The file keeps its permissions, or a new one gets what ``open`` would give it
    (0666 less the umask): a temporary file alone would be readable by its owner only.
    """
    target, stream = _target(path, folder)
    if stream:
        try:
            with open(target, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except OSError as err:
            raise FileWriteError(str(path), err.strerror or str(err)) from err
        return
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as err:
        raise FileWriteError(str(path), err.strerror or str(err)) from err
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, _mode_of(target))
        os.replace(temporary, target)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise FileWriteError(str(path), err.strerror or str(err)) from err
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def removal_refusal(folder: Path, entry: str, *, suffixes: Collection[str]) -> str | None:
    """Why the tooling may not remove ``entry`` (a path relative to ``folder``), in words
    that follow the entry in a sentence; ``None`` when it may, or nothing is there."""
    relative = PurePath(entry)
    if not entry.strip() or "\0" in entry:
        return "names no file"
    if relative.is_absolute():
        return "is an absolute path"
    if ".." in relative.parts:
        return "leads out of the folder (..)"
    if relative.suffix not in suffixes:
        return f"does not end in {_either(sorted(suffixes))}"
    if _installed(Path(os.path.realpath(folder))) is not None:
        return "is inside the installed packages"
    path = folder
    mode = 0
    for index, part in enumerate(relative.parts, start=1):
        if index > 1 and not stat.S_ISDIR(mode):
            return None  # under a file: nothing there
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return None
        except OSError as err:
            return f"cannot be examined ({err.strerror or err})"
        if stat.S_ISLNK(mode):
            if index == len(relative.parts):
                return "is a symbolic link"
            return f"goes through the symbolic link {str(PurePath(*relative.parts[:index]))!r}"
    if stat.S_ISDIR(mode):
        return "is a folder"
    return None if stat.S_ISREG(mode) else "is not a regular file"


def remove_files(
    folder: Path, entries: Iterable[str], *, suffixes: Collection[str]
) -> tuple[list[Path], list[Kept]]:
    """Remove each of ``entries`` (paths relative to ``folder``) that the rule lets go;
    return the files removed and the entries kept, with why."""
    removed: list[Path] = []
    kept: list[Kept] = []
    for entry in entries:
        reason = removal_refusal(folder, entry, suffixes=suffixes)
        if reason is not None:
            kept.append(Kept(entry, reason))
            continue
        path = folder / entry
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as err:
            raise FileWriteError(str(path), err.strerror or str(err)) from err
        removed.append(path)
    return removed, kept


def _target(path: Path, folder: Path | None) -> tuple[Path, bool]:
    """The file that writing ``path`` replaces, and whether it is a stream to write to as
    it is; :class:`FileWriteError` if the rule forbids writing there."""
    if not str(path) or path.name in ("", ".", ".."):
        raise FileWriteError(str(path), "names no file")
    if _is_descriptor(path):
        return path, True
    home = Path(os.path.realpath(folder if folder is not None else path.parent))
    real = Path(os.path.realpath(path))
    if real == home or not real.is_relative_to(home):
        raise FileWriteError(
            str(path),
            f"leads through a symbolic link to {real}, outside {home}; "
            "remove the link, or write elsewhere",
        )
    _refuse_installed(path, real)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return real, False
    except OSError as err:
        raise FileWriteError(str(path), err.strerror or str(err)) from err
    if stat.S_ISDIR(mode):
        raise FileWriteError(str(path), "is a folder")
    return real, not stat.S_ISREG(mode)


def _is_descriptor(path: Path) -> bool:
    """Whether ``path``, links followed, names one of this process's open descriptors
    (``/dev/stdout`` -> ``/proc/self/fd/1``): the caller opened it, whatever it is."""
    own = (f"/proc/{os.getpid()}/fd", "/dev/fd")  # Linux's, and macOS's own folder
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        parent = os.path.realpath(os.path.dirname(current))
        if parent in own:
            return True
        current = os.path.join(parent, os.path.basename(current))
        if not os.path.islink(current):
            return False
        current = os.path.join(parent, os.readlink(current))  # an absolute target wins
    return False


def _installed(real: Path) -> Path | None:
    """The folder of installed packages that holds ``real``, if any: this interpreter's,
    or any other one's (a folder named site-packages or dist-packages)."""
    for folder in installed_packages():
        if real.is_relative_to(folder):
            return folder
    for index, part in enumerate(real.parts):
        if part in ("site-packages", "dist-packages"):
            return Path(*real.parts[: index + 1])
    return None


def _refuse_installed(path: Path, real: Path) -> None:
    folder = _installed(real)
    if folder is not None:
        raise FileWriteError(
            str(path),
            f"is inside the installed packages ({folder}); the tooling never writes there: "
            "give a folder of your project",
        )


def _either(words: list[str]) -> str:
    """``.css, .html or .js``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask

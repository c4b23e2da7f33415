"""Writing the files the tooling keeps in a repository (lock file, generated models).

Pure standard library. A file is replaced whole or not at all: the text goes to a
temporary file in the same folder, which then takes the file's place in one
``os.replace``, so a reader never sees half a file and a failure leaves the old one
(raised as :class:`~somacontracts.errors.FileWriteError`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from somacontracts.errors import FileWriteError

__all__ = ["replace_text"]


def replace_text(path: Path, text: str) -> None:
    """Make ``path`` hold ``text`` (UTF-8, ``\\n`` line ends) atomically.

    The file keeps its permissions, or a new one gets what ``open`` would give it
    (0666 less the umask): a temporary file alone would be readable by its owner only.
    A symbolic link is written through (its target is replaced, the link stays); a path
    that is not a regular file (``/dev/stdout``, a pipe) is written to as it is.
    """
    if not str(path) or path.name in ("", ".", ".."):
        raise FileWriteError(str(path), "names no file")
    if path.exists() and not path.is_file():  # both follow symbolic links
        if path.is_dir():
            raise FileWriteError(str(path), "is a folder")
        try:  # a device or pipe: there is nothing to replace, only to write to
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except OSError as err:
            raise FileWriteError(str(path), err.strerror or str(err)) from err
        return
    path = Path(os.path.realpath(path))  # through a link: replace its target, keep the link
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as err:
        raise FileWriteError(str(path), err.strerror or str(err)) from err
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, _mode_of(path))
        os.replace(temporary, path)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise FileWriteError(str(path), err.strerror or str(err)) from err
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask

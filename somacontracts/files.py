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
    """
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

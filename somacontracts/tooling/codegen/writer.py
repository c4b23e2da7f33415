"""Put rendered modules on disk, or compare them with what is there: the only I/O of codegen.

Writing follows the tooling's one rule (:mod:`somacontracts.tooling.files`): each module is
replaced whole, only inside the folder (a module that is a link leading out of it is
refused), never inside the installed packages (a service regenerating there would
overwrite the library's own models, or another distribution's files). The only files
removed are stale modules: regular files of the folder (not links) that start with the
generated header and that no schema produces any more. Everything is rendered, and every
file checked against the rule, before the first one is written, so a schema the
generator refuses or a path the rule refuses leaves the folder untouched.
"""

from __future__ import annotations

import dataclasses
import stat
from collections.abc import Mapping
from pathlib import Path

from somacontracts.errors import FileWriteError
from somacontracts.tooling.codegen import templates
from somacontracts.tooling.files import (
    Kept,
    check_folder,
    check_writable,
    removal_refusal,
    remove_files,
    replace_text,
)

__all__ = ["Difference", "compare_modules", "write_modules"]

_GENERATED_MARK = ("# " + templates.HEADER.split("{", 1)[0]).encode()
"""How every generated module starts; only such files are ever reported stale or removed."""

_SUFFIXES = (".py",)


@dataclasses.dataclass(frozen=True, slots=True)
class Difference:
    """A file of the models folder that is not what the schemas produce."""

    path: Path
    kind: str
    """``changed``, ``missing`` (not generated yet) or ``stale`` (no schema produces it)."""

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}"


def compare_modules(modules: Mapping[str, str], directory: Path) -> list[Difference]:
    """How ``directory`` differs from the rendered ``modules`` (file name -> source)."""
    return _compare(modules, directory)[0]


def write_modules(
    modules: Mapping[str, str], directory: Path
) -> tuple[list[Difference], list[Kept]]:
    """Make ``directory`` hold exactly the rendered ``modules``; return what changed, and
    the stale-looking files left in place (links, which codegen never removes).

    Raise :class:`FileWriteError`, before writing anything, for a folder inside the
    installed packages or a module the tooling may not replace.
    """
    check_folder(directory)
    differences, kept = _compare(modules, directory)
    for difference in differences:
        if difference.kind != "stale":
            check_writable(difference.path, folder=directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FileWriteError(str(directory), err.strerror or str(err)) from err
    for difference in differences:
        if difference.kind != "stale":
            replace_text(difference.path, modules[difference.path.name], folder=directory)
    stale = [d.path.name for d in differences if d.kind == "stale"]
    remove_files(directory, stale, suffixes=_SUFFIXES)
    return differences, kept


def _compare(modules: Mapping[str, str], directory: Path) -> tuple[list[Difference], list[Kept]]:
    differences: list[Difference] = []
    for name in sorted(modules):
        path = directory / name
        current = _text_of(path)
        if current is None:
            differences.append(Difference(path, "missing"))
        elif current != modules[name]:
            differences.append(Difference(path, "changed"))
    stale, kept = _stale(modules, directory)
    return differences + [Difference(path, "stale") for path in stale], kept


def _text_of(path: Path) -> str | None:
    """The text of the module at ``path``, ``None`` if there is none; ``""`` for what is
    no module (a folder, a device, whose reading might never end) or cannot be read."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return ""
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return ""


def _stale(modules: Mapping[str, str], directory: Path) -> tuple[list[Path], list[Kept]]:
    """The generated modules no schema produces: those codegen removes, and the ones the
    rule keeps (links)."""
    if not directory.is_dir():
        return [], []
    stale: list[Path] = []
    kept: list[Kept] = []
    for path in sorted(directory.glob("*.py")):
        if path.name in modules or not _generated(path):
            continue
        reason = removal_refusal(directory, path.name, suffixes=_SUFFIXES)
        if reason is None:
            stale.append(path)
        else:
            kept.append(Kept(str(path), reason))
    return stale, kept


def _generated(path: Path) -> bool:
    """Whether ``path`` is a regular file (links followed) that starts as generated
    modules start."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False
        with path.open("rb") as handle:
            return handle.read(len(_GENERATED_MARK)) == _GENERATED_MARK
    except OSError:
        return False

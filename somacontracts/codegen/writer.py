"""Put rendered modules on disk, or compare them with what is there: the only I/O of codegen.

Writing is all or nothing per file: each module goes to a temporary file in the target
folder and replaces the old one in one ``os.replace``, so a reader never sees half a
module. Everything is rendered before the first file is written, so a schema the
generator refuses leaves the folder untouched.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from somacontracts.codegen import templates

__all__ = ["Difference", "compare_modules", "write_modules"]

_GENERATED_MARK = "# " + templates.HEADER.split("{", 1)[0]
"""How every generated module starts; only such files are ever reported stale or removed."""


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
    differences: list[Difference] = []
    for name in sorted(modules):
        path = directory / name
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            differences.append(Difference(path, "missing"))
            continue
        if current != modules[name]:
            differences.append(Difference(path, "changed"))
    differences += [Difference(path, "stale") for path in _stale(modules, directory)]
    return differences


def write_modules(modules: Mapping[str, str], directory: Path) -> list[Difference]:
    """Make ``directory`` hold exactly the rendered ``modules``; return what changed."""
    differences = compare_modules(modules, directory)
    directory.mkdir(parents=True, exist_ok=True)
    for difference in differences:
        if difference.kind == "stale":
            difference.path.unlink()
        else:
            _replace(difference.path, modules[difference.path.name])
    return differences


def _stale(modules: Mapping[str, str], directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    stale = []
    for path in sorted(directory.glob("*.py")):
        if path.name in modules:
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            if handle.readline().startswith(_GENERATED_MARK):
                stale.append(path)
    return stale


def _replace(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

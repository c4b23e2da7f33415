"""Put rendered modules on disk, or compare them with what is there: the only I/O of codegen.

Writing is all or nothing per file: each module goes to a temporary file in the target
folder and replaces the old one in one ``os.replace``, so a reader never sees half a
module. Everything is rendered before the first file is written, so a schema the
generator refuses leaves the folder untouched. Nothing is ever written inside the
installed packages (site-packages): a service regenerating there would overwrite the
library's own models, or another distribution's files.
"""

from __future__ import annotations

import dataclasses
import site
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from somacontracts.codegen import templates
from somacontracts.errors import ConfigurationError
from somacontracts.files import replace_text

__all__ = ["Difference", "compare_modules", "installed_packages", "write_modules"]

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


def installed_packages() -> list[Path]:
    """The folders installed distributions live in: the site-packages of this interpreter
    (and of the one a virtual environment is made from)."""
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    folders = {*site.getsitepackages()}
    for paths in (sysconfig.get_paths(), sysconfig.get_paths(vars=base)):  # venv and its base
        folders |= {paths["purelib"], paths["platlib"]}
    if site.ENABLE_USER_SITE:
        folders.add(site.getusersitepackages())
    return sorted(Path(folder).resolve() for folder in folders)


def write_modules(modules: Mapping[str, str], directory: Path) -> list[Difference]:
    """Make ``directory`` hold exactly the rendered ``modules``; return what changed.

    Raise :class:`ConfigurationError` for a folder inside the installed packages.
    """
    target = directory.resolve()
    for folder in installed_packages():
        if target.is_relative_to(folder):
            raise ConfigurationError(
                str(directory),
                f"is inside the installed packages ({folder}); codegen never writes there: "
                "give a folder of your project (--out, or models in [tool.somacontracts])",
            )
    differences = compare_modules(modules, directory)
    directory.mkdir(parents=True, exist_ok=True)
    for difference in differences:
        if difference.kind == "stale":
            difference.path.unlink()
        else:
            replace_text(difference.path, modules[difference.path.name])
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

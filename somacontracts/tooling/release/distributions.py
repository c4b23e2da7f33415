"""A release's distributions: built, checked, and installed where nothing else is.

:func:`build` runs the standard builder (``python -m build``: the sdist, then the wheel
from it); :func:`check` runs ``twine check`` on both and reads the wheel: it must hold
every schema file of the tree, every generated model module, the lock file, a
``py.typed`` and every entry point the project declares. :func:`try_installed` installs
the wheel in a new virtual environment and runs, from an empty folder there, the
installed ``somacontracts --version``, ``somacontracts check`` on the project's contracts
and an import of every generated model (which must come from the environment, not
from the checkout). Each failure is a :class:`~somacontracts.errors.ReleaseError`
naming the step and the last line its tool printed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Sequence
from pathlib import Path

from somacontracts.errors import ReleaseError
from somacontracts.tooling.codegen.names import module_name
from somacontracts.tooling.codegen.render import INIT_MODULE

__all__ = ["Distributions", "Expected", "build", "check", "try_installed"]


@dataclasses.dataclass(frozen=True, slots=True)
class Distributions:
    """The sdist and the wheel of a release."""

    sdist: Path
    wheel: Path


@dataclasses.dataclass(frozen=True, slots=True)
class Expected:
    """What the wheel must hold."""

    schemas: tuple[str, ...]
    """``<Contract>/vN.avsc`` (and ``vN.contract.json``) of every version."""
    models: tuple[str, ...]
    """``<models folder>/<module>.py`` of every generated module."""
    lock: str
    """The lock file's name."""
    entry_points: tuple[tuple[str, str], ...]
    """(group, name) of every entry point the project declares."""

    @classmethod
    def of(
        cls, root: Path, schemas: Path, models: Path | None, lock: Path, contracts: Sequence[str]
    ) -> Expected:
        """What the wheel of the project at ``root`` must hold."""
        files = sorted(
            f"{p.parent.name}/{p.name}"
            for p in schemas.glob("*/v*.*")
            if p.name.endswith((".avsc", ".contract.json"))
        )
        modules: tuple[str, ...] = ()
        if models is not None:
            names = [INIT_MODULE, *(f"{module_name(c)}.py" for c in contracts)]
            modules = tuple(f"{models.name}/{name}" for name in names)
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        declared = project.get("project", {})
        points = [("console_scripts", name) for name in declared.get("scripts", {})]
        points += [("gui_scripts", name) for name in declared.get("gui-scripts", {})]
        for group, entries in declared.get("entry-points", {}).items():
            points += [(group, name) for name in entries]
        return cls(tuple(files), modules, lock.name, tuple(sorted(points)))


def _run(
    step: str,
    command: Sequence[object],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )
    if result.returncode != 0:
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise ReleaseError(step, said[-1] if said else f"exit code {result.returncode}")
    return result.stdout


def build(root: Path, out: Path, *, isolation: bool = True) -> Distributions:
    """The sdist and wheel of the project at ``root``, built into ``out``."""
    command = [sys.executable, "-m", "build", "--outdir", out, root]
    _run("python -m build", [*command, *([] if isolation else ["--no-isolation"])])
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise ReleaseError("python -m build", f"built {len(sdists)} sdists, {len(wheels)} wheels")
    return Distributions(sdists[0], wheels[0])


def check(dists: Distributions, expected: Expected) -> None:
    """``twine check`` both distributions; the wheel holds all of ``expected``."""
    _run(
        "twine check",
        [sys.executable, "-m", "twine", "check", "--strict", dists.sdist, dists.wheel],
    )
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = wheel.namelist()
        points_file = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
        points = wheel.read(points_file).decode() if points_file else ""
    missing = [
        wanted
        for wanted in (*expected.schemas, *expected.models, expected.lock)
        if not any(name == wanted or name.endswith("/" + wanted) for name in names)
    ]
    if not any(name.endswith("/py.typed") for name in names):
        missing.append("py.typed")
    missing += [
        f"entry point {name} ({group})"
        for group, name in expected.entry_points
        if not _declares(points, group, name)
    ]
    if missing:
        raise ReleaseError(dists.wheel.name, "lacks " + ", ".join(missing))


def _declares(points: str, group: str, name: str) -> bool:
    section = ""
    for line in points.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == group and line.split("=", 1)[0].strip() == name:
            return True
    return False


def _models_package(wheel: Path, models: str) -> str | None:
    """The dotted name of the generated models' package inside ``wheel``."""
    suffix = f"/{models}/{INIT_MODULE}"
    with zipfile.ZipFile(wheel) as archive:
        found = [n for n in archive.namelist() if n.endswith(suffix) or n == suffix[1:]]
    return found[0].removesuffix(f"/{INIT_MODULE}").replace("/", ".") if found else None


_IMPORT_PROBE = """
import importlib, json, sys
names = json.loads(sys.argv[1])
files = [importlib.import_module(name).__file__ for name in names]
outside = [f for f in files if not f.startswith(sys.prefix)]
if outside:
    sys.exit("imported from outside the environment: " + ", ".join(outside))
print(len(files))
"""


def try_installed(
    dists: Distributions,
    *,
    root: Path,
    work: Path,
    models: Path | None,
    contracts: Sequence[str],
    pip_options: Sequence[str] = (),
) -> dict[str, str]:
    """Install the wheel in a new environment below ``work`` and run it; what each step printed."""
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *pip_options]
    _run("pip install (the wheel)", [*pip, dists.wheel])
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    # The environment's own variables: no PYTHONPATH may bring the checkout in.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    said = {
        "version": _run(
            "somacontracts --version",
            [bin_dir / "somacontracts", "--version"],
            cwd=empty,
            env=clean,
        ).strip()
    }
    said["check"] = _run(
        "somacontracts check", [bin_dir / "somacontracts", "check"], cwd=root, env=clean
    ).strip()
    package = _models_package(dists.wheel, models.name) if models is not None else None
    if package is not None:
        names = [package, *(f"{package}.{module_name(c)}" for c in contracts)]
        said["imports"] = _run(
            "import of every model",
            [python, "-c", _IMPORT_PROBE, json.dumps(names)],
            cwd=empty,
            env=clean,
        ).strip()
    return said

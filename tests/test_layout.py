"""The layout holds: the folder a module sits in says which half it belongs to, services
import a lean runtime, tooling stays apart, modules stay small.

* Every module belongs to one half by its folder: the **runtime** (``errors``,
  ``catalog/``, ``models/``, ``runtime/``, ``serde/``, ``kafka/``: what services import),
  the **core** (``schema/``, ``compat/``: pure, used by both halves, by the runtime only on
  rare paths) or the **tooling** (``tooling/``: what CI and developers run). A module that
  fits none fails the test.
* Importing what a service imports (models, serdes, Kafka clients) in a fresh
  interpreter loads nothing of the tooling: not the code generator, the local registry
  server or its store, ``check``, the CLI, ``sqlite3``, uvicorn or its HTTP parser; nor
  the schema model or the compatibility engine, which the runtime loads only on rare paths.
* No runtime or core module imports a tooling module at its top level.
* No hand-written module is over 500 lines; commands import no other command.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "somacontracts"
HALVES = {
    "runtime": ("errors", "__init__", "catalog", "models", "runtime", "serde", "kafka"),
    "core": ("schema", "compat"),
    "tooling": ("tooling", "__main__"),
}
"""Each half by the first part of a module's path under the package."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def half_of(path: Path) -> str | None:
    """The half ``path`` belongs to by its folder, or None."""
    first = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    return next((half for half, tops in HALVES.items() if first in tops), None)


MODULES = sorted(PACKAGE.rglob("*.py"))
RUNTIME_FILES = [p for p in MODULES if half_of(p) == "runtime"]
CORE_FILES = [p for p in MODULES if half_of(p) == "core"]
NOT_AT_IMPORT = (
    "somacontracts.tooling",
    "somacontracts.schema",
    "somacontracts.compat.engine",
    "somacontracts.compat.history",
    "sqlite3",
    "uvicorn",
    "httptools",
    "uvloop",
    "prometheus_client",  # metrics are off unless asked for
)


def test_every_module_belongs_to_one_half_by_its_folder() -> None:
    assert [str(p.relative_to(PACKAGE)) for p in MODULES if half_of(p) is None] == []
    loose = [p.name for p in PACKAGE.glob("*.py")]
    assert sorted(loose) == ["__init__.py", "__main__.py", "errors.py"]


def test_a_service_s_imports_load_no_tooling() -> None:
    probe = (
        "import json, sys\n"
        "import somacontracts.models, somacontracts.serde, somacontracts.kafka\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout)
    found = [m for m in loaded for p in NOT_AT_IMPORT if m == p or m.startswith(p + ".")]
    assert found == []
    assert "somacontracts.models.tool_invocation" in loaded  # the probe did import


def _in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _top_level_imports(path: Path) -> list[str]:
    """Modules ``path`` imports when it loads (not inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


@pytest.mark.parametrize("path", RUNTIME_FILES + CORE_FILES, ids=_module_name)
def test_runtime_and_core_modules_import_no_tooling(path: Path) -> None:
    assert [n for n in _top_level_imports(path) if _in(n, ("somacontracts.tooling",))] == []


def test_no_hand_written_module_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if "models" not in path.relative_to(PACKAGE).parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


def test_commands_import_no_other_command() -> None:
    shared = {"__init__", "common", "commands"}
    commands = {path.stem for path in (PACKAGE / "tooling" / "cli").glob("*.py")} - shared
    crossing = {
        path.stem: name
        for path in (PACKAGE / "tooling" / "cli").glob("*.py")
        if path.stem != "__init__"
        for name in _top_level_imports(path)
        if any(name.startswith(f"somacontracts.tooling.cli.{command}") for command in commands)
    }
    assert crossing == {}


def test_each_command_module_is_named_in_the_command_table() -> None:
    """The command line imports only the module of the command it runs, by this table."""
    from somacontracts.tooling.cli.commands import COMMANDS

    modules = {path.stem for path in (PACKAGE / "tooling" / "cli").glob("*.py")}
    assert set(COMMANDS) == modules - {"__init__", "common", "commands"}


def test_starting_a_command_imports_no_other_command() -> None:
    probe = (
        "import json, sys\n"
        "from somacontracts.tooling.cli import main\n"
        "main(['validate'])\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PACKAGE
    )
    loaded = json.loads(done.stderr.splitlines()[-1])
    commands = [m for m in loaded if m.startswith("somacontracts.tooling.cli.")]
    assert sorted(commands) == [
        "somacontracts.tooling.cli.commands",
        "somacontracts.tooling.cli.common",
        "somacontracts.tooling.cli.validate",
    ]
    assert "confluent_kafka.schema_registry" not in loaded


def test_one_module_resolves_avro_names() -> None:
    """Only schema.names defines name resolution; everything else calls it."""
    defining = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef)
        and node.name in ("resolve", "full_name", "qualified_name", "_resolve")
    )
    assert defining == ["schema/names.py", "schema/names.py"]

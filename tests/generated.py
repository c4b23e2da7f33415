"""Generated models imported as a service imports them, for the tests that need classes
of their own schemas: a tree generated into a temporary package (:func:`generated`), or
one generated module imported straight from its file (:func:`import_file`)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from somacontracts.tooling.codegen.package import render_modules
from somacontracts.tooling.codegen.writer import write_modules

__all__ = ["generated", "import_file"]


@contextmanager
def generated(tree: Path, package: Path, module: str) -> Iterator[ModuleType]:
    """The models of ``tree`` written into the folder ``package`` and its module ``module``
    imported; the package leaves ``sys.path`` and ``sys.modules`` afterwards."""
    write_modules(render_modules(tree), package)
    sys.path.insert(0, str(package.parent))
    try:
        yield importlib.import_module(f"{package.name}.{module}")
    finally:
        sys.path.remove(str(package.parent))
        for name in [m for m in sys.modules if m.split(".")[0] == package.name]:
            del sys.modules[name]


def import_file(path: Path) -> ModuleType:
    """The module of the Python file ``path``, imported under its file name."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses resolve annotations through it
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[path.stem]
    return module

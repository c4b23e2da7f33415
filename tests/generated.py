"""Models generated from a schema tree into a temporary package and imported, as a
service's generated models are, for the tests that need classes of their own schemas."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from somacontracts.codegen.project import render_modules
from somacontracts.codegen.writer import write_modules

__all__ = ["generated"]


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

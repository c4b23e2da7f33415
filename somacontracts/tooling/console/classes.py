"""The typed class of a project's contract, for the console commands.

This package's own contracts have their classes in :mod:`somacontracts.models`. Any
other project's classes are generated from its schema tree, as ``codegen`` would write
them, into a temporary package imported for the process: the console needs no models
folder, and its classes are exactly the tree's.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path
from typing import Any

from somacontracts import models
from somacontracts.tooling import sources
from somacontracts.tooling.codegen.package import render_project
from somacontracts.tooling.codegen.writer import write_modules
from somacontracts.tooling.configuration import ProjectConfig

__all__ = ["model_of"]

_PACKAGE = "_somacontracts_console_models"
_FOLDERS: list[tempfile.TemporaryDirectory[str]] = []


def model_of(config: ProjectConfig, contract: str) -> type[Any]:
    """The class of ``contract``'s newest version in the project ``config`` describes."""
    if config.schemas is None:
        model: type[Any] = getattr(models, contract)
        return model
    if _PACKAGE not in sys.modules:
        tree = sources.load_tree(config.schemas)
        folder = tempfile.TemporaryDirectory(prefix="somacontracts-models-")
        _FOLDERS.append(folder)  # removed when the process ends
        write_modules(render_project(tree, config), Path(folder.name) / _PACKAGE)
        sys.path.insert(0, folder.name)
        importlib.import_module(_PACKAGE)
    found: type[Any] = getattr(sys.modules[_PACKAGE], contract)
    return found

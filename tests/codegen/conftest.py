"""Fixtures: the corpus of schemas generated into a package that tests import."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from somacontracts.tooling import sources
from somacontracts.tooling.codegen.package import render_modules
from somacontracts.tooling.codegen.writer import write_modules

CORPUS = Path(__file__).parent / "corpus"
PACKAGE = "generated_corpus_models"


@pytest.fixture(scope="session")
def corpus_tree() -> dict[str, sources.ContractSchemas]:
    """The corpus contracts, loaded as the generator loads them."""
    return sources.load_tree(CORPUS)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus generated into ``<tmp>/generated_corpus_models``."""
    out = tmp_path_factory.mktemp("codegen") / PACKAGE
    write_modules(render_modules(CORPUS), out)
    return out


@pytest.fixture(scope="session")
def corpus_package(corpus_dir: Path) -> Iterator[ModuleType]:
    """The generated corpus package, imported."""
    sys.path.insert(0, str(corpus_dir.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(corpus_dir.parent))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]

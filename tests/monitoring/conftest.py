"""Fixtures of the monitoring tests: Debian's ``promtool`` and ``prometheus``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.fetched import fetched


def _binary(pytestconfig: pytest.Config, name: str) -> str:
    """Path of ``name``: ``SOMACONTRACTS_<NAME>``, else the PATH's, else Debian's fetched
    once by ``tools/fetch_prometheus.py``."""
    given = os.environ.get(f"SOMACONTRACTS_{name.upper()}") or shutil.which(name)
    if given:
        return given
    return str(Path(fetched(pytestconfig, "fetch_prometheus.py", name)) / name)


@pytest.fixture(scope="session")
def promtool(pytestconfig: pytest.Config) -> str:
    """Path of ``promtool`` (``SOMACONTRACTS_PROMTOOL`` names another)."""
    return _binary(pytestconfig, "promtool")


@pytest.fixture(scope="session")
def prometheus(pytestconfig: pytest.Config) -> str:
    """Path of the ``prometheus`` server (``SOMACONTRACTS_PROMETHEUS`` names another)."""
    return _binary(pytestconfig, "prometheus")

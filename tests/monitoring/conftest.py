"""Fixtures of the monitoring tests: Prometheus's ``promtool``."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.fetched import fetched


@pytest.fixture(scope="session")
def promtool(pytestconfig: pytest.Config) -> str:
    """Path of ``promtool``: ``SOMACONTRACTS_PROMTOOL``, else the PATH's, else Debian's
    fetched once by ``tools/fetch_promtool.py``."""
    given = os.environ.get("SOMACONTRACTS_PROMTOOL") or shutil.which("promtool")
    return given or fetched(pytestconfig, "fetch_promtool.py", "promtool")

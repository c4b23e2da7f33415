"""This repository's distributions, built once a session, and a wheelhouse of them with
their dependencies, so every environment a test makes installs from files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from somacontracts.tooling.release import distributions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def somacontracts_dists(tmp_path_factory: pytest.TempPathFactory) -> distributions.Distributions:
    """The sdist and wheel of this repository, as ``release`` builds them."""
    return distributions.build(ROOT, tmp_path_factory.mktemp("dists"), isolation=False)


@pytest.fixture(scope="session")
def wheelhouse(
    tmp_path_factory: pytest.TempPathFactory, somacontracts_dists: distributions.Distributions
) -> Path:
    """This repository's wheel and a wheel of each of its dependencies (from pip's cache
    after the first run): new environments install with ``--no-index --find-links``."""
    house = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--disable-pip-version-check",
            "--wheel-dir",
            str(house),
            str(somacontracts_dists.wheel),
        ],
        check=True,
        capture_output=True,
    )
    return house

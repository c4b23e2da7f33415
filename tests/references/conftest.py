"""A second service's tree: payments, where RefundIssued uses PaymentCaptured's LineItem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.server.conftest import client, registry

__all__ = ["client", "payments", "registry"]  # the local registry's fixtures, shared

TREE = Path(__file__).parent / "payments"


@pytest.fixture
def payments(tmp_path: Path) -> Path:
    """A copy of the payments project, free to edit."""
    copy = tmp_path / "payments"
    shutil.copytree(TREE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy

"""Test dependencies fetched once by a script under ``tools/`` (jars, promtool)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["TOOLS", "fetched"]

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def fetched(config: pytest.Config, script: str, what: str) -> str:
    """What ``tools/<script>`` prints (the path of what it fetched and cached); its
    progress is shown on the terminal, past pytest's output capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    shown = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
    with shown:
        done = subprocess.run(
            [sys.executable, str(TOOLS / script)], stdout=subprocess.PIPE, text=True, check=False
        )
    if done.returncode != 0:
        pytest.fail(f"could not fetch {what} (tools/{script}; see above)")
    return done.stdout.strip()

"""Test dependencies fetched once by a script under ``tools/`` (jars, promtool)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["TOOLS", "fetched"]

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def fetched(config: pytest.Config, script: str, what: str) -> str:
    """What ``tools/<script>`` prints (the path of what it fetched and cached); its
    progress is shown on the terminal, past pytest's output capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    shown = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
    with shown, _one_at_a_time():
        done = subprocess.run(
            [sys.executable, str(TOOLS / script)], stdout=subprocess.PIPE, text=True, check=False
        )
    if done.returncode != 0:
        pytest.fail(f"could not fetch {what} (tools/{script}; see above)")
    return done.stdout.strip()


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    """Hold a lock across processes: pytest-xdist's workers each ask for the same
    downloads and installs, which one performs while the others wait, then find done."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "somacontracts"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

"""Fetch Debian's ``prometheus`` package for the monitoring tests: ``promtool`` (the rule
checker) and ``prometheus`` (the server the end-to-end test scrapes the clients with).

This script downloads the package with ``apt-get download`` (about 19 MB, once; nothing
installed, no root needed unless the package lists must be refreshed first), extracts
``usr/bin/promtool`` and ``usr/bin/prometheus`` with ``dpkg-deb``, checks that they run,
and leaves them in a cache folder that later runs reuse.

    python tools/fetch_prometheus.py [DEST]    # prints the folder holding both

DEST defaults to ``$XDG_CACHE_HOME/somacontracts/prometheus`` (``~/.cache/...``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BINARIES = ("promtool", "prometheus")


def default_destination() -> Path:
    """The cache folder used when none is given."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "somacontracts" / "prometheus"


def works(binary: Path) -> bool:
    """Whether ``binary`` is there and answers ``--version``."""
    if not binary.is_file():
        return False
    done = subprocess.run([str(binary), "--version"], capture_output=True, check=False)
    return done.returncode == 0


def fetch(destination: Path) -> Path:
    """Make ``destination`` hold a working promtool and prometheus; download only if it
    does not yet."""
    if all(works(destination / name) for name in BINARIES):
        return destination
    for command in ("apt-get", "dpkg-deb"):
        if shutil.which(command) is None:
            raise SystemExit(f"fetching prometheus needs {command} (a Debian-based machine)")
    print(
        f"fetching promtool and prometheus: downloading Debian's prometheus package (about "
        f"19 MB, once; cached in {destination})",
        file=sys.stderr,
        flush=True,
    )
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        download = ["apt-get", "download", "prometheus"]
        if subprocess.run(download, cwd=scratch, check=False, stdout=sys.stderr).returncode:
            # Package lists older than the mirror name a file it no longer has: refresh them
            # (needs root) and try once more.
            subprocess.run(["apt-get", "update"], check=True, stdout=sys.stderr)
            subprocess.run(download, cwd=scratch, check=True, stdout=sys.stderr)
        (package,) = Path(scratch).glob("prometheus_*.deb")
        tree = Path(scratch) / "tree"
        subprocess.run(["dpkg-deb", "-x", str(package), str(tree)], check=True)
        for name in BINARIES:
            partial = destination / f".{name}.part"
            shutil.copyfile(tree / "usr" / "bin" / name, partial)
            partial.chmod(0o755)
            partial.replace(destination / name)
    for name in BINARIES:
        if not works(destination / name):
            raise SystemExit(f"{destination / name} does not run")
    return destination


def main() -> None:
    """Fetch into the folder given on the command line, or the cache; print the folder."""
    destination = Path(sys.argv[1]) if len(sys.argv) > 1 else default_destination()
    print(fetch(destination))


if __name__ == "__main__":
    main()

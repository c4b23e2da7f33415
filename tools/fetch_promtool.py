"""Fetch ``promtool`` (Prometheus's rule checker) for the alert-rule tests.

Debian's ``prometheus`` package ships it; this script downloads the package with
``apt-get download`` (about 19 MB, once; nothing installed, no root needed unless the
package lists must be refreshed first), extracts
``usr/bin/promtool`` with ``dpkg-deb``, checks that it runs, and leaves it in a cache
folder that later runs reuse.

    python tools/fetch_promtool.py [DEST]      # prints the path of promtool

DEST defaults to ``$XDG_CACHE_HOME/somacontracts/promtool`` (``~/.cache/...``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def default_destination() -> Path:
    """The cache folder used when none is given."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "somacontracts" / "promtool"


def works(promtool: Path) -> bool:
    """Whether ``promtool`` is there and answers ``--version``."""
    if not promtool.is_file():
        return False
    done = subprocess.run([str(promtool), "--version"], capture_output=True, check=False)
    return done.returncode == 0


def fetch(destination: Path) -> Path:
    """Make ``destination`` hold a working promtool; download only if it does not yet."""
    target = destination / "promtool"
    if works(target):
        return target
    for command in ("apt-get", "dpkg-deb"):
        if shutil.which(command) is None:
            raise SystemExit(f"fetching promtool needs {command} (a Debian-based machine)")
    print(
        f"fetching promtool: downloading Debian's prometheus package (about 19 MB, once; "
        f"cached in {destination})",
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
        partial = destination / ".promtool.part"
        shutil.copyfile(tree / "usr" / "bin" / "promtool", partial)
        partial.chmod(0o755)
        partial.replace(target)
    if not works(target):
        raise SystemExit(f"{target} does not run")
    return target


def main() -> None:
    """Fetch into the folder given on the command line, or the cache; print the path."""
    destination = Path(sys.argv[1]) if len(sys.argv) > 1 else default_destination()
    print(fetch(destination))


if __name__ == "__main__":
    main()

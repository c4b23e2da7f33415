"""Install Debian's ``chromium`` for the docs site's browser test, if it is missing.

The site is opened in a real headless browser, driven by playwright through the
system's chromium (playwright's own browser builds come from a host this project does
not use). Installs the package with ``apt-get install --no-install-recommends``
(needs root; refreshes the package lists first if the install fails on stale ones)
and prints the browser's path.

    python tools/install_chromium.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

NAMES = ("chromium", "chromium-browser")


def found() -> str | None:
    """The path of an installed chromium, if any."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def install() -> str:
    """The path of chromium, installed first if needed."""
    path = found()
    if path:
        return path
    if shutil.which("apt-get") is None:
        raise SystemExit("installing chromium needs apt-get (a Debian-based machine)")
    print("installing Debian's chromium package (once)", file=sys.stderr, flush=True)
    command = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}  # no question asked
    if subprocess.run(command, stdout=sys.stderr, check=False, env=env).returncode:
        subprocess.run(["apt-get", "update"], stdout=sys.stderr, check=True, env=env)
        subprocess.run(command, stdout=sys.stderr, check=True, env=env)
    path = found()
    if path is None:
        raise SystemExit("apt-get installed chromium, but it is not on the PATH")
    return path


def main() -> None:
    """Print the path of chromium, installing it first if needed."""
    print(install())


if __name__ == "__main__":
    main()

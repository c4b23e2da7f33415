"""Fetch the oldest ruff of the range the generated code's promise is tested with.

``pyproject.toml``'s test extra pins ruff (``ruff>=A,<B``); CI installs the newest of the
range, and the lint tests also run release ``A`` on generated code, so both ends of the
range the README names are tested. This script downloads ruff ``A``'s wheel from PyPI
with pip (about 11 MB, once), takes its binary out, checks that it runs, and leaves it in
a cache folder that later runs reuse.

    python tools/fetch_ruff.py [DEST]      # prints the path of the ruff binary

DEST defaults to ``$XDG_CACHE_HOME/somacontracts/ruff-A`` (``~/.cache/...``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def oldest_tested() -> str:
    """The lower bound of the ruff range in the test extra (``ruff>=A,<B``)."""
    extra = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]["test"]
    for requirement in extra:
        found = re.fullmatch(r"ruff>=([\d.]+),<[\d.]+", requirement)
        if found:
            return found.group(1)
    raise SystemExit(f"{PYPROJECT}: the test extra pins no ruff range (ruff>=A,<B)")


def default_destination(version: str) -> Path:
    """The cache folder used when none is given."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "somacontracts" / f"ruff-{version}"


def works(ruff: Path, version: str) -> bool:
    """Whether ``ruff`` is there and is release ``version``."""
    if not ruff.is_file():
        return False
    done = subprocess.run([str(ruff), "--version"], capture_output=True, text=True, check=False)
    return done.returncode == 0 and done.stdout.split() == ["ruff", version]


def fetch(version: str, destination: Path) -> Path:
    """Make ``destination`` hold ruff ``version``; download only if it does not yet."""
    target = destination / "ruff"
    if works(target, version):
        return target
    print(
        f"fetching ruff {version}: downloading its wheel from PyPI (about 11 MB, once; "
        f"cached in {destination})",
        file=sys.stderr,
        flush=True,
    )
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        download = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "--dest", scratch, f"ruff=={version}",
        ]  # fmt: skip
        subprocess.run(download, check=True, stdout=sys.stderr)
        (wheel,) = Path(scratch).glob("ruff-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            (member,) = (n for n in archive.namelist() if n.endswith(".data/scripts/ruff"))
            partial = destination / ".ruff.part"
            partial.write_bytes(archive.read(member))
        partial.chmod(0o755)
        partial.replace(target)
    if not works(target, version):
        raise SystemExit(f"{target} is not a working ruff {version}")
    return target


def main() -> None:
    """Fetch into the folder given on the command line, or the cache; print the path."""
    version = oldest_tested()
    destination = Path(sys.argv[1]) if len(sys.argv) > 1 else default_destination(version)
    print(fetch(version, destination))


if __name__ == "__main__":
    main()

"""Fetch Apache Avro Java 1.12 and the jars it needs, for the differential compatibility test.

Maven Central is not among the package registries this project may use; the jars of
Apache Avro 1.12.0 and its dependencies ship inside the source distribution of
pyspark 4.0.1 on PyPI (``deps/jars/``). This script downloads that archive with pip
(about 434 MB, once), extracts the five jars, checks their SHA-256 against the pins
below, and leaves them in a cache folder that later runs reuse.

    python tools/fetch_avro_jars.py [DEST]      # prints the folder holding the jars

DEST defaults to ``$XDG_CACHE_HOME/somacontracts/avro-1.12.0-jars`` (``~/.cache/...``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PYSPARK = "pyspark==4.0.1"
JARS = {
    "avro-1.12.0.jar": ("1f5fbfff9b7427d6832cc3031a3c81413d3e21d9e2551847d9231c28493f9492"),
    "jackson-annotations-2.18.2.jar": (
        "581bd61000ef7648943f781ca05689e56d03f6052748365a8e2b3a9b5d3fa32f"
    ),
    "jackson-core-2.18.2.jar": ("d8054ae7c0d1c2d2f55d28e46026ebe5892881f3fab5f439233184381c3b4a1f"),
    "jackson-databind-2.18.2.jar": (
        "4b364e6850dc89172fcf1d4dd26b8ff5488eda44ff4657e22dd265203dd5ab3c"
    ),
    "slf4j-api-2.0.16.jar": ("a12578dde1ba00bd9b816d388a0b879928d00bab3c83c240f7013bf4196c579a"),
}


def default_destination() -> Path:
    """The cache folder used when none is given."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "somacontracts" / "avro-1.12.0-jars"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def complete(folder: Path) -> bool:
    """Whether ``folder`` holds every pinned jar with its pinned hash."""
    return all((folder / n).is_file() and _sha256(folder / n) == h for n, h in JARS.items())


def fetch(destination: Path) -> Path:
    """Make ``destination`` hold the pinned jars; download only if it does not yet."""
    if complete(destination):
        return destination
    destination.mkdir(parents=True, exist_ok=True)
    print(
        f"fetching Apache Avro Java's jars: downloading the source archive of {PYSPARK} "
        f"(about 434 MB, once; cached in {destination})",
        file=sys.stderr,
        flush=True,
    )
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(  # pip's progress goes to stderr; the folder alone to stdout
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--progress-bar",
                "on",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                scratch,
                PYSPARK,
            ],
            check=True,
            stdout=sys.stderr,
        )
        (archive,) = Path(scratch).glob("pyspark-*.tar.gz")
        with tarfile.open(archive) as tar:
            for member in tar:
                name = member.name.rpartition("/")[2]
                if name in JARS and "/deps/jars/" in member.name:
                    source = tar.extractfile(member)
                    if source is None:
                        continue
                    data = source.read()
                    if hashlib.sha256(data).hexdigest() != JARS[name]:
                        raise SystemExit(
                            f"{name} in {archive.name} does not match its pinned SHA-256"
                        )
                    partial = destination / f".{name}.part"
                    partial.write_bytes(data)
                    partial.replace(destination / name)
    missing = [n for n in JARS if not (destination / n).is_file()]
    if missing:
        raise SystemExit(f"{PYSPARK} did not contain {', '.join(missing)}")
    return destination


def main() -> None:
    """Fetch into the folder given on the command line, or the cache; print it."""
    destination = Path(sys.argv[1]) if len(sys.argv) > 1 else default_destination()
    print(fetch(destination))


if __name__ == "__main__":
    main()

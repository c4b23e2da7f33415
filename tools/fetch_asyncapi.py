"""Fetch AsyncAPI's JSON Schemas and parser from the npm registry, for the AsyncAPI tests.

Installs ``@asyncapi/specs`` (the official JSON Schema of every AsyncAPI version),
``@asyncapi/parser`` and ``@asyncapi/avro-schema-parser`` at pinned versions with
``npm install`` (about 55 MB, once) into a cache folder that later runs reuse, and writes
``parse.mjs`` beside them: ``node parse.mjs FILE`` parses an AsyncAPI document with Avro
payloads and prints the parser's diagnostics, one JSON object a line; its exit code is
0 when the document parsed with no error or warning.

    python tools/fetch_asyncapi.py [DEST]      # prints the folder

DEST defaults to ``$XDG_CACHE_HOME/somacontracts/asyncapi`` (``~/.cache/...``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = {
    "@asyncapi/specs": "6.11.1",
    "@asyncapi/parser": "3.6.6",
    "@asyncapi/avro-schema-parser": "3.1.0",
}
PARSE = """\
import { Parser } from '@asyncapi/parser';
import { AvroSchemaParser } from '@asyncapi/avro-schema-parser';
import { readFileSync } from 'node:fs';

const parser = new Parser();
parser.registerSchemaParser(AvroSchemaParser());
const { document, diagnostics } = await parser.parse(readFileSync(process.argv[2], 'utf8'));
for (const d of diagnostics) {
  const { severity, code, message, path } = d;
  console.log(JSON.stringify({ severity, code, message, path }));
}
// Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
process.exit(document && !diagnostics.some((d) => d.severity <= 1) ? 0 : 1);
"""


def default_destination() -> Path:
    """The cache folder used when none is given."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "somacontracts" / "asyncapi"


def complete(folder: Path) -> bool:
    """Whether ``folder`` holds the pinned packages and the parse script."""
    for name, version in PACKAGES.items():
        manifest = folder / "node_modules" / name / "package.json"
        if not manifest.is_file() or f'"version": "{version}"' not in manifest.read_text():
            return False
    script = folder / "parse.mjs"
    return script.is_file() and script.read_text() == PARSE


def fetch(destination: Path) -> Path:
    """Make ``destination`` hold the pinned packages; install only if it does not yet."""
    if complete(destination):
        return destination
    if shutil.which("npm") is None:
        raise SystemExit("fetching AsyncAPI's packages needs npm (Node.js) on the PATH")
    print(
        f"fetching AsyncAPI's specs and parser from the npm registry (about 55 MB, once; "
        f"cached in {destination})",
        file=sys.stderr,
        flush=True,
    )
    destination.mkdir(parents=True, exist_ok=True)
    (destination / "package.json").write_text('{"private": true, "type": "module"}\n')
    subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--save-exact",
            *(f"{name}@{version}" for name, version in PACKAGES.items()),
        ],
        cwd=destination,
        check=True,
        stdout=sys.stderr,
    )
    (destination / "parse.mjs").write_text(PARSE)
    if not complete(destination):
        raise SystemExit(f"npm did not install the pinned packages into {destination}")
    return destination


def main() -> None:
    """Fetch into the folder given on the command line, or the cache; print it."""
    destination = Path(sys.argv[1]) if len(sys.argv) > 1 else default_destination()
    print(fetch(destination))


if __name__ == "__main__":
    main()

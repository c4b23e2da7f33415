"""Contract versions as they were at another git revision, for ``check --against REF``.

Like ``buf breaking --against``: every version present at the other revision must
still be present, and unchanged: the same schema text a registry stores for it. git is
asked through its command line; a ref that does not exist, or a folder outside a git
work tree, is a :class:`~somacontracts.errors.ConfigurationError` naming the option.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path, PurePosixPath

from somacontracts.errors import ConfigurationError, SchemaError
from somacontracts.tooling.check.lock import LockedVersion, locked
from somacontracts.tooling.sources import VersionFile, parse_contract_parts, parse_tree

__all__ = ["versions_at"]

_VERSION_PATH = re.compile(r"([^/]+)/v([1-9][0-9]*)\.avsc\Z")


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError as err:
        raise ConfigurationError("--against", "git is not installed") from err
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigurationError("--against", reason[-1] if reason else f"git {args[0]} failed")
    return result.stdout


def versions_at(ref: str, schemas_dir: Path) -> dict[str, dict[int, LockedVersion]]:
    """Contract -> version -> what a lock would record of the schema files below
    ``schemas_dir`` at ``ref``."""
    folder = schemas_dir.resolve()
    top = Path(_git(["rev-parse", "--show-toplevel"], folder).decode().strip())
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=folder,
        capture_output=True,
        check=False,
    )
    if check.returncode != 0:
        raise ConfigurationError("--against", f"git ref {ref!r} does not exist in {top}")
    commit = check.stdout.decode().strip()
    relative = PurePosixPath(folder.relative_to(top).as_posix())
    listing = _git(["ls-tree", "-r", "-z", "--name-only", commit, "--", str(relative)], top)
    names = {raw.decode("utf-8") for raw in filter(None, listing.split(b"\0"))}
    files: list[VersionFile] = []
    for name in sorted(names):
        inside = PurePosixPath(name).relative_to(relative).as_posix()
        match = _VERSION_PATH.match(inside)
        if not match:
            continue
        text = _git(["cat-file", "blob", f"{commit}:{name}"], top).decode("utf-8", "replace")
        files.append(VersionFile(match.group(1), int(match.group(2)), Path(f"{ref}:{name}"), text))
    found: dict[str, dict[int, LockedVersion]] = {}
    try:
        parsed = parse_tree(files)
        for file in files:
            version = parsed[file.contract, file.version]
            beside = str(file.path).removeprefix(f"{ref}:").removesuffix(".avsc") + ".contract.json"
            if beside in names:
                parts = _git(["cat-file", "blob", f"{commit}:{beside}"], top).decode(
                    "utf-8", "replace"
                )
                metadata, rule_set = parse_contract_parts(parts, source=f"{ref}:{beside}")
                version = dataclasses.replace(version, metadata=metadata, rule_set=rule_set)
            found.setdefault(file.contract, {})[file.version] = locked(version)
    except SchemaError as err:
        raise ConfigurationError("--against", f"{err} (the schema at {ref} is invalid)") from err
    return found

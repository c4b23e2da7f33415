"""The lock file: the fingerprint of every released version, so a release is never edited.

``somacontracts.lock`` (JSON, next to the ``avro/`` folder) maps each contract's
versions to the SHA-256 of their Avro Parsing Canonical Form. ``somacontracts lock``
adds new versions and never changes a recorded one; ``somacontracts check`` reports a
version whose fingerprint differs from the lock (edited in place), a locked version
whose file is gone (deleted), and a version not in the lock yet.

Reading and writing are the only I/O here; :func:`compare` and :func:`with_new_versions`
are pure. A write goes to a temporary file that then replaces the lock, so an
interrupted write never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from somacontracts.compat.findings import Category, Finding
from somacontracts.errors import ContractError
from somacontracts.schemas import ContractSchemas

__all__ = [
    "LOCK_FILE_NAME",
    "Lock",
    "LockError",
    "compare",
    "read_lock",
    "registry_ids",
    "with_new_versions",
    "with_registry_ids",
    "write_lock",
]

LOCK_FILE_NAME = "somacontracts.lock"
_FORMAT = 1


class LockError(ContractError):
    """Raised when the lock file cannot be read, is malformed, or would lose a release."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Lock:
    """Contract -> version -> fingerprint, plus sections kept for other tools."""

    fingerprints: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Top-level sections this module does not interpret, written back unchanged."""


def read_lock(path: Path) -> Lock:
    """Read ``path``; a missing file is an empty lock, anything unreadable a :class:`LockError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Lock()
    except (OSError, UnicodeDecodeError) as err:
        raise LockError(str(path), f"cannot be read: {err}") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LockError(str(path), f"is not valid JSON: {err.msg} (line {err.lineno})") from err
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise LockError(
            str(path), f'is not a lock file of format {_FORMAT} (no "format": {_FORMAT})'
        )
    contracts = data.get("contracts", {})
    if not isinstance(contracts, dict):
        raise LockError(str(path), '"contracts" must be an object')
    fingerprints: dict[str, dict[int, str]] = {}
    for name, entry in contracts.items():
        versions = entry.get("versions") if isinstance(entry, dict) else None
        if not isinstance(versions, dict):
            raise LockError(str(path), f'contract "{name}" needs a "versions" object')
        fingerprints[name] = {}
        for number, info in versions.items():
            fp = info.get("fingerprint") if isinstance(info, dict) else None
            if not number.isdigit() or not isinstance(fp, str) or len(fp) != 64:
                raise LockError(
                    str(path),
                    f'contract "{name}" version {number!r} needs a 64-digit "fingerprint"',
                )
            fingerprints[name][int(number)] = fp
    extra = {k: v for k, v in data.items() if k not in ("format", "contracts")}
    return Lock(fingerprints=MappingProxyType(fingerprints), extra=MappingProxyType(extra))


def render_lock(lock: Lock) -> str:
    """The lock file's text: sorted keys, two-space indent, final newline."""
    contracts = {
        name: {
            "versions": {
                str(n): {"fingerprint": fp} for n, fp in sorted(lock.fingerprints[name].items())
            }
        }
        for name in sorted(lock.fingerprints)
    }
    return json.dumps({"format": _FORMAT, "contracts": contracts, **lock.extra}, indent=2) + "\n"


def write_lock(path: Path, lock: Lock) -> None:
    """Write ``lock`` to ``path`` atomically (temporary file, then replace)."""
    text = render_lock(lock)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def with_new_versions(lock: Lock, tree: Mapping[str, ContractSchemas], *, source: str) -> Lock:
    """``lock`` plus every version of ``tree`` it lacks; refuse to change a recorded one."""
    fingerprints = {name: dict(versions) for name, versions in lock.fingerprints.items()}
    for name, contract in tree.items():
        recorded = fingerprints.setdefault(name, {})
        for version in contract.versions:
            old = recorded.get(version.version)
            if old is not None and old != version.fingerprint:
                raise LockError(
                    source,
                    f"{version.path} was released with fingerprint {old[:16]}... and now has "
                    f"{version.fingerprint[:16]}...; released versions are never edited: "
                    f"restore it and add v{len(contract.versions) + 1}.avsc instead",
                )
            recorded[version.version] = version.fingerprint
    return Lock(fingerprints=MappingProxyType(fingerprints), extra=lock.extra)


def compare(
    recorded: Mapping[str, Mapping[int, str]],
    tree: Mapping[str, ContractSchemas],
    *,
    baseline: str,
    report_unrecorded: bool,
) -> list[Finding]:
    """Findings for versions of ``tree`` edited or deleted since ``recorded`` fingerprints.

    ``baseline`` names where ``recorded`` comes from in messages (the lock file's path, a
    git ref). With ``report_unrecorded``, versions absent from ``recorded`` are findings too.
    """
    findings = []
    for name in sorted(set(recorded) | set(tree)):
        old_versions = recorded.get(name, {})
        contract = tree.get(name)
        present = {v.version: v for v in contract.versions} if contract else {}
        for number in sorted(set(old_versions) | set(present)):
            version = present.get(number)
            old = old_versions.get(number)
            if version is None:
                rule = "VERSION_NO_DELETE"
                path = None
                message = f"Version v{number} of {name} is in {baseline} but its file was deleted."
            elif old is None:
                if not report_unrecorded:
                    continue
                rule = "VERSION_LOCKED"
                path = str(version.path)
                message = (
                    f"Version v{number} of {name} is not in {baseline} yet; "
                    "run `somacontracts lock` and commit the lock file with it."
                )
            elif old != version.fingerprint:
                rule = "VERSION_NO_EDIT"
                path = str(version.path)
                message = (
                    f"Released version v{number} of {name} was edited since {baseline}: its "
                    f"canonical fingerprint was {old[:16]}... and is now "
                    f"{version.fingerprint[:16]}...; "
                    "restore it and put the change in a new version."
                )
            else:
                continue
            findings.append(
                Finding(
                    rule=rule,
                    category=Category.IMMUTABILITY,
                    contract=name,
                    version=number,
                    path=path,
                    location="",
                    message=message,
                )
            )
    return findings


def registry_ids(lock: Lock, name: str) -> dict[str, dict[int, int]]:
    """Subject -> version -> schema id recorded for the registry called ``name``."""
    entry = lock.extra.get("registries", {}).get(name, {})
    return {
        subject: {int(v): int(i) for v, i in versions.items()}
        for subject, versions in entry.get("subjects", {}).items()
    }


def with_registry_ids(
    lock: Lock, name: str, url: str, subjects: Mapping[str, Mapping[int, int]]
) -> Lock:
    """``lock`` with the schema ids a registry gave each subject's versions recorded.

    ``name`` is an environment name (or the URL); ids of other registries are kept.
    """
    registries = dict(lock.extra.get("registries", {}))
    known = registry_ids(lock, name)
    for subject, ids in subjects.items():
        known[subject] = {**known.get(subject, {}), **ids}
    registries[name] = {
        "url": url,
        "subjects": {
            subject: {str(v): i for v, i in sorted(ids.items())}
            for subject, ids in sorted(known.items())
        },
    }
    extra = {**lock.extra, "registries": dict(sorted(registries.items()))}
    return Lock(fingerprints=lock.fingerprints, extra=MappingProxyType(extra))

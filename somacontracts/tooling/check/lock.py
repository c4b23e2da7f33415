"""The lock file: what the registry stores for every released version, so a release is never edited.

``somacontracts.lock`` (JSON, next to the ``avro/`` folder) records, for each contract
version, the schema text a registry stores for it (Confluent's normalized form, what
``somacontracts register`` registers: docs, defaults, logical types, aliases, field and
symbol order and custom attributes included, white space and key order not) and the
SHA-256 of its Avro Parsing Canonical Form, its identity across tools.
``somacontracts lock`` adds new versions and never changes a recorded one;
``somacontracts check`` reports a version whose registry text differs from the lock
(``VERSION_EDITED``, at the JSON pointer of the first difference), a locked version
whose file is gone (``VERSION_NO_DELETE``), and a version not in the lock yet
(``VERSION_LOCKED``). A version using shared types (defined in other files) records
their text too, as their subjects store it (``references``): editing a shared type
edits every version that uses it.

A lock of format 1 recorded the canonical fingerprint alone, which an edit of a
default, a doc or a logical type leaves unchanged; ``somacontracts lock`` upgrades it,
recording the text of each version whose fingerprint still matches.

Reading and writing are the only I/O here; :func:`compare` and :func:`with_new_versions`
are pure. A write goes to a temporary file that then replaces the lock, so an
interrupted write never leaves half a file.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from somacontracts.errors import ContractError
from somacontracts.schema import ParsedSchema, forms, json_pointer
from somacontracts.schema.datacontract import contract_key
from somacontracts.tooling.check.findings import Category, Finding
from somacontracts.tooling.files import replace_text
from somacontracts.tooling.sources import ContractSchemas, SchemaVersion, contract_path

__all__ = [
    "LOCK_FILE_NAME",
    "Lock",
    "LockError",
    "LockedVersion",
    "compare",
    "contract_text",
    "first_difference",
    "locked",
    "read_lock",
    "registry_ids",
    "registry_text",
    "render_lock",
    "with_new_versions",
    "with_registry_ids",
    "write_lock",
]

LOCK_FILE_NAME = "somacontracts.lock"
_FORMAT = 2
_FORMATS = (1, 2)


class LockError(ContractError):
    """Raised when the lock file cannot be read, is malformed, or would lose a release."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LockedVersion:
    """What the lock records of one version."""

    fingerprint: str
    """SHA-256 of the Avro Parsing Canonical Form, as 64 hex digits."""
    schema: str | None
    """The text the registry stores (normalized); None in a lock of format 1."""
    contract: str | None = None
    """The version's Data Contract parts (``vN.contract.json``) as compact, sorted JSON;
    None for a version without them."""
    references: str | None = None
    """The shared types the version uses, full name -> the text their subjects store, as
    compact, sorted JSON; None for a version that uses none."""


@dataclass(frozen=True, slots=True)
class Lock:
    """Contract -> version -> what was locked, plus sections kept for other tools."""

    versions: Mapping[str, Mapping[int, LockedVersion]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Top-level sections this module does not interpret, written back unchanged."""


def registry_text(schema: Any) -> str:
    """The text a registry stores for ``schema`` registered with ``normalize=true``."""
    return forms.registry_text(schema, normalize=True)


def locked(version: SchemaVersion) -> LockedVersion:
    """What the lock records of ``version``."""
    used = version.references
    return LockedVersion(
        fingerprint=version.fingerprint,
        schema=registry_text(version.parsed),
        contract=contract_text(version),
        references=_references_text(used) if used else None,
    )


def _references_text(used: Mapping[str, Any]) -> str:
    texts = {name: forms.named_text(node) for name, node in used.items()}
    return json.dumps(texts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def contract_text(version: SchemaVersion) -> str | None:
    """``version``'s Data Contract parts as the lock records them, or None."""
    return contract_key(version.metadata, version.rule_set)


def read_lock(path: Path) -> Lock:
    """Read ``path``; a missing file is an empty lock, anything unreadable a :class:`LockError`."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a device or a pipe might never end
            raise LockError(str(path), "is not a regular file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Lock()
    except (OSError, UnicodeDecodeError) as err:
        raise LockError(str(path), f"cannot be read: {err}") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LockError(str(path), f"is not valid JSON: {err.msg} (line {err.lineno})") from err
    if not isinstance(data, dict) or data.get("format") not in _FORMATS:
        raise LockError(
            str(path), f'is not a lock file of format {_FORMAT} (no "format": {_FORMAT})'
        )
    contracts = data.get("contracts", {})
    if not isinstance(contracts, dict):
        raise LockError(str(path), '"contracts" must be an object')
    versions: dict[str, dict[int, LockedVersion]] = {}
    for name, entry in contracts.items():
        listed = entry.get("versions") if isinstance(entry, dict) else None
        if not isinstance(listed, dict):
            raise LockError(str(path), f'contract "{name}" needs a "versions" object')
        versions[name] = {}
        for number, info in listed.items():
            where = f'contract "{name}" version {number!r}'
            fp = info.get("fingerprint") if isinstance(info, dict) else None
            if not number.isdigit() or not isinstance(fp, str) or len(fp) != 64:
                raise LockError(str(path), f'{where} needs a 64-digit "fingerprint"')
            schema = info.get("schema")
            if data["format"] >= 2 and not isinstance(schema, str):
                raise LockError(str(path), f'{where} needs the "schema" text the registry stores')
            contract = info.get("contract")
            if contract is not None and not isinstance(contract, str):
                raise LockError(str(path), f'{where}: "contract" must be text')
            references = info.get("references")
            if references is not None and not isinstance(references, str):
                raise LockError(str(path), f'{where}: "references" must be text')
            versions[name][int(number)] = LockedVersion(
                fp, schema if data["format"] >= 2 else None, contract, references
            )
    extra = {k: v for k, v in data.items() if k not in ("format", "contracts")}
    return Lock(versions=MappingProxyType(versions), extra=MappingProxyType(extra))


def render_lock(lock: Lock) -> str:
    """The lock file's text: sorted keys, two-space indent, final newline."""
    contracts = {
        name: {
            "versions": {str(n): _entry(entry) for n, entry in sorted(lock.versions[name].items())}
        }
        for name in sorted(lock.versions)
    }
    return json.dumps({"format": _FORMAT, "contracts": contracts, **lock.extra}, indent=2) + "\n"


def _entry(entry: LockedVersion) -> dict[str, str]:
    if entry.schema is None:  # kept as it was until upgraded
        return {"fingerprint": entry.fingerprint}
    out = {"fingerprint": entry.fingerprint, "schema": entry.schema}
    if entry.contract is not None:
        out["contract"] = entry.contract
    if entry.references is not None:
        out["references"] = entry.references
    return out


def write_lock(path: Path, lock: Lock) -> None:
    """Write ``lock`` to ``path`` atomically (temporary file, then replace)."""
    replace_text(path, render_lock(lock))


def with_new_versions(lock: Lock, tree: Mapping[str, ContractSchemas], *, source: str) -> Lock:
    """``lock`` plus every version of ``tree`` it lacks; refuse to change a recorded one.

    A version recorded by a lock of format 1 (fingerprint only) gets its registry text
    if its fingerprint still matches.
    """
    versions = {name: dict(entries) for name, entries in lock.versions.items()}
    for name, contract in tree.items():
        recorded = versions.setdefault(name, {})
        for version in contract.versions:
            now = locked(version)
            old = recorded.get(version.version)
            if old is not None and _edited(old, now):
                where = _first_difference_of(old, version)
                raise LockError(
                    source,
                    f"{version.path} was released and has changed since{where}; released "
                    f"versions are never edited: restore it and add "
                    f"v{len(contract.versions) + 1}.avsc instead",
                )
            recorded[version.version] = now
    return Lock(versions=MappingProxyType(versions), extra=lock.extra)


def _edited(old: LockedVersion, now: LockedVersion) -> bool:
    if old.schema is None:
        return old.fingerprint != now.fingerprint
    return (old.schema, old.contract, old.references) != (now.schema, now.contract, now.references)


def _first_difference_of(old: LockedVersion, version: SchemaVersion) -> str:
    if old.schema is None:
        return ""
    if old.schema == registry_text(version.parsed):
        changed = _changed_reference(old, version)
        if changed is not None:
            return f' (the shared type "{changed}" it uses)'
        return f" (its Data Contract, {contract_path(version.path).name})"
    pointer = first_difference(json.loads(old.schema), version.parsed)
    return f" (first at {pointer or '/'})"


def _changed_reference(old: LockedVersion, version: SchemaVersion) -> str | None:
    """The first shared type ``version`` uses whose text differs from the lock's, if any."""
    before = json.loads(old.references) if old.references else {}
    now = json.loads(locked(version).references or "{}")
    return next(
        (name for name in sorted({*before, *now}) if before.get(name) != now.get(name)), None
    )


def compare(
    recorded: Mapping[str, Mapping[int, LockedVersion]],
    tree: Mapping[str, ContractSchemas],
    *,
    baseline: str,
    report_unrecorded: bool,
) -> list[Finding]:
    """Findings for versions of ``tree`` edited or deleted since the ``recorded`` ones.

    ``baseline`` names where ``recorded`` comes from in messages (the lock file's path, a
    git ref). With ``report_unrecorded``, versions absent from ``recorded`` are findings
    too, and so are versions recorded by fingerprint alone (a lock of format 1).
    """
    findings = []
    for name in sorted(set(recorded) | set(tree)):
        old_versions = recorded.get(name, {})
        contract = tree.get(name)
        present = {v.version: v for v in contract.versions} if contract else {}
        for number in sorted(set(old_versions) | set(present)):
            version = present.get(number)
            old = old_versions.get(number)
            location = ""
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
            elif _edited(old, locked(version)):
                rule = "VERSION_EDITED"
                path = str(version.path)
                changed = _changed_reference(old, version)
                if old.schema is not None and old.schema == registry_text(version.parsed):
                    if changed is not None:
                        what = f'the shared type "{changed}" it uses changed'
                    else:
                        path = str(contract_path(version.path))
                        what = "its Data Contract (metadata and rules) changed"
                elif old.schema is not None:
                    location = first_difference(json.loads(old.schema), version.parsed)
                    what = "the schema the registry stores for it changed"
                else:
                    what = "its canonical fingerprint changed"
                message = (
                    f"Released version v{number} of {name} was edited since {baseline}: "
                    f"{what}; restore it and put the change in a new version."
                )
            elif old.schema is None and report_unrecorded:
                rule = "VERSION_LOCKED"
                path = str(version.path)
                message = (
                    f"Version v{number} of {name} is locked in {baseline} by its canonical "
                    "fingerprint alone, which edits of defaults, docs and logical types keep; "
                    "run `somacontracts lock` to record the schema the registry stores."
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
                    location=location,
                    message=message,
                )
            )
    return findings


_MISSING = object()


def first_difference(old: Any, new: Any) -> str:
    """The JSON pointer, into the file of ``new``, of the first place its registry text differs.

    ``old`` is a version's registry text, decoded (from the lock); ``new`` is the version's
    schema as written in its file (or parsed, when it uses shared types). Both are
    compared in their normalized forms, walked in the order of the file, so the pointer
    names a place in the file: the edited default, doc, symbol or attribute. A changed
    namespace is reported where the file sets it.
    """
    written = new.schema if isinstance(new, ParsedSchema) else new
    return _first(old, json.loads(registry_text(new)), written, "") or ""


def _first(old: Any, new: Any, written: Any, at: str) -> str | None:
    if _same(old, new):
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        order = list(written) if isinstance(written, dict) else []
        keys = list(dict.fromkeys([*order, *new, *old]))
        for key in keys:
            before, after = old.get(key, _MISSING), new.get(key, _MISSING)
            if _same(before, after):
                continue
            moved = key == "name" and _namespace_moved(before, after)
            if moved and isinstance(written, dict) and "namespace" in written:
                return json_pointer(at, "namespace")
            inner = written.get(key) if isinstance(written, dict) else None
            # Aliases are sorted in the normalized form: an index there is not the file's.
            if before is not _MISSING and after is not _MISSING and key != "aliases":
                found = _first(before, after, inner, json_pointer(at, key))
                if found is not None:
                    return found
            return json_pointer(at, key)
        return at
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            if index >= len(old) or index >= len(new):
                return json_pointer(at, index)
            inner = written[index] if isinstance(written, list) and index < len(written) else None
            found = _first(old[index], new[index], inner, json_pointer(at, index))
            if found is not None:
                return found
    return at


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON text: of the same JSON types (1 is not true nor 1.0), keys in order."""
    if type(old) is not type(new):
        return False
    if isinstance(old, dict):
        return list(old) == list(new) and all(_same(old[key], new[key]) for key in old)
    if isinstance(old, list):
        return len(old) == len(new) and all(map(_same, old, new))
    return bool(old == new)


def _namespace_moved(before: Any, after: Any) -> bool:
    """Whether two full names differ only in their namespace."""
    if not isinstance(before, str) or not isinstance(after, str):
        return False
    return before.rpartition(".")[2] == after.rpartition(".")[2] and before != after


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
    return Lock(versions=lock.versions, extra=MappingProxyType(extra))

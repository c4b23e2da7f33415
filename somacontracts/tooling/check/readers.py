"""Proofs against readers: each new writer version against the schema of every live reader.

The compatibility levels guess which readers exist; the readers registered by the
consumers (:mod:`somacontracts.kafka.readers`) and the cluster's groups
(:mod:`somacontracts.kafka.liveness`) say which do. A new version is proven readable by
every live reader's schema with the engine of the levels (Apache Avro Java's verdicts).
Two outcomes go beyond the level:

* ``READER_BROKEN``: the level accepts, a live reader would fail: refused, naming the
  group to upgrade first, at the place of the new ``.avsc`` the reader trips on.
* ``READERS_ACCEPT``: the level refuses, every live reader (one at least) reads it:
  allowed only by the team's decision, ``--by-readers``, which the lock file records
  (``by_readers``) so that ``check`` reports the level's findings of that version as
  warnings from then on, and ``diff`` shows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from somacontracts.compat.engine import check_reader_writer
from somacontracts.errors import InvalidSchemaError
from somacontracts.kafka.liveness import Liveness, group_liveness
from somacontracts.kafka.readers import Reader, list_readers, replaced_grace
from somacontracts.schema import json_pointer
from somacontracts.tooling.check.checks import check_compatibility
from somacontracts.tooling.check.findings import ERROR, WARNING, Category, Finding
from somacontracts.tooling.check.lock import Lock

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    from somacontracts.catalog.environment import Settings
    from somacontracts.compat.results import CompatibilityResult
    from somacontracts.tooling.configuration import ProjectConfig
    from somacontracts.tooling.registration import SubjectPlan
    from somacontracts.tooling.sources import ContractSchemas, SchemaVersion

__all__ = [
    "LiveReader",
    "Proof",
    "allowed_by_readers",
    "decision_text",
    "decisions",
    "proof_findings",
    "prove",
    "prove_plans",
    "prove_tree",
    "readers_known",
    "readers_of",
    "with_decisions",
    "writer_location",
]


@dataclass(frozen=True, slots=True)
class LiveReader:
    """A registered reader and what the cluster says of its group."""

    reader: Reader
    liveness: Liveness


def readers_of(
    client: SchemaRegistryClient, settings: Settings, subjects: Iterable[str] | None
) -> list[LiveReader]:
    """The readers the registry holds for ``subjects`` (None: all), each with its group's
    liveness."""
    found = list_readers(client, subjects, replaced_within=replaced_grace())
    by_topic: dict[str, list[str]] = {}
    for reader in found:
        by_topic.setdefault(reader.topic, []).append(reader.group)
    liveness = {
        (topic, group): state
        for topic, groups in by_topic.items()
        for group, state in group_liveness(settings, topic, groups).items()
    }
    return [LiveReader(r, liveness[r.topic, r.group]) for r in found]


def readers_known(
    client: SchemaRegistryClient, settings: Settings | None, subjects: Iterable[str] | None
) -> list[tuple[Reader, Liveness | None]]:
    """The readers the registry holds for ``subjects`` (None: all), each with its group's
    liveness, or None for each without ``settings`` (no cluster to ask)."""
    if settings is None:
        return [(reader, None) for reader in list_readers(client, subjects)]
    return [(r.reader, r.liveness) for r in readers_of(client, settings, subjects)]


@dataclass(frozen=True, slots=True)
class Proof:
    """One new writer version of a contract against the live readers of one subject."""

    contract: str
    version: SchemaVersion
    subject: str
    live: tuple[Reader, ...]
    broken: tuple[tuple[Reader, CompatibilityResult], ...]
    level_refused: bool
    """Whether the contract's compatibility level refuses the version."""

    @property
    def readers_accept(self) -> bool:
        """The level refuses, and every live reader (one at least) reads the version."""
        return self.level_refused and bool(self.live) and not self.broken


def prove(
    versions: Mapping[tuple[str, str], Sequence[SchemaVersion]],
    readers: Sequence[LiveReader],
    refused: Iterable[tuple[str, int]],
) -> list[Proof]:
    """Prove each version of ``versions`` ((contract, subject) -> the new versions) against
    the live ``readers`` of its subject; ``refused`` holds the (contract, version) pairs
    the level refuses."""
    refusals = set(refused)
    proofs = []
    for (contract, subject), new in versions.items():
        live = tuple(r.reader for r in readers if r.reader.subject == subject and r.liveness.live)
        for version in new:
            broken = []
            for reader in live:
                result = _check(reader, version)
                if not result.compatible:
                    broken.append((reader, result))
            proofs.append(
                Proof(
                    contract=contract,
                    version=version,
                    subject=subject,
                    live=live,
                    broken=tuple(broken),
                    level_refused=(contract, version.version) in refusals,
                )
            )
    return proofs


def prove_tree(
    client: SchemaRegistryClient,
    settings: Settings,
    tree: Mapping[str, ContractSchemas],
    config: ProjectConfig,
) -> list[Proof]:
    """Prove, under each subject of each contract, the versions the registry lacks (else
    the latest, which the producers write) against the subject's live readers."""
    from somacontracts.tooling.registration import plan_subject, subject_state

    plans = [
        plan_subject(subject_state(client, subject), contract, config.level_of(name))
        for name, contract in tree.items()
        for subject in config.subjects_of(name)
    ]
    return prove_plans(client, settings, tree, plans, latest=True)


def prove_plans(
    client: SchemaRegistryClient,
    settings: Settings,
    tree: Mapping[str, ContractSchemas],
    plans: Sequence[SubjectPlan],
    *,
    latest: bool = False,
) -> list[Proof]:
    """Prove the versions each plan registers (with ``latest``, the contract's latest
    where it registers none) against the live readers of its subject, with the verdicts
    of the plan's level on each."""
    versions: dict[tuple[str, str], Sequence[SchemaVersion]] = {}
    refused: set[tuple[str, int]] = set()
    for plan in plans:
        contract = tree[plan.contract]
        new = plan.to_register or ((contract.latest,) if latest else ())
        if new:
            versions[plan.contract, plan.subject] = new
            refused |= {
                (f.contract, f.version or 0) for f in check_compatibility(contract, plan.level)
            }
    if not versions:
        return []
    readers = readers_of(client, settings, {subject for _, subject in versions})
    return prove(versions, readers, refused)


def _check(reader: Reader, version: SchemaVersion) -> CompatibilityResult:
    try:
        return check_reader_writer(reader.schema, version.parsed)
    except InvalidSchemaError as err:
        raise InvalidSchemaError(
            f"the reader schema of group {reader.group!r} in {reader.registry_subject} is "
            f"not valid: {err.reason}",
            location=err.location,
        ) from err


def proof_findings(proofs: Sequence[Proof], *, by_readers: bool) -> list[Finding]:
    """``READER_BROKEN`` for each live reader a version breaks; ``READERS_ACCEPT`` for each
    version the level refuses and every live reader reads (a note without ``by_readers``)."""
    findings = []
    for proof in proofs:
        version = proof.version
        number = version.version
        for reader, result in proof.broken:
            problem = result.problems[0]
            topic = reader.topic
            findings.append(
                Finding(
                    rule="READER_BROKEN",
                    category=Category.COMPATIBILITY,
                    contract=proof.contract,
                    version=number,
                    path=str(version.path),
                    location=writer_location(reader.schema, version.schema, problem.location),
                    message=f"v{number} cannot be read by live reader group "
                    f'"{reader.group}" (service "{reader.service}", reader '
                    f"{_version(reader)}) on {topic}: {problem.message.rstrip('.')}; "
                    f'upgrade group "{reader.group}" first',
                )
            )
        if proof.readers_accept:
            groups = ", ".join(r.label() for r in proof.live)
            decided = "allowed by readers (--by-readers)" if by_readers else "refused by the level"
            hint = "" if by_readers else "; --by-readers allows it, a decision the team takes"
            findings.append(
                Finding(
                    rule="READERS_ACCEPT",
                    category=Category.COMPATIBILITY,
                    contract=proof.contract,
                    version=number,
                    path=str(version.path),
                    location="",
                    message=f"v{number} is {decided}: every live reader of {proof.subject} "
                    f"reads it: {groups}{hint}",
                    severity=WARNING,
                )
            )
    return findings


def _version(reader: Reader) -> str:
    version = f"v{reader.version}" if reader.version is not None else "version unknown"
    if reader.replaced:  # a rolling deploy's older instances may still read with it
        return f"{version}, replaced at {reader.replaced}"
    return version


def writer_location(reader_schema: Any, writer_schema: Any, reader_pointer: str) -> str:
    """The place in ``writer_schema`` (JSON as written) of what ``reader_pointer`` names in
    the reader's schema: fields followed by name, so that a reader's field is found in the
    new file wherever it moved; where the writer lacks it (a field the writer dropped), the
    deepest place both have."""
    import json

    reader = json.loads(reader_schema) if isinstance(reader_schema, str) else reader_schema
    writer: Any = writer_schema
    at = ""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in reader_pointer.split("/")[1:]]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "fields" and index + 1 < len(tokens) and isinstance(reader, dict):
            fields = reader.get("fields")
            position = int(tokens[index + 1]) if tokens[index + 1].isdigit() else -1
            if not isinstance(fields, list) or not 0 <= position < len(fields):
                return at
            wanted = _names(fields[position])
            others = writer.get("fields") if isinstance(writer, dict) else None
            match = next(
                (
                    i
                    for i, f in enumerate(others or [])
                    if isinstance(f, dict) and _names(f) & wanted
                ),
                None,
            )
            if match is None:
                return json_pointer(at, "fields") if others is not None else at
            reader, writer = fields[position], others[match]  # type: ignore[index]
            at = json_pointer(at, "fields", match)
            index += 2
            continue
        if isinstance(reader, dict) and isinstance(writer, dict) and token in writer:
            reader, writer = reader.get(token), writer[token]
            at = json_pointer(at, token)
        elif isinstance(reader, list) and isinstance(writer, list) and token.isdigit():
            position = int(token)
            if position >= len(writer) or position >= len(reader):
                return at
            reader, writer = reader[position], writer[position]
            at = json_pointer(at, position)
        else:
            return at
        index += 1
    return at


def _names(field: Any) -> set[str]:
    if not isinstance(field, dict):
        return set()
    return {field.get("name", ""), *field.get("aliases", ())} - {""}


def decisions(lock: Lock) -> dict[str, dict[int, Any]]:
    """Contract -> version -> the ``--by-readers`` decision the lock records."""
    recorded = lock.extra.get("by_readers", {})
    return {
        name: {int(number): entry for number, entry in versions.items()}
        for name, versions in recorded.items()
        if isinstance(versions, dict)
    }


def decision_text(entry: Mapping[str, Any]) -> str:
    """A ``--by-readers`` decision the lock records, in one sentence for reports."""
    readers = entry.get("readers", ())
    groups = ", ".join(
        f"{r.get('group')} ({r.get('service')}, "
        + (f"v{r['version']})" if r.get("version") is not None else "version unknown)")
        for r in readers
        if isinstance(r, Mapping)
    )
    level = entry.get("level", "its level")
    subject = entry.get("subject", "its subject")
    return (
        f"allowed by readers (--by-readers): the {level} level refuses it, and every live "
        f"reader of {subject} read it when the team decided: {groups or 'none recorded'}"
    )


def with_decisions(lock: Lock, proofs: Iterable[Proof], level: Mapping[str, str]) -> Lock:
    """``lock`` recording, for each proof the readers accept, the decision to allow it:
    the level it breaks and the live readers that read it."""
    recorded = {name: dict(v) for name, v in decisions(lock).items()}
    for proof in proofs:
        if not proof.readers_accept:
            continue
        recorded.setdefault(proof.contract, {})[proof.version.version] = {
            "level": level[proof.contract],
            "subject": proof.subject,
            "readers": [
                {"group": r.group, "service": r.service, "version": r.version} for r in proof.live
            ],
        }
    if not recorded:
        return lock
    rendered = {
        name: {str(n): entry for n, entry in sorted(versions.items())}
        for name, versions in sorted(recorded.items())
    }
    return Lock(
        versions=lock.versions, extra=MappingProxyType({**lock.extra, "by_readers": rendered})
    )


_NOT_THE_LEVEL = frozenset({"READER_BROKEN", "READERS_ACCEPT", "REGISTRY_INCOMPATIBLE"})
"""Compatibility findings that are not the level's verdicts: a decision leaves them."""


def allowed_by_readers(findings: Sequence[Finding], lock: Lock, lock_path: str) -> list[Finding]:
    """``findings`` with the level's findings of each version the lock records as allowed
    by readers turned into warnings that say so."""
    allowed = decisions(lock)
    out = []
    for finding in findings:
        entry = allowed.get(finding.contract, {}).get(finding.version or 0)
        if (
            entry is not None
            and finding.category is Category.COMPATIBILITY
            and finding.severity == ERROR
            and finding.rule not in _NOT_THE_LEVEL
        ):
            groups = ", ".join(str(r.get("group")) for r in entry.get("readers", ()))
            finding = dataclasses.replace(
                finding,
                severity=WARNING,
                message=f"{finding.message} (allowed by readers {groups}: recorded in {lock_path})",
            )
        out.append(finding)
    return out

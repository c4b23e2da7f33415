"""Bringing a registry in line with the repository: the state of each subject, a plan, its run.

:func:`subject_state` reads what a registry holds under a subject (through the one
client); :func:`plan_subject` compares it with the contract's versions (pure) and says
which versions are already there with which ids, which to register next, whether the
subject's compatibility level must be set, and what the registry holds that the
repository does not (drift); :func:`apply_plan` carries a plan out, one version at a
time in order, so an interrupted run resumes where it stopped.

Versions are matched by the normalized text a registry stores for them (the lock's
``schema``) read as JSON, so a registry version that differs from the repository's in a
doc, a default or a logical type is drift, not the same version, while the order of the
keys of a default object (Karapace sorts them) is not. Registration and lookup send the
schema text with ``normalize=true``, so white space and key order never make a schema
"not found".

A version using shared types (types other files define) is sent with Confluent's
``references`` array; the shared types are registered first, each under its full name
(:mod:`somacontracts.serde.references`).

What a registry cannot hold is found out before anything is registered:
:func:`~somacontracts.tooling.keks.require_keks` refuses a missing KEK or a registry without a
DEK registry, and :func:`configure_subjects` reads back the compatibility group that
major versions need.
:func:`apply_plan` reads back every version it registers and refuses one whose schema,
metadata or rules the registry dropped or changed (Karapace keeps neither metadata nor
rules), so ``register`` fails instead of leaving encrypted fields unencrypted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.common.schema_registry_client import (
    AssociationCreateOrUpdateInfo,
    AssociationCreateOrUpdateRequest,
    ConfigCompatibilityLevel,
    Metadata,
    RuleSet,
    ServerConfig,
)

from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import InvalidSchemaError, RegistryError, RegistryFeatureError
from somacontracts.schema import NamedNode, parse, registry_text
from somacontracts.schema.datacontract import (
    COMPATIBILITY_GROUP,
    contract_key,
    describe_dropped,
    dropped_parts,
    major_version,
)
from somacontracts.serde.references import references_of
from somacontracts.serde.registry_client import call, stored_version, subject_level, url_of
from somacontracts.tooling.keks import keks_of, require_keks
from somacontracts.tooling.sources import ContractSchemas, SchemaVersion
from somacontracts.tooling.stored import first_difference, schema_value

__all__ = [
    "RegisteredVersion",
    "SubjectPlan",
    "SubjectState",
    "apply_plan",
    "associate_topics",
    "configure_subjects",
    "drift_reason",
    "keks_needed",
    "plan_subject",
    "register_tree",
    "schema_of",
    "schema_text",
    "schema_value",
    "subject_state",
]

_SUBJECT_NOT_FOUND = 40401


@dataclass(frozen=True, slots=True)
class RegisteredVersion:
    """One version the registry holds under a subject."""

    version: int
    schema_id: int
    text: str
    """The schema text it holds, normalized as the lock records it."""
    contract: str | None = None
    """Its Data Contract parts (metadata and rules) as :func:`contract_key` compares them."""
    metadata: Any = None
    """Its ``metadata`` as the registry answered it."""
    rule_set: Any = None
    """Its ``ruleSet`` as the registry answered it."""


@dataclass(frozen=True, slots=True)
class SubjectState:
    """What a registry holds under one subject: its versions and its own level, if set."""

    subject: str
    versions: tuple[RegisteredVersion, ...]
    level: str | None


@dataclass(frozen=True, slots=True)
class SubjectPlan:
    """What must happen to one subject so it holds the contract's versions in order."""

    subject: str
    contract: str
    registered: dict[int, int]
    """Local version -> schema id, for versions the registry already holds."""
    to_register: tuple[SchemaVersion, ...]
    drift: tuple[RegisteredVersion, ...]
    """Registry versions whose schema is no version of the contract."""
    out_of_order: tuple[int, ...]
    """Local versions the registry holds although an earlier one is missing."""
    level: CompatibilityLevel
    set_level: bool
    registry_versions: tuple[RegisteredVersion, ...] = field(default=())
    reasons: Mapping[int, str] = field(default_factory=dict)
    """Why each registry version of ``drift`` is none of the contract's, by its number."""

    @property
    def consistent(self) -> bool:
        """No drift and nothing registered out of order: the plan may be applied."""
        return not self.drift and not self.out_of_order


def schema_text(version: SchemaVersion) -> str:
    """The text sent to the registry for ``version``: its JSON, compact, keys as written
    (normalized, the shared types it uses named, when it uses some)."""
    if version.references:
        return registry_text(version.parsed, normalize=True)
    return json.dumps(version.schema, separators=(",", ":"), ensure_ascii=False)


def _registered_contract(metadata: Any, rule_set: Any) -> str | None:
    """A registry's Data Contract parts as :func:`contract_key` compares them; parts this
    package would not accept make the version drift (they match no local version)."""
    try:
        return contract_key(metadata, rule_set)
    except InvalidSchemaError:
        return json.dumps([metadata, rule_set], sort_keys=True)


def schema_of(version: SchemaVersion, references: Sequence[SchemaReference] = ()) -> Schema:
    """What is registered for ``version``: its text, its ``references`` and its Data
    Contract parts."""
    return Schema(
        schema_text(version),
        "AVRO",
        list(references),
        None if version.metadata is None else Metadata.from_dict(version.metadata),
        None if version.rule_set is None else RuleSet.from_dict(version.rule_set),
    )


def _normalized(text: str, shared: Mapping[str, NamedNode] | None = None) -> str:
    """``text`` from a registry in the lock's normalized form; unparsable text stays as is."""
    try:
        return registry_text(parse(text, shared=shared), normalize=True)
    except InvalidSchemaError:
        return text


def subject_state(client: SchemaRegistryClient, subject: str) -> SubjectState:
    """Read the live versions and the subject-level compatibility of ``subject``."""
    try:
        numbers = call(client, lambda: client.get_versions(subject))
    except RegistryError as err:
        if err.error_code != _SUBJECT_NOT_FOUND:
            raise
        numbers = []
    versions = []
    for number in numbers:
        registered = call(client, functools.partial(client.get_version, subject, number))
        text = registered.schema.schema_str
        if registered.schema_id is None or text is None:
            raise RegistryError(
                url_of(client), f"{subject} version {number} came back without id or schema"
            )
        metadata, rule_set = registered.schema.metadata, registered.schema.rule_set
        meta = None if metadata is None else metadata.to_dict()
        rules = None if rule_set is None else rule_set.to_dict()
        versions.append(
            RegisteredVersion(
                version=number,
                schema_id=registered.schema_id,
                text=_normalized(text),
                contract=_registered_contract(meta, rules),
                metadata=meta,
                rule_set=rules,
            )
        )
    return SubjectState(
        subject=subject, versions=tuple(versions), level=subject_level(client, subject)
    )


def plan_subject(
    state: SubjectState, contract: ContractSchemas, level: CompatibilityLevel
) -> SubjectPlan:
    """Compare a subject's state with the contract's versions (pure)."""
    shared = _shared_of(contract)
    by_value = {
        (schema_value(schema_text(v), shared), contract_key(v.metadata, v.rule_set)): v
        for v in contract.versions
    }
    registered: dict[int, int] = {}
    drift = []
    reasons: dict[int, str] = {}
    for held in state.versions:
        local = by_value.get((schema_value(held.text, shared), held.contract))
        if local is None:
            drift.append(held)
            reasons[held.version] = drift_reason(held, contract)
        else:
            registered[local.version] = held.schema_id
    prefix = 0
    while prefix + 1 in registered:
        prefix += 1
    out_of_order = tuple(sorted(n for n in registered if n > prefix))
    return SubjectPlan(
        subject=state.subject,
        contract=contract.name,
        registered=registered,
        to_register=tuple(v for v in contract.versions if v.version > prefix),
        drift=tuple(drift),
        out_of_order=out_of_order,
        level=level,
        set_level=state.level != level.value,
        registry_versions=state.versions,
        reasons=reasons,
    )


def drift_reason(held: RegisteredVersion, contract: ContractSchemas) -> str:
    """Why registry version ``held`` is no version of ``contract``: the Data Contract parts
    of the version with its schema that it lacks or holds otherwise (its rules dropped), or
    where its schema differs from the version of its number (else the newest)."""
    shared = _shared_of(contract)
    value = schema_value(held.text, shared)
    same = [v for v in contract.versions if schema_value(schema_text(v), shared) == value]
    if same:
        local = same[-1]
        parts = dropped_parts((local.metadata, local.rule_set), (held.metadata, held.rule_set))
        if parts:
            return f"v{local.version}'s schema {describe_dropped(parts)}"
        return f"v{local.version}'s schema with Data Contract parts v{local.version} lacks"
    local = next((v for v in contract.versions if v.version == held.version), contract.latest)
    try:
        held_json = json.loads(held.text)
    except ValueError:
        return "a schema that is not JSON"
    pointer = first_difference(json.loads(registry_text(local.parsed, normalize=True)), held_json)
    return f"a schema that differs from v{local.version}'s at {pointer or 'its root'}"


def _shared_of(contract: ContractSchemas) -> dict[str, NamedNode]:
    """The shared types any version of ``contract`` uses, by full name."""
    return {name: node for v in contract.versions for name, node in v.references.items()}


def _registers_majors(plan: SubjectPlan) -> bool:
    return any(major_version(v.metadata) is not None for v in plan.to_register)


def configure_subjects(client: SchemaRegistryClient, plans: Sequence[SubjectPlan]) -> None:
    """Give each subject whose plan registers major versions its level and Confluent's
    compatibility group, before any version is registered.

    The group is sent with the level (``PUT /config/{subject}`` with both, as Confluent
    takes it) and read back: a registry that does not keep it (Karapace) would refuse the
    next major as incompatible, or take it without a group, so it raises
    :class:`RegistryFeatureError` naming the subject.
    """
    for plan in plans:
        if not _registers_majors(plan):
            continue
        # Major versions: each is checked only against its own (Confluent's groups).
        level = ConfigCompatibilityLevel(plan.level.value)
        grouped = ServerConfig(compatibility=level, compatibility_group=COMPATIBILITY_GROUP)
        call(client, functools.partial(client.set_config, plan.subject, grouped))
        kept = call(client, functools.partial(client.get_config, plan.subject))
        if kept.compatibility_group != COMPATIBILITY_GROUP:
            raise RegistryFeatureError(
                url_of(client),
                f"subject {plan.subject} did not keep compatibilityGroup "
                f'"{COMPATIBILITY_GROUP}" (it reads back as {kept.compatibility_group!r}): '
                f"the major versions of {plan.contract} need Confluent's compatibility "
                "groups; nothing registered",
                subject=plan.subject,
                feature="compatibility group",
            )


def apply_plan(client: SchemaRegistryClient, plan: SubjectPlan) -> dict[int, int]:
    """Set the level, register the missing versions in order, reading each back; return
    version -> id. The level and group of a plan with major versions are
    :func:`configure_subjects`' to set, before any plan is applied.

    Raises :class:`RegistryError` when the registry refuses a version (for example as
    incompatible), naming the contract, version and subject; the versions registered
    before it stay registered, so a rerun resumes from there. Raises
    :class:`RegistryFeatureError` when the version read back is not what was sent: its
    schema, metadata or rules dropped or changed (a rule set the registry does not keep
    would leave encrypted fields unencrypted).
    """
    if not plan.consistent:
        raise RegistryError(url_of(client), f"subject {plan.subject} drifted; refusing to write")
    if plan.set_level and not _registers_majors(plan):
        call(client, functools.partial(client.set_compatibility, plan.subject, plan.level.value))
    ids = dict(plan.registered)
    for version in plan.to_register:
        schema = schema_of(version, references_of(client, version.references))
        try:
            ids[version.version] = call(
                client,
                functools.partial(
                    client.register_schema, plan.subject, schema, normalize_schemas=True
                ),
            )
        except RegistryError as err:
            raise RegistryError(
                err.url,
                f"refused v{version.version} of {plan.contract} under subject "
                f"{plan.subject}: {err.reason}",
                status=err.status,
                error_code=err.error_code,
            ) from err
        _verify(client, plan, version, schema, ids[version.version])
    return ids


def _verify(
    client: SchemaRegistryClient,
    plan: SubjectPlan,
    version: SchemaVersion,
    schema: Schema,
    schema_id: int,
) -> None:
    """Read back what the registry stored for ``version`` (sent as ``schema``) under
    ``plan.subject`` and compare it with what was sent: the id, the schema as a value, its
    references, the metadata and the rules."""
    found = call(
        client,
        functools.partial(client.lookup_schema, plan.subject, schema, normalize_schemas=True),
    )
    where = f"{plan.subject} v{version.version} of {plan.contract}"
    if found.schema_id != schema_id or found.version is None:
        raise RegistryError(
            url_of(client),
            f"{where} was registered with id {schema_id} but looks up as id {found.schema_id}",
        )
    stored = stored_version(client, plan.subject, found.version).schema
    sent = schema_text(version)
    shared = version.references
    if schema_value(stored.schema_str or "", shared) != schema_value(sent, shared):
        pointer = first_difference(
            json.loads(registry_text(sent, normalize=True)), json.loads(stored.schema_str or "null")
        )
        raise RegistryFeatureError(
            url_of(client),
            f"{where} (registry version {found.version}) was stored with another schema "
            f"(it differs at {pointer or 'its root'})",
            subject=plan.subject,
            feature="schema",
        )
    held = [(r.name, r.subject, r.version) for r in stored.references or []]
    if held != [(r.name, r.subject, r.version) for r in schema.references or []]:
        raise RegistryFeatureError(
            url_of(client),
            f"{where} (registry version {found.version}) was stored with other references "
            f"({', '.join(f'{n} {s} v{v}' for n, s, v in held) or 'none'})",
            subject=plan.subject,
            feature="references",
        )
    parts = dropped_parts(
        (version.metadata, version.rule_set),
        (
            None if stored.metadata is None else stored.metadata.to_dict(),
            None if stored.rule_set is None else stored.rule_set.to_dict(),
        ),
    )
    if parts:
        raise RegistryFeatureError(
            url_of(client),
            f"{where} (registry version {found.version}, id {schema_id}) was stored "
            f"{describe_dropped(parts)}: the registry dropped or changed what was sent "
            "(registries without Confluent's Data Contracts, such as Karapace, keep no "
            "metadata or rules)",
            subject=plan.subject,
            feature=parts[0],
        )


def register_tree(
    client: SchemaRegistryClient,
    tree: Mapping[str, ContractSchemas],
    subjects_of: Callable[[str], Sequence[str]],
    level_of: Callable[[str], CompatibilityLevel],
    prove: Callable[[Sequence[SubjectPlan]], None] | None = None,
) -> list[SubjectPlan]:
    """Register every version of every contract of ``tree`` under each of its subjects
    (``subjects_of``), at its level (``level_of``); return the plans applied. ``prove``
    sees the plans first and may refuse them by raising (the proofs against readers).

    Raise :class:`RegistryError` before writing anything if a subject holds versions
    that are not the contract's (drift, or versions out of order), and
    :class:`RegistryFeatureError` if the registry lacks a KEK the versions to register
    name, a DEK registry, or the compatibility groups of major versions (see
    :func:`~somacontracts.tooling.keks.require_keks`, :func:`configure_subjects`).
    """
    plans = [
        plan_subject(subject_state(client, subject), tree[name], level_of(name))
        for name in tree
        for subject in subjects_of(name)
    ]
    for plan in plans:
        if plan.drift or plan.out_of_order:
            why = "; ".join(f"version {n}: {r}" for n, r in plan.reasons.items())
            raise RegistryError(
                url_of(client),
                f"subject {plan.subject} holds versions that are not {plan.contract}'s, "
                "or not in order" + (f" ({why})" if why else ""),
            )
    if prove is not None:
        prove(plans)
    require_keks(client, keks_needed(plans))
    configure_subjects(client, plans)
    for plan in plans:
        apply_plan(client, plan)
    return plans


def keks_needed(plans: Sequence[SubjectPlan]) -> dict[str, str]:
    """The KEKs the ENCRYPT rules of the versions ``plans`` register name, each with the
    first rule naming it (``rule "encryptPII" of ConversationEvent v2``)."""
    needed: dict[str, str] = {}
    for plan in plans:
        for version in plan.to_register:
            for kek, rule in keks_of(version).items():
                needed.setdefault(kek, f'rule "{rule}" of {plan.contract} v{version.version}')
    return needed


def associate_topics(
    client: SchemaRegistryClient, subjects: Mapping[str, str], cluster_id: str
) -> list[str]:
    """Associate each topic of ``subjects`` (topic -> its value subject) in the Kafka
    cluster ``cluster_id`` with its subject (Confluent Platform 8's ``/associations``, which
    confluent-kafka's ``AssociatedNameStrategy`` reads); return the topics associated now.

    A topic already associated with its subject is left as it is; one associated with
    another subject is a :class:`RegistryError` (40903). Each association is ``WEAK``:
    deleting it leaves the subject. Its resource id is ``<cluster id>:<topic>``.
    """
    created = []
    for topic, subject in subjects.items():
        lookup = functools.partial(
            client.get_associations_by_resource_name,
            topic,
            cluster_id,
            resource_type="topic",
            association_types=["value"],
        )
        if any(found.subject == subject for found in call(client, lookup)):
            continue
        request = AssociationCreateOrUpdateRequest(
            resource_name=topic,
            resource_namespace=cluster_id,
            resource_id=f"{cluster_id}:{topic}",
            resource_type="topic",
            associations=[
                AssociationCreateOrUpdateInfo(
                    subject=subject, association_type="value", lifecycle="WEAK"
                )
            ],
        )
        try:
            call(client, functools.partial(client.create_association, request))
        except RegistryError as err:
            raise RegistryError(
                err.url,
                f"cannot associate topic {topic} with subject {subject}: {err.reason}",
                status=err.status,
                error_code=err.error_code,
            ) from err
        created.append(topic)
    return created

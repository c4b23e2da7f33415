"""Bringing a registry in line with the repository: the state of each subject, a plan, its run.

:func:`subject_state` reads what a registry holds under a subject (through the one
client); :func:`plan_subject` compares it with the contract's versions (pure) and says
which versions are already there with which ids, which to register next, whether the
subject's compatibility level must be set, and what the registry holds that the
repository does not (drift); :func:`apply_plan` carries a plan out, one version at a
time in order, so an interrupted run resumes where it stopped.

Versions are matched by the normalized text a registry stores for them (the lock's
``schema``), so a registry version that differs from the repository's in a doc, a
default or a logical type is drift, not the same version. Registration and lookup send
the schema text with ``normalize=true``, so white space and key order never make a
schema "not found".
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.common.schema_registry_client import (
    AssociationCreateOrUpdateInfo,
    AssociationCreateOrUpdateRequest,
    Metadata,
    RuleSet,
    ServerConfig,
)

from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import ConfigurationError, InvalidSchemaError, RegistryError
from somacontracts.registry_client import call, url_of
from somacontracts.schema import registry_text
from somacontracts.schema.datacontract import COMPATIBILITY_GROUP, contract_key, major_version
from somacontracts.schemas import ContractSchemas, SchemaVersion

__all__ = [
    "RegisteredVersion",
    "SubjectPlan",
    "SubjectState",
    "apply_plan",
    "associate_topics",
    "create_keks",
    "kek_names",
    "plan_subject",
    "register_tree",
    "schema_of",
    "schema_text",
    "subject_state",
]

_SUBJECT_NOT_FOUND = 40401
_NO_SUBJECT_LEVEL = 40408


@dataclass(frozen=True, slots=True)
class RegisteredVersion:
    """One version the registry holds under a subject."""

    version: int
    schema_id: int
    text: str
    """The schema text it holds, normalized as the lock records it."""
    contract: str | None = None
    """Its Data Contract parts (metadata and rules) as :func:`contract_key` compares them."""


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

    @property
    def consistent(self) -> bool:
        """No drift and nothing registered out of order: the plan may be applied."""
        return not self.drift and not self.out_of_order


def schema_text(version: SchemaVersion) -> str:
    """The text sent to the registry for ``version``: its JSON, compact, keys as written."""
    return json.dumps(version.schema, separators=(",", ":"), ensure_ascii=False)


def _registered_contract(metadata: Any, rule_set: Any) -> str | None:
    """A registry's Data Contract parts as :func:`contract_key` compares them; parts this
    package would not accept make the version drift (they match no local version)."""
    try:
        return contract_key(metadata, rule_set)
    except InvalidSchemaError:
        return json.dumps([metadata, rule_set], sort_keys=True)


def schema_of(version: SchemaVersion) -> Schema:
    """What is registered for ``version``: its text, and its Data Contract parts."""
    return Schema(
        schema_text(version),
        "AVRO",
        [],
        None if version.metadata is None else Metadata.from_dict(version.metadata),
        None if version.rule_set is None else RuleSet.from_dict(version.rule_set),
    )


def _normalized(text: str) -> str:
    """``text`` from a registry in the lock's normalized form; unparsable text stays as is."""
    try:
        return registry_text(text, normalize=True)
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
        versions.append(
            RegisteredVersion(
                version=number,
                schema_id=registered.schema_id,
                text=_normalized(text),
                contract=_registered_contract(
                    None if metadata is None else metadata.to_dict(),
                    None if rule_set is None else rule_set.to_dict(),
                ),
            )
        )
    try:
        level: str | None = call(client, lambda: client.get_compatibility(subject))
    except RegistryError as err:
        if err.error_code not in (_SUBJECT_NOT_FOUND, _NO_SUBJECT_LEVEL):
            raise
        level = None
    return SubjectState(subject=subject, versions=tuple(versions), level=level)


def plan_subject(
    state: SubjectState, contract: ContractSchemas, level: CompatibilityLevel
) -> SubjectPlan:
    """Compare a subject's state with the contract's versions (pure)."""
    by_text = {
        (registry_text(v.schema, normalize=True), contract_key(v.metadata, v.rule_set)): v
        for v in contract.versions
    }
    registered: dict[int, int] = {}
    drift = []
    for held in state.versions:
        local = by_text.get((held.text, held.contract))
        if local is None:
            drift.append(held)
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
    )


def apply_plan(client: SchemaRegistryClient, plan: SubjectPlan) -> dict[int, int]:
    """Set the level, register the missing versions in order, verify; return version -> id.

    Raises :class:`RegistryError` when the registry refuses a version (for example as
    incompatible), naming the contract, version and subject; the versions registered
    before it stay registered, so a rerun resumes from there.
    """
    if not plan.consistent:
        raise RegistryError(url_of(client), f"subject {plan.subject} drifted; refusing to write")
    if plan.set_level:
        call(client, lambda: client.set_compatibility(plan.subject, plan.level.value))
    if any(major_version(v.metadata) is not None for v in plan.to_register):
        # Major versions: each is checked only against its own (Confluent's groups).
        grouped = ServerConfig(compatibility_group=COMPATIBILITY_GROUP)
        call(client, lambda: client.set_config(plan.subject, grouped))
    ids = dict(plan.registered)
    for version in plan.to_register:
        schema = schema_of(version)
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
    for version in plan.to_register:
        found = call(
            client,
            functools.partial(
                client.lookup_schema,
                plan.subject,
                schema_of(version),
                normalize_schemas=True,
            ),
        )
        if found.schema_id != ids[version.version]:
            raise RegistryError(
                url_of(client),
                f"v{version.version} of {plan.contract} under {plan.subject} was registered "
                f"with id {ids[version.version]} but looks up as id {found.schema_id}",
            )
    return ids


def register_tree(
    client: SchemaRegistryClient,
    tree: Mapping[str, ContractSchemas],
    subjects_of: Callable[[str], Sequence[str]],
    level_of: Callable[[str], CompatibilityLevel],
) -> list[SubjectPlan]:
    """Register every version of every contract of ``tree`` under each of its subjects
    (``subjects_of``), at its level (``level_of``); return the plans applied.

    Raise :class:`RegistryError` before writing anything if a subject holds versions
    that are not the contract's (drift, or versions out of order).
    """
    plans = [
        plan_subject(subject_state(client, subject), tree[name], level_of(name))
        for name in tree
        for subject in subjects_of(name)
    ]
    for plan in plans:
        if plan.drift or plan.out_of_order:
            raise RegistryError(
                url_of(client),
                f"subject {plan.subject} holds versions that are not {plan.contract}'s, "
                "or not in order",
            )
    for plan in plans:
        apply_plan(client, plan)
    return plans


def kek_names(tree: Mapping[str, ContractSchemas]) -> list[str]:
    """The KEKs the ENCRYPT rules of every contract version name (``encrypt.kek.name``,
    in the rule's params or the version's metadata properties), sorted."""
    names: set[str] = set()
    for contract in tree.values():
        for version in contract.versions:
            properties = (version.metadata or {}).get("properties", {})
            for rule in (version.rule_set or {}).get("domainRules", []):
                if rule.get("type") == "ENCRYPT":
                    name = (rule.get("params") or {}).get("encrypt.kek.name") or properties.get(
                        "encrypt.kek.name"
                    )
                    if name:
                        names.add(name)
    return sorted(names)


KMS_TYPES = ("local-kms", "aws-kms", "azure-kms", "gcp-kms", "hcvault")
"""The KMS types of confluent-kafka's drivers, as KEKs name them."""


def create_keks(client: SchemaRegistryClient, names: Sequence[str], kms: str) -> list[str]:
    """Register each KEK of ``names`` the registry's DEK registry lacks, wrapped by the KMS
    key ``kms`` (``local-kms://somastack``, ``aws-kms://arn:...``); return those created.

    An existing KEK is left as it is, whatever its KMS: keys are never replaced here.
    """
    from confluent_kafka.schema_registry.error import SchemaRegistryError
    from confluent_kafka.schema_registry.rules.encryption.dek_registry.dek_registry_client import (
        DekRegistryClient,
    )

    kms_type, separator, key_id = kms.partition("://")
    if kms_type not in KMS_TYPES:
        raise ConfigurationError(
            "--create-keks",
            f"{kms_type!r} is no KMS confluent-kafka has a driver for ({', '.join(KMS_TYPES)})",
        )
    if not separator or not key_id:
        raise ConfigurationError(
            "--create-keks", f"{kms!r} is not a KMS key URL such as local-kms://somastack"
        )
    created = []
    deks = DekRegistryClient(client.config())  # type: ignore[no-untyped-call]
    try:
        for name in names:
            try:
                deks.get_kek(name)
                continue
            except SchemaRegistryError as err:
                if err.http_status_code != 404:
                    raise RegistryError(url_of(client), f'cannot read KEK "{name}": {err}') from err
            try:
                deks.register_kek(name, kms_type, key_id, False)
            except SchemaRegistryError as err:
                raise RegistryError(url_of(client), f'cannot create KEK "{name}": {err}') from err
            created.append(name)
    finally:
        deks.__exit__()  # type: ignore[no-untyped-call]
    return created


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

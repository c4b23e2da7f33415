"""The key encryption keys (KEKs) of the contracts' ENCRYPT rules, in a registry's DEK registry.

:func:`keks_of` and :func:`kek_names` read which KEKs the rules name (``encrypt.kek.name``,
in a rule's params or its version's metadata properties); :func:`create_keks` creates
those a DEK registry lacks (``register --create-keks``, ``demo``, the pytest fixtures) and
:func:`require_keks` refuses to go on without them. Both run before any version is
registered, and find out a registry without a DEK registry (Karapace: ``/dek-registry/...``
is 404), so a version whose rules encrypt fields never goes in where its keys cannot.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient

from somacontracts.errors import ConfigurationError, RegistryError, RegistryFeatureError
from somacontracts.serde.registry_client import call, endpoint_missing, url_of
from somacontracts.tooling.sources import ContractSchemas, SchemaVersion

__all__ = ["KMS_TYPES", "create_keks", "kek_names", "keks_of", "require_keks"]

_KEK_NOT_FOUND = 40470


def keks_of(version: SchemaVersion) -> dict[str, str]:
    """The KEKs the ENCRYPT rules of ``version`` name (``encrypt.kek.name``, in the rule's
    params or the version's metadata properties), each with the first rule naming it."""
    properties = (version.metadata or {}).get("properties", {})
    found: dict[str, str] = {}
    for rule in (version.rule_set or {}).get("domainRules", []):
        if rule.get("type") == "ENCRYPT":
            name = (rule.get("params") or {}).get("encrypt.kek.name") or properties.get(
                "encrypt.kek.name"
            )
            if name:
                found.setdefault(name, rule["name"])
    return found


def kek_names(tree: Mapping[str, ContractSchemas]) -> list[str]:
    """The KEKs the ENCRYPT rules of every contract version name (``encrypt.kek.name``,
    in the rule's params or the version's metadata properties), sorted."""
    return sorted({n for c in tree.values() for v in c.versions for n in keks_of(v)})


def require_keks(client: SchemaRegistryClient, needed: Mapping[str, str]) -> None:
    """Check, before anything is registered, that the DEK registry holds every KEK of
    ``needed`` (KEK -> the rule that names it, for messages); raise
    :class:`RegistryFeatureError` naming the first one missing, or saying that the
    registry has no DEK registry (Karapace answers 404 for ``/dek-registry/...``)."""
    if not needed:
        return
    with _dek_registry(client) as deks:
        for kek, named_by in needed.items():
            if not _has_kek(client, deks, kek, named_by):
                raise RegistryFeatureError(
                    url_of(client),
                    f'KEK "{kek}" of {named_by} is not in the DEK registry: create it first '
                    "(`somacontracts register --create-keks KMS_KEY_URL`); nothing registered",
                    feature="KEK",
                )


@contextlib.contextmanager
def _dek_registry(client: SchemaRegistryClient) -> Iterator[Any]:
    """confluent-kafka's DEK registry client on ``client``'s configuration, closed after."""
    from confluent_kafka.schema_registry.rules.encryption.dek_registry.dek_registry_client import (
        DekRegistryClient,
    )

    deks = DekRegistryClient(client.config())  # type: ignore[no-untyped-call]
    try:
        yield deks
    finally:
        deks.__exit__()  # type: ignore[no-untyped-call]


def _has_kek(client: SchemaRegistryClient, deks: Any, name: str, needed_by: str) -> bool:
    """Whether the DEK registry holds KEK ``name``; raise :class:`RegistryFeatureError` if
    the registry has no DEK registry at all."""
    try:
        call(client, lambda: deks.get_kek(name))
    except RegistryError as err:
        if err.error_code == _KEK_NOT_FOUND:
            return False
        if endpoint_missing(err):
            raise RegistryFeatureError(
                url_of(client),
                f"the registry has no DEK registry (GET /dek-registry/v1/keks/{name}: "
                f'{err.reason}), so KEK "{name}" of {needed_by} cannot be kept: encrypted '
                "fields need Confluent's DEK registry (client-side field level encryption); "
                "nothing registered",
                feature="DEK registry",
            ) from err
        raise RegistryError(err.url, f'cannot read KEK "{name}": {err.reason}') from err
    return True


KMS_TYPES = ("local-kms", "aws-kms", "azure-kms", "gcp-kms", "hcvault")
"""The KMS types of confluent-kafka's drivers, as KEKs name them."""


def create_keks(client: SchemaRegistryClient, names: Sequence[str], kms: str) -> list[str]:
    """Register each KEK of ``names`` the registry's DEK registry lacks, wrapped by the KMS
    key ``kms`` (``local-kms://somastack``, ``aws-kms://arn:...``); return those created.

    An existing KEK is left as it is, whatever its KMS: keys are never replaced here.
    """
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
    with _dek_registry(client) as deks:
        for name in names:
            if _has_kek(client, deks, name, "the contracts' ENCRYPT rules"):
                continue
            try:
                call(client, functools.partial(deks.register_kek, name, kms_type, key_id, False))
            except RegistryError as err:
                raise RegistryError(
                    err.url, f'cannot create KEK "{name}": {err.reason}', status=err.status
                ) from err
            created.append(name)
    return created

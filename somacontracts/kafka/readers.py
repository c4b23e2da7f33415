"""Consumer-driven contracts: each consumer group records the reader schema it decodes
with in the schema registry, so a producer's change is proven against the readers
actually deployed.

A reader is kept under a subject of its own, ``_readers.<subject>.<group>`` (``<subject>``
the topic's value subject, ``tool.requests-value``), at compatibility ``NONE``, whose
latest version is the reader schema in use: written out whole (shared types included), so
any Confluent-compatible registry stores it, with the topic, subject, group, service,
contract version and library version as the schema's metadata properties
(``somacontracts.*``) and again inside the schema, as its top-level property
``somacontracts.reader`` (Avro keeps attributes it does not define, and the
compatibility rules ignore them): a registry that drops metadata, as Karapace does, keeps
the schema whole. They are read from the metadata first, then from the property; the
property is taken off the reader schema a :class:`Reader` carries. :func:`register_reader`
writes it: a reader already registered is a no-op (one read, no write, on either kind of
registry); a group that went back to an older reader schema gets it back as the latest
version (the later ones are deleted).

:class:`~somacontracts.kafka.ContractConsumer` calls it at start-up (and with it
:class:`~somacontracts.kafka.ContractProcessor`); a consumer built otherwise (confluent-
kafka's ``DeserializingConsumer``) makes the same one call. The registry entry alone does
not make a reader live: :mod:`somacontracts.kafka.liveness` asks the cluster.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    Schema,
    SchemaRegistryClient,
)

from somacontracts.errors import ConfigurationError, RegistryError
from somacontracts.serde.registry_client import call, connect, stored_version

if TYPE_CHECKING:
    from somacontracts.catalog.environment import Settings
    from somacontracts.serde.contract_model import ContractModel

__all__ = [
    "GRACE_VARIABLE",
    "READERS_PREFIX",
    "Reader",
    "ReaderRegistration",
    "list_readers",
    "reader_schema_of",
    "readers_subject",
    "register_reader",
    "register_readers",
    "replaced_grace",
    "service_of",
    "start_reader",
]

LOG = logging.getLogger("somacontracts.readers")

READERS_PREFIX = "_readers."
"""The prefix of every readers subject."""

ReaderRegistration = Literal["warn", "require", "off"]
"""What a consumer does about its reader at start-up: register it and, when the registry
refuses (a read-only registry), log a warning and go on (``"warn"``, the default); register
it or fail (``"require"``); or leave the registry alone (``"off"``)."""

_PROPERTY = "somacontracts."
_EMBEDDED = "somacontracts.reader"
"""The reader schema's own property that repeats the metadata properties."""
_NOT_FOUND = (40401, 40402)


def readers_subject(subject: str, group: str) -> str:
    """The subject holding the reader schema of ``group`` on the topic of ``subject``."""
    if not group:
        raise ConfigurationError("group", "a reader needs a consumer group")
    return f"{READERS_PREFIX}{subject}.{group}"


@dataclass(frozen=True, slots=True)
class Reader:
    """A consumer group's reader schema on one topic, as the registry holds it."""

    subject: str
    """The value subject of the topic read (``<topic>-value``)."""
    group: str
    topic: str
    service: str
    version: int | None
    """The contract version of the reader schema, where the reader said (typed clients do)."""
    schema: str
    """The reader schema, as JSON text that parses on its own."""
    registry_subject: str
    """Where the registry keeps it: ``_readers.<subject>.<group>``."""
    library: str = ""
    registered: str = ""
    """When it was registered (UTC, ISO 8601), where the registry kept it."""
    replaced: str = ""
    """When the group registered the reader after it (UTC, ISO 8601); empty for the
    group's reader in use. A reader replaced less than :func:`replaced_grace` ago still
    counts: during a rolling deploy, instances that read with it still run."""

    def label(self) -> str:
        """``group (service, v2)`` for messages (``..., replaced at ...`` for one replaced)."""
        version = f"v{self.version}" if self.version is not None else "version unknown"
        since = f", replaced at {self.replaced}" if self.replaced else ""
        return f"{self.group} ({self.service}, {version}{since})"


GRACE_VARIABLE = "SOMACONTRACTS_READERS_GRACE"
"""How long a replaced reader still counts (a duration: ``30m``, ``2h``, ``infinite``;
``0`` for not at all; default ``1h``)."""

_DEFAULT_GRACE = "1h"


def replaced_grace(environ: Mapping[str, str] | None = None) -> float:
    """Seconds a reader replaced by a newer one still counts as running (``GRACE_VARIABLE``):
    a rolling deploy replaces a group's instances one by one, and the older ones read with
    the older schema until their turn comes."""
    from somacontracts.catalog.reading import parse_duration

    env = os.environ if environ is None else environ
    text = env.get(GRACE_VARIABLE, "").strip() or _DEFAULT_GRACE
    if re.fullmatch(r"0+(ms|s|m|h|d)?", text):  # a replaced reader never counts
        return 0.0
    millis = parse_duration(text, GRACE_VARIABLE)
    return float("inf") if millis < 0 else millis / 1000


def reader_schema_of(model: type[ContractModel]) -> tuple[str, int]:
    """A model's reader schema as JSON text that parses on its own, and its contract version."""
    from somacontracts.schema import standalone
    from somacontracts.serde.contract_model import model_schema

    own = model_schema(model)
    schema = standalone(own.schema_model) if own.shared else model.SCHEMA
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False), model.SCHEMA_VERSION


def register_reader(
    registry: SchemaRegistryClient | str,
    *,
    topic: str,
    group: str,
    reader_schema: str | Mapping[str, Any] | type[ContractModel],
    service: str | None = None,
    version: int | None = None,
    subject: str | None = None,
) -> Reader:
    """Record that ``group`` reads ``topic`` with ``reader_schema`` (schema JSON, as text or
    decoded, or a generated model class) on behalf of ``service`` (default: the group).

    ``subject`` is the topic's value subject (default ``<topic>-value``); ``version`` the
    contract version of the schema (a model's own by default). Returns the reader; raises
    :class:`~somacontracts.errors.RegistryError` when the registry refuses.
    """
    if isinstance(reader_schema, type):
        text, own_version = reader_schema_of(reader_schema)
        version = own_version if version is None else version
    elif isinstance(reader_schema, str):
        text = reader_schema
    else:
        text = json.dumps(reader_schema, separators=(",", ":"), ensure_ascii=False)
    value_subject = subject or f"{topic}-value"
    reader = Reader(
        subject=value_subject,
        group=group,
        topic=topic,
        service=service or group,
        version=version,
        schema=text,
        registry_subject=readers_subject(value_subject, group),
        library=_library(),
        registered=_now(),
    )
    client = connect(url=registry) if isinstance(registry, str) else registry
    try:
        _register(client, reader)
    finally:
        if isinstance(registry, str):
            client.close()
    return reader


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _library() -> str:
    from somacontracts import __version__

    return f"somacontracts {__version__}"


def _properties(reader: Reader) -> dict[str, str]:
    found = {
        "topic": reader.topic,
        "subject": reader.subject,
        "group": reader.group,
        "service": reader.service,
        "library": reader.library,
    }
    if reader.version is not None:
        found["version"] = str(reader.version)
    if reader.registered:
        found["registered"] = reader.registered
    return {_PROPERTY + key: value for key, value in found.items()}


def _with_embedded(text: str, properties: Mapping[str, str]) -> str:
    """The reader schema ``text`` carrying ``properties`` as its own property, where its
    top is an object or a primitive's name (a union has no place for one)."""
    decoded = json.loads(text)
    if isinstance(decoded, str):
        decoded = {"type": decoded}
    if not isinstance(decoded, dict):
        return text
    embedded: dict[str, Any] = {k.removeprefix(_PROPERTY): v for k, v in properties.items()}
    if "version" in embedded:
        embedded["version"] = int(embedded["version"])
    decoded[_EMBEDDED] = embedded
    return json.dumps(decoded, separators=(",", ":"), ensure_ascii=False)


def _without_embedded(text: str) -> tuple[str, dict[str, str]]:
    """The reader schema ``text`` without its own property, and the properties it held
    (named as in the metadata)."""
    try:
        decoded = json.loads(text)
    except ValueError:
        return text, {}
    if not isinstance(decoded, dict) or _EMBEDDED not in decoded:
        return text, {}
    embedded = decoded.pop(_EMBEDDED)
    found = {
        _PROPERTY + key: str(value)
        for key, value in (embedded.items() if isinstance(embedded, dict) else ())
        if isinstance(value, str | int) and not isinstance(value, bool)
    }
    if list(decoded) == ["type"] and isinstance(decoded["type"], str):
        return json.dumps(decoded["type"]), found
    return json.dumps(decoded, separators=(",", ":"), ensure_ascii=False), found


def _register(client: SchemaRegistryClient, reader: Reader) -> None:
    name = reader.registry_subject
    properties = _properties(reader)
    text = _with_embedded(reader.schema, properties)
    latest = _latest(client, name)
    if latest is not None and _same(latest, text, properties):
        return
    metadata = Metadata(None, MetadataProperties(properties), None)
    schema = Schema(text, "AVRO", [], metadata)
    # The subject's own level: a reader replaces the one before whatever it is.
    call(client, lambda: client.set_compatibility(name, "NONE"))
    call(client, lambda: client.register_schema(name, schema))
    found = call(client, lambda: client.lookup_schema(name, schema))
    if latest is not None and found.version is not None and found.version < latest.version:
        # The group went back to a reader it had before: the registry gave that version
        # again, so the later ones go for it to be the latest.
        later = [n for n in call(client, lambda: client.get_versions(name)) if n > found.version]
        for number in later:
            call(client, functools.partial(client.delete_version, name, number))


def _latest(client: SchemaRegistryClient, name: str) -> Any:
    try:
        return stored_version(client, name, "latest")
    except RegistryError as err:
        if err.error_code in _NOT_FOUND:
            return None
        raise


def _properties_of(schema: Schema) -> dict[str, str]:
    """A registered schema's metadata properties; empty without."""
    metadata = schema.metadata
    if metadata is None or metadata.properties is None:
        return {}
    return dict(metadata.properties.properties)


_REGISTERED = "registered"


def _same(registered: Any, text: str, properties: Mapping[str, str]) -> bool:
    """Whether the registered version is ``text`` with ``properties``, when each was
    registered aside: the schema (its own property included) the same, and its metadata
    the same or dropped by the registry."""
    held = registered.schema
    try:
        same_schema = _untimed(json.loads(held.schema_str)) == _untimed(json.loads(text))
    except (TypeError, ValueError):
        return False
    timeless = {k: v for k, v in properties.items() if k != _PROPERTY + _REGISTERED}
    kept = {k: v for k, v in _properties_of(held).items() if k != _PROPERTY + _REGISTERED}
    return bool(same_schema) and kept in ({}, timeless)


def _untimed(decoded: Any) -> Any:
    """A reader schema's JSON without the time in its own property."""
    if isinstance(decoded, dict) and isinstance(decoded.get(_EMBEDDED), dict):
        embedded = {k: v for k, v in decoded[_EMBEDDED].items() if k != _REGISTERED}
        return {**decoded, _EMBEDDED: embedded}
    return decoded


def start_reader(
    registry: SchemaRegistryClient,
    registration: ReaderRegistration,
    **reader: Any,
) -> Reader | None:
    """:func:`register_reader` as a consumer does at start-up, by ``registration``: a refusal
    (a read-only registry, an unreachable one) is logged and None returned under
    ``"warn"``, raised under ``"require"``; ``"off"`` registers nothing."""
    if registration == "off":
        return None
    if registration not in ("warn", "require"):
        raise ConfigurationError(
            "register_reader", f"{registration!r} is not one of 'warn', 'require', 'off'"
        )
    try:
        return register_reader(registry, **reader)
    except RegistryError as err:
        if registration == "require":
            raise
        LOG.warning(
            "reader of group %s on %s not registered (the consumer goes on; proofs against "
            "readers will not see it): %s",
            reader.get("group"),
            reader.get("topic"),
            err,
        )
        return None


def service_of(settings: Settings, topic: str, group: str) -> str | None:
    """The catalog's consuming service of ``topic`` that reads it in ``group``, if one does."""
    key = settings.topic_named(topic)
    if key is None:
        return None
    consumers = settings.catalog.topic(key).consumers
    return next((s for s in consumers if settings.group_of(s, key) == group), None)


def register_readers(
    registry: SchemaRegistryClient,
    registration: ReaderRegistration,
    model: type[ContractModel],
    settings: Settings,
    subjects: Mapping[str, str],
    *,
    group: str,
    service: str | None,
) -> list[Reader]:
    """What a typed consumer of ``model`` in ``group`` does at start-up: :func:`start_reader`
    for each topic of ``subjects`` (topic -> its value subject)."""
    started = []
    for topic, subject in subjects.items():
        reader = start_reader(
            registry,
            registration,
            topic=topic,
            group=group,
            reader_schema=model,
            service=service or service_of(settings, topic, group),
            subject=subject,
        )
        if reader is not None:
            started.append(reader)
    return started


def list_readers(
    client: SchemaRegistryClient,
    subjects: Iterable[str] | None = None,
    *,
    replaced_within: float = 0.0,
) -> list[Reader]:
    """The readers the registry holds, of the value ``subjects`` only when given, sorted by
    subject and group: each group's reader in use, and with ``replaced_within`` seconds
    the ones it replaced less long ago than that (``Reader.replaced``)."""
    wanted = None if subjects is None else set(subjects)
    names = call(client, lambda: client.get_subjects(subject_prefix=READERS_PREFIX))
    found = []
    for name in sorted(n for n in names if n.startswith(READERS_PREFIX)):
        if wanted is not None and not any(name.startswith(f"{READERS_PREFIX}{s}.") for s in wanted):
            continue
        latest = _latest(client, name)
        if latest is None:  # deleted since the listing
            continue
        reader = _reader_of(name, latest, wanted)
        if reader is not None and (wanted is None or reader.subject in wanted):
            found.append(reader)
            if replaced_within > 0:
                found += _replaced(client, name, latest, reader, wanted, replaced_within)
    return found


def _replaced(
    client: SchemaRegistryClient,
    name: str,
    latest: Any,
    current: Reader,
    wanted: set[str] | None,
    within: float,
) -> list[Reader]:
    """The readers of ``name`` before ``latest`` that a later one replaced less than
    ``within`` seconds ago, newest first (a version without its time ends the search)."""
    found: list[Reader] = []
    successor = current.registered
    earlier = sorted((n for n in call(client, lambda: client.get_versions(name))), reverse=True)
    for number in (n for n in earlier if n < latest.version):
        if not successor or _age(successor) > within:
            break
        held = _reader_of(name, stored_version(client, name, number), wanted)
        if held is None:
            break
        found.append(dataclasses.replace(held, replaced=successor))
        successor = held.registered
    return found


def _age(stamp: str) -> float:
    """Seconds since ``stamp`` (ISO 8601); infinite for one that does not parse."""
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return float("inf")
    if when.tzinfo is None:
        return float("inf")
    return (dt.datetime.now(dt.UTC) - when).total_seconds()


def _reader_of(name: str, latest: Any, subjects: set[str] | None) -> Reader | None:
    held = latest.schema
    schema, props = _without_embedded(held.schema_str)
    props.update(_properties_of(held))
    rest = name.removeprefix(READERS_PREFIX)
    subject = props.get(_PROPERTY + "subject")
    if subject is None:  # a registry that drops metadata: the subject's name tells
        known = sorted((s for s in subjects or () if rest.startswith(s + ".")), key=len)
        subject = known[-1] if known else rest.rpartition(".")[0]
    group = props.get(_PROPERTY + "group") or rest.removeprefix(subject + ".")
    if not subject or not group:
        return None
    version = props.get(_PROPERTY + "version", "")
    return Reader(
        subject=subject,
        group=group,
        topic=props.get(_PROPERTY + "topic") or subject.removesuffix("-value"),
        service=props.get(_PROPERTY + "service") or group,
        version=int(version) if version.isdigit() else None,
        schema=schema,
        registry_subject=name,
        library=props.get(_PROPERTY + "library", ""),
        registered=props.get(_PROPERTY + _REGISTERED, ""),
    )

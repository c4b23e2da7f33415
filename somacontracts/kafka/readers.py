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

import functools
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    Schema,
    SchemaRegistryClient,
)

from somacontracts.errors import ConfigurationError, ContractError, RegistryError
from somacontracts.serde.registry_client import call, connect, stored_version

if TYPE_CHECKING:
    from somacontracts.catalog.environment import Settings
    from somacontracts.compat.results import CompatibilityResult
    from somacontracts.serde.contract_model import ContractModel

__all__ = [
    "READERS_PREFIX",
    "Reader",
    "ReaderRegistration",
    "list_readers",
    "reader_schema_of",
    "readers_subject",
    "register_reader",
    "register_readers",
    "service_of",
    "start_reader",
    "unreadable_by",
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

    def label(self) -> str:
        """``group (service, v2)`` for messages."""
        version = f"v{self.version}" if self.version is not None else "version unknown"
        return f"{self.group} ({self.service}, {version})"


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
    )
    client = connect(url=registry) if isinstance(registry, str) else registry
    try:
        _register(client, reader)
    finally:
        if isinstance(registry, str):
            client.close()
    return reader


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


def _same(registered: Any, text: str, properties: Mapping[str, str]) -> bool:
    """Whether the registered version is ``text`` with ``properties``: the schema (its own
    property included) the same, and its metadata the same or dropped by the registry."""
    held = registered.schema
    try:
        same_schema = json.loads(held.schema_str) == json.loads(text)
    except (TypeError, ValueError):
        return False
    return bool(same_schema) and _properties_of(held) in ({}, dict(properties))


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
    client: SchemaRegistryClient, subjects: Iterable[str] | None = None
) -> list[Reader]:
    """The readers the registry holds, of the value ``subjects`` only when given, sorted by
    subject and group."""
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
    return found


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
    )


def unreadable_by(
    writer_schema: Any, readers: Iterable[Reader]
) -> list[tuple[Reader, CompatibilityResult]]:
    """The readers that cannot read every datum ``writer_schema`` writes, with why, by
    Apache Avro Java's verdicts (the engine of the compatibility levels)."""
    from somacontracts.compat.engine import check_reader_writer
    from somacontracts.schema import parse

    writer = parse(writer_schema, source="writer schema")
    broken = []
    for reader in readers:
        result = check_reader_writer(reader.schema, writer)
        if not result.compatible:
            broken.append((reader, result))
    return broken


WriterCheck = Literal["warn", "error", "off"]
"""What a producer does at start-up when a live reader cannot read what it writes."""


def check_writer(
    client: SchemaRegistryClient,
    settings: Settings,
    model: type[ContractModel],
    *,
    topic: str,
    subject: str,
    label: str,
    mode: WriterCheck,
) -> list[str]:
    """What a typed producer of ``model`` does at start-up: the live readers of ``subject``
    (on ``topic``) that cannot read its schema, each as ``group (service, vN): why``.
    ``"warn"`` logs them, ``"error"`` raises
    :class:`~somacontracts.kafka.errors.ReaderBrokenError`; no reader registered costs one
    registry call and no Kafka call."""
    from somacontracts.kafka.errors import ReaderBrokenError
    from somacontracts.kafka.liveness import group_liveness

    if mode == "off":
        return []
    try:
        readers = list_readers(client, [subject])
        if not readers:
            return []
        live = group_liveness(settings, topic, [r.group for r in readers])
    except ContractError as err:
        if mode == "error":
            raise
        LOG.warning("the readers of %s were not checked: %s", subject, err)
        return []
    from somacontracts.schema import standalone
    from somacontracts.serde.contract_model import model_schema

    writer_schema = standalone(model_schema(model).schema_model)
    broken = unreadable_by(writer_schema, [r for r in readers if live[r.group].live])
    found = [f"{r.label()}: {result.problems[0]}" for r, result in broken]
    if found and mode == "error":
        raise ReaderBrokenError(topic, label, tuple(found))
    for line in found:
        LOG.warning("%s on %s cannot be read by live reader %s", label, topic, line)
    return found

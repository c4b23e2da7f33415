"""Where a message names its writer schema: Confluent's prefix, or a header.

Confluent's wire format prefixes the Avro encoding with magic byte ``0`` and the schema's
4-byte id. Since Confluent Platform 8 (confluent-kafka 2.13) a producer may instead put
the schema's identity in a header, ``__value_schema_id`` (``__key_schema_id`` for a
key): magic byte ``1`` and the schema's 16-byte GUID (magic byte ``0`` and the 4-byte id
are read too), the message value then being the Avro encoding alone. confluent-kafka's
default deserializer reads both, the header first; so does :func:`frame_of`, which also
reads a prefix of magic byte ``1`` and a GUID.

:func:`frame_of` only names the schema; :class:`Reframing` resolves a GUID through the
registry and gives the deserializer the message as the prefix frames it.
"""

from __future__ import annotations

import struct
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.errors import (
    ContractError,
    DeserializationError,
    RegistryError,
    SchemaNotFoundError,
)
from somacontracts.serde.registry_client import schema_id_of_guid, url_of

__all__ = [
    "ABSENT",
    "GUID_MAGIC",
    "HEADER",
    "KEY_HEADER",
    "MAGIC",
    "VALUE_HEADER",
    "Frame",
    "Reframing",
    "frame_of",
    "header_name",
    "header_value",
    "id_header_value",
]

VALUE_HEADER = "__value_schema_id"
KEY_HEADER = "__key_schema_id"
GUID_MAGIC = 1
"""The magic byte of a schema named by its GUID."""
_GUID_FRAME = struct.Struct(">b16s")
_ID_FRAME = struct.Struct(">bI")

HEADER = struct.Struct(">bI")
"""Confluent's frame header: the magic byte and the schema id, big-endian."""
MAGIC = 0
"""The magic byte of Confluent's framing with the schema id in the message."""


@dataclass(frozen=True, slots=True)
class Frame:
    """How one message names its writer schema, and where its Avro encoding starts."""

    schema_id: int | None
    guid: uuid.UUID | None
    start: int
    """The offset of the Avro encoding in the message value."""
    header: str | None = None
    """The header that named the schema; None for a prefix."""

    def shown(self) -> dict[str, Any]:
        """The framing as the console prints it."""
        where: dict[str, Any] = {"in": self.header or "prefix"}
        if self.guid is not None:
            where["guid"] = str(self.guid)
        else:
            where["id"] = self.schema_id
        return where


def header_name(ctx: SerializationContext | None) -> str:
    """The header naming the schema of the context's field (the value's by default)."""
    return KEY_HEADER if ctx is not None and ctx.field == MessageField.KEY else VALUE_HEADER


def id_header_value(guid: uuid.UUID) -> bytes:
    """The value of the header naming a schema by ``guid``, as confluent-kafka writes it."""
    return _GUID_FRAME.pack(GUID_MAGIC, guid.bytes)


def frame_of(
    data: bytes | bytearray | memoryview,
    headers: Sequence[tuple[str, Any]] | dict[str, Any] | None,
    name: str = VALUE_HEADER,
    *,
    topic: str | None = None,
) -> Frame:
    """How ``data`` with ``headers`` names its schema: the header ``name`` if there is one
    (the first of that name), else the prefix; a :class:`DeserializationError` naming the
    problem if neither can."""
    if headers:
        found = header_value(headers, name)
        if found is not ABSENT:
            if not isinstance(found, (bytes, bytearray)):
                raise DeserializationError(f"header {name} carries no schema id", topic=topic)
            return _named(bytes(found), f"header {name}", topic, start=0, header=name)
    return _named(data, "Confluent's framing", topic, start=None, header=None)


ABSENT = object()
"""What :func:`header_value` gives for a header that is not there."""


def header_value(headers: Sequence[tuple[str, Any]] | dict[str, Any], name: str) -> Any:
    """The value of the first header ``name`` (:data:`ABSENT` if there is none)."""
    if isinstance(headers, dict):  # a dict or a list of pairs, as confluent-kafka's
        return headers.get(name, ABSENT)
    for key, value in headers:
        if key == name:
            return value
    return ABSENT


def _named(
    raw: bytes | bytearray | memoryview,
    what: str,
    topic: str | None,
    *,
    start: int | None,
    header: str | None,
) -> Frame:
    """The schema ``raw`` names (a prefix when ``start`` is None: the encoding follows)."""
    magic = raw[0] if len(raw) else None
    if magic == GUID_MAGIC and len(raw) >= _GUID_FRAME.size:
        guid = uuid.UUID(bytes=bytes(raw[1 : _GUID_FRAME.size]))
        end = _GUID_FRAME.size
        frame = Frame(None, guid, end if start is None else start, header)
    elif magic == 0 and len(raw) >= _ID_FRAME.size:
        end = _ID_FRAME.size
        frame = Frame(_ID_FRAME.unpack_from(raw)[1], None, end if start is None else start, header)
    else:
        if magic not in (0, GUID_MAGIC, None):
            reason = f"unknown magic byte {magic}; Confluent's framing starts with 0 or 1"
        else:
            reason = (
                f"{len(raw)} bytes are too few for {what} (magic byte 0 and a 4-byte id, "
                "or 1 and a 16-byte GUID)"
            )
        raise DeserializationError(f"{what}: {reason}" if header else reason, topic=topic)
    if header is not None and end != len(raw):
        raise DeserializationError(
            f"{what}: {len(raw)} bytes, not a schema id ({end} bytes)", topic=topic
        )
    return frame


class Reframing:
    """Puts Confluent's prefix on messages whose schema is named otherwise, the GUIDs
    resolved through the registry once each; both caches hold ``cache_size`` entries."""

    def __init__(self, client: SchemaRegistryClient, cache_size: int) -> None:
        self._client = client
        self._cache_size = cache_size
        self._guid_ids: OrderedDict[uuid.UUID, int | ContractError] = OrderedDict()
        self._header_prefixes: dict[bytes, bytes] = {}
        """The frame prefix of each schema id header met (its value), oldest first."""

    def prefixed(
        self, data: bytes | bytearray | memoryview, ctx: SerializationContext | None
    ) -> bytes | bytearray | memoryview:
        """``data`` as Confluent's prefix frames it, whichever way its schema is named
        (``data`` itself when that is the prefix)."""
        headers = ctx.headers if ctx is not None else None
        name = header_name(ctx)
        named = header_value(headers, name) if headers else ABSENT
        prefix = self._header_prefixes.get(named) if isinstance(named, bytes) else None
        if prefix is not None:  # a header met before: no parsing, no registry
            return prefix + bytes(data)
        frame = frame_of(data, headers, name, topic=ctx.topic if ctx is not None else None)
        if frame.guid is None and frame.header is None:
            return data
        schema_id = frame.schema_id
        if frame.guid is not None:
            schema_id = self._id_of_guid(frame.guid)
        assert schema_id is not None
        prefix = HEADER.pack(MAGIC, schema_id)
        if isinstance(named, bytes):
            self._header_prefixes[named] = prefix
            while len(self._header_prefixes) > self._cache_size:
                del self._header_prefixes[next(iter(self._header_prefixes))]
        return prefix + bytes(data[frame.start :])

    def id_at_hand(
        self, data: bytes | bytearray | memoryview, ctx: SerializationContext | None
    ) -> int | None:
        """The id of the schema ``data`` was written with, when :meth:`prefixed` needs no
        registry to know it (Confluent's prefix, a header or a GUID met before); else None."""
        headers = ctx.headers if ctx is not None else None
        if headers:
            named = header_value(headers, header_name(ctx))
            if named is not ABSENT:
                prefix = self._header_prefixes.get(named) if isinstance(named, bytes) else None
                return None if prefix is None else int(HEADER.unpack(prefix)[1])
        if len(data) >= _GUID_FRAME.size and data[0] == GUID_MAGIC:
            found = self._guid_ids.get(uuid.UUID(bytes=bytes(data[1 : _GUID_FRAME.size])))
            return found if isinstance(found, int) else None
        if len(data) < HEADER.size:
            return None
        magic, schema_id = HEADER.unpack_from(data)
        return int(schema_id) if magic == MAGIC else None

    def _id_of_guid(self, guid: uuid.UUID) -> int:
        """The id of the schema with ``guid``, asked once (a bounded cache)."""
        found = self._guid_ids.get(guid)
        if found is None:
            client = self._client
            try:
                schema_id = schema_id_of_guid(client, str(guid))
            except RegistryError as err:
                if err.status != 404:
                    raise
                schema_id = None
            found = (
                SchemaNotFoundError(url_of(client), f"schema GUID {guid} is not in the registry")
                if schema_id is None
                else schema_id
            )
            self._guid_ids[guid] = found
            while len(self._guid_ids) > self._cache_size:
                self._guid_ids.popitem(last=False)
        if isinstance(found, ContractError):
            raise found.with_traceback(None)
        return found

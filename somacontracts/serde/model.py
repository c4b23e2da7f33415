"""What both serdes share: the model protocol, the model's schema parsed once, the registry.

:class:`ContractModel` is what a payload class must provide; generated models do.
:func:`model_schema` parses a model's schema once per class. :class:`RegistryUser`
holds the one registry client, and :func:`schema_id` finds (or registers) the model's
exact schema under a subject.
"""

from __future__ import annotations

import functools
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, TypeVar

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from fastavro import parse_schema

from somacontracts.errors import RegistryError, SchemaNotFoundError
from somacontracts.registry_client import call, connect, url_of

__all__ = [
    "HEADER",
    "MAGIC",
    "NOT_FOUND",
    "ContractModel",
    "M",
    "ModelSchema",
    "RegistryUser",
    "model_schema",
    "registered_id",
]

HEADER = struct.Struct(">bI")
"""Confluent's frame header: the magic byte and the schema id, big-endian."""
MAGIC = 0
NOT_FOUND = (40401, 40403)
"""Registry error codes for a subject, version or schema that is not there."""


class ContractModel(Protocol):
    """What the serdes need of a payload class; generated models provide it."""

    SCHEMA: ClassVar[dict[str, Any]]
    SCHEMA_VERSION: ClassVar[int]
    SUBJECT: ClassVar[str]
    SUBJECTS: ClassVar[tuple[str, ...]]
    FINGERPRINT: ClassVar[str]

    def to_avro(self) -> dict[str, Any]:
        """The datum fastavro writes."""
        ...

    @classmethod
    def from_avro(cls, datum: Mapping[str, Any]) -> Self:
        """The object of a datum fastavro read."""
        ...


M = TypeVar("M", bound=ContractModel)


@dataclass(frozen=True, slots=True)
class ModelSchema:
    """A model's schema, parsed once."""

    parsed: Any
    """fastavro's parsed form of the model's schema, for its readers and writers."""
    text: str
    stamps_version: bool
    """Whether the schema has ``metadata.schema_version``, which the serializer stamps."""
    codec: bool
    """Whether the model encodes and decodes itself (generated ``write_avro``/``read_avro``)."""
    label: str
    """How messages name the model: its record's short name, ``ToolInvocation``."""


@functools.cache
def model_schema(model: type[ContractModel]) -> ModelSchema:
    """The parsed schema of a model class, computed once per class."""
    fields = {f["name"]: f for f in model.SCHEMA.get("fields", [])}
    metadata = fields.get("metadata", {}).get("type")
    stamps = isinstance(metadata, dict) and any(
        f["name"] == "schema_version" for f in metadata.get("fields", [])
    )
    return ModelSchema(
        parsed=parse_schema(model.SCHEMA),
        text=json.dumps(model.SCHEMA, separators=(",", ":"), ensure_ascii=False),
        stamps_version=stamps,
        codec=callable(getattr(model, "write_avro", None))
        and callable(getattr(model, "read_avro", None)),
        label=str(model.SCHEMA.get("name", model.__name__)).rpartition(".")[2],
    )


class RegistryUser:
    """Holds the registry client; closes it on :meth:`close` only if it made it from a URL."""

    def __init__(self, registry: SchemaRegistryClient | str) -> None:
        self._owns_client = isinstance(registry, str)
        self._client = connect(url=registry) if isinstance(registry, str) else registry

    def warm_up(self) -> None:
        """Check the registry now instead of at the first message."""
        raise NotImplementedError

    def _warm_up_or_close(self) -> None:
        try:
            self.warm_up()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the registry client if this object created it (from a URL)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def registered_id(
    client: SchemaRegistryClient, model: type[ContractModel], subject: str, *, register: bool
) -> int:
    """The id of ``model``'s exact schema under ``subject``; register it if asked to."""
    schema = Schema(model_schema(model).text, "AVRO")
    try:
        found = call(
            client,
            functools.partial(client.lookup_schema, subject, schema, normalize_schemas=True),
        )
    except RegistryError as err:
        if err.error_code not in NOT_FOUND:
            raise
        if register:
            return call(
                client,
                functools.partial(client.register_schema, subject, schema, normalize_schemas=True),
            )
        raise SchemaNotFoundError(
            url_of(client),
            f'subject "{subject}" holds no version with the schema of {model.__name__} '
            f"(v{model.SCHEMA_VERSION}, fingerprint {model.FINGERPRINT[:16]}...); "
            "run `somacontracts register` first",
            status=err.status,
            error_code=err.error_code,
        ) from err
    if found.schema_id is None:
        raise SchemaNotFoundError(url_of(client), f'lookup under "{subject}" returned no id')
    return found.schema_id

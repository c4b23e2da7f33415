"""Typed serializers and deserializers on Confluent's wire format: the hot path of every message.

A message is Confluent's framing: magic byte ``0``, the writer schema's registry id as
4 bytes big-endian, then the Avro binary encoding of the payload. Both classes are
callables with confluent-kafka's serializer signature ``(value, ctx=None)``, so they
plug into ``SerializingProducer`` / ``DeserializingConsumer`` or work alone.

:class:`ContractSerializer` turns a typed model (a generated class from
:mod:`somacontracts.models`, or any class with the same protocol) into bytes. It finds
the schema id once per subject through the registry (``normalize=true`` lookup;
registration only with ``auto_register=True``) and then never calls it again, stamps
``metadata.schema_version``, and reports a bad value with its field path and type.

:class:`ContractDeserializer` turns bytes into the model. It fetches each writer
schema once by id (a bounded cache), refuses an id registered under a subject that is
not this contract's, and resolves writer to reader by Avro's rules, so data written
with an older or newer version reads into today's class as far as the compatibility
level promises. It raises only :class:`~somacontracts.errors.ContractError` subclasses,
whatever the input.

Both verify at construction (or :meth:`warm_up`) that the registry holds the model's
exact schema under its subject, so a service learns at start-up, not at its first
message.

The Avro bytes come from the model itself when it has a generated codec
(``write_avro``/``read_avro``) and the writer schema is the model's own, which is the
usual case on both sides; otherwise fastavro writes ``to_avro()``'s datum and reads
with schema resolution into ``from_avro``. Both paths produce the same bytes. A model
whose ``metadata.schema_version`` differs from its version is written through fastavro
with the version stamped, leaving the object itself unchanged.
"""

from __future__ import annotations

import functools
import io
import json
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, cast

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.serialization import SerializationContext
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.validation import ValidationError, validate

from somacontracts.compat import check_reader_writer
from somacontracts.errors import (
    ContractError,
    DeserializationError,
    IncompatibleWriterError,
    RegistryError,
    SchemaNotFoundError,
    SerializationError,
)
from somacontracts.registry.client import call, connect, url_of
from somacontracts.runtime import Reader
from somacontracts.schemas import canonical_form

__all__ = ["ContractDeserializer", "ContractModel", "ContractSerializer"]

_HEADER = struct.Struct(">bI")
_MAGIC = 0
_NOT_FOUND = (40401, 40403)
_WRITER_CACHE_SIZE = 1024


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
class _ModelSchema:
    parsed: Any
    """fastavro's parsed form of the model's schema."""
    text: str
    stamps_version: bool
    codec: bool
    """Whether the model encodes and decodes itself (generated ``write_avro``/``read_avro``)."""


@functools.cache
def _model_schema(model: type[ContractModel]) -> _ModelSchema:
    """The parsed schema of a model class, computed once per class."""
    fields = {f["name"]: f for f in model.SCHEMA.get("fields", [])}
    metadata = fields.get("metadata", {}).get("type")
    stamps = isinstance(metadata, dict) and any(
        f["name"] == "schema_version" for f in metadata.get("fields", [])
    )
    return _ModelSchema(
        parsed=parse_schema(model.SCHEMA),
        text=json.dumps(model.SCHEMA, separators=(",", ":"), ensure_ascii=False),
        stamps_version=stamps,
        codec=callable(getattr(model, "write_avro", None))
        and callable(getattr(model, "read_avro", None)),
    )


class _RegistryUser:
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


def _lookup(
    client: SchemaRegistryClient, model: type[ContractModel], subject: str, *, register: bool
) -> int:
    """The id of ``model``'s exact schema under ``subject``; register it if asked to."""
    schema = Schema(_model_schema(model).text, "AVRO")
    try:
        found = call(
            client,
            functools.partial(client.lookup_schema, subject, schema, normalize_schemas=True),
        )
    except RegistryError as err:
        if err.error_code not in _NOT_FOUND:
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


class ContractSerializer(_RegistryUser, Generic[M]):
    """Serialize ``model`` objects to Confluent-framed Avro; a confluent-kafka serializer.

    ``registry`` is a ``SchemaRegistryClient`` or its URL. The subject is ``subject``, else
    ``<ctx.topic>-value`` when called with a context, else the model's ``SUBJECT``.
    """

    def __init__(
        self,
        model: type[M],
        registry: SchemaRegistryClient | str,
        *,
        subject: str | None = None,
        auto_register: bool = False,
        warm_up: bool = True,
    ) -> None:
        super().__init__(registry)
        self.model = model
        self._subject = subject
        self._auto_register = auto_register
        self._schema = _model_schema(model)
        self._headers: dict[str, bytes] = {}
        self._topic_headers: dict[str | None, bytes] = {}
        self._writes_itself = self._schema.codec
        self._own_class: Any = model  # compared by identity: subclasses take the general path
        self._stamps = self._schema.stamps_version
        self._version = model.SCHEMA_VERSION
        if warm_up:
            self._warm_up_or_close()

    def warm_up(self) -> None:
        """Resolve the schema id for every subject of the model now; raise if one is missing."""
        for subject in (self._subject,) if self._subject else self.model.SUBJECTS:
            self._header(subject)

    def _header(self, subject: str) -> bytes:
        header = self._headers.get(subject)
        if header is None:
            schema_id = _lookup(self._client, self.model, subject, register=self._auto_register)
            header = self._headers[subject] = _HEADER.pack(_MAGIC, schema_id)
        return header

    def _topic_header(self, topic: str | None) -> bytes:
        """The frame header for messages to ``topic``, cached per topic."""
        subject = self._subject or (f"{topic}-value" if topic else self.model.SUBJECT)
        try:
            header = self._header(subject)
        except RegistryError as err:
            raise SerializationError(str(err), topic=topic) from err
        self._topic_headers[topic] = header
        return header

    def __call__(self, obj: M | None, ctx: SerializationContext | None = None) -> bytes | None:
        """The framed bytes of ``obj`` (None for None, Kafka's tombstone)."""
        if obj is None:  # before the registry: a tombstone needs no schema id
            return None
        topic = ctx.topic if ctx is not None else None
        header = self._topic_headers.get(topic) or self._topic_header(topic)
        coded: Any = obj  # a generated model, when the checks below hold
        if (
            self._writes_itself
            and coded.__class__ is self._own_class
            and (not self._stamps or coded.metadata.schema_version == self._version)
        ):
            # The usual object: the model's own class, its version already stamped.
            out = bytearray(header)
            try:
                coded.write_avro(out)
            except Exception as err:  # bad data surfaces as many exception types
                raise SerializationError(self._explain(coded, err), topic=topic) from err
            return bytes(out)
        if not isinstance(obj, self.model):
            raise SerializationError(
                f"expected a {self.model.__name__}, got {type(obj).__name__}", topic=topic
            )
        try:
            datum = obj.to_avro()
            if self._stamps:
                datum["metadata"]["schema_version"] = self._version
            buffer = io.BytesIO()
            buffer.write(header)
            schemaless_writer(buffer, self._schema.parsed, datum)
        except ContractError:
            raise
        except Exception as err:  # fastavro and to_avro raise many types for one cause: bad data.
            raise SerializationError(self._explain(obj, err), topic=topic) from err
        return buffer.getvalue()

    def _explain(self, obj: M, err: Exception) -> str:
        """A sentence naming the field path and the bad value's type."""
        try:
            validate(obj.to_avro(), self._schema.parsed, raise_errors=True)
        except ValidationError as invalid:
            return f"{self.model.__name__} is not valid: {'; '.join(map(str, invalid.errors))}"
        except Exception as again:  # to_avro itself failed: its message names the field.
            return f"{self.model.__name__} cannot be converted: {type(again).__name__}: {again}"
        return f"{self.model.__name__} cannot be written: {type(err).__name__}: {err}"


@dataclass(frozen=True, slots=True)
class _Writer:
    parsed: Any
    reader: Any
    """The reader schema to resolve into, or None when writer and reader are the same."""


class ContractDeserializer(_RegistryUser, Generic[M]):
    """Deserialize Confluent-framed Avro into ``model`` objects; a confluent-kafka deserializer.

    Accepts writer schemas registered under ``subjects`` (default: the model's subjects,
    and ``<ctx.topic>-value`` of the topic being read) that the model's schema can read.
    """

    def __init__(
        self,
        model: type[M],
        registry: SchemaRegistryClient | str,
        *,
        subjects: Sequence[str] | None = None,
        warm_up: bool = True,
        cache_size: int = _WRITER_CACHE_SIZE,
    ) -> None:
        super().__init__(registry)
        self.model = model
        self._subjects = tuple(subjects) if subjects is not None else model.SUBJECTS
        self._schema = _model_schema(model)
        self._cache_size = cache_size
        self._writers: OrderedDict[int, _Writer | ContractError] = OrderedDict()
        # Called only when the model has a codec (self._schema.codec): never None then.
        self._read_avro = cast("Callable[[Reader], M]", getattr(model, "read_avro", None))
        self._own_headers: set[bytes] = set()
        """Frame headers of ids whose schema is the model's own, when the model decodes itself:
        their messages go straight to ``read_avro``."""
        if warm_up:
            self._warm_up_or_close()

    def warm_up(self) -> None:
        """Check the registry holds the model's schema under its subjects; cache its id."""
        for subject in self._subjects:
            schema_id = _lookup(self._client, self.model, subject, register=False)
            self._remember(schema_id, _Writer(parsed=self._schema.parsed, reader=None))

    def _remember(self, schema_id: int, entry: _Writer | ContractError) -> None:
        if isinstance(entry, _Writer) and entry.reader is None and self._schema.codec:
            self._own_headers.add(_HEADER.pack(_MAGIC, schema_id))  # few: one per subject
        self._writers[schema_id] = entry
        self._writers.move_to_end(schema_id)
        while len(self._writers) > self._cache_size:
            self._writers.popitem(last=False)

    def _writer(self, schema_id: int, topic: str | None) -> _Writer:
        entry = self._writers.get(schema_id)
        if entry is None:
            try:
                entry = self._fetch(schema_id, topic)
            except (SchemaNotFoundError, IncompatibleWriterError) as err:
                entry = err
            self._remember(schema_id, entry)
        if isinstance(entry, ContractError):
            # Without the old traceback: each raise would otherwise add to it, without end.
            raise entry.with_traceback(None)
        return entry

    def _fetch(self, schema_id: int, topic: str | None) -> _Writer:
        client = self._client
        try:
            schema = call(client, functools.partial(client.get_schema, schema_id))
        except RegistryError as err:
            if err.error_code not in _NOT_FOUND:
                raise
            raise SchemaNotFoundError(
                url_of(client), f"schema id {schema_id} is not in the registry"
            ) from err
        subjects = call(client, functools.partial(client.get_subjects_by_schema_id, schema_id))
        accepted = {*self._subjects, *((f"{topic}-value",) if topic else ())}
        if not accepted.intersection(subjects):
            raise IncompatibleWriterError(
                f"schema id {schema_id} is registered under "
                f"{', '.join(sorted(subjects)) or 'no subject'}, not under a subject of "
                f"{self.model.__name__} ({', '.join(sorted(accepted))})",
                topic=topic,
            )
        named: dict[str, Any] = {}
        for reference in schema.references or []:
            if reference.subject is None or reference.version is None:
                raise IncompatibleWriterError(
                    f"schema id {schema_id} has a reference without subject or version", topic=topic
                )
            referenced = call(
                client, functools.partial(client.get_version, reference.subject, reference.version)
            )
            parse_schema(json.loads(referenced.schema.schema_str or "null"), named_schemas=named)
        writer_json = json.loads(schema.schema_str or "null")
        result = check_reader_writer(self.model.SCHEMA, writer_json)
        if not result.compatible:
            problem = result.problems[0]
            raise IncompatibleWriterError(
                f"{self.model.__name__} cannot read data written with schema id {schema_id}: "
                f"{problem.message} (at {problem.location})",
                topic=topic,
            )
        parsed = parse_schema(writer_json, named_schemas=named)
        if canonical_form(parsed) == canonical_form(self._schema.parsed):
            # The same binary layout: decode with the model's own schema and skip resolution.
            return _Writer(parsed=self._schema.parsed, reader=None)
        return _Writer(parsed=parsed, reader=self._schema.parsed)

    def __call__(self, data: bytes | None, ctx: SerializationContext | None = None) -> M | None:
        """The model object of ``data`` (None for None, Kafka's tombstone)."""
        if isinstance(data, bytes) and data[: _HEADER.size] in self._own_headers:
            # The usual message: written with the model's own schema, which it decodes.
            reader = Reader(data, _HEADER.size)
            try:
                decoded = self._read_avro(reader)
            except Exception as err:
                raise self._undecodable(data, ctx, err) from err
            if reader.pos == len(data):
                return decoded
        if data is None:
            return None
        topic = ctx.topic if ctx is not None else None
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DeserializationError(f"expected bytes, got {type(data).__name__}", topic=topic)
        if len(data) < _HEADER.size:
            raise DeserializationError(
                f"{len(data)} bytes are too few for Confluent's framing (5-byte header)",
                topic=topic,
            )
        magic, schema_id = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise DeserializationError(
                f"unknown magic byte {magic}; Confluent's framing starts with 0", topic=topic
            )
        try:
            writer = self._writer(schema_id, topic)
        except ContractError as err:
            if isinstance(err, DeserializationError) and err.topic is None and topic is not None:
                raise type(err)(err.reason, topic=topic) from err
            raise
        try:
            if writer.reader is None and self._schema.codec:
                # The writer's schema is the model's own: the model decodes itself.
                reader = Reader(data if data.__class__ is bytes else bytes(data), _HEADER.size)
                obj = self._read_avro(reader)
                end = reader.pos
            else:
                stream = io.BytesIO(data)
                stream.seek(_HEADER.size)
                # Named-type tuples let generated models tell union branches apart.
                datum = schemaless_reader(
                    stream, writer.parsed, writer.reader, return_named_type=True
                )
                if not isinstance(datum, dict):
                    raise DeserializationError(
                        f"schema id {schema_id} does not describe a record", topic=topic
                    )
                obj = self.model.from_avro(datum)
                end = stream.tell()
        except ContractError:
            raise
        except Exception as err:  # corrupt bytes surface as many exception types.
            raise self._undecodable(data, ctx, err) from err
        if end != len(data):
            raise DeserializationError(
                f"{len(data) - end} bytes left over after the record (schema id {schema_id})",
                topic=topic,
            )
        return obj

    def _undecodable(
        self, data: bytes | bytearray | memoryview, ctx: SerializationContext | None, err: Exception
    ) -> DeserializationError:
        """The error for ``data`` whose Avro part ``err`` stopped the decoding of."""
        schema_id = _HEADER.unpack_from(data)[1]
        return DeserializationError(
            f"cannot decode {self.model.__name__} (schema id {schema_id}): "
            f"{type(err).__name__}: {err}",
            topic=ctx.topic if ctx is not None else None,
        )

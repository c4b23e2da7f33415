"""``ContractDeserializer``: Confluent-framed Avro to typed objects, refusing damaged bytes."""

from __future__ import annotations

import functools
import io
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, cast

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import SerializationContext
from fastavro import parse_schema, schemaless_reader

from somacontracts.errors import (
    ContractError,
    DeserializationError,
    IncompatibleWriterError,
    ReadRuleError,
    RegistryError,
    SchemaNotFoundError,
)
from somacontracts.registry_client import call, url_of
from somacontracts.runtime import Reader
from somacontracts.serde.model import (
    HEADER,
    MAGIC,
    NOT_FOUND,
    M,
    RegistryUser,
    has_rules,
    model_schema,
    registered,
)

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import RegisteredSchema, Schema

    from somacontracts.schema import Node
    from somacontracts.serde.migrations import Migration
    from somacontracts.serde.options import RuleOptions
    from somacontracts.serde.rules import Rules

__all__ = ["ContractDeserializer"]

_WRITER_CACHE_SIZE = 1024


class _BoundedStream(io.BytesIO):
    """Bytes that refuse a read past their end, for fastavro's reader.

    fastavro reads a value with ``read(n)`` and, when it skips a field that only the
    writer's schema has, does not check that ``n`` bytes came back: a message cut
    inside such a field would decode as if whole. Here a short read raises instead.
    """

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        if size is not None and 0 < size != len(data):
            raise EOFError(
                f"{size} bytes needed at byte {self.tell() - len(data)}, {len(data)} left"
            )
        return data


@dataclass(frozen=True, slots=True)
class _Writer:
    parsed: Any
    reader: Any
    """The reader schema to resolve into, or None when writer and reader are the same."""
    scanned: Node | None = None
    """The writer's schema when its arrays may hold items that take no bytes (see
    :mod:`somacontracts.serde.scan`): messages are walked with bounds first."""
    registered: Schema | None = None
    """The writer schema as registered, when it carries Data Contract rules to run."""
    subject: str = ""
    """A subject of this model the schema is registered under (the DEK subject of its
    encrypted fields when no topic names one)."""
    version: int | None = None
    """The writer's contract version (the default of its ``metadata.schema_version``),
    which a message's own ``metadata.schema_version`` must agree with."""
    rules: dict[str, Rules | None] | None = None
    """Compiled rules per subject, when ``registered`` has rules (or migrations run)."""
    migrations: tuple[Migration, ...] = ()
    """The steps from the writer's major version to the model's: its data is read as the
    writer wrote it, then migrated."""


def _stamped_version(writer: Any) -> int | None:
    """The default of ``metadata.schema_version`` in a writer schema (JSON), if any."""
    if not isinstance(writer, dict):
        return None
    for field in writer.get("fields") or ():
        if isinstance(field, dict) and field.get("name") == "metadata":
            record = field.get("type")
            if isinstance(record, dict):
                for inner in record.get("fields") or ():
                    if isinstance(inner, dict) and inner.get("name") == "schema_version":
                        default = inner.get("default")
                        return default if type(default) is int else None
    return None


class ContractDeserializer(RegistryUser, Generic[M]):
    """Deserialize Confluent-framed Avro into ``model`` objects; a confluent-kafka deserializer.

    Accepts writer schemas registered under ``subjects`` (default: the model's subjects,
    and ``<ctx.topic>-value`` of the topic being read) that the model's schema can read.

    The Data Contract rules registered with the writer's schema version run on read
    (decryption of encrypted fields, CEL conditions); a refusal is a
    :class:`ReadRuleError`. ``rules`` configures them (the KMS configuration). A message
    whose ``metadata.schema_version`` is not the writer schema's version is refused.
    """

    def __init__(
        self,
        model: type[M],
        registry: SchemaRegistryClient | str,
        *,
        subjects: Sequence[str] | None = None,
        warm_up: bool = True,
        cache_size: int = _WRITER_CACHE_SIZE,
        rules: RuleOptions | None = None,
    ) -> None:
        super().__init__(registry, rules)
        self.model = model
        self._subjects = tuple(subjects) if subjects is not None else model.SUBJECTS
        self._schema = model_schema(model)
        self._cache_size = cache_size
        self._writers: OrderedDict[int, _Writer | ContractError] = OrderedDict()
        # Called only when the model has a codec (self._schema.codec): never None then.
        self._read_avro = cast("Callable[[Reader], M]", getattr(model, "read_avro", None))
        self._text: str | None = None
        self._own_headers: set[bytes] = set()
        """Frame headers of ids whose schema is the model's own, without rules, when the model
        decodes itself: their messages go straight to ``read_avro``."""
        self._version: int | None = model.SCHEMA_VERSION if self._schema.stamps_version else None
        self._own_versions: dict[str, RegisteredSchema | None] = {}
        if warm_up:
            self._warm_up_or_close()

    def warm_up(self) -> None:
        """Check the registry holds the model's schema under its subjects; cache its id."""
        for subject in self._subjects:
            found = registered(self._client, self.model, subject, register=False)
            self._own_versions[subject] = found
            assert found.schema_id is not None  # registered() checked it
            self._remember(found.schema_id, self._own_writer(found.schema, subject))

    def _own_writer(self, schema: Schema, subject: str) -> _Writer:
        """The entry of an id whose schema is the model's own."""
        with_rules = has_rules(schema)
        return _Writer(
            parsed=self._schema.parsed,
            reader=None,
            registered=schema if with_rules else None,
            subject=subject,
            version=self._version,
            rules={} if with_rules else None,
        )

    def _remember(self, schema_id: int, entry: _Writer | ContractError) -> None:
        if (
            isinstance(entry, _Writer)
            and entry.reader is None
            and entry.rules is None
            and self._schema.codec
        ):
            self._own_headers.add(HEADER.pack(MAGIC, schema_id))  # few: one per subject
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
            if err.error_code not in NOT_FOUND:
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
        # Rare (a writer schema other than the model's own): the compatibility engine and
        # the schema model are imported only now, so services never load them otherwise.
        from somacontracts.compat import check_reader_writer
        from somacontracts.schema import NamedNode, parse, registry_text

        named: dict[str, Any] = {}  # fastavro's named types of the references
        referenced_nodes: dict[str, NamedNode] = {}
        for reference in schema.references or []:
            if reference.subject is None or reference.version is None:
                raise IncompatibleWriterError(
                    f"schema id {schema_id} has a reference without subject or version", topic=topic
                )
            referenced = call(
                client, functools.partial(client.get_version, reference.subject, reference.version)
            )
            text = referenced.schema.schema_str or "null"
            referenced_nodes.update(parse(text, references=referenced_nodes).named)
            parse_schema(json.loads(text), named_schemas=named)
        writer_json = json.loads(schema.schema_str or "null")
        writer = parse(writer_json, source=f"schema id {schema_id}", references=referenced_nodes)
        subject = f"{topic}-value" if topic else sorted(accepted.intersection(subjects))[0]
        migrating = self._migrating(schema, subject, writer_json, named, topic)
        if migrating is not None:
            return migrating
        result = check_reader_writer(self.model.SCHEMA, writer)
        if not result.compatible:
            problem = result.problems[0]
            raise IncompatibleWriterError(
                f"{self.model.__name__} cannot read data written with schema id {schema_id}: "
                f"{problem.message} (at {problem.location})",
                topic=topic,
            )
        if registry_text(writer, normalize=True) == self._own_text():
            # The model's own schema, logical types included: the model decodes it itself.
            return self._own_writer(schema, subject)
        # Any other writer, even one that differs in a logical type alone (millis written,
        # micros read), is read by fastavro with the writer's logical types, then resolved.
        parsed = parse_schema(writer_json, named_schemas=named)
        from somacontracts.serde.scan import needs_scan

        scanned = writer.root if needs_scan(writer.root) else None
        with_rules = has_rules(schema)
        return _Writer(
            parsed=parsed,
            reader=self._schema.parsed,
            scanned=scanned,
            registered=schema if with_rules else None,
            subject=subject,
            version=_stamped_version(writer_json) if self._version is not None else None,
            rules={} if with_rules else None,
        )

    def _migrating(
        self,
        schema: Schema,
        subject: str,
        writer_json: Any,
        named: dict[str, Any],
        topic: str | None,
    ) -> _Writer | None:
        """The entry of a writer of another major version than the model's (its data is
        read through the migration rules between them), or None."""
        own = self._own_version(subject)
        if own is None:
            return None
        from somacontracts.serde.migrations import majors_differ, migration_path

        if not majors_differ(schema, own.schema):
            return None
        client = self._client
        lookup = functools.partial(
            client.lookup_schema, subject, schema, normalize_schemas=True, deleted=True
        )
        written = call(client, lookup)
        steps = migration_path(client, subject, written, own)
        if not steps:
            raise IncompatibleWriterError(
                f"{self.model.__name__} (major version of {subject} version {own.version}) "
                f"has no migration rules from version {written.version}, another major version",
                topic=topic,
            )
        with_rules = has_rules(own.schema)
        return _Writer(
            parsed=parse_schema(writer_json, named_schemas=named),
            reader=None,
            registered=own.schema if with_rules else None,
            subject=subject,
            version=None,  # migrated data carries the writer's version, by design
            rules={},
            migrations=tuple(steps),
        )

    def _own_version(self, subject: str) -> Any:
        """The model's schema as registered under ``subject`` (None if it is not)."""
        if subject not in self._own_versions:
            try:
                found = registered(self._client, self.model, subject, register=False)
            except SchemaNotFoundError:
                found = None
            self._own_versions[subject] = found
        return self._own_versions[subject]

    def _own_text(self) -> str:
        """The model's schema as a registry stores it (normalized)."""
        if self._text is None:
            from somacontracts.schema import registry_text

            self._text = registry_text(self.model.SCHEMA, normalize=True)
        return self._text

    def __call__(self, data: bytes | None, ctx: SerializationContext | None = None) -> M | None:
        """The model object of ``data`` (None for None, Kafka's tombstone)."""
        if isinstance(data, bytes) and data[: HEADER.size] in self._own_headers:
            # The usual message: written with the model's own schema, which it decodes.
            reader = Reader(data, HEADER.size)
            try:
                decoded = self._read_avro(reader)
            except Exception as err:
                raise self._undecodable(data, ctx, err) from err
            if reader.pos == len(data) and (
                self._version is None or decoded.metadata.schema_version == self._version  # type: ignore[attr-defined]
            ):
                return decoded
        if data is None:
            return None
        topic = ctx.topic if ctx is not None else None
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DeserializationError(f"expected bytes, got {type(data).__name__}", topic=topic)
        if len(data) < HEADER.size:
            raise DeserializationError(
                f"{len(data)} bytes are too few for Confluent's framing (5-byte header)",
                topic=topic,
            )
        magic, schema_id = HEADER.unpack_from(data)
        if magic != MAGIC:
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
            if writer.rules is not None:
                obj, end = self._read_with_rules(data, writer, topic, ctx)
            elif writer.reader is None and self._schema.codec:
                # The writer's schema is the model's own: the model decodes itself.
                reader = Reader(data if data.__class__ is bytes else bytes(data), HEADER.size)
                obj = self._read_avro(reader)
                end = reader.pos
            else:
                if writer.scanned is not None:
                    from somacontracts.serde.scan import scan

                    scan(writer.scanned, bytes(data), HEADER.size)
                stream = _BoundedStream(data)
                stream.seek(HEADER.size)
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
            extra = len(data) - end
            raise DeserializationError(
                f"{extra} byte{'s' if extra != 1 else ''} after the record (schema id "
                f"{schema_id}); a message holds one record and nothing after it",
                topic=topic,
            )
        if writer.version is not None:
            stamped = obj.metadata.schema_version  # type: ignore[attr-defined]
            if stamped != writer.version:
                raise DeserializationError(
                    f"metadata.schema_version is {stamped!r}, but the message was written "
                    f"with version {writer.version} of {self._schema.label} (schema id "
                    f"{schema_id})",
                    topic=topic,
                )
        return obj

    def _read_with_rules(
        self,
        data: bytes | bytearray | memoryview,
        writer: _Writer,
        topic: str | None,
        ctx: SerializationContext | None,
    ) -> tuple[M, int]:
        """Decode ``data`` into a datum, run the writer version's rules on it, then make
        the object; the object and where the record ended."""
        if writer.scanned is not None:
            from somacontracts.serde.scan import scan

            scan(writer.scanned, bytes(data), HEADER.size)
        stream = _BoundedStream(data)
        stream.seek(HEADER.size)
        migrating = bool(writer.migrations)
        datum = schemaless_reader(
            stream, writer.parsed, writer.reader, return_named_type=not migrating
        )
        if not isinstance(datum, dict):
            raise DeserializationError("the writer schema does not describe a record", topic=topic)
        from somacontracts.serde.rules import RuleFailure, RuleRefusal

        if migrating:
            runner = self._rule_runner()
            try:
                for step in writer.migrations:
                    datum = step.run(datum, ctx, runner)
            except RuleFailure as err:
                raise ReadRuleError(f"{self._schema.label}: {err}", topic=topic) from None
            if not isinstance(datum, dict):
                raise ReadRuleError(
                    f"{self._schema.label}: the migration rules gave "
                    f"{type(datum).__name__}, not a record",
                    topic=topic,
                )
        assert writer.rules is not None
        subject = f"{topic}-value" if topic else writer.subject
        if subject in writer.rules:
            rules = writer.rules[subject]
        elif writer.registered is None:
            rules = None
        else:
            parsed, shape = (
                (self._schema.parsed, None) if migrating else (writer.parsed, writer.reader)
            )
            rules = writer.rules[subject] = self._rules_of(
                writer.registered, parsed, subject, write=False, shape=shape
            )
        if rules is not None:
            try:
                datum = rules.apply(datum, ctx)
            except RuleRefusal as refusal:
                raise refusal.failure.error(ReadRuleError, self._schema.label, topic) from None
        if not migrating:
            return self.model.from_avro(datum), stream.tell()
        # Migration rules build values of their own: the model holds only what its schema
        # carries, checked as the serializer checks what it writes.
        try:
            obj = self.model.from_avro(datum)
        except KeyError as err:
            raise ReadRuleError(
                f"{self._schema.label}: the migrated message lacks field {err}", topic=topic
            ) from err
        except Exception as err:  # values of the wrong shape surface as many types
            raise ReadRuleError(
                f"{self._schema.label}: the migrated message does not fit: "
                f"{type(err).__name__}: {err}",
                topic=topic,
            ) from err
        from somacontracts.serde.values import value_problem

        problem = value_problem(self.model, obj, self._schema.label)
        if problem is not None:
            raise ReadRuleError(f"the migrated message does not fit: {problem}", topic=topic)
        return obj, stream.tell()

    def _undecodable(
        self, data: bytes | bytearray | memoryview, ctx: SerializationContext | None, err: Exception
    ) -> DeserializationError:
        """The error for ``data`` whose Avro part ``err`` stopped the decoding of."""
        schema_id = HEADER.unpack_from(data)[1]
        return DeserializationError(
            f"cannot decode {self.model.__name__} (schema id {schema_id}): "
            f"{type(err).__name__}: {err}",
            topic=ctx.topic if ctx is not None else None,
        )

"""``ContractDeserializer``: Confluent-framed Avro to typed objects, refusing damaged bytes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, cast

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import SerializationContext
from fastavro import schemaless_reader

from somacontracts.errors import (
    ContractError,
    DeserializationError,
    IncompatibleWriterError,
    ReadRuleError,
    RegistryError,
    SchemaNotFoundError,
)
from somacontracts.runtime import Reader
from somacontracts.serde.contract_model import M, model_schema
from somacontracts.serde.framing import GUID_MAGIC, HEADER, MAGIC, Reframing
from somacontracts.serde.registered import RegistryUser, registered
from somacontracts.serde.subjects import SubjectNameStrategy, Subjects
from somacontracts.serde.writers import BoundedStream, Writer, WriterResolver

if TYPE_CHECKING:
    from somacontracts.serde.options import RuleOptions

__all__ = ["ContractDeserializer"]

_WRITER_CACHE_SIZE = 1024


class ContractDeserializer(RegistryUser, Generic[M]):
    """Deserialize Confluent-framed Avro into ``model`` objects; a confluent-kafka deserializer.

    Accepts writer schemas registered under ``subjects`` (default: the model's subjects)
    or under the subject of the message, that the model's schema can read. A message's
    subject is ``subject``, else what ``subject_name_strategy`` names for its context
    (confluent-kafka's strategies; default ``<ctx.topic>-value``): its writer's, since the
    data keys of encrypted fields are kept per subject.

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
        subject: str | None = None,
        subject_name_strategy: SubjectNameStrategy | None = None,
        warm_up: bool = True,
        cache_size: int = _WRITER_CACHE_SIZE,
        rules: RuleOptions | None = None,
    ) -> None:
        super().__init__(registry, rules)
        self.model = model
        self._schema = model_schema(model)
        self._naming = Subjects(subject, subject_name_strategy)
        self._subjects = (
            tuple(subjects)
            if subjects is not None
            else self._naming.of_topics(model.SUBJECTS, self._schema.full_name)
        )
        self._cache_size = cache_size
        self._writers: OrderedDict[int, Writer | ContractError] = OrderedDict()
        self._framing = Reframing(self._client, cache_size)
        # Called only when the model has a codec (self._schema.codec): never None then.
        self._read_avro = cast("Callable[[Reader], M]", getattr(model, "read_avro", None))
        self._text: str | None = None
        self._own_headers: set[bytes] = set()
        """Frame headers of ids whose schema is the model's own, without rules, when the model
        decodes itself: their messages go straight to ``read_avro``."""
        self._version: int | None = model.SCHEMA_VERSION if self._schema.stamps_version else None
        self._resolver = WriterResolver(
            self._client, model, self._schema, self._naming, self._subjects, self._version
        )
        if warm_up:
            self._warm_up_or_close()

    def warm_up(self) -> None:
        """Check the registry holds the model's schema under its subjects, and that the
        rules registered with it can run here; cache its id."""
        for subject in self._subjects:
            found = registered(self._client, self.model, subject, register=False)
            self._resolver.own_versions[subject] = found
            assert found.schema_id is not None  # registered() checked it
            entry = self._resolver.own_writer(found.schema, subject)
            if entry.rules is not None and entry.registered is not None:
                rules = self._rules_of(entry.registered, entry.forms, subject, write=False)
                if rules is not None:
                    rules.prepare(self._schema.label)
                entry.rules[subject] = rules
            self._remember(found.schema_id, entry)

    def _remember(self, schema_id: int, entry: Writer | ContractError) -> None:
        if (
            isinstance(entry, Writer)
            and entry.reader is None
            and entry.rules is None
            and self._schema.codec
        ):
            self._own_headers.add(HEADER.pack(MAGIC, schema_id))  # few: one per subject
        self._writers[schema_id] = entry
        self._writers.move_to_end(schema_id)
        while len(self._writers) > self._cache_size:
            self._writers.popitem(last=False)

    def _writer(self, schema_id: int, ctx: SerializationContext | None) -> Writer:
        entry = self._writers.get(schema_id)
        if entry is None:
            try:
                entry = self._resolver.resolve(schema_id, ctx)
            except (SchemaNotFoundError, IncompatibleWriterError) as err:
                entry = err
            except RegistryError:
                raise  # unreachable, refused credentials: not this schema's fault, not kept
            except ContractError as err:  # anything else the writer schema leads to
                entry = IncompatibleWriterError(
                    f"schema id {schema_id} cannot be read here: {err}",
                    topic=ctx.topic if ctx is not None else None,
                )
            except Exception as err:  # a fault of a library under the schema model
                entry = IncompatibleWriterError(
                    f"schema id {schema_id} cannot be read here: {type(err).__name__}: {err}",
                    topic=ctx.topic if ctx is not None else None,
                )
            self._remember(schema_id, entry)
        if isinstance(entry, ContractError):
            # Without the old traceback: each raise would otherwise add to it, without end.
            raise entry.with_traceback(None)
        return entry

    def needs_registry(
        self, data: bytes | bytearray | memoryview | None, ctx: SerializationContext | None = None
    ) -> bool:
        """Whether decoding ``data`` may wait on the registry or a KMS: its writer schema not
        met yet, named by a GUID or a header not met yet, or read with rules (decryption asks
        for keys). False when decoding it is the CPU work of one message."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            return False  # refused without a call
        headers = ctx is not None and ctx.headers
        if isinstance(data, bytes) and not headers and data[: HEADER.size] in self._own_headers:
            return False  # the usual message, as __call__ reads it first
        schema_id = self._framing.id_at_hand(data, ctx)
        if schema_id is None:
            return True
        entry = self._writers.get(schema_id)
        return entry is None or (isinstance(entry, Writer) and entry.rules is not None)

    def __call__(self, data: bytes | None, ctx: SerializationContext | None = None) -> M | None:
        """The model object of ``data`` (None for None, Kafka's tombstone), its schema named
        by Confluent's prefix or by the ``__value_schema_id`` header of ``ctx.headers``."""
        if ctx is not None and ctx.headers and isinstance(data, (bytes, bytearray, memoryview)):
            data = self._framing.prefixed(data, ctx)  # type: ignore[assignment]
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
        framed, schema_id = self._framed(data, ctx, topic)
        try:
            writer = self._writer(schema_id, ctx)
        except ContractError as err:
            if isinstance(err, DeserializationError) and err.topic is None and topic is not None:
                raise type(err)(err.reason, topic=topic) from err
            raise
        try:
            if writer.rules is not None:
                obj, end = self._read_with_rules(framed, writer, topic, ctx)
            elif writer.reader is None and self._schema.codec:
                # The writer's schema is the model's own: the model decodes itself.
                reader = Reader(bytes(framed), HEADER.size)
                obj = self._read_avro(reader)
                end = reader.pos
            else:
                obj, end = self._read_resolved(framed, writer, schema_id, topic)
        except ContractError:
            raise
        except Exception as err:  # corrupt bytes surface as many exception types.
            raise self._undecodable(framed, ctx, err) from err
        self._check_whole(obj, len(framed) - end, writer, schema_id, topic)
        return obj

    def _framed(
        self, data: object, ctx: SerializationContext | None, topic: str | None
    ) -> tuple[bytes | bytearray | memoryview, int]:
        """``data`` framed by Confluent's prefix (a GUID prefix resolved), and its schema id."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DeserializationError(f"expected bytes, got {type(data).__name__}", topic=topic)
        if len(data) < HEADER.size:
            raise DeserializationError(
                f"{len(data)} bytes are too few for Confluent's framing (5-byte header)",
                topic=topic,
            )
        magic, schema_id = HEADER.unpack_from(data)
        if magic == GUID_MAGIC:  # a prefix naming the schema by its GUID
            data = self._framing.prefixed(data, ctx)
            magic, schema_id = HEADER.unpack_from(data)
        if magic != MAGIC:
            raise DeserializationError(
                f"unknown magic byte {magic}; Confluent's framing starts with 0 or 1",
                topic=topic,
            )
        return data, schema_id

    def _read_resolved(
        self,
        data: bytes | bytearray | memoryview,
        writer: Writer,
        schema_id: int,
        topic: str | None,
    ) -> tuple[M, int]:
        """Decode ``data`` written with another schema than the model's: fastavro resolves
        the writer's schema to the model's; returns the object and where the record ended."""
        if writer.scanned is not None:
            from somacontracts.serde.scan import scan

            scan(writer.scanned, bytes(data), HEADER.size)
        stream = BoundedStream(data)
        stream.seek(HEADER.size)
        # Named-type tuples let generated models tell union branches apart.
        datum = schemaless_reader(stream, writer.parsed, writer.reader, return_named_type=True)
        if not isinstance(datum, dict):
            raise DeserializationError(
                f"schema id {schema_id} does not describe a record", topic=topic
            )
        return self.model.from_avro(datum), stream.tell()

    def _check_whole(
        self, obj: M, extra: int, writer: Writer, schema_id: int, topic: str | None
    ) -> None:
        """Refuse bytes after the record, and a record stamped with another version than
        the one it was written with."""
        if extra:
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

    def _read_with_rules(
        self,
        data: bytes | bytearray | memoryview,
        writer: Writer,
        topic: str | None,
        ctx: SerializationContext | None,
    ) -> tuple[M, int]:
        """Decode ``data`` into a datum, run the writer version's rules on it, then make
        the object; the object and where the record ended."""
        if writer.scanned is not None:
            from somacontracts.serde.scan import scan

            scan(writer.scanned, bytes(data), HEADER.size)
        stream = BoundedStream(data)
        stream.seek(HEADER.size)
        migrating = bool(writer.migrations)
        datum = schemaless_reader(
            stream, writer.parsed, writer.reader, return_named_type=not migrating
        )
        if not isinstance(datum, dict):
            raise DeserializationError("the writer schema does not describe a record", topic=topic)
        from somacontracts.serde.outcomes import RuleFailure, RuleRefusal

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
        subject = (
            self._naming.of(ctx, writer.record_name, writer.subject)
            if ctx is not None
            else writer.subject
        )
        if subject in writer.rules:
            rules = writer.rules[subject]
        elif writer.registered is None:
            rules = None
        else:
            if migrating:
                forms, shape = self._schema.forms, None
            else:
                forms = writer.forms
                shape = self._schema.forms if writer.reader is not None else None
            rules = writer.rules[subject] = self._rules_of(
                writer.registered, forms, subject, write=False, shape=shape
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

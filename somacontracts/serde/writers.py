"""Writer schemas: what a deserializer learns of a schema id once, and how to read the
messages written with it.

:class:`WriterResolver` fetches a writer schema by id, checks that it is registered
under a subject of the model and that the model reads it, and parses it with the one
schema model (:mod:`somacontracts.schema`), references included. fastavro is handed the
schema in the form the schema model writes out, so it reads what Apache Avro Java
reads; a writer it cannot read as Java does (a reference that only Java's fallback to
the null namespace resolves, which fastavro, and so confluent-kafka's deserializer,
cannot follow) is refused. Every refusal is an :class:`IncompatibleWriterError`, which
the deserializer keeps for the id, so the consumer dead-letters such messages instead of
stopping on them; only a registry that cannot be reached is not kept.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from confluent_kafka.schema_registry import (
    RegisteredSchema,
    Schema,
    SchemaReference,
    SchemaRegistryClient,
)
from confluent_kafka.serialization import SerializationContext
from fastavro import parse_schema

from somacontracts.errors import (
    IncompatibleWriterError,
    RegistryError,
    SchemaError,
    SchemaNotFoundError,
)
from somacontracts.serde.contract_model import (
    ContractModel,
    ModelSchema,
    SchemaForms,
    stamped_version,
)
from somacontracts.serde.registered import NOT_FOUND, has_rules, registered
from somacontracts.serde.registry_client import call, subjects_of_id, url_of
from somacontracts.serde.subjects import Subjects

if TYPE_CHECKING:
    from somacontracts.schema import Node, ParsedSchema
    from somacontracts.serde.migrations import Migration
    from somacontracts.serde.rules import Rules

__all__ = ["BoundedStream", "Writer", "WriterResolver"]


class BoundedStream(io.BytesIO):
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
class Writer:
    """What a deserializer keeps of a writer schema id: how to read its messages."""

    parsed: Any
    """fastavro's parsed form of the writer schema."""
    node: Node
    """The writer schema's root in the one schema model."""
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
    record_name: str = ""
    """The writer's record full name, which subject name strategies take."""
    version: int | None = None
    """The writer's contract version (the default of its ``metadata.schema_version``),
    which a message's own ``metadata.schema_version`` must agree with."""
    rules: dict[str, Rules | None] | None = None
    """Compiled rules per subject, when ``registered`` has rules (or migrations run)."""
    migrations: tuple[Migration, ...] = ()
    """The steps from the writer's major version to the model's: its data is read as the
    writer wrote it, then migrated."""

    @property
    def forms(self) -> SchemaForms:
        """The writer schema in both parsed forms."""
        return SchemaForms(self.parsed, self.node)


class WriterResolver:
    """Resolves schema ids to :class:`Writer` entries for one model's deserializer."""

    def __init__(
        self,
        client: SchemaRegistryClient,
        model: type[ContractModel],
        schema: ModelSchema,
        naming: Subjects,
        subjects: tuple[str, ...],
        version: int | None,
    ) -> None:
        self._client = client
        self._model = model
        self._schema = schema
        self._naming = naming
        self._subjects = subjects
        self._version = version
        self._text: str | None = None
        self.own_versions: dict[str, RegisteredSchema | None] = {}
        """The model's schema as registered under each subject met (None: it is not)."""

    def own_writer(self, schema: Schema, subject: str) -> Writer:
        """The entry of an id whose schema is the model's own."""
        with_rules = has_rules(schema)
        return Writer(
            parsed=self._schema.parsed,
            node=self._schema.node,
            reader=None,
            registered=schema if with_rules else None,
            subject=subject,
            record_name=self._schema.full_name,
            version=self._version,
            rules={} if with_rules else None,
        )

    def own_version(self, subject: str) -> RegisteredSchema | None:
        """The model's schema as registered under ``subject`` (None if it is not)."""
        if subject not in self.own_versions:
            try:
                found: RegisteredSchema | None = registered(
                    self._client, self._model, subject, register=False
                )
            except SchemaNotFoundError:
                found = None
            self.own_versions[subject] = found
        return self.own_versions[subject]

    def resolve(self, schema_id: int, ctx: SerializationContext | None) -> Writer:
        """How to read messages written with ``schema_id`` into the model; raise
        :class:`IncompatibleWriterError` (or :class:`SchemaNotFoundError`) if they cannot
        be, :class:`RegistryError` if the registry fails to answer."""
        topic = ctx.topic if ctx is not None else None
        schema = self._fetch(schema_id)
        writer = self._parse(schema, schema_id, topic)
        root = writer.root
        record_name = getattr(root, "full_name", "")
        own_subject = self._naming.of(ctx, record_name, "") if ctx is not None else ""
        client = self._client
        subjects = subjects_of_id(client, schema_id)
        accepted = {*self._subjects, *((own_subject,) if own_subject else ())}
        if not accepted.intersection(subjects):
            raise IncompatibleWriterError(
                f"schema id {schema_id} is registered under "
                f"{', '.join(sorted(subjects)) or 'no subject'}, not under a subject of "
                f"{self._model.__name__} ({', '.join(sorted(accepted))})",
                topic=topic,
            )
        subject = own_subject or sorted(accepted.intersection(subjects))[0]
        parsed = self._fastavro_form(writer, schema_id, topic)
        migrating = self._migrating(schema, subject, parsed, root, topic)
        if migrating is not None:
            return migrating
        # Rare (a writer schema other than the model's own): the compatibility engine is
        # imported only now, so services never load it otherwise.
        from somacontracts.compat import check_reader_writer
        from somacontracts.schema import registry_text

        result = check_reader_writer(self._schema.schema_model or self._model.SCHEMA, writer)
        if not result.compatible:
            problem = result.problems[0]
            raise IncompatibleWriterError(
                f"{self._model.__name__} cannot read data written with schema id {schema_id}: "
                f"{problem.message} (at {problem.location})",
                topic=topic,
            )
        if registry_text(writer, normalize=True) == self._own_text():
            # The model's own schema, logical types included: the model decodes it itself.
            return self.own_writer(schema, subject)
        # Any other writer, even one that differs in a logical type alone (millis written,
        # micros read), is read by fastavro with the writer's logical types, then resolved.
        from somacontracts.serde.scan import needs_scan

        with_rules = has_rules(schema)
        return Writer(
            parsed=parsed,
            node=root,
            reader=self._schema.parsed,
            scanned=root if needs_scan(root) else None,
            registered=schema if with_rules else None,
            subject=subject,
            record_name=record_name,
            version=stamped_version(root) if self._version is not None else None,
            rules={} if with_rules else None,
        )

    def _fetch(self, schema_id: int) -> Schema:
        client = self._client
        try:
            schema: Schema = call(client, functools.partial(client.get_schema, schema_id))
        except RegistryError as err:
            if err.error_code not in NOT_FOUND:
                raise
            raise SchemaNotFoundError(
                url_of(client), f"schema id {schema_id} is not in the registry"
            ) from err
        return schema

    def _parse(self, schema: Schema, schema_id: int, topic: str | None) -> ParsedSchema:
        """The writer schema and its references, parsed by the one schema model; a schema
        it refuses (or whose references are missing) cannot be read."""
        from somacontracts.schema import NamedNode, parse

        client = self._client
        referenced: dict[str, NamedNode] = {}

        def resolve(references: list[SchemaReference]) -> None:
            """Parse ``references`` into ``referenced``, each after its own references."""
            for reference in references:
                if reference.subject is None or reference.version is None:
                    raise IncompatibleWriterError(
                        f"schema id {schema_id} has a reference without subject or version",
                        topic=topic,
                    )
                if reference.name in referenced:
                    continue
                found = call(
                    client,
                    functools.partial(client.get_version, reference.subject, reference.version),
                )
                resolve(found.schema.references or [])
                text = found.schema.schema_str or "null"
                referenced.update(parse(text, references=referenced, portable=True).named)

        try:
            resolve(schema.references or [])
            return parse(
                schema.schema_str or "null",
                source=f"schema id {schema_id}",
                references=referenced,
                portable=True,
            )
        except SchemaError as err:
            where = f" (at {err.location})" if err.location else ""
            raise IncompatibleWriterError(
                f"schema id {schema_id} cannot be read here: {err.reason}{where}", topic=topic
            ) from err

    def _fastavro_form(self, writer: ParsedSchema, schema_id: int, topic: str | None) -> Any:
        """fastavro's parsed form of ``writer``, from the schema model's standalone form."""
        from somacontracts.schema import standalone

        try:
            return parse_schema(standalone(writer))
        except Exception as err:  # fastavro raises several types for a schema it refuses
            raise IncompatibleWriterError(
                f"schema id {schema_id} cannot be read here: fastavro refuses it "
                f"({type(err).__name__}: {err})",
                topic=topic,
            ) from err

    def _migrating(
        self, schema: Schema, subject: str, parsed: Any, root: Node, topic: str | None
    ) -> Writer | None:
        """The entry of a writer of another major version than the model's (its data is
        read through the migration rules between them), or None."""
        own = self.own_version(subject)
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
                f"{self._model.__name__} (major version of {subject} version {own.version}) "
                f"has no migration rules from version {written.version}, another major version",
                topic=topic,
            )
        with_rules = has_rules(own.schema)
        return Writer(
            parsed=parsed,
            node=root,
            reader=None,
            registered=own.schema if with_rules else None,
            subject=subject,
            record_name=self._schema.full_name,
            version=None,  # migrated data carries the writer's version, by design
            rules={},
            migrations=tuple(steps),
        )

    def _own_text(self) -> str:
        """The model's schema as a registry stores it (normalized)."""
        if self._text is None:
            from somacontracts.schema import registry_text

            self._text = registry_text(
                self._schema.schema_model or self._model.SCHEMA, normalize=True
            )
        return self._text

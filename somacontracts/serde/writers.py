"""What a deserializer knows of a writer schema: how to read the messages written with
it (the parsed schema, the reader to resolve into, its rules and migrations), and the
facts it reads off the schema's JSON."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import Schema

    from somacontracts.schema import Node
    from somacontracts.serde.migrations import Migration
    from somacontracts.serde.rules import Rules

__all__ = ["BoundedStream", "Writer", "stamped_version"]


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


def stamped_version(writer: Any) -> int | None:
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

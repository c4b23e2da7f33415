"""The registry's state in SQLite: schemas with global ids, subject versions, configs, modes.

One connection serves every thread, behind a lock: each operation of the registry is
one transaction (:meth:`RegistryStore.transaction`), so two clients registering the
same schema at once get one id. A database file is opened in WAL mode with an
exclusive lock held for the life of the store (:mod:`somacontracts.tooling.registry.database`):
ids are handed out by this process alone, so a second registry on the same file is
refused at start. Without a file the state lives in memory and ends with the store.

Soft-deleted versions keep their rows, flagged; a permanent delete removes the row.
A schema row is never removed, so a schema registered again after a permanent delete
gets its old id back.

Every schema also has a GUID, as in Confluent Platform 8 (:func:`guid_of`): derived from
its identity hash (its text, references, metadata and rules), so that the same schema
has the same GUID in every registry of this kind, however it came there (registered,
imported with its id), and one kept in a database keeps it. A database made before
GUIDs gets them when opened.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from somacontracts.tooling.registry.database import guid_of, open_database
from somacontracts.tooling.registry.errors import RegistryStoreError

__all__ = [
    "GLOBAL",
    "MAX_ID",
    "MAX_VERSION",
    "RegistryStore",
    "StoredSchema",
    "SubjectVersion",
    "guid_of",
]

MAX_ID = 2**31 - 1
"""The largest schema id: ids are 32-bit signed integers on Confluent's wire format."""
MAX_VERSION = 2**31 - 1
"""The largest version number, as in Confluent Schema Registry."""
GLOBAL = "__GLOBAL"
"""The scope of the global config and mode; Confluent reserves it as a subject name."""


@dataclass(frozen=True, slots=True)
class StoredSchema:
    """A schema as registered, under its global id."""

    id: int
    schema_type: str
    schema: str
    """The schema text the registry returns (see :func:`somacontracts.schema.registry_text`)."""
    references: tuple[dict[str, object], ...]
    """``{"name", "subject", "version"}`` of each reference, in the order registered."""
    expanded: str
    """Standalone schema JSON with the references inlined, for compatibility checks."""
    hash: str
    normal_hash: str
    guid: str
    """Its GUID (:func:`guid_of` its hash), in the usual 36-character form."""
    metadata: Any = None
    """The Data Contract ``metadata`` registered with it, if any."""
    rule_set: Any = None
    """The Data Contract ``ruleSet`` registered with it, if any."""


@dataclass(frozen=True, slots=True)
class SubjectVersion:
    """One version of a subject and the id of its schema."""

    subject: str
    version: int
    schema_id: int
    deleted: bool


class RegistryStore:
    """The registry's tables in one SQLite database; ``path=None`` keeps them in memory."""

    def __init__(self, path: str | Path | None = None, *, lock_timeout: float = 1.0) -> None:
        self.path = ":memory:" if path is None else str(path)
        self._lock = threading.RLock()
        self._conn = open_database(self.path, lock_timeout)
        self._generation = 0

    @property
    def generation(self) -> int:
        """How many write transactions have ended, committed or not.

        A read whose result was computed after reading this number stays current
        while the number is unchanged: every write goes through :meth:`transaction`,
        which counts itself before it lets other threads in.
        """
        return self._generation

    def close(self) -> None:
        """Close the database; the store cannot be used afterwards."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the store for one atomic operation; roll back if it raises."""
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                try:
                    yield
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            finally:
                self._generation += 1

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on the store's own connection; its rows. For the tables other
        modules keep here (the DEK registry's): call inside :meth:`transaction` to write,
        inside :meth:`reading` to read one state."""
        return self._conn.execute(sql, params).fetchall()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the store for reads that must see one state, without a write transaction."""
        with self._lock:
            yield

    def versions(self, subject: str) -> list[SubjectVersion]:
        """Every version of ``subject``, soft-deleted ones included, oldest first."""
        rows = self._conn.execute(
            "SELECT subject, version, schema_id, deleted FROM versions"
            " WHERE subject = ? ORDER BY version",
            (subject,),
        ).fetchall()
        return [SubjectVersion(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def live_versions(self, subject: str) -> list[SubjectVersion]:
        """The versions of ``subject`` not deleted, oldest first."""
        rows = self._conn.execute(
            "SELECT subject, version, schema_id, deleted FROM versions"
            " WHERE subject = ? AND deleted = 0 ORDER BY version",
            (subject,),
        ).fetchall()
        return [SubjectVersion(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def latest(self, subject: str, *, deleted: bool = False) -> SubjectVersion | None:
        """The newest version of ``subject`` (not deleted, unless ``deleted``), if any."""
        live = "" if deleted else " AND deleted = 0"
        row = self._conn.execute(
            "SELECT subject, version, schema_id, deleted FROM versions"
            f" WHERE subject = ?{live} ORDER BY version DESC LIMIT 1",
            (subject,),
        ).fetchone()
        return None if row is None else SubjectVersion(row[0], row[1], row[2], bool(row[3]))

    def version(self, subject: str, number: int) -> SubjectVersion | None:
        """Version ``number`` of ``subject``, deleted or not, if it exists."""
        row = self._conn.execute(
            "SELECT subject, version, schema_id, deleted FROM versions"
            " WHERE subject = ? AND version = ?",
            (subject, number),
        ).fetchone()
        return None if row is None else SubjectVersion(row[0], row[1], row[2], bool(row[3]))

    def with_identity(
        self, subject: str, hash_: str, *, normalized: bool = False, deleted: bool = False
    ) -> SubjectVersion | None:
        """The newest version of ``subject`` (not deleted, unless ``deleted``) whose schema
        has the identity ``hash_`` (the normalized one with ``normalized``), if any: one
        look-up in the schemas' hash index, however long the subject's history."""
        column = "normal_hash" if normalized else "hash"
        live = "" if deleted else " AND v.deleted = 0"
        row = self._conn.execute(
            "SELECT v.subject, v.version, v.schema_id, v.deleted FROM schemas s"
            " JOIN versions v ON v.schema_id = s.id"
            f" WHERE s.{column} = ? AND v.subject = ?{live} ORDER BY v.version DESC LIMIT 1",
            (hash_, subject),
        ).fetchone()
        return None if row is None else SubjectVersion(row[0], row[1], row[2], bool(row[3]))

    def subjects(self) -> list[tuple[str, bool]]:
        """Each subject with a version, sorted, and whether it has a version not deleted."""
        rows = self._conn.execute(
            "SELECT subject, MIN(deleted) FROM versions GROUP BY subject ORDER BY subject"
        ).fetchall()
        return [(r[0], r[1] == 0) for r in rows]

    def schema(self, schema_id: int) -> StoredSchema | None:
        """The schema with id ``schema_id``, if any."""
        return self._one("WHERE id = ?", (schema_id,))

    def schema_by_hash(self, hash_: str) -> StoredSchema | None:
        """The schema whose identity hash is ``hash_``, if any."""
        return self._one("WHERE hash = ?", (hash_,))

    def schema_by_guid(self, guid: str) -> StoredSchema | None:
        """The schema whose GUID is ``guid`` (36 lower-case characters), if any."""
        return self._one("WHERE guid = ?", (guid,))

    def _one(self, where: str, params: tuple[object, ...]) -> StoredSchema | None:
        row = self._conn.execute(
            "SELECT id, schema_type, schema, refs, expanded, hash, normal_hash, metadata,"
            " rule_set, guid FROM schemas " + where,
            params,
        ).fetchone()
        if row is None:
            return None
        return StoredSchema(
            id=row[0],
            schema_type=row[1],
            schema=row[2],
            references=tuple(json.loads(row[3])),
            expanded=row[4],
            hash=row[5],
            normal_hash=row[6],
            guid=row[9],
            metadata=None if row[7] is None else json.loads(row[7]),
            rule_set=None if row[8] is None else json.loads(row[8]),
        )

    def add_schema(
        self,
        *,
        schema_type: str,
        schema: str,
        references: list[dict[str, object]],
        expanded: str,
        hash_: str,
        normal_hash: str,
        schema_id: int | None = None,
        metadata: Any = None,
        rule_set: Any = None,
    ) -> int:
        """Store a new schema under ``schema_id`` or the next free id; return the id."""
        if schema_id is None:
            (last,) = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM schemas").fetchone()
            schema_id = int(last) + 1
            if schema_id > MAX_ID:  # an import took the last id: the lowest one free
                (schema_id,) = self._conn.execute(
                    "SELECT MIN(id) + 1 FROM (SELECT 0 AS id UNION ALL SELECT id FROM schemas)"
                    " WHERE id + 1 NOT IN (SELECT id FROM schemas)"
                ).fetchone()
                if schema_id > MAX_ID:
                    raise RegistryStoreError(self.path, f"every schema id up to {MAX_ID} is taken")
        self._conn.execute(
            "INSERT INTO schemas (id, schema_type, schema, refs, expanded, hash, normal_hash,"
            " metadata, rule_set, guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                schema_id,
                schema_type,
                schema,
                json.dumps(references),
                expanded,
                hash_,
                normal_hash,
                None if metadata is None else json.dumps(metadata),
                None if rule_set is None else json.dumps(rule_set),
                guid_of(hash_),
            ),
        )
        self._conn.executemany(
            "INSERT INTO refs (schema_id, subject, version) VALUES (?, ?, ?)",
            [(schema_id, ref["subject"], ref["version"]) for ref in references],
        )
        return schema_id

    def add_version(self, subject: str, version: int, schema_id: int) -> None:
        """Record ``version`` of ``subject`` as schema ``schema_id``."""
        self._conn.execute(
            "INSERT INTO versions (subject, version, schema_id) VALUES (?, ?, ?)",
            (subject, version, schema_id),
        )

    def soft_delete(self, subject: str, version: int) -> None:
        """Flag a version as deleted."""
        self._conn.execute(
            "UPDATE versions SET deleted = 1 WHERE subject = ? AND version = ?", (subject, version)
        )

    def remove(self, subject: str, version: int) -> None:
        """Remove a version for good."""
        self._conn.execute(
            "DELETE FROM versions WHERE subject = ? AND version = ?", (subject, version)
        )

    def versions_of_schema(self, schema_id: int) -> list[SubjectVersion]:
        """Every subject version registered with schema ``schema_id``, by subject and version."""
        rows = self._conn.execute(
            "SELECT subject, version, schema_id, deleted FROM versions"
            " WHERE schema_id = ? ORDER BY subject, version",
            (schema_id,),
        ).fetchall()
        return [SubjectVersion(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def referenced_by(
        self, subject: str, version: int, *, include_deleted: bool = False
    ) -> list[int]:
        """Ids of the schemas of versions that reference ``subject`` ``version``: versions
        not deleted, or also soft-deleted ones with ``include_deleted``."""
        deleted = "" if include_deleted else " AND v.deleted = 0"
        rows = self._conn.execute(
            "SELECT DISTINCT r.schema_id FROM refs r"
            f" JOIN versions v ON v.schema_id = r.schema_id{deleted}"
            " WHERE r.subject = ? AND r.version = ? ORDER BY r.schema_id",
            (subject, version),
        ).fetchall()
        return [r[0] for r in rows]

    def compatibility(self, scope: str) -> str | None:
        """The compatibility level set for ``scope`` (a subject or :data:`GLOBAL`)."""
        row = self._conn.execute(
            "SELECT compatibility FROM config WHERE scope = ?", (scope,)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_compatibility(self, scope: str, level: str | None) -> None:
        """Set the level of ``scope``; ``None`` removes it."""
        if level is None:
            self._conn.execute("DELETE FROM config WHERE scope = ?", (scope,))
        else:
            self._conn.execute(
                "INSERT OR REPLACE INTO config (scope, compatibility) VALUES (?, ?)",
                (scope, level),
            )

    def contract_config(self, scope: str) -> dict[str, Any]:
        """The Data Contract settings of ``scope`` (``compatibilityGroup``,
        ``defaultMetadata``, ``overrideMetadata``, ``defaultRuleSet``, ``overrideRuleSet``)."""
        row = self._conn.execute(
            "SELECT value FROM contract_config WHERE scope = ?", (scope,)
        ).fetchone()
        return {} if row is None else dict(json.loads(row[0]))

    def set_contract_config(self, scope: str, value: Mapping[str, Any]) -> None:
        """Set the Data Contract settings of ``scope``; empty removes them."""
        if not value:
            self._conn.execute("DELETE FROM contract_config WHERE scope = ?", (scope,))
        else:
            self._conn.execute(
                "INSERT OR REPLACE INTO contract_config (scope, value) VALUES (?, ?)",
                (scope, json.dumps(dict(value), sort_keys=True)),
            )

    def mode(self, scope: str) -> str | None:
        """The mode set for ``scope`` (a subject or :data:`GLOBAL`)."""
        row = self._conn.execute("SELECT mode FROM mode WHERE scope = ?", (scope,)).fetchone()
        return None if row is None else str(row[0])

    def set_mode(self, scope: str, mode: str | None) -> None:
        """Set the mode of ``scope``; ``None`` removes it."""
        if mode is None:
            self._conn.execute("DELETE FROM mode WHERE scope = ?", (scope,))
        else:
            self._conn.execute(
                "INSERT OR REPLACE INTO mode (scope, mode) VALUES (?, ?)", (scope, mode)
            )

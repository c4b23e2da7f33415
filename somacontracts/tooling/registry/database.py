"""The registry's SQLite database: its tables, and opening a file safely.

:func:`open_database` opens a file (or memory) for one store: in WAL mode with an
exclusive lock held for the life of the connection, so a second registry on the same
file is refused at start; a file of another kind, format or state is a
:class:`~somacontracts.tooling.registry.errors.RegistryStoreError` naming the cause. Tables and
columns added since a database was made are added when it is opened, and filled in
(each schema's GUID, :func:`guid_of`).
"""

from __future__ import annotations

import sqlite3
import uuid

from somacontracts.errors import ContractError
from somacontracts.tooling.registry.errors import RegistryStoreError

__all__ = ["guid_of", "open_database"]

_FORMAT = "1"
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schemas (
    id INTEGER PRIMARY KEY,
    schema_type TEXT NOT NULL,
    schema TEXT NOT NULL,
    refs TEXT NOT NULL,
    expanded TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    normal_hash TEXT NOT NULL,
    metadata TEXT,
    rule_set TEXT,
    guid TEXT
);
CREATE INDEX IF NOT EXISTS schemas_by_normal_hash ON schemas (normal_hash);
CREATE TABLE IF NOT EXISTS versions (
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    schema_id INTEGER NOT NULL REFERENCES schemas (id),
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, version)
);
CREATE INDEX IF NOT EXISTS versions_by_schema ON versions (schema_id);
CREATE TABLE IF NOT EXISTS refs (
    schema_id INTEGER NOT NULL REFERENCES schemas (id),
    subject TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refs_by_target ON refs (subject, version);
CREATE TABLE IF NOT EXISTS config (scope TEXT PRIMARY KEY, compatibility TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mode (scope TEXT PRIMARY KEY, mode TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contract_config (scope TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keks (
    name TEXT PRIMARY KEY,
    kms_type TEXT NOT NULL,
    kms_key_id TEXT NOT NULL,
    kms_props TEXT NOT NULL,
    doc TEXT,
    shared INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS associations (
    resource_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    association_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    resource_namespace TEXT NOT NULL,
    subject TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (resource_id, resource_type, association_type)
);
CREATE INDEX IF NOT EXISTS associations_by_name ON associations (resource_name);
CREATE INDEX IF NOT EXISTS associations_by_subject ON associations (subject);
CREATE TABLE IF NOT EXISTS deks (
    kek_name TEXT NOT NULL,
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    algorithm TEXT NOT NULL,
    encrypted_key_material TEXT NOT NULL,
    ts INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kek_name, subject, algorithm, version)
);
"""


def open_database(path: str, lock_timeout: float) -> sqlite3.Connection:
    """A connection to the registry database at ``path`` (``:memory:`` for none), its
    tables made or brought up to date; :class:`RegistryStoreError` if it cannot be used."""
    try:
        conn = sqlite3.connect(
            path, timeout=lock_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as err:
        raise RegistryStoreError(path, _reason(err)) from err
    try:
        if path != ":memory:":
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last
            # registrations, which clients then repeat.
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN EXCLUSIVE")
        _check_format(conn, path)
        for statement in _TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)
        _add_columns(conn)
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?)", (_FORMAT,))
        conn.execute("COMMIT")
    except (sqlite3.Error, ContractError) as err:
        conn.close()
        if isinstance(err, RegistryStoreError):
            raise
        raise RegistryStoreError(path, _reason(err)) from err
    return conn


def guid_of(hash_: str) -> str:
    """The GUID of the schema whose identity hash (SHA-256, hex) is ``hash_``: its first
    128 bits as an RFC 9562 version 8 UUID (122 of them kept), in the usual text form.

    Confluent Platform derives its GUIDs from an MD5 digest of the same parts; the digest
    differs, so the same schema has another GUID there, as it may have another id.
    """
    raw = bytearray(bytes.fromhex(hash_[:32]))
    raw[6] = (raw[6] & 0x0F) | 0x80
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def _add_columns(conn: sqlite3.Connection) -> None:
    """Columns added since a database was created: Data Contract ``metadata`` and
    ``rule_set`` (empty for schemas registered before), and ``guid`` (filled in from each
    schema's hash), with its index."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(schemas)")}
    for column in ("metadata", "rule_set", "guid"):
        if column not in present:
            conn.execute(f"ALTER TABLE schemas ADD COLUMN {column} TEXT")
    missing = conn.execute("SELECT id, hash FROM schemas WHERE guid IS NULL").fetchall()
    filled = [(guid_of(hash_), schema_id) for schema_id, hash_ in missing]
    conn.executemany("UPDATE schemas SET guid = ? WHERE id = ?", filled)
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS schemas_by_guid ON schemas (guid)")


def _check_format(conn: sqlite3.Connection, path: str) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return
    row = None
    if "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    if row is None:
        raise RegistryStoreError(path, "is a SQLite database but not one of a schema registry")
    if row[0] != _FORMAT:
        raise RegistryStoreError(
            path, f"has registry format {row[0]}, this version reads format {_FORMAT}"
        )


def _reason(err: BaseException) -> str:
    text = str(err)
    if "locked" in text or "busy" in text:
        return f"is locked by another process, perhaps another registry serving it ({text})"
    if "not a database" in text or "malformed" in text:
        return f"is corrupt or not a SQLite database ({text})"
    if "unable to open" in text:
        return f"cannot be opened; check that its folder exists and is writable ({text})"
    return text

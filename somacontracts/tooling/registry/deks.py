"""The DEK registry of Confluent's client-side field encryption, served beside the schemas.

Key encryption keys (KEKs) name a key in a KMS; data encryption keys (DEKs) are the keys
that encrypt fields, kept here only encrypted by their KEK (``encryptedKeyMaterial``):
the registry never sees a key in the clear. A DEK belongs to a KEK, a subject, an
algorithm and a version (versions grow when a DEK is rotated). KEKs and DEKs are
soft-deleted first, then deleted for good; a KEK with DEKs cannot be deleted.

The API is Confluent's ``/dek-registry/v1``: ``/keks``, ``/keks/{name}``,
``/keks/{name}/deks``, ``/keks/{name}/deks/{subject}``,
``/keks/{name}/deks/{subject}/versions``, ``/keks/{name}/deks/{subject}/versions/{v}``,
their ``/undelete``, with ``deleted``, ``permanent`` and ``algorithm`` parameters and
Confluent's error codes (40470 not found, 40471 not soft-deleted first, 40971 exists,
42271 invalid key, 42272 a KEK still has DEKs). Names are checked as Confluent checks
them (:func:`is_kek_name`; a DEK's subject is any text without control characters).
A shared KEK asks the registry to make DEKs itself through the KMS, which this local
registry cannot reach: there the client sends ``encryptedKeyMaterial``, as it does for a
KEK that is not shared.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import unicodedata
from collections.abc import Mapping
from typing import Any

from somacontracts.tooling.registry.errors import ApiError, shown
from somacontracts.tooling.registry.store import MAX_VERSION, RegistryStore

__all__ = ["ALGORITHMS", "MAX_NAME", "DekRegistry", "NoContent", "is_kek_name"]

ALGORITHMS = ("AES256_GCM", "AES128_GCM", "AES256_SIV")
MAX_NAME = 64
"""The longest KEK name Confluent's DEK registry accepts."""
_LETTERS = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo"})
_LETTERS_AND_DIGITS = _LETTERS | {"Nd"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_TEXT = 4096
_KEK_COLUMNS = "name, kms_type, kms_key_id, kms_props, doc, shared, ts, deleted"
_DEK_COLUMNS = "kek_name, subject, version, algorithm, encrypted_key_material, ts, deleted"


class NoContent:
    """The answer of a delete or undelete: 204 with no body."""


def not_found(name: str) -> ApiError:
    """40470."""
    return ApiError(404, 40470, f"Key '{shown(name)}' not found")


def _invalid(what: str) -> ApiError:
    return ApiError(422, 42271, f"Invalid or missing {what}")


def _exists(name: str) -> ApiError:
    return ApiError(409, 40971, f"Key '{shown(name)}' already exists; use a different value")


def _not_soft_deleted(name: str) -> ApiError:
    return ApiError(
        404, 40471, f"Key '{shown(name)}' was not deleted first before being permanently deleted"
    )


class DekRegistry:
    """KEKs and DEKs in the registry's store, as the ``/dek-registry/v1`` routes use them."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    # -- KEKs ------------------------------------------------------------------------

    def kek_names(self, *, deleted: bool) -> list[str]:
        with self.store.reading():
            rows = self.store.execute("SELECT name, deleted FROM keks ORDER BY name")
        return [name for name, gone in rows if deleted or not gone]

    def kek(self, name: str, *, deleted: bool = False) -> dict[str, Any]:
        with self.store.reading():
            return _kek(self._kek_row(name, deleted=deleted))

    def create_kek(self, body: Any) -> dict[str, Any]:
        request = _object(body)
        name = _name(request.get("name"))
        kms_type = _text(request.get("kmsType"), "kmsType")
        kms_key_id = _text(request.get("kmsKeyId"), "kmsKeyId")
        props = _props(request.get("kmsProps"))
        doc = _optional_text(request.get("doc"), "doc")
        shared = _flag(request.get("shared"), "shared")
        with self.store.transaction():
            rows = self.store.execute(f"SELECT {_KEK_COLUMNS} FROM keks WHERE name = ?", (name,))
            if rows:
                known = _kek(rows[0])
                wanted = (kms_type, kms_key_id, props, doc, shared, False)
                keys = ("kmsType", "kmsKeyId", "kmsProps", "doc", "shared", "deleted")
                if tuple(known.get(k) for k in keys) == wanted:
                    return known  # the same request again
                raise _exists(name)
            self.store.execute(
                f"INSERT INTO keks ({_KEK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (name, kms_type, kms_key_id, json.dumps(props), doc, int(shared), _now()),
            )
            return _kek(self._kek_row(name, deleted=False))

    def update_kek(self, name: str, body: Any) -> dict[str, Any]:
        request = _object(body)
        with self.store.transaction():
            current = _kek(self._kek_row(name, deleted=False))
            props = _props(request.get("kmsProps", current["kmsProps"]))
            doc = _optional_text(request.get("doc", current.get("doc")), "doc")
            shared = _flag(request.get("shared", current["shared"]), "shared")
            self.store.execute(
                "UPDATE keks SET kms_props = ?, doc = ?, shared = ? WHERE name = ?",
                (json.dumps(props), doc, int(shared), name),
            )
            return _kek(self._kek_row(name, deleted=False))

    def delete_kek(self, name: str, *, permanent: bool) -> NoContent:
        with self.store.transaction():
            kek = _kek(self._kek_row(name, deleted=True))
            deks = self.store.execute("SELECT deleted FROM deks WHERE kek_name = ?", (name,))
            if permanent:
                if deks:
                    raise ApiError(
                        422,
                        42272,
                        f"Key '{shown(name)}' still has DEKs; delete them for good first",
                    )
                if not kek["deleted"]:
                    raise _not_soft_deleted(name)
                self.store.execute("DELETE FROM keks WHERE name = ?", (name,))
            else:
                if any(not gone for (gone,) in deks):
                    raise ApiError(
                        422, 42272, f"Key '{shown(name)}' still has DEKs; delete them first"
                    )
                self.store.execute("UPDATE keks SET deleted = 1 WHERE name = ?", (name,))
        return NoContent()

    def undelete_kek(self, name: str) -> NoContent:
        with self.store.transaction():
            self._kek_row(name, deleted=True)
            self.store.execute("UPDATE keks SET deleted = 0 WHERE name = ?", (name,))
        return NoContent()

    # -- DEKs ------------------------------------------------------------------------

    def dek_subjects(self, kek: str, *, deleted: bool) -> list[str]:
        with self.store.reading():
            self._kek_row(kek, deleted=deleted)
            rows = self.store.execute(
                "SELECT DISTINCT subject FROM deks WHERE kek_name = ?"
                + ("" if deleted else " AND deleted = 0")
                + " ORDER BY subject",
                (kek,),
            )
        return [subject for (subject,) in rows]

    def dek_versions(self, kek: str, subject: str, algorithm: str, *, deleted: bool) -> list[int]:
        algorithm = _algorithm(algorithm)
        with self.store.reading():
            self._kek_row(kek, deleted=deleted)
            rows = self._dek_rows(kek, subject, algorithm, deleted=deleted)
        return [row[2] for row in rows]

    def dek(
        self, kek: str, subject: str, algorithm: str, version: str, *, deleted: bool
    ) -> dict[str, Any]:
        """A DEK by version; ``latest`` or -1 for the newest."""
        algorithm = _algorithm(algorithm)
        number = _version(version)
        with self.store.reading():
            self._kek_row(kek, deleted=deleted)
            rows = self._dek_rows(kek, subject, algorithm, deleted=deleted)
        chosen = rows[-1:] if number is None else [r for r in rows if r[2] == number]
        if not chosen:
            raise not_found(subject)
        return _dek(chosen[0])

    def create_dek(self, kek: str, body: Any, subject: str | None = None) -> dict[str, Any]:
        request = _object(body)
        subject = _subject(request.get("subject") if subject is None else subject)
        given = request.get("subject")
        if given is not None and given != subject:
            raise _invalid("subject: the body names another subject than the path")
        version = request.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int):
            raise _invalid("version")
        if not 1 <= version <= MAX_VERSION:
            raise _invalid(f"version: a DEK version is from 1 to {MAX_VERSION}")
        algorithm = _algorithm(request.get("algorithm"))
        material = request.get("encryptedKeyMaterial")
        if material is not None and not _base64(material):
            raise _invalid("encryptedKeyMaterial: base64 text of at most 64 KiB")
        with self.store.transaction():
            owner = _kek(self._kek_row(kek, deleted=False))
            if not isinstance(material, str) or not material:
                reason = (
                    "encryptedKeyMaterial: the KEK is shared, and this registry cannot reach "
                    "a KMS to make the key; send it encrypted"
                    if owner["shared"]
                    else "encryptedKeyMaterial"
                )
                raise _invalid(reason)
            rows = self.store.execute(
                f"SELECT {_DEK_COLUMNS} FROM deks WHERE kek_name = ? AND subject = ?"
                " AND algorithm = ? AND version = ?",
                (kek, subject, algorithm, version),
            )
            if rows:
                known = _dek(rows[0])
                if known["encryptedKeyMaterial"] == material and not known["deleted"]:
                    return known
                raise _exists(subject)
            self.store.execute(
                f"INSERT INTO deks ({_DEK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0)",
                (kek, subject, version, algorithm, material, _now()),
            )
            rows = self._dek_rows(kek, subject, algorithm, deleted=False)
        return _dek(next(r for r in rows if r[2] == version))

    def delete_dek(
        self, kek: str, subject: str, algorithm: str, version: str | None, *, permanent: bool
    ) -> NoContent:
        """Delete one version (``version``) or every version of a subject's DEK."""
        algorithm = _algorithm(algorithm)
        number = None if version is None else _version(version)
        with self.store.transaction():
            self._kek_row(kek, deleted=True)
            rows = self._dek_rows(kek, subject, algorithm, deleted=True)
            if version is not None:  # latest: the newest a delete can act on
                target = [r for r in rows if r[6]] if permanent else [r for r in rows if not r[6]]
                rows = target[-1:] if number is None else [r for r in rows if r[2] == number]
            if not rows:
                raise not_found(subject)
            for row in rows:
                if permanent and not row[6]:
                    raise _not_soft_deleted(subject)
            statement = (
                "DELETE FROM deks" if permanent else "UPDATE deks SET deleted = 1"
            ) + " WHERE kek_name = ? AND subject = ? AND algorithm = ? AND version = ?"
            for row in rows:
                self.store.execute(statement, (kek, subject, algorithm, row[2]))
        return NoContent()

    def undelete_dek(
        self, kek: str, subject: str, algorithm: str, version: str | None
    ) -> NoContent:
        algorithm = _algorithm(algorithm)
        number = None if version is None else _version(version)
        with self.store.transaction():
            kek_row = _kek(self._kek_row(kek, deleted=True))
            if kek_row["deleted"]:
                raise ApiError(404, 40472, f"Key '{shown(kek)}' must be undeleted first")
            rows = self._dek_rows(kek, subject, algorithm, deleted=True)
            if version is not None:  # latest: the newest deleted one
                deleted_rows = [r for r in rows if r[6]]
                rows = deleted_rows[-1:] if number is None else [r for r in rows if r[2] == number]
            if not rows:
                raise not_found(subject)
            for row in rows:
                self.store.execute(
                    "UPDATE deks SET deleted = 0 WHERE kek_name = ? AND subject = ?"
                    " AND algorithm = ? AND version = ?",
                    (kek, subject, algorithm, row[2]),
                )
        return NoContent()

    # -- rows --------------------------------------------------------------------------

    def _kek_row(self, name: str, *, deleted: bool) -> tuple[Any, ...]:
        _name(name)
        rows = self.store.execute(f"SELECT {_KEK_COLUMNS} FROM keks WHERE name = ?", (name,))
        if not rows or (rows[0][7] and not deleted):
            raise not_found(name)
        return rows[0]

    def _dek_rows(
        self, kek: str, subject: str, algorithm: str, *, deleted: bool
    ) -> list[tuple[Any, ...]]:
        _subject(subject)
        return self.store.execute(
            f"SELECT {_DEK_COLUMNS} FROM deks WHERE kek_name = ? AND subject = ?"
            " AND algorithm = ?" + ("" if deleted else " AND deleted = 0") + " ORDER BY version",
            (kek, subject, algorithm),
        )


# -- values ----------------------------------------------------------------------------


def _now() -> int:
    return int(time.time() * 1000)


def _kek(row: tuple[Any, ...]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": row[0],
        "kmsType": row[1],
        "kmsKeyId": row[2],
        "kmsProps": json.loads(row[3]),
        "shared": bool(row[5]),
        "ts": row[6],
        "deleted": bool(row[7]),
    }
    if row[4] is not None:
        body["doc"] = row[4]
    return body


def _dek(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "kekName": row[0],
        "subject": row[1],
        "version": row[2],
        "algorithm": row[3],
        "encryptedKeyMaterial": row[4],
        "ts": row[5],
        "deleted": bool(row[6]),
    }


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, 42271, "Invalid key: the request body must be a JSON object")
    return body


def is_kek_name(text: str) -> bool:
    """Whether Confluent's DEK registry accepts ``text`` as a KEK name: 1 to
    :data:`MAX_NAME` characters, a letter or ``_``, then letters, digits, ``_`` or ``-``.

    Letters and digits are Java's (``Character.isLetter``, ``isLetterOrDigit``: the
    general categories L* and Nd), tested per UTF-16 unit, so a character outside the
    Basic Multilingual Plane, whose units are surrogates, is never one. Python's ``\\w``
    would also take other numerals (``²``, ``Ⅳ``), which Confluent refuses.
    """
    if not 1 <= len(text) <= MAX_NAME:
        return False
    first, rest = text[0], text[1:]
    if first != "_" and not _category_in(first, _LETTERS):
        return False
    return all(c in "_-" or _category_in(c, _LETTERS_AND_DIGITS) for c in rest)


def _category_in(char: str, categories: frozenset[str]) -> bool:
    return char <= "\uffff" and unicodedata.category(char) in categories


def _name(value: Any) -> str:
    if not isinstance(value, str) or not is_kek_name(value):
        raise _invalid(
            f"name: 1 to {MAX_NAME} characters, a letter or underscore, then letters, "
            "digits, underscores or hyphens"
        )
    return value


def _subject(value: Any) -> str:
    """Any non-empty text without control characters, as Confluent's ``checkSubject``."""
    if not isinstance(value, str) or not value or _CONTROL.search(value):
        raise _invalid("subject")
    return value


def _algorithm(value: Any) -> str:
    if value is None or value == "":
        return ALGORITHMS[0]
    if value not in ALGORITHMS:
        raise _invalid(f"algorithm: one of {', '.join(ALGORITHMS)}")
    return str(value)


def _version(text: str) -> int | None:
    if text in ("latest", "-1"):
        return None
    if not re.fullmatch(r"[0-9]{1,10}", text) or not 1 <= int(text) <= MAX_VERSION:
        raise _invalid(f"version {shown(text, 40)!r}")
    return int(text)


def _props(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 64:
        raise _invalid("kmsProps: an object of at most 64 strings")
    return {_text(k, "kmsProps"): _text(v, f"kmsProps {shown(k, 40)}") for k, v in value.items()}


def _text(value: Any, what: str, *, limit: int = _MAX_TEXT) -> str:
    """A non-empty string without control characters, at most ``limit`` characters."""
    if not isinstance(value, str) or not value or len(value) > limit or _CONTROL.search(value):
        raise _invalid(f"{what}: text of 1 to {limit} characters, no control characters")
    return value


def _optional_text(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _base64(value: Any) -> bool:
    if not isinstance(value, str) or not value or len(value) > 64 * 1024:
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _flag(value: Any, what: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid(f"{what}: true or false")
    return value

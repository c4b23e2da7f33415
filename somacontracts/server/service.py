"""The registry's operations, one method per endpoint of Confluent's REST API, without HTTP.

Each method takes decoded arguments, runs as one transaction of the store and returns
the JSON value Confluent returns, or raises :class:`~somacontracts.server.errors.ApiError`
with Confluent's status and error code. Rules followed, as Confluent does:

* registering a schema a live version of the subject already has returns that
  version's id and adds no version; the same schema under any subject has one id;
* version numbers continue after a soft delete and start again at 1 only after every
  version was deleted permanently; a permanent delete needs a soft delete first;
* compatibility is checked against the live versions only: all of them for the
  transitive levels, the latest otherwise; the level is the subject's, else the
  global one (``BACKWARD`` unless set);
* ``READONLY`` mode refuses writes to the subject (42205); ``IMPORT`` mode accepts
  schemas with the ``id`` and ``version`` the request gives, without checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.server import errors
from somacontracts.server.requests import (
    MAX_VERSION,
    check_subject,
    messages,
    optional_int,
    request_object,
    version_body,
    version_number,
)
from somacontracts.server.schemas import (
    SCHEMA_TYPES,
    Prepared,
    as_int,
    check,
    prepare,
    reference_key,
    reference_list,
    same,
    schema_text,
)
from somacontracts.server.store import GLOBAL, RegistryStore, StoredSchema, SubjectVersion

__all__ = ["DEFAULT_COMPATIBILITY", "DEFAULT_MODE", "MODES", "SCHEMA_TYPES", "Registry"]

DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD
DEFAULT_MODE = "READWRITE"
MODES = ("READWRITE", "READONLY", "IMPORT")


class Registry:
    """Confluent Schema Registry's operations over a :class:`RegistryStore`."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    # --- subjects and versions -------------------------------------------------------

    def subjects(
        self, *, deleted: bool = False, deleted_only: bool = False, prefix: str = ""
    ) -> list[str]:
        """``GET /subjects``."""
        with self.store.reading():
            found = self.store.subjects()
        if deleted_only:
            return [s for s, live in found if not live and s.startswith(prefix)]
        return [s for s, live in found if (live or deleted) and s.startswith(prefix)]

    def versions(
        self, subject: str, *, deleted: bool = False, deleted_only: bool = False
    ) -> list[int]:
        """``GET /subjects/{subject}/versions``."""
        with self.store.reading():
            every = self.store.versions(subject)
        if deleted_only:
            chosen = [v.version for v in every if v.deleted]
        else:
            chosen = [v.version for v in every if deleted or not v.deleted]
        if not chosen and not (deleted_only and every):
            raise errors.subject_not_found(subject)
        return chosen

    def register(self, subject: str, body: Any, *, normalize: bool = False) -> dict[str, object]:
        """``POST /subjects/{subject}/versions``: the id of the schema under ``subject``."""
        check_subject(subject)
        request = request_object(body)
        with self.store.transaction():
            mode = self._mode(subject)
            if mode == "READONLY":
                raise errors.operation_not_permitted(f"Subject {subject} is in read-only mode")
            prepared = self._prepare(request, normalize=normalize)
            every = self.store.versions(subject)
            live = [v for v in every if not v.deleted]
            wanted_id = optional_int(request, "id")
            wanted_version = optional_int(request, "version")
            if mode == "IMPORT":
                return self._import(subject, prepared, every, wanted_id, wanted_version)
            if wanted_id not in (None, -1):
                raise errors.operation_not_permitted(
                    f"Subject {subject} is not in import mode; a schema id cannot be given"
                )
            for version in reversed(live):
                stored = self._schema(version.schema_id)
                if same(stored, prepared, normalize=normalize):
                    return {"id": stored.id}
            level = self._level(subject)
            previous = [self._schema(v.schema_id) for v in live]
            result = check(level, prepared, previous)
            if not result.compatible:
                raise errors.incompatible_schema(subject, messages(result, live, previous, level))
            schema_id = self._schema_id(prepared)
            number = every[-1].version + 1 if every else 1
            self.store.add_version(subject, number, schema_id)
            return {"id": schema_id}

    def _import(
        self,
        subject: str,
        prepared: Prepared,
        every: list[SubjectVersion],
        wanted_id: int | None,
        wanted_version: int | None,
    ) -> dict[str, object]:
        existing = self.store.schema_by_hash(prepared.hash)
        if wanted_id in (None, -1):
            schema_id = existing.id if existing is not None else self._schema_id(prepared)
        else:
            assert wanted_id is not None
            taken = self.store.schema(wanted_id)
            if taken is not None and taken.hash != prepared.hash:
                raise errors.operation_not_permitted(
                    f"Overwrite new schema with id {wanted_id} is not permitted."
                )
            if existing is not None and existing.id != wanted_id:
                raise errors.operation_not_permitted(
                    f"Overwrite new schema with id {wanted_id} is not permitted: the schema "
                    f"already has id {existing.id}."
                )
            schema_id = wanted_id if taken is not None else self._schema_id(prepared, wanted_id)
        number = wanted_version if wanted_version not in (None, -1) else None
        if number is None:
            number = every[-1].version + 1 if every else 1
        elif not 1 <= number <= MAX_VERSION:
            raise errors.invalid_version(str(number))
        if any(v.version == number for v in every):
            raise errors.operation_not_permitted(
                f"Version {number} of subject {subject} already exists."
            )
        self.store.add_version(subject, number, schema_id)
        return {"id": schema_id}

    def lookup(
        self, subject: str, body: Any, *, normalize: bool = False, deleted: bool = False
    ) -> dict[str, object]:
        """``POST /subjects/{subject}``: the version of ``subject`` with this schema."""
        request = request_object(body)
        with self.store.reading():
            every = self.store.versions(subject)
            candidates = [v for v in every if deleted or not v.deleted]
            if not candidates:
                raise errors.subject_not_found(subject)
            prepared = self._prepare(request, normalize=normalize)
            for version in reversed(candidates):
                stored = self._schema(version.schema_id)
                if same(stored, prepared, normalize=normalize):
                    return version_body(version, stored)
        raise errors.schema_not_found()

    def version(self, subject: str, version: str, *, deleted: bool = False) -> dict[str, object]:
        """``GET /subjects/{subject}/versions/{version}``."""
        number = version_number(version)
        with self.store.reading():
            found = self._find_version(subject, number, deleted=deleted)
            return version_body(found, self._schema(found.schema_id))

    def referenced_by(self, subject: str, version: str) -> list[int]:
        """``GET /subjects/{subject}/versions/{version}/referencedby``."""
        number = version_number(version)
        with self.store.reading():
            found = self._find_version(subject, number, deleted=False)
            return self.store.referenced_by(subject, found.version)

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """``DELETE /subjects/{subject}``: the versions deleted."""
        with self.store.transaction():
            self._check_writable(subject)
            every = self.store.versions(subject)
            if not every:
                raise errors.subject_not_found(subject)
            live = [v for v in every if not v.deleted]
            if permanent:
                if live:
                    raise errors.subject_not_soft_deleted(subject)
                for v in every:
                    self._check_unreferenced(v)
                for v in every:
                    self.store.remove(subject, v.version)
                self.store.set_compatibility(subject, None)
                self.store.set_mode(subject, None)
                return [v.version for v in every]
            if not live:
                raise errors.subject_soft_deleted(subject)
            for v in live:
                self._check_unreferenced(v)
            for v in live:
                self.store.soft_delete(subject, v.version)
            return [v.version for v in live]

    def delete_version(self, subject: str, version: str, *, permanent: bool = False) -> int:
        """``DELETE /subjects/{subject}/versions/{version}``: the version deleted."""
        number = version_number(version)
        with self.store.transaction():
            self._check_writable(subject)
            every = self.store.versions(subject)
            live = [v for v in every if not v.deleted]
            if not every or (number is None and not live and not permanent):
                raise errors.subject_not_found(subject)
            if number is None:
                target = (every if permanent else live)[-1]
            else:
                matches = [v for v in every if v.version == number]
                if not matches:
                    raise errors.version_not_found(number)
                target = matches[0]
            if permanent:
                if not target.deleted:
                    raise errors.version_not_soft_deleted(subject, target.version)
                self._check_unreferenced(target)
                self.store.remove(subject, target.version)
                return target.version
            if target.deleted:
                raise errors.version_soft_deleted(subject, target.version)
            self._check_unreferenced(target)
            self.store.soft_delete(subject, target.version)
            return target.version

    # --- schemas by id ---------------------------------------------------------------

    def schema_by_id(self, schema_id: int) -> dict[str, object]:
        """``GET /schemas/ids/{id}``."""
        with self.store.reading():
            stored = self._visible_schema(schema_id)
        body: dict[str, object] = {"schema": stored.schema}
        if stored.schema_type != "AVRO":
            body["schemaType"] = stored.schema_type
        if stored.references:
            body["references"] = list(stored.references)
        return body

    def raw_schema_by_id(self, schema_id: int) -> str:
        """``GET /schemas/ids/{id}/schema``."""
        with self.store.reading():
            return self._visible_schema(schema_id).schema

    def subjects_of_schema(self, schema_id: int, *, deleted: bool = False) -> list[str]:
        """``GET /schemas/ids/{id}/subjects``."""
        with self.store.reading():
            self._visible_schema(schema_id)
            found = self.store.versions_of_schema(schema_id)
        return sorted({v.subject for v in found if deleted or not v.deleted})

    def versions_of_schema(
        self, schema_id: int, *, deleted: bool = False
    ) -> list[dict[str, object]]:
        """``GET /schemas/ids/{id}/versions``."""
        with self.store.reading():
            self._visible_schema(schema_id)
            found = self.store.versions_of_schema(schema_id)
        return [
            {"subject": v.subject, "version": v.version} for v in found if deleted or not v.deleted
        ]

    # --- compatibility ---------------------------------------------------------------

    def test_compatibility(
        self,
        subject: str,
        version: str | None,
        body: Any,
        *,
        normalize: bool = False,
        verbose: bool = False,
    ) -> dict[str, object]:
        """``POST /compatibility/subjects/{subject}/versions[/{version}]``."""
        number = None if version is None else version_number(version)
        request = request_object(body)
        with self.store.reading():
            prepared = self._prepare(request, normalize=normalize)
            live = [v for v in self.store.versions(subject) if not v.deleted]
            level = self._level(subject)
            if version is None:
                chosen = live
            elif number is None:
                chosen = live[-1:]
            else:
                chosen = [v for v in live if v.version == number]
                if not chosen:
                    raise errors.version_not_found(number)
            previous = [self._schema(v.schema_id) for v in chosen]
            result = check(level, prepared, previous)
        answer: dict[str, object] = {"is_compatible": result.compatible}
        if verbose:
            answer["messages"] = (
                [] if result.compatible else messages(result, chosen, previous, level)
            )
        return answer

    # --- config and mode -------------------------------------------------------------

    def get_config(self, subject: str | None, *, default_to_global: bool = False) -> dict[str, str]:
        """``GET /config`` and ``GET /config/{subject}``."""
        with self.store.reading():
            if subject is None:
                return {"compatibilityLevel": self._global_level()}
            level = self.store.compatibility(subject)
            if level is None:
                if not default_to_global:
                    raise errors.subject_compatibility_not_configured(subject)
                level = self._global_level()
            return {"compatibilityLevel": level}

    def set_config(self, subject: str | None, body: Any) -> dict[str, str]:
        """``PUT /config`` and ``PUT /config/{subject}``."""
        if subject is not None:
            check_subject(subject)
        request = request_object(body)
        value = request.get("compatibility", request.get("compatibilityLevel"))
        try:
            level = CompatibilityLevel(str(value).upper()) if isinstance(value, str) else None
        except ValueError:
            level = None
        if level is None:
            raise errors.invalid_compatibility_level()
        with self.store.transaction():
            if subject is not None:
                self._check_writable(subject)
            self.store.set_compatibility(GLOBAL if subject is None else subject, level.value)
        return {"compatibility": level.value}

    def delete_config(self, subject: str | None) -> dict[str, str]:
        """``DELETE /config`` and ``DELETE /config/{subject}``: the level removed."""
        with self.store.transaction():
            if subject is None:
                old = self._global_level()
                self.store.set_compatibility(GLOBAL, None)
                return {"compatibilityLevel": old}
            level = self.store.compatibility(subject)
            if level is None:
                if not self.store.versions(subject):
                    raise errors.subject_not_found(subject)
                raise errors.subject_compatibility_not_configured(subject)
            self.store.set_compatibility(subject, None)
            return {"compatibilityLevel": level}

    def get_mode(self, subject: str | None, *, default_to_global: bool = False) -> dict[str, str]:
        """``GET /mode`` and ``GET /mode/{subject}``."""
        with self.store.reading():
            if subject is None:
                return {"mode": self.store.mode(GLOBAL) or DEFAULT_MODE}
            mode = self.store.mode(subject)
            if mode is None:
                if not default_to_global:
                    raise errors.subject_mode_not_configured(subject)
                mode = self.store.mode(GLOBAL) or DEFAULT_MODE
            return {"mode": mode}

    def set_mode(self, subject: str | None, body: Any, *, force: bool = False) -> dict[str, str]:
        """``PUT /mode`` and ``PUT /mode/{subject}``."""
        if subject is not None:
            check_subject(subject)
        value = request_object(body).get("mode")
        mode = value.upper() if isinstance(value, str) else None
        if mode not in MODES:
            raise errors.invalid_mode(value)
        with self.store.transaction():
            if mode == "IMPORT" and not force:
                if subject is None:
                    taken = bool(self.store.subjects())
                else:
                    taken = bool(self.store.versions(subject))
                if taken:
                    raise errors.operation_not_permitted(
                        "Cannot import since found existing subjects"
                    )
            self.store.set_mode(GLOBAL if subject is None else subject, mode)
        return {"mode": mode}

    def delete_mode(self, subject: str) -> dict[str, str]:
        """``DELETE /mode/{subject}``: the mode removed."""
        with self.store.transaction():
            mode = self.store.mode(subject)
            if mode is None:
                raise errors.subject_mode_not_configured(subject)
            self.store.set_mode(subject, None)
            return {"mode": mode}

    # --- helpers ---------------------------------------------------------------------

    def _schema(self, schema_id: int) -> StoredSchema:
        stored = self.store.schema(schema_id)
        if stored is None:
            raise errors.schema_not_found(schema_id)
        return stored

    def _visible_schema(self, schema_id: int) -> StoredSchema:
        # A schema stays readable while any version, even soft-deleted, uses it.
        stored = self.store.schema(schema_id)
        if stored is None or not self.store.versions_of_schema(schema_id):
            raise errors.schema_not_found(schema_id)
        return stored

    def _find_version(self, subject: str, number: int | None, *, deleted: bool) -> SubjectVersion:
        candidates = [v for v in self.store.versions(subject) if deleted or not v.deleted]
        if not candidates:
            raise errors.subject_not_found(subject)
        if number is None:
            return candidates[-1]
        for v in candidates:
            if v.version == number:
                return v
        raise errors.version_not_found(number)

    def _global_level(self) -> str:
        return self.store.compatibility(GLOBAL) or DEFAULT_COMPATIBILITY.value

    def _level(self, subject: str) -> CompatibilityLevel:
        return CompatibilityLevel(self.store.compatibility(subject) or self._global_level())

    def _mode(self, subject: str) -> str:
        return self.store.mode(subject) or self.store.mode(GLOBAL) or DEFAULT_MODE

    def _check_writable(self, subject: str) -> None:
        if self._mode(subject) == "READONLY":
            raise errors.operation_not_permitted(f"Subject {subject} is in read-only mode")

    def _check_unreferenced(self, version: SubjectVersion) -> None:
        if self.store.referenced_by(version.subject, version.version):
            raise errors.reference_exists(version.subject, version.version)

    def _schema_id(self, prepared: Prepared, wanted: int | None = None) -> int:
        existing = self.store.schema_by_hash(prepared.hash)
        if existing is not None:
            return existing.id
        return self.store.add_schema(
            schema_type=prepared.schema_type,
            schema=prepared.text,
            references=prepared.references,
            expanded=json.dumps(prepared.expanded, separators=(",", ":")),
            hash_=prepared.hash,
            normal_hash=prepared.normal_hash,
            schema_id=wanted,
        )

    def _prepare(self, request: Mapping[str, Any], *, normalize: bool) -> Prepared:
        text = schema_text(request)
        references = self._references(request.get("references"), normalize=normalize)
        defined = []
        for ref in references:
            target = self._find_version(str(ref["subject"]), as_int(ref["version"]), deleted=False)
            defined.append((str(ref["name"]), self._schema(target.schema_id).expanded))
        return prepare(text, references, defined, normalize=normalize)

    def _references(self, value: Any, *, normalize: bool) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        for ref in reference_list(value):
            version = ref["version"]
            if version == -1:
                live = [v for v in self.store.versions(ref["subject"]) if not v.deleted]
                if not live:
                    raise errors.invalid_schema(f"reference subject {ref['subject']!r} not found")
                version = live[-1].version
            try:
                self._find_version(ref["subject"], version, deleted=False)
            except errors.ApiError as err:
                raise errors.invalid_schema(
                    f"reference {ref['name']!r} to subject {ref['subject']!r} version "
                    f"{version} cannot be resolved: {err.message}"
                ) from err
            found.append({"name": ref["name"], "subject": ref["subject"], "version": version})
        if normalize:
            unique = {reference_key(r): r for r in found}
            found = [unique[key] for key in sorted(unique)]
        return found

"""The registry's write operations, one method per endpoint of Confluent's REST API, without
HTTP; the reads are :class:`~somacontracts.tooling.registry.reads.RegistryReads`'s, the config and
mode endpoints :class:`~somacontracts.tooling.registry.subject_config.SubjectConfigs`'s.

Each method takes decoded arguments, runs as one transaction of the store (parsing and
compatibility checks outside its lock) and returns the JSON value Confluent returns, or
raises :class:`~somacontracts.tooling.registry.errors.ApiError` with Confluent's status and error
code. Rules followed, as Confluent does:

* registering a schema a live version of the subject already has returns that
  version's id and adds no version; the same schema under any subject has one id;
* version numbers continue after a soft delete and start again at 1 only after every
  version was deleted permanently; a permanent delete needs a soft delete first;
* compatibility is checked against the live versions only: all of them for the
  transitive levels, the latest otherwise; the level is the subject's, else the
  global one (``BACKWARD`` unless set);
* ``READONLY`` mode refuses writes to the subject (42205); ``IMPORT`` mode accepts
  schemas with the ``id`` and ``version`` the request gives, without checks;
* versions are numbered 1 to 2^31-1: once a subject has version 2^31-1 (an import
  can give it), a new version is refused with 42202 until that version is deleted
  permanently.

A registration's cost does not grow with the subject's history: whether a live version
already has the schema is one look-up in the store's hash index, and it loads only the
versions its level reads (the latest one, or all at a transitive level).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from somacontracts.compat.levels import TRANSITIVE
from somacontracts.tooling.registry import errors
from somacontracts.tooling.registry.arguments import (
    check_subject,
    messages,
    optional_int,
    request_object,
    version_number,
)
from somacontracts.tooling.registry.prepared import (
    SCHEMA_TYPES,
    Prepared,
    Registration,
)
from somacontracts.tooling.registry.reads import RegistryReads
from somacontracts.tooling.registry.store import MAX_VERSION, SubjectVersion

__all__ = ["SCHEMA_TYPES", "Registry"]


class Registry(RegistryReads):
    """Confluent Schema Registry's operations over a :class:`RegistryStore`: the reads of
    :class:`RegistryReads`, and registrations and deletes."""

    def register(self, subject: str, body: Any, *, normalize: bool = False) -> dict[str, object]:
        """``POST /subjects/{subject}/versions``: the id of the schema under ``subject``.

        The parse and the compatibility check run outside the store's lock, on what was
        read under it; if another write came in between, they run again under the lock.
        """
        check_subject(subject)
        request = request_object(body)
        wanted_id = optional_int(request, "id")
        wanted_version = optional_int(request, "version")
        with self.store.reading():
            seen = self.store.generation
            registration = self._registration(subject, request, normalize=normalize)
        registration.prepare()
        with self.store.reading():
            current = self.store.generation == seen
            if current:
                registration.existing = self._existing(subject, registration)
        if current:
            registration.check(self._parsed)
        with self.store.transaction():
            if self.store.generation != seen:
                registration = self._registration(subject, request, normalize=normalize)
                registration.prepare()
                registration.existing = self._existing(subject, registration)
                registration.check(self._parsed)
            return self._commit(subject, registration, wanted_id, wanted_version)

    def _registration(
        self, subject: str, request: Mapping[str, Any], *, normalize: bool
    ) -> Registration:
        mode = self._mode(subject)
        if mode == "READONLY":
            raise errors.operation_not_permitted(f"Subject {subject} is in read-only mode")
        source = self._source(request, normalize=normalize, subject=subject)
        level = self._level(subject)
        if self.contract_setting(subject, "compatibilityGroup"):
            compared = self._same_group(subject, source, self.store.live_versions(subject))
            compared = compared if level in TRANSITIVE else compared[-1:]
        elif level in TRANSITIVE:
            compared = self.store.live_versions(subject)
        else:
            latest = self.store.latest(subject)
            compared = [] if latest is None else [latest]
        return Registration(
            source=source,
            normalize=normalize,
            mode=mode,
            level=level,
            compared=compared,
            previous=[self._schema(v.schema_id) for v in compared],
        )

    def _existing(self, subject: str, registration: Registration) -> int | None:
        """The id of the registration's schema if a live version of ``subject`` has it."""
        prepared = registration.prepared
        assert prepared is not None
        if registration.mode == "IMPORT":
            return None
        found = self.store.with_identity(
            subject,
            prepared.normal_hash if registration.normalize else prepared.hash,
            normalized=registration.normalize,
        )
        return None if found is None else found.schema_id

    def _commit(
        self,
        subject: str,
        registration: Registration,
        wanted_id: int | None,
        wanted_version: int | None,
    ) -> dict[str, object]:
        prepared = registration.prepared
        assert prepared is not None
        if registration.mode == "IMPORT":
            return self._import(subject, prepared, wanted_id, wanted_version)
        if wanted_id is not None:
            raise errors.operation_not_permitted(
                f"Subject {subject} is not in import mode; a schema id cannot be given"
            )
        if registration.existing is not None:
            return self._registered(registration.existing)
        result = registration.result
        assert result is not None
        if not result.compatible:
            compared, previous, level = (
                registration.compared,
                registration.previous,
                registration.level,
            )
            raise errors.incompatible_schema(subject, messages(result, compared, previous, level))
        number = self._next_version(subject)
        schema_id = self._schema_id(prepared)
        self.store.add_version(subject, number, schema_id)
        if prepared.parsed is not None:  # the next registration reads it
            self._parses.put(prepared.expanded_text, prepared.parsed)
        return self._registered(schema_id)

    def _import(
        self,
        subject: str,
        prepared: Prepared,
        wanted_id: int | None,
        wanted_version: int | None,
    ) -> dict[str, object]:
        existing = self.store.schema_by_hash(prepared.hash)
        if wanted_id is None:
            schema_id = existing.id if existing is not None else self._schema_id(prepared)
        else:
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
        number = self._next_version(subject) if wanted_version is None else wanted_version
        if self.store.version(subject, number) is not None:
            raise errors.operation_not_permitted(
                f"Version {number} of subject {subject} already exists."
            )
        self.store.add_version(subject, number, schema_id)
        return self._registered(schema_id)

    def _registered(self, schema_id: int) -> dict[str, object]:
        """The answer of a registration: the schema's id and GUID."""
        return {"id": schema_id, "guid": self._schema(schema_id).guid}

    def _next_version(self, subject: str) -> int:
        """The number a new version of ``subject`` gets: one past its newest, deleted ones
        included; 42202 past :data:`MAX_VERSION` (an import can take the largest)."""
        newest = self.store.latest(subject, deleted=True)
        if newest is None:
            return 1
        if newest.version >= MAX_VERSION:
            raise errors.no_version_left(subject, newest.version)
        return newest.version + 1

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
                    self._check_unreferenced(v, permanent=True)
                for v in every:
                    self.store.remove(subject, v.version)
                self._forget_schemas()
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
                self._check_unreferenced(target, permanent=True)
                self.store.remove(subject, target.version)
                self._forget_schemas()
                return target.version
            if target.deleted:
                raise errors.version_soft_deleted(subject, target.version)
            self._check_unreferenced(target)
            self.store.soft_delete(subject, target.version)
            return target.version

    def _check_unreferenced(self, version: SubjectVersion, *, permanent: bool = False) -> None:
        """42206 if a version references ``version``: a live one, or for a permanent
        delete a soft-deleted one too (which could be undeleted, or whose id could be
        handed out again, with the reference then naming another schema)."""
        referrers = self.store.referenced_by(
            version.subject, version.version, include_deleted=permanent
        )
        if referrers:
            raise errors.reference_exists(version.subject, version.version)

    def _schema_id(self, prepared: Prepared, wanted: int | None = None) -> int:
        existing = self.store.schema_by_hash(prepared.hash)
        if existing is not None:
            return existing.id
        return self.store.add_schema(
            schema_type=prepared.schema_type,
            schema=prepared.text,
            references=prepared.references,
            expanded=prepared.expanded_text,
            hash_=prepared.hash,
            normal_hash=prepared.normal_hash,
            schema_id=wanted,
            metadata=prepared.metadata,
            rule_set=prepared.rule_set,
        )

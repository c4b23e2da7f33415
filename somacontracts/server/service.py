"""The registry's operations, one method per endpoint of Confluent's REST API, without HTTP.

Each method takes decoded arguments, runs as one transaction of the store (parsing and
compatibility checks outside its lock) and returns the JSON value Confluent returns, or
raises :class:`~somacontracts.server.errors.ApiError` with Confluent's status and error
code. The config and mode endpoints are :class:`~somacontracts.server.config.Settings`'s.
Rules followed, as Confluent does:

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

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from somacontracts.errors import InvalidSchemaError
from somacontracts.schema.datacontract import contract_parts
from somacontracts.server import errors
from somacontracts.server.config import Settings
from somacontracts.server.errors import ApiError, shown
from somacontracts.server.requests import (
    check_subject,
    messages,
    optional_int,
    request_object,
    version_body,
    version_number,
    with_contract,
)
from somacontracts.server.schemas import (
    SCHEMA_TYPES,
    Prepared,
    Registration,
    Source,
    as_int,
    check,
    prepare,
    reference_key,
    reference_list,
    same,
    schema_text,
    sent_back,
)
from somacontracts.server.store import MAX_VERSION, StoredSchema, SubjectVersion

__all__ = ["SCHEMA_TYPES", "Registry"]


class Registry(Settings):
    """Confluent Schema Registry's operations over a :class:`RegistryStore`."""

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
        registration.run()
        with self.store.transaction():
            if self.store.generation != seen:
                registration = self._registration(subject, request, normalize=normalize)
                registration.run()
            return self._commit(subject, registration, wanted_id, wanted_version)

    def _registration(
        self, subject: str, request: Mapping[str, Any], *, normalize: bool
    ) -> Registration:
        mode = self._mode(subject)
        if mode == "READONLY":
            raise errors.operation_not_permitted(f"Subject {subject} is in read-only mode")
        source = self._source(request, normalize=normalize, subject=subject)
        every = self.store.versions(subject)
        live = [v for v in every if not v.deleted]
        compared = self._same_group(subject, source, live)
        return Registration(
            source=source,
            normalize=normalize,
            mode=mode,
            every=every,
            level=self._level(subject),
            previous=[self._schema(v.schema_id) for v in live],
            compared=[live.index(v) for v in compared],
        )

    def _commit(
        self,
        subject: str,
        registration: Registration,
        wanted_id: int | None,
        wanted_version: int | None,
    ) -> dict[str, object]:
        prepared = registration.prepared
        assert prepared is not None
        every = registration.every
        if registration.mode == "IMPORT":
            return self._import(subject, prepared, every, wanted_id, wanted_version)
        if wanted_id is not None:
            raise errors.operation_not_permitted(
                f"Subject {subject} is not in import mode; a schema id cannot be given"
            )
        if registration.existing is not None:
            return {"id": registration.existing}
        result = registration.result
        assert result is not None
        if not result.compatible:
            live, previous = registration.compared_versions()
            level = registration.level
            raise errors.incompatible_schema(subject, messages(result, live, previous, level))
        number = every[-1].version + 1 if every else 1
        if number > MAX_VERSION:  # after an IMPORT of the largest version
            raise errors.invalid_version(str(number))
        schema_id = self._schema_id(prepared)
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
        number = wanted_version
        if number is None:
            number = every[-1].version + 1 if every else 1
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
            source = self._source(request, normalize=normalize, subject=subject)
            stored = [(v, self._schema(v.schema_id)) for v in reversed(candidates)]
        prepared = prepare(source, normalize=normalize)  # outside the lock
        for version, schema in stored:
            if same(schema, prepared, normalize=normalize) or sent_back(schema, source):
                return version_body(version, schema)
        given_metadata, given_rules = "metadata" in request, "ruleSet" in request
        if not (given_metadata and given_rules):
            # A schema without some Data Contract part is also the version with that schema
            # and its own part (an older version without the latest's rules, looked up by
            # its writer).
            tried: dict[str, Prepared] = {}
            for version, schema in stored:
                own = dataclasses.replace(
                    source,
                    metadata=source.metadata if given_metadata else schema.metadata,
                    rule_set=source.rule_set if given_rules else schema.rule_set,
                )
                key = json.dumps([own.metadata, own.rule_set], sort_keys=True)
                if key not in tried:
                    tried[key] = prepare(own, normalize=normalize)
                if same(schema, tried[key], normalize=normalize) or sent_back(schema, own):
                    return version_body(version, schema)
        raise errors.schema_not_found()

    def latest_with_metadata(
        self, subject: str, wanted: Mapping[str, str], *, deleted: bool = False
    ) -> dict[str, object]:
        """``GET /subjects/{subject}/metadata?key=..&value=..``: the newest version whose
        metadata properties hold every pair of ``wanted``."""
        with self.store.reading():
            every = self.store.versions(subject)
            if not every:
                raise errors.subject_not_found(subject)
            for found in reversed(every):
                if found.deleted and not deleted:
                    continue
                stored = self._schema(found.schema_id)
                properties = (stored.metadata or {}).get("properties", {})
                if all(properties.get(key) == value for key, value in wanted.items()):
                    return version_body(found, stored)
        pairs = ", ".join(f"{k}={v}" for k, v in wanted.items())
        raise ApiError(404, 40403, f"Schema not found: no version of {subject} has {shown(pairs)}")

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
                    self._check_unreferenced(v, permanent=True)
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
                self._check_unreferenced(target, permanent=True)
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
        return with_contract(body, stored)

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
            source = self._source(request, normalize=normalize, subject=subject)
            live = [v for v in self.store.versions(subject) if not v.deleted]
            level = self._level(subject)
            if version is None:
                chosen = self._same_group(subject, source, live)
            elif number is None:
                chosen = self._same_group(subject, source, live)[-1:]
            else:
                chosen = [v for v in live if v.version == number]
                if not chosen:
                    raise errors.version_not_found(number)
            previous = [self._schema(v.schema_id) for v in chosen]
        result = check(level, prepare(source, normalize=normalize), previous)  # outside the lock
        answer: dict[str, object] = {"is_compatible": result.compatible}
        if verbose:
            answer["messages"] = (
                [] if result.compatible else messages(result, chosen, previous, level)
            )
        return answer

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
            expanded=json.dumps(prepared.expanded, separators=(",", ":")),
            hash_=prepared.hash,
            normal_hash=prepared.normal_hash,
            schema_id=wanted,
            metadata=prepared.metadata,
            rule_set=prepared.rule_set,
        )

    def _source(
        self, request: Mapping[str, Any], *, normalize: bool, subject: str | None = None
    ) -> Source:
        """The request's schema, references resolved; Data Contract parts it leaves out
        are those of ``subject``'s latest version, as Confluent Schema Registry fills them
        in, so that a client registering the bare schema keeps the subject's rules."""
        text = schema_text(request)
        references = self._references(request.get("references"), normalize=normalize)
        referenced = []
        for ref in references:
            target = self._find_version(str(ref["subject"]), as_int(ref["version"]), deleted=False)
            referenced.append((str(ref["name"]), self._schema(target.schema_id).expanded))
        try:
            metadata, rule_set = contract_parts(request)
        except InvalidSchemaError as err:
            raise errors.invalid_schema(err.reason) from None
        if subject is not None and (metadata is None or rule_set is None):
            live = [v for v in self.store.versions(subject) if not v.deleted]
            if live:
                latest = self._schema(live[-1].schema_id)
                metadata = latest.metadata if metadata is None else metadata
                rule_set = latest.rule_set if rule_set is None else rule_set
        if subject is not None:
            metadata, rule_set = self.with_contract_settings(subject, metadata, rule_set)
        return Source(text, references, referenced, metadata, rule_set)

    def _same_group(
        self, subject: str, source: Source, versions: list[SubjectVersion]
    ) -> list[SubjectVersion]:
        """The versions a new schema of ``subject`` is checked against (its group's)."""
        return self.same_group(
            subject, source.metadata, versions, lambda v: self._schema(v.schema_id).metadata
        )

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

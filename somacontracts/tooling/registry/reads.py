"""The registry's read operations: subjects, versions, lookups, schemas by id and
compatibility tests, and the helpers the writes share
(:mod:`somacontracts.tooling.registry.service`).

Each method takes decoded arguments, reads one state of the store under its lock
(parsing and compatibility checks outside it) and returns the JSON value Confluent
returns, or raises :class:`~somacontracts.tooling.registry.errors.ApiError`. What an operation
costs does not grow with a subject's history where the answer does not depend on it:
a schema's identity is one look-up in the store's hash index, the latest version and a
version by number are single queries, and stored schemas are kept parsed by id, in a
bounded cache (an id never changes its schema; stored schemas are never removed).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid
from collections.abc import Mapping
from typing import Any

from somacontracts.compat.levels import TRANSITIVE
from somacontracts.errors import InvalidSchemaError
from somacontracts.schema import ParsedSchema
from somacontracts.schema.datacontract import contract_parts
from somacontracts.tooling.registry import errors
from somacontracts.tooling.registry.arguments import (
    messages,
    request_object,
    version_body,
    version_number,
    with_contract,
)
from somacontracts.tooling.registry.errors import ApiError, shown
from somacontracts.tooling.registry.prepared import (
    ParseCache,
    Prepared,
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
from somacontracts.tooling.registry.store import RegistryStore, StoredSchema, SubjectVersion
from somacontracts.tooling.registry.subject_config import SubjectConfigs

__all__ = ["RegistryReads"]

_CACHED_SCHEMAS = 4096
"""Schemas kept by id, as stored and parsed: a transitive subject's whole history."""


class RegistryReads(SubjectConfigs):
    """Confluent Schema Registry's read operations over a :class:`RegistryStore`."""

    def __init__(self, store: RegistryStore) -> None:
        super().__init__(store)
        # Bounded caches: a stored schema never changes under its id, and a parse depends
        # on the text alone.
        self._stored = functools.lru_cache(maxsize=_CACHED_SCHEMAS)(self._load_schema)
        self._parses = ParseCache(_CACHED_SCHEMAS)

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

    def lookup(
        self, subject: str, body: Any, *, normalize: bool = False, deleted: bool = False
    ) -> dict[str, object]:
        """``POST /subjects/{subject}``: the version of ``subject`` with this schema."""
        request = request_object(body)
        with self.store.reading():
            if self.store.latest(subject, deleted=deleted) is None:
                raise errors.subject_not_found(subject)
            source = self._source(request, normalize=normalize, subject=subject)
        prepared = prepare(source, normalize=normalize)  # outside the lock
        with self.store.reading():
            identity = prepared.normal_hash if normalize else prepared.hash
            found = self.store.with_identity(
                subject, identity, normalized=normalize, deleted=deleted
            )
            if found is not None:
                return version_body(found, self._schema(found.schema_id))
            # Not by identity: the text the registry sends back, or the schema with another
            # version's own Data Contract parts. Rare, so a scan of the history.
            candidates = self.store.versions(subject)
            stored = [
                (v, self._schema(v.schema_id))
                for v in reversed(candidates)
                if deleted or not v.deleted
            ]
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

    def schema_by_id(self, schema_id: int) -> dict[str, object]:
        """``GET /schemas/ids/{id}``."""
        with self.store.reading():
            stored = self._visible_schema(schema_id)
        return _schema_body(stored)

    def schema_by_guid(self, guid: str) -> dict[str, object]:
        """``GET /schemas/guids/{guid}``: the schema with that GUID, as by id."""
        with self.store.reading():
            return _schema_body(self._visible_by_guid(guid))

    def ids_of_guid(self, guid: str) -> list[dict[str, object]]:
        """``GET /schemas/guids/{guid}/ids``: the id of the schema with that GUID in each
        context (this registry has one, the default ``.``); empty if there is none."""
        with self.store.reading():
            try:
                stored = self._visible_by_guid(guid)
            except ApiError:
                return []
        return [{"context": ".", "id": stored.id}]

    def _visible_by_guid(self, guid: str) -> StoredSchema:
        """The schema with ``guid`` while a version uses it; 40403 otherwise."""
        try:
            key = str(uuid.UUID(guid)) if len(guid) <= 45 else ""
        except ValueError:
            key = ""
        stored = self.store.schema_by_guid(key) if key else None
        if stored is None or not self.store.versions_of_schema(stored.id):
            raise ApiError(404, 40403, f"Schema {shown(guid, 60)} not found")
        return self._schema(stored.id)

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
            level = self._level(subject)
            if number is not None:
                found = self.store.version(subject, number)
                if found is None or found.deleted:
                    raise errors.version_not_found(number)
                chosen = [found]
            elif self.contract_setting(subject, "compatibilityGroup"):
                chosen = self._same_group(subject, source, self.store.live_versions(subject))
                chosen = chosen if version is None and level in TRANSITIVE else chosen[-1:]
            elif version is None and level in TRANSITIVE:
                chosen = self.store.live_versions(subject)
            else:  # the latest is all that the level, or the request, reads
                latest = self.store.latest(subject)
                chosen = [] if latest is None else [latest]
            previous = [self._schema(v.schema_id) for v in chosen]
        parsed = [self._parsed(s) for s in previous]  # outside the lock
        result = check(level, prepare(source, normalize=normalize), parsed)
        answer: dict[str, object] = {"is_compatible": result.compatible}
        if verbose:
            answer["messages"] = (
                [] if result.compatible else messages(result, chosen, previous, level)
            )
        return answer

    def _load_schema(self, schema_id: int) -> StoredSchema:
        stored = self.store.schema(schema_id)
        if stored is None:
            raise errors.schema_not_found(schema_id)
        return stored

    def _schema(self, schema_id: int) -> StoredSchema:
        """The stored schema with ``schema_id`` (call under the store's lock)."""
        return self._stored(schema_id)

    def _parsed(self, stored: StoredSchema) -> ParsedSchema:
        """``stored``'s expansion, parsed once (safe outside the store's lock)."""
        return self._parses.get(stored.expanded)

    def _forget_schemas(self) -> None:
        """Drop the cached schemas (after a permanent delete)."""
        self._stored.cache_clear()

    def _visible_schema(self, schema_id: int) -> StoredSchema:
        # A schema stays readable while any version, even soft-deleted, uses it.
        stored = self._schema(schema_id)
        if not self.store.versions_of_schema(schema_id):
            raise errors.schema_not_found(schema_id)
        return stored

    def _find_version(self, subject: str, number: int | None, *, deleted: bool) -> SubjectVersion:
        latest = self.store.latest(subject, deleted=deleted)
        if latest is None:
            raise errors.subject_not_found(subject)
        if number is None:
            return latest
        found = self.store.version(subject, number)
        if found is None or (found.deleted and not deleted):
            raise errors.version_not_found(number)
        return found

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
            newest = self.store.latest(subject)
            if newest is not None:
                latest = self._schema(newest.schema_id)
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
                newest = self.store.latest(ref["subject"])
                if newest is None:
                    raise errors.invalid_schema(f"reference subject {ref['subject']!r} not found")
                version = newest.version
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


def _schema_body(stored: StoredSchema) -> dict[str, object]:
    """The answer of ``GET /schemas/ids/{id}`` and ``/schemas/guids/{guid}``."""
    body: dict[str, object] = {"schema": stored.schema, "guid": stored.guid}
    if stored.schema_type != "AVRO":
        body["schemaType"] = stored.schema_type
    if stored.references:
        body["references"] = list(stored.references)
    return with_contract(body, stored)

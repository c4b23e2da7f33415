"""Confluent's ``/associations`` API: which subject holds the schemas of a Kafka topic.

An association ties a subject to a resource (a topic: its name, the id of its Kafka
cluster as namespace, and an id) as the topic's ``key`` or ``value`` subject.
confluent-kafka's ``AssociatedNameStrategy`` (its default subject name strategy from
2.16 on) asks ``GET /associations/resources/{namespace}/{topic}`` for a topic's subject,
``-`` standing for any namespace, and falls back to another strategy when there is none.

Served as Confluent Platform 8 serves them: ``POST /associations`` (create),
``PUT /associations/resources/{id}`` (create or update), ``GET`` by resource name,
resource id or subject (``resourceType``, ``associationType``, ``lifecycle``,
``offset``, ``limit``), ``DELETE /associations/resources/{id}`` (``cascadeLifecycle``
deletes a ``STRONG`` association's subject with it), ``dryRun``, and Confluent's codes:
40410 no association, 40903 the resource has another one of that type, 40904 the
subject has one and a ``STRONG`` one would join it, 40905 the subject has a ``STRONG``
one, 40907 the subject has no live version, 42212 an invalid property.

Not served: the batch endpoints (``:batchGet``, ``:batchMutate``) and an association
that registers a schema on its way (``schema`` in the request), so no frozen one either
(Confluent creates those with their schema): 42212 says so. Resource names are Kafka's
topic names; Confluent's own check of names (letters, digits, ``_`` and ``-``) would
refuse the catalog's dotted topics.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from somacontracts.tooling.registry.arguments import integer
from somacontracts.tooling.registry.deks import NoContent
from somacontracts.tooling.registry.errors import ApiError, shown
from somacontracts.tooling.registry.service import Registry

__all__ = ["Associations", "Query"]

TYPES = ("key", "value")
LIFECYCLES = ("STRONG", "WEAK")
WILDCARD = "-"
"""The namespace that stands for every namespace in a look-up."""
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
_NAMESPACE = re.compile(r"[\w-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_NAME = 256
_COLUMNS = (
    "resource_id, resource_type, association_type, resource_name, resource_namespace,"
    " subject, lifecycle, created, updated"
)


class Query:
    """The filters of a look-up: ``resourceType``, ``associationType``, ``lifecycle``,
    ``offset`` and ``limit``."""

    def __init__(self, query: Mapping[str, list[str]]) -> None:
        self.resource_type = _resource_type(_last(query, "resourceType"))
        self.types = query.get("associationType") or list(TYPES)
        lifecycle = _last(query, "lifecycle")
        if lifecycle and lifecycle not in LIFECYCLES:
            raise _invalid("lifecycle", "must be STRONG or WEAK")
        self.lifecycle = lifecycle or None
        self.offset = max(integer(_last(query, "offset") or "0") or 0, 0)
        limit = integer(_last(query, "limit") or "-1")
        self.limit = -1 if limit is None else limit

    def chosen(self, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        """The associations of ``rows`` these filters keep, in Confluent's order."""
        found = [
            _association(row)
            for row in rows
            if row[1] == self.resource_type
            and row[2] in self.types
            and (self.lifecycle is None or row[6] == self.lifecycle)
        ]
        found.sort(
            key=lambda a: (
                a["resourceName"],
                a["resourceNamespace"],
                a["resourceType"],
                a["associationType"],
                a["subject"],
            )
        )
        kept = found[self.offset :]
        return kept if self.limit < 0 else kept[: self.limit]


class Associations:
    """Associations in the registry's store, as the ``/associations`` routes use them."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.store = registry.store

    # -- reads ---------------------------------------------------------------------------

    def by_resource_name(self, namespace: str, name: str, query: Query) -> list[dict[str, Any]]:
        """``GET /associations/resources/{namespace}/{name}``; ``-`` is any namespace."""
        where, params = "resource_name = ?", [name]
        if namespace != WILDCARD:
            where, params = where + " AND resource_namespace = ?", [name, namespace]
        return query.chosen(self._rows(where, tuple(params)))

    def by_resource_id(self, resource_id: str, query: Query) -> list[dict[str, Any]]:
        """``GET /associations/resources/{id}``."""
        return query.chosen(self._rows("resource_id = ?", (resource_id,)))

    def by_subject(self, subject: str, query: Query) -> list[dict[str, Any]]:
        """``GET /associations/subjects/{subject}``."""
        return query.chosen(self._rows("subject = ?", (subject,)))

    def _rows(self, where: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self.store.reading():
            return self.store.execute(f"SELECT {_COLUMNS} FROM associations WHERE {where}", params)

    # -- writes --------------------------------------------------------------------------

    def create(self, body: Any, *, dry_run: bool) -> dict[str, Any]:
        """``POST /associations``: each association of the request, none if one fails."""
        return self._write(body, None, dry_run=dry_run, upsert=False)

    def upsert(self, resource_id: str, body: Any, *, dry_run: bool) -> dict[str, Any]:
        """``PUT /associations/resources/{id}``: create, or change a lifecycle."""
        return self._write(body, resource_id, dry_run=dry_run, upsert=True)

    def _write(
        self, body: Any, path_id: str | None, *, dry_run: bool, upsert: bool
    ) -> dict[str, Any]:
        request = _resource(body, path_id, dry_run=dry_run)
        infos = [_info(item, request) for item in _items(body)]
        kinds = [info["associationType"] for info in infos]
        if len(set(kinds)) != len(kinds):
            raise _invalid("associationType", "each type may appear once per resource")
        answer = {k: v for k, v in request.items() if v is not None}
        with self.store.transaction():
            now = int(time.time() * 1000)
            for info in infos:
                self._check(request, info, upsert=upsert)
            if dry_run:
                return answer
            for info in infos:
                self.store.execute(
                    f"INSERT INTO associations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (resource_id, resource_type, association_type) DO UPDATE SET"
                    " lifecycle = excluded.lifecycle, updated = excluded.updated",
                    (
                        request["resourceId"],
                        request["resourceType"],
                        info["associationType"],
                        request["resourceName"],
                        request["resourceNamespace"],
                        info["subject"],
                        info["lifecycle"],
                        now,
                        now,
                    ),
                )
        answer["associations"] = [
            {k: info[k] for k in ("subject", "associationType", "lifecycle", "frozen")}
            for info in infos
        ]
        return answer

    def _check(self, request: Mapping[str, Any], info: dict[str, Any], *, upsert: bool) -> None:
        """Confluent's conflicts for ``info``; fills in its lifecycle (an update keeps the
        association's, a new one is ``WEAK`` unless asked)."""
        subject, kind = info["subject"], info["associationType"]
        resource_id, resource_type = request["resourceId"], request["resourceType"]
        rows = self.store.execute(
            f"SELECT {_COLUMNS} FROM associations WHERE resource_id = ? AND resource_type = ?",
            (resource_id, resource_type),
        )
        for row in rows:
            if (row[3], row[4]) != (request["resourceName"], request["resourceNamespace"]):
                raise _invalid(
                    "resourceId",
                    f"{shown(resource_id, 100)} is the resource {shown(row[3], 100)} of "
                    f"namespace {shown(row[4], 100)}",
                )
        existing = next((row for row in rows if row[2] == kind), None)
        if existing is not None and upsert:
            if existing[5] != subject:
                raise _invalid("subject", "the subject of an association cannot change")
            info["lifecycle"] = info["lifecycle"] or existing[6]
        info["lifecycle"] = info["lifecycle"] or "WEAK"
        wanted = (subject, info["lifecycle"])
        if existing is not None and not upsert and (existing[5], existing[6]) != wanted:
            raise ApiError(
                409,
                40903,
                f"An association of type '{kind}' already exists for resource "
                f"'{shown(resource_id)}'",
            )
        if not self.store.live_versions(subject):
            raise ApiError(
                409,
                40907,
                f"No active (non-deleted) version exists for subject '{shown(subject)}'",
            )
        others = [
            row
            for row in self.store.execute(
                f"SELECT {_COLUMNS} FROM associations WHERE subject = ?", (subject,)
            )
            if (row[0], row[1], row[2]) != (resource_id, resource_type, kind)
        ]
        if any(row[6] == "STRONG" for row in others):
            raise ApiError(
                409,
                40905,
                f"A strong association already exists for subject '{shown(subject)}'",
            )
        if others and info["lifecycle"] == "STRONG":
            raise ApiError(
                409, 40904, f"An association already exists for subject '{shown(subject)}'"
            )

    def delete(self, resource_id: str, query: Query, *, cascade: bool, dry_run: bool) -> NoContent:
        """``DELETE /associations/resources/{id}``: its associations of the types asked;
        with ``cascade``, a ``STRONG`` one's subject goes too, for good."""
        with self.store.transaction():
            found = query.chosen(self._rows("resource_id = ?", (resource_id,)))
            if not found:
                raise ApiError(404, 40410, f"Association for '{shown(resource_id)}' not found.")
            if dry_run:
                return NoContent()
            for association in found:
                self.store.execute(
                    "DELETE FROM associations WHERE resource_id = ? AND resource_type = ?"
                    " AND association_type = ?",
                    (resource_id, association["resourceType"], association["associationType"]),
                )
                subject = association["subject"]
                if (
                    cascade
                    and association["lifecycle"] == "STRONG"
                    and self.store.versions(subject)
                ):
                    if self.store.live_versions(subject):
                        self.registry.delete_subject(subject)
                    self.registry.delete_subject(subject, permanent=True)
        return NoContent()


# -- requests ----------------------------------------------------------------------------


def _invalid(prop: str, reason: str) -> ApiError:
    """42212, worded as Confluent words it."""
    return ApiError(
        422,
        42212,
        f"The association specified an invalid value for property: '{prop}', reason: {reason}",
    )


def _last(query: Mapping[str, list[str]], name: str) -> str:
    values = query.get(name)
    return values[-1] if values else ""


def _resource_type(value: Any) -> str:
    if value is None or value == "":
        return "topic"
    if value != "topic":
        raise _invalid("resourceType", "must be 'topic'")
    return "topic"


def _resource(body: Any, path_id: str | None, *, dry_run: bool) -> dict[str, Any]:
    """The resource a create or update request names, checked."""
    if not isinstance(body, dict):
        raise _invalid("request", "the request body must be a JSON object")
    name = body.get("resourceName")
    if not isinstance(name, str) or not name:
        raise _invalid("resourceName", "cannot be null or empty")
    if not _TOPIC.fullmatch(name) or name in (".", ".."):
        raise _invalid("resourceName", "a topic name: 1 to 249 letters, digits, '.', '_' or '-'")
    namespace = body.get("resourceNamespace")
    if not isinstance(namespace, str) or not namespace:
        raise _invalid("resourceNamespace", "cannot be null or empty")
    if namespace == WILDCARD:
        raise _invalid("resourceNamespace", "'-' stands for every namespace in a look-up")
    if len(namespace) > _MAX_NAME or not _NAMESPACE.fullmatch(namespace):
        raise _invalid(
            "resourceNamespace",
            f"1 to {_MAX_NAME} letters, digits, '_' or '-' (the Kafka cluster's id)",
        )
    resource_id = body.get("resourceId")
    if path_id is not None:
        if resource_id is not None and resource_id != path_id:
            raise _invalid(
                "resourceId",
                "Resource ID in the path parameter does not match the resource ID in the "
                "request body",
            )
        resource_id = path_id
    if resource_id is not None and not isinstance(resource_id, str):
        raise _invalid("resourceId", "must be text")
    if not resource_id and not dry_run:
        raise _invalid("resourceId", "cannot be null or empty")
    if resource_id and (len(resource_id) > _MAX_NAME or _CONTROL.search(resource_id)):
        raise _invalid("resourceId", f"1 to {_MAX_NAME} characters, no control characters")
    return {
        "resourceName": name,
        "resourceNamespace": namespace,
        "resourceId": resource_id or None,
        "resourceType": _resource_type(body.get("resourceType")),
    }


def _items(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = body.get("associations")
    if not isinstance(items, list) or not items:
        raise _invalid("associations", "cannot be null or empty")
    if not all(isinstance(item, dict) for item in items):
        raise _invalid("associations", "each association must be a JSON object")
    return items


def _info(item: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """One association of a request, checked, with Confluent's defaults."""
    kind = item.get("associationType") or "value"
    if kind not in TYPES:
        raise _invalid("associationType", "must be either 'key' or 'value'")
    subject = item.get("subject")
    if subject is None:  # Confluent's default: the topic's subject in its cluster's context
        subject = f":.{request['resourceNamespace']}:{request['resourceName']}-{kind}"
    if not isinstance(subject, str) or not subject or _CONTROL.search(subject):
        raise _invalid("subject", "must not be empty")
    lifecycle = item.get("lifecycle")
    if lifecycle is not None and lifecycle not in LIFECYCLES:
        raise _invalid("lifecycle", "must be STRONG or WEAK")
    if item.get("schema") is not None:
        raise _invalid(
            "schema",
            "this registry does not register schemas through associations; register the "
            "schema under its subject first",
        )
    frozen = item.get("frozen")
    if frozen is not None and not isinstance(frozen, bool):
        raise _invalid("frozen", "must be true or false")
    if frozen:
        raise _invalid(
            "frozen",
            "a frozen association is created with its schema, which this registry does not "
            "take in an association",
        )
    return {"subject": subject, "associationType": kind, "lifecycle": lifecycle, "frozen": False}


def _association(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "subject": row[5],
        "resourceName": row[3],
        "resourceNamespace": row[4],
        "resourceId": row[0],
        "resourceType": row[1],
        "associationType": row[2],
        "lifecycle": row[6],
        "frozen": False,
        "createTimestamp": row[7],
        "updateTimestamp": row[8],
    }

"""Confluent Schema Registry's REST API over the registry's operations
(:class:`~somacontracts.tooling.registry.service.Registry`).

:class:`Router` maps a method, a request target and a body to the payload a route
returns, or raises :class:`~somacontracts.tooling.registry.errors.ApiError`; :func:`encode`
turns the payload into the response body. This module knows nothing of sockets,
connections, HTTP framing, authentication or caching.

Request bodies are JSON, their content type checked by the HTTP layer
(:mod:`somacontracts.tooling.registry.origins`); a malformed JSON body raises 400 with error code
400 as in Confluent's REST layer, an unknown path 404 with error code 404 and a method a
path does not have 405. Subject names are percent-decoded segment by segment, so a subject
may contain ``/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from somacontracts.runtime.jsontext import load_json_bytes
from somacontracts.tooling.registry.arguments import integer
from somacontracts.tooling.registry.associations import Associations, Query
from somacontracts.tooling.registry.deks import DekRegistry
from somacontracts.tooling.registry.errors import ApiError, shown
from somacontracts.tooling.registry.service import SCHEMA_TYPES, Registry
from somacontracts.tooling.registry.store import MAX_ID

__all__ = [
    "CONTENT_TYPE",
    "Raw",
    "Request",
    "Route",
    "Router",
    "api_routes",
    "association_routes",
    "dek_routes",
    "encode",
]

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"

Handler = Callable[["Request"], Any]
Route = tuple[str, tuple[str, ...], Handler]


class Request:
    """What a route handler needs: path parameters, query and the decoded body."""

    def __init__(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> None:
        self.params = params
        self.query = query
        self.body = body

    def flag(self, name: str) -> bool:
        values = self.query.get(name)
        return values is not None and values[-1].strip().lower() == "true"

    def text(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[-1] if values else default

    def pairs(self, keys: str, values: str) -> dict[str, str]:
        """``?key=a&value=1&key=b&value=2`` as ``{"a": "1", "b": "2"}``; 422 if the counts
        differ."""
        names, given = self.query.get(keys, []), self.query.get(values, [])
        if len(names) != len(given):
            raise ApiError(422, 422, f"each {keys!r} needs a {values!r}")
        return dict(zip(names, given, strict=True))

    def number(self, name: str, default: int) -> int:
        value = integer(self.text(name, str(default)))
        return default if value is None else value

    def schema_id(self) -> int:
        """The ``{id}`` of the path; 40403 for one that no schema can have."""
        text = self.params["id"]
        number = integer(text) if len(text) <= 12 else 0
        if number is None:
            raise ApiError(404, 404, "HTTP 404 Not Found")
        if not 1 <= number <= MAX_ID:
            raise ApiError(404, 40403, f"Schema {shown(text, 40)} not found")
        return number


def _page(items: list[Any], request: Request) -> list[Any]:
    """The ``offset`` and ``limit`` the query asks for of ``items``."""
    offset = max(request.number("offset", 0), 0)
    limit = request.number("limit", -1)
    chosen = items[offset:]
    return chosen if limit < 0 else chosen[:limit]


def api_routes(registry: Registry) -> list[Route]:
    """Confluent's REST API over ``registry``: method, path pattern and handler of each route."""
    r = registry

    def optional_subject(req: Request) -> str | None:
        return req.params.get("subject")

    return [
        ("GET", (), lambda req: {}),
        ("GET", ("schemas", "types"), lambda req: list(SCHEMA_TYPES)),
        (
            "GET",
            ("subjects",),
            lambda req: _page(
                r.subjects(
                    deleted=req.flag("deleted"),
                    deleted_only=req.flag("deleted_only"),
                    prefix=req.text("subjectPrefix"),
                ),
                req,
            ),
        ),
        (
            "POST",
            ("subjects", "{subject}"),
            lambda req: r.lookup(
                req.params["subject"],
                req.body,
                normalize=req.flag("normalize"),
                deleted=req.flag("deleted"),
            ),
        ),
        (
            "DELETE",
            ("subjects", "{subject}"),
            lambda req: r.delete_subject(req.params["subject"], permanent=req.flag("permanent")),
        ),
        (
            "GET",
            ("subjects", "{subject}", "versions"),
            lambda req: _page(
                r.versions(
                    req.params["subject"],
                    deleted=req.flag("deleted"),
                    deleted_only=req.flag("deleted_only"),
                ),
                req,
            ),
        ),
        (
            "POST",
            ("subjects", "{subject}", "versions"),
            lambda req: r.register(
                req.params["subject"], req.body, normalize=req.flag("normalize")
            ),
        ),
        (
            "GET",
            ("subjects", "{subject}", "metadata"),
            lambda req: r.latest_with_metadata(
                req.params["subject"], req.pairs("key", "value"), deleted=req.flag("deleted")
            ),
        ),
        (
            "GET",
            ("subjects", "{subject}", "versions", "{version}"),
            lambda req: r.version(
                req.params["subject"], req.params["version"], deleted=req.flag("deleted")
            ),
        ),
        (
            "DELETE",
            ("subjects", "{subject}", "versions", "{version}"),
            lambda req: r.delete_version(
                req.params["subject"], req.params["version"], permanent=req.flag("permanent")
            ),
        ),
        (
            "GET",
            ("subjects", "{subject}", "versions", "{version}", "schema"),
            lambda req: Raw(
                str(
                    r.version(
                        req.params["subject"], req.params["version"], deleted=req.flag("deleted")
                    )["schema"]
                )
            ),
        ),
        (
            "GET",
            ("subjects", "{subject}", "versions", "{version}", "referencedby"),
            lambda req: _page(r.referenced_by(req.params["subject"], req.params["version"]), req),
        ),
        ("GET", ("schemas", "ids", "{id}"), lambda req: r.schema_by_id(req.schema_id())),
        (
            "GET",
            ("schemas", "ids", "{id}", "schema"),
            lambda req: Raw(r.raw_schema_by_id(req.schema_id())),
        ),
        (
            "GET",
            ("schemas", "ids", "{id}", "subjects"),
            lambda req: _page(
                r.subjects_of_schema(req.schema_id(), deleted=req.flag("deleted")), req
            ),
        ),
        (
            "GET",
            ("schemas", "ids", "{id}", "versions"),
            lambda req: _page(
                r.versions_of_schema(req.schema_id(), deleted=req.flag("deleted")), req
            ),
        ),
        ("GET", ("schemas", "guids", "{guid}"), lambda req: r.schema_by_guid(req.params["guid"])),
        (
            "GET",
            ("schemas", "guids", "{guid}", "ids"),
            lambda req: r.ids_of_guid(req.params["guid"]),
        ),
        (
            "POST",
            ("compatibility", "subjects", "{subject}", "versions"),
            lambda req: r.test_compatibility(
                req.params["subject"],
                None,
                req.body,
                normalize=req.flag("normalize"),
                verbose=req.flag("verbose"),
            ),
        ),
        (
            "POST",
            ("compatibility", "subjects", "{subject}", "versions", "{version}"),
            lambda req: r.test_compatibility(
                req.params["subject"],
                req.params["version"],
                req.body,
                normalize=req.flag("normalize"),
                verbose=req.flag("verbose"),
            ),
        ),
        *(
            route
            for path in (("config",), ("config", "{subject}"))
            for route in (
                (
                    "GET",
                    path,
                    lambda req: r.get_config(
                        optional_subject(req), default_to_global=req.flag("defaultToGlobal")
                    ),
                ),
                ("PUT", path, lambda req: r.set_config(optional_subject(req), req.body)),
                ("DELETE", path, lambda req: r.delete_config(optional_subject(req))),
            )
        ),
        ("GET", ("mode",), lambda req: r.get_mode(None)),
        ("PUT", ("mode",), lambda req: r.set_mode(None, req.body, force=req.flag("force"))),
        (
            "GET",
            ("mode", "{subject}"),
            lambda req: r.get_mode(
                req.params["subject"], default_to_global=req.flag("defaultToGlobal")
            ),
        ),
        (
            "PUT",
            ("mode", "{subject}"),
            lambda req: r.set_mode(req.params["subject"], req.body, force=req.flag("force")),
        ),
        ("DELETE", ("mode", "{subject}"), lambda req: r.delete_mode(req.params["subject"])),
    ]


class Raw:
    """A response body sent as is: the schema text of the ``/schema`` endpoints."""

    def __init__(self, text: str) -> None:
        self.text = text


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{"):
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


def association_routes(associations: Associations) -> list[Route]:
    """Confluent's ``/associations`` API over ``associations``."""
    a = associations
    resources = ("associations", "resources")
    return [
        ("POST", ("associations",), lambda req: a.create(req.body, dry_run=req.flag("dryRun"))),
        (
            "GET",
            (*resources, "{namespace}", "{name}"),
            lambda req: a.by_resource_name(
                req.params["namespace"], req.params["name"], Query(req.query)
            ),
        ),
        (
            "GET",
            (*resources, "{id}"),
            lambda req: a.by_resource_id(req.params["id"], Query(req.query)),
        ),
        (
            "PUT",
            (*resources, "{id}"),
            lambda req: a.upsert(req.params["id"], req.body, dry_run=req.flag("dryRun")),
        ),
        (
            "DELETE",
            (*resources, "{id}"),
            lambda req: a.delete(
                req.params["id"],
                Query(req.query),
                cascade=req.flag("cascadeLifecycle"),
                dry_run=req.flag("dryRun"),
            ),
        ),
        (
            "GET",
            ("associations", "subjects", "{subject}"),
            lambda req: a.by_subject(req.params["subject"], Query(req.query)),
        ),
    ]


def dek_routes(deks: DekRegistry) -> list[Route]:
    """Confluent's DEK registry API (``/dek-registry/v1``) over ``deks``."""
    kek = ("dek-registry", "v1", "keks", "{name}")
    dek = (*kek, "deks", "{subject}")
    version = (*dek, "versions", "{version}")

    def algorithm(req: Request) -> str:
        return req.text("algorithm")

    return [
        ("GET", kek[:3], lambda req: deks.kek_names(deleted=req.flag("deleted"))),
        ("POST", kek[:3], lambda req: deks.create_kek(req.body)),
        ("GET", kek, lambda req: deks.kek(req.params["name"], deleted=req.flag("deleted"))),
        ("PUT", kek, lambda req: deks.update_kek(req.params["name"], req.body)),
        (
            "DELETE",
            kek,
            lambda req: deks.delete_kek(req.params["name"], permanent=req.flag("permanent")),
        ),
        ("POST", (*kek, "undelete"), lambda req: deks.undelete_kek(req.params["name"])),
        (
            "GET",
            (*kek, "deks"),
            lambda req: deks.dek_subjects(req.params["name"], deleted=req.flag("deleted")),
        ),
        ("POST", (*kek, "deks"), lambda req: deks.create_dek(req.params["name"], req.body)),
        (
            "POST",
            dek,
            lambda req: deks.create_dek(req.params["name"], req.body, req.params["subject"]),
        ),
        (
            "GET",
            dek,
            lambda req: deks.dek(
                req.params["name"],
                req.params["subject"],
                algorithm(req),
                "latest",
                deleted=req.flag("deleted"),
            ),
        ),
        (
            "DELETE",
            dek,
            lambda req: deks.delete_dek(
                req.params["name"],
                req.params["subject"],
                algorithm(req),
                None,
                permanent=req.flag("permanent"),
            ),
        ),
        (
            "POST",
            (*dek, "undelete"),
            lambda req: deks.undelete_dek(
                req.params["name"], req.params["subject"], algorithm(req), None
            ),
        ),
        (
            "GET",
            (*dek, "versions"),
            lambda req: deks.dek_versions(
                req.params["name"],
                req.params["subject"],
                algorithm(req),
                deleted=req.flag("deleted"),
            ),
        ),
        (
            "GET",
            version,
            lambda req: deks.dek(
                req.params["name"],
                req.params["subject"],
                algorithm(req),
                req.params["version"],
                deleted=req.flag("deleted"),
            ),
        ),
        (
            "DELETE",
            version,
            lambda req: deks.delete_dek(
                req.params["name"],
                req.params["subject"],
                algorithm(req),
                req.params["version"],
                permanent=req.flag("permanent"),
            ),
        ),
        (
            "POST",
            (*version, "undelete"),
            lambda req: deks.undelete_dek(
                req.params["name"], req.params["subject"], algorithm(req), req.params["version"]
            ),
        ),
    ]


class Router:
    """The routes by number of path segments, each path with its handler per method."""

    def __init__(self, routes: list[Route]) -> None:
        self._by_length: dict[int, list[tuple[tuple[str, ...], dict[str, Handler]]]] = {}
        for method, pattern, handler in routes:
            paths = self._by_length.setdefault(len(pattern), [])
            for known, handlers in paths:
                if known == pattern:
                    handlers[method] = handler
                    break
            else:
                paths.append((pattern, {method: handler}))

    def find(self, segments: list[str]) -> tuple[dict[str, str], dict[str, Handler]] | None:
        """The path parameters and the handlers by method of the first path matching."""
        for pattern, handlers in self._by_length.get(len(segments), ()):
            params = _match(pattern, segments)
            if params is not None:
                return params, handlers
        return None

    def route(self, method: str, target: str, raw: bytes) -> Any:
        """The payload answering a request, or :class:`ApiError` (404, 405, 400, ...)."""
        path, _, query_text = target.partition("?")
        try:  # percent-encoded UTF-8: other bytes would make different names one subject
            segments = [unquote(part, errors="strict") for part in path.split("/")[1:]]
            query = parse_qs(query_text, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise ApiError(
                400, 400, "Bad Request: the target is not percent-encoded UTF-8"
            ) from None
        if segments and segments[-1] == "":
            segments.pop()
        found = self.find(segments)
        if found is None:
            raise ApiError(404, 404, "HTTP 404 Not Found")
        params, handlers = found
        handler = handlers.get(method)
        if handler is None:
            raise ApiError(405, 405, "HTTP 405 Method Not Allowed")
        body = _decode(raw) if method in ("POST", "PUT") else None
        return handler(Request(params, query, body))


def encode(payload: Any) -> bytes:
    """The body sending ``payload``: JSON in UTF-8, or the text of a :class:`Raw`."""
    if isinstance(payload, Raw):
        return payload.text.encode("utf-8")
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _decode(raw: bytes) -> Any:
    """The JSON value of a request body; ``None`` for an empty one."""
    if not raw.strip():
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, 400, "Bad Request: the body is not UTF-8 text") from None
    # Strict: no NaN, no lone surrogate escape, no number out of range, nesting within
    # the decoder's stack; each is a 400, as Confluent's JSON parser refuses them too.
    try:
        return load_json_bytes(raw)
    except ValueError as err:
        raise ApiError(400, 400, f"Bad Request: the body is not JSON: {err}") from None

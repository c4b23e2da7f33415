"""Registry profiles for the tests: a proxy in front of the local registry that answers as
another registry does where that registry differs from Confluent Schema Registry.

The tests cannot install Karapace, so :data:`KARAPACE_5` describes what Karapace 5
(Aiven's Confluent-compatible registry) does differently, as its sources show
(``karapace/api/routers/*.py``, ``controller.py``, ``core/schema_models.py``):

- a registration's or lookup's ``metadata`` and ``ruleSet`` are accepted and ignored:
  nothing keeps them and no answer carries them (``SchemaRequest`` takes both as
  ``Any``; ``SchemaResponse``, ``SchemasResponse`` and ``SubjectSchemaVersionResponse``
  have neither), and the answer is 200 all the same;
- ``PUT /config`` and ``PUT /config/{subject}`` take ``{"compatibility": ...}`` and
  nothing else (``CompatibilityRequest``): ``compatibilityGroup``, ``defaultRuleSet`` and
  the other Data Contract settings are ignored, and a body without ``compatibility`` is
  a 422 whose message is pydantic's list of errors, not naming the subject; ``GET
  /config`` answers ``{"compatibilityLevel": ...}`` alone;
- ``/schemas/ids/{id}/subjects``, ``/schemas/guids/...``, ``/subjects/{subject}/metadata``,
  ``/contexts`` and the DEK registry (``/dek-registry/...``) are not served: a 404 whose
  body is the JSON string ``"Not Found"`` (FastAPI's, through Karapace's handler), which
  confluent-kafka reads as error code -1; ``/schemas/ids/{id}/versions`` is served;
- Avro schema text is stored as ``json.dumps(schema, sort_keys=True)``, compact: every
  object's keys sorted, those of a field's default object too.

:class:`ProfileProxy` serves a profile over HTTP (uvicorn, as the local registry is
served; the upstream calls go through httpx, confluent-kafka's own HTTP client).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import uvicorn

from somacontracts.tooling.registry import LocalRegistry
from somacontracts.tooling.registry.serving import PromptServer

__all__ = [
    "KARAPACE_5",
    "Profile",
    "ProfileProxy",
    "karapace_with_dek_registry",
    "profiled_registry",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_CONTRACT_KEYS = ("metadata", "ruleSet")


@dataclass(frozen=True)
class Profile:
    """How a registry differs from Confluent Schema Registry (which keeps everything)."""

    name: str
    keeps_contracts: bool = True
    """Whether ``metadata`` and ``ruleSet`` are stored and answered."""
    keeps_config: bool = True
    """Whether ``PUT /config`` keeps ``compatibilityGroup`` and the Data Contract settings
    (else it takes ``compatibility`` alone, and requires it)."""
    missing: tuple[str, ...] = ()
    """Patterns of the paths (without the leading ``/``) answered 404 ``"Not Found"``."""
    sorts_keys: bool = False
    """Whether schema text comes back with every object's keys sorted."""
    delay: float = 0.0
    """Seconds every answer takes (a registry far away)."""


KARAPACE_5 = Profile(
    "Karapace 5",
    keeps_contracts=False,
    keeps_config=False,
    missing=(
        r"schemas/ids/[^/]+/subjects",
        r"schemas/guids/.*",
        r"subjects/[^/]+/metadata",
        r"contexts",
        r"dek-registry/.*",
    ),
    sorts_keys=True,
)
"""Karapace 5 where it differs from Confluent (see the module's docstring)."""


def karapace_with_dek_registry() -> Profile:
    """Karapace 5 but for a DEK registry: a registry that drops rules yet keeps keys (no
    product is both; it lets a test reach the rules a registry drops)."""
    return dataclasses.replace(
        KARAPACE_5,
        name="Karapace 5 with a DEK registry",
        missing=tuple(p for p in KARAPACE_5.missing if not p.startswith("dek-registry")),
    )


_NOT_FOUND = b'"Not Found"'


class ProfileProxy:
    """An HTTP server answering as ``profile``, through the registry at ``upstream``."""

    def __init__(self, upstream: str, profile: Profile) -> None:
        self.upstream = upstream
        self.profile = profile
        self._missing = [re.compile(pattern) for pattern in profile.missing]
        self._socket: socket.socket | None = None
        self._server: PromptServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._socket is not None, "the proxy is not started"
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ProfileProxy:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        config = uvicorn.Config(
            self.app,
            interface="asgi3",
            lifespan="off",
            log_config=None,
            access_log=False,
            loop="asyncio",
        )
        server = PromptServer(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="profile-proxy", daemon=True
        )
        self._socket, self._server, self._thread = sock, server, thread
        thread.start()
        while not server.started and thread.is_alive():
            thread.join(0.005)
        if not server.started:
            self.__exit__()
            raise RuntimeError("the profile proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.request_stop()
        if self._thread is not None:
            self._thread.join(30)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application: the request forwarded, the answer rewritten."""
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, content_type, answer = await self._answer(scope, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(answer)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    async def _answer(self, scope: Scope, body: bytes) -> tuple[int, str, bytes]:
        if self.profile.delay:
            await asyncio.sleep(self.profile.delay)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").strip("/")
        if any(pattern.fullmatch(path) for pattern in self._missing):
            return 404, "application/json", _NOT_FOUND
        method = scope["method"]
        request = _json(body)
        config_put = method == "PUT" and (path == "config" or path.startswith("config/"))
        if config_put and not self.profile.keeps_config and isinstance(request, dict):
            if "compatibility" not in request:
                return 422, "application/json", _validation_error(request)
            request = {"compatibility": request["compatibility"]}
            body = json.dumps(request).encode()
        if method == "POST" and not self.profile.keeps_contracts and isinstance(request, dict):
            request = {k: v for k, v in request.items() if k not in _CONTRACT_KEYS}
            body = json.dumps(request).encode()
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key.lower() in (b"content-type", b"accept", b"authorization")
        }
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"{self.upstream}/{path}" + (f"?{query}" if query else "")
        async with httpx.AsyncClient(timeout=30) as client:
            reply = await client.request(method, url, content=body or None, headers=headers)
        content_type = reply.headers.get("content-type", "application/json")
        if reply.status_code >= 300 or not reply.content:
            return reply.status_code, content_type, reply.content
        answer = self._rewrite(method, path, json.loads(reply.content))
        return reply.status_code, content_type, json.dumps(answer).encode()

    def _rewrite(self, method: str, path: str, answer: Any) -> Any:
        """An upstream answer as the profile's registry gives it."""
        if path.startswith("config") and not self.profile.keeps_config:
            if method == "PUT":
                return {"compatibility": answer.get("compatibility")}
            return {"compatibilityLevel": answer.get("compatibilityLevel")}
        if path.endswith("/schema") and self.profile.sorts_keys:
            return json.loads(_sorted_text(json.dumps(answer)))  # the raw schema, sorted
        if isinstance(answer, list):
            return [self._entry(item) for item in answer]
        return self._entry(answer)

    def _entry(self, item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        if not self.profile.keeps_contracts:
            item = {k: v for k, v in item.items() if k not in (*_CONTRACT_KEYS, "guid")}
        if self.profile.sorts_keys and isinstance(item.get("schema"), str):
            item = {**item, "schema": _sorted_text(item["schema"])}
        return item


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _sorted_text(text: str) -> str:
    """Schema text as Karapace stores it: compact, every object's keys sorted."""
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


def _validation_error(request: dict[str, Any]) -> bytes:
    """FastAPI's 422 for a body without ``compatibility``, through Karapace's handler."""
    detail = {"type": "missing", "loc": ["body", "compatibility"], "msg": "Field required"}
    return json.dumps({"error_code": 422, "message": [{**detail, "input": request}]}).encode()


@contextmanager
def profiled_registry(profile: Profile) -> Iterator[tuple[LocalRegistry, str]]:
    """A fresh local registry and the URL of ``profile``'s proxy in front of it."""
    with LocalRegistry() as registry, ProfileProxy(registry.url, profile) as proxy:
        yield registry, proxy.url

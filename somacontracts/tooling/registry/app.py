"""The local registry as an ASGI application: requests in, Confluent's REST answers out.

:class:`RegistryApp` checks what HTTP alone decides, then hands the request to
:class:`~somacontracts.tooling.registry.routes.Router`. In order:

1. an HTTP/1.1 request without exactly one ``Host`` header is refused 400;
2. a ``Host`` naming another server, or an ``Origin`` of another page than the registry's
   own or an allowed one, is refused 403 (:mod:`somacontracts.tooling.registry.origins`); a CORS
   preflight from an allowed origin is answered 204;
3. with basic authentication configured, the credentials are checked before any of the
   body is read (the scheme name in any case, RFC 7617); a refusal is 401;
4. a body over :data:`MAX_BODY` bytes is refused 413 as soon as its length is known;
5. a ``POST`` or ``PUT`` without a JSON content type is refused 415, its body unread;
6. a GET answer kept from before is sent at once; anything else (every request that
   reads or writes the store, or parses a schema) runs on a worker thread, so that
   neither the store's lock nor a large schema holds up the event loop.

A refusal sent before the body was read closes the connection, so an unread body is
never read. Every answer has Confluent's error shape, ``{"error_code", "message"}``; an
unexpected failure of the registry itself is logged and answered 500 with error code
50001, after which the registry keeps serving.

GET answers are kept, encoded, by request target until the next write transaction of
the store (:attr:`RegistryStore.generation`), so a repeated lookup costs neither a
query nor JSON encoding, and a delete or registration is seen by the next request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from somacontracts.tooling.registry.associations import Associations
from somacontracts.tooling.registry.deks import DekRegistry, NoContent
from somacontracts.tooling.registry.errors import ApiError, shown
from somacontracts.tooling.registry.origins import JSON_TYPES, Allowed, json_body
from somacontracts.tooling.registry.routes import (
    CONTENT_TYPE,
    Router,
    api_routes,
    association_routes,
    dek_routes,
    encode,
)
from somacontracts.tooling.registry.service import Registry

__all__ = ["MAX_BODY", "RegistryApp"]

MAX_BODY = 8 * 1024 * 1024
"""Bytes a request body may have: room for the largest schema, JSON-escaped."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_INTERNAL_ERROR = "Error in the backend datastore"
_CACHE_ENTRIES = 10_000
_CACHE_BYTES = 64 * 1024 * 1024
_CACHE_TARGET = 2048
_WORKERS = 8
_LARGE_BODY = 256 * 1024
"""Bodies larger than this are read a few at a time (:data:`_LARGE_BODIES`)."""
_LARGE_BODIES = 4
_SERVER = b"somacontracts-registry"
_JSON = CONTENT_TYPE.encode()
_log = logging.getLogger(__name__)


class _AnswerCache:
    """GET answers by request target, each valid while the store's generation is unchanged.

    Bounded in entries and in bytes, of targets and answers alike; the oldest entries make
    room for new ones. Targets over :data:`_CACHE_TARGET` characters are not kept: no
    client of the API sends them, and a hostile one would fill the budget with them.
    """

    def __init__(self, entries: int = _CACHE_ENTRIES, size: int = _CACHE_BYTES) -> None:
        self._answers: dict[str, tuple[int, int, bytes]] = {}
        self._max_entries = entries
        self._max_bytes = size
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, target: str, generation: int) -> tuple[int, bytes] | None:
        found = self._answers.get(target)
        if found is None or found[0] != generation:
            return None
        return found[1], found[2]

    def put(self, target: str, generation: int, status: int, data: bytes) -> None:
        size = len(target) + len(data)
        if size > self._max_bytes // 16 or len(target) > _CACHE_TARGET:
            return
        with self._lock:
            answers = self._answers
            old = answers.pop(target, None)
            if old is not None:
                self._bytes -= len(target) + len(old[2])
            while answers and (
                len(answers) >= self._max_entries or self._bytes + size > self._max_bytes
            ):
                oldest = next(iter(answers))
                self._bytes -= len(oldest) + len(answers.pop(oldest)[2])
            answers[target] = (generation, status, data)
            self._bytes += size


class RegistryApp:
    """Confluent Schema Registry's REST API over ``registry``, as an ASGI application."""

    def __init__(
        self,
        registry: Registry,
        *,
        allowed: Allowed,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        self.registry = registry
        self.allowed = allowed
        self.router = Router(
            api_routes(registry)
            + association_routes(Associations(registry))
            + dek_routes(DekRegistry(registry.store))
        )
        self.answers = _AnswerCache()
        self.credentials = None if basic_auth is None else ":".join(basic_auth).encode()
        self.executor = ThreadPoolExecutor(_WORKERS, thread_name_prefix="registry-worker")
        self._large_bodies: asyncio.Semaphore | None = None

    def close(self) -> None:
        """Wait for the requests in progress, then stop the worker threads."""
        self.executor.shutdown(wait=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan events: nothing to start or stop
            return
        method: str = scope["method"]
        host = authorization = content_type = length = preflight = None
        origins: list[bytes] = []
        hosts = authorizations = 0
        chunked = False
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                hosts += 1
            elif name == b"authorization":
                authorization = value
                authorizations += 1
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"origin":
                origins.append(value)
            elif name == b"access-control-request-method":
                preflight = value
        has_body = chunked or (length is not None and length != b"0")
        if hosts != 1 and (hosts > 1 or scope["http_version"] == "1.1"):
            problem = "a request needs exactly one Host header"
            await _respond(send, 400, _error(400, 400, problem), close=True)
            return
        if host is not None and not self.allowed.host(host):
            await _respond(send, 403, _unknown_host(host), close=has_body)
            return
        if any(not self.allowed.origin(origin, host) for origin in origins):
            await _respond(send, 403, _foreign_origin(origins), close=has_body)
            return
        cors = _cors(origins[0]) if len(origins) == 1 and self.allowed.cors(origins[0]) else []
        if method == "OPTIONS" and cors and preflight is not None:
            await _respond(send, 204, b"", cors + _PREFLIGHT, close=has_body)
            return
        if authorizations > 1:
            problem = "a request may have one Authorization header"
            await _respond(send, 400, _error(400, 400, problem), close=True)
            return
        if self.credentials is not None and not self._authorized(authorization):
            await _respond(send, 401, _error(401, 401, "Unauthorized"), cors, close=has_body)
            return
        if length is not None and int(length) > MAX_BODY:
            await _respond(send, 413, _too_large(), cors, close=True)
            return
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        if method in ("GET", "HEAD"):
            generation = self.registry.store.generation
            cached = self.answers.get(target, generation)
            if cached is None:
                status, data = await self._run("GET", target, b"")
                if status < 500:
                    self.answers.put(target, generation, status, data)
            else:
                status, data = cached
            await _respond(send, status, data, cors)
            return
        # A DELETE carries no body (confluent-kafka's client sends neither body nor
        # content type), so it needs no content type: a page on another origin cannot
        # make a browser send one without a CORS preflight, which only allowed origins
        # are answered, and a rebinding page's requests name a host refused above.
        if method in ("POST", "PUT") and not json_body(content_type):
            await _respond(send, 415, _UNSUPPORTED, cors, close=has_body)
            return
        body = await self._body(receive, int(length) if length is not None else None)
        if body is None:
            await _respond(send, 413, _too_large(), cors, close=True)
            return
        status, data = await self._run(method, target, body)
        await _respond(send, status, data, cors)

    def _authorized(self, header: bytes | None) -> bool:
        """Whether ``header`` carries the configured credentials (scheme in any case)."""
        assert self.credentials is not None
        scheme, _, token = (header or b"").strip().partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self.credentials)

    async def _body(self, receive: Receive, length: int | None) -> bytes | None:
        """The whole body; None once it is longer than :data:`MAX_BODY`."""
        if length is not None and length <= _LARGE_BODY:
            return await _read(receive)
        if self._large_bodies is None:
            self._large_bodies = asyncio.Semaphore(_LARGE_BODIES)
        async with self._large_bodies:  # bounds the memory large bodies take at once
            return await _read(receive)

    async def _run(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.answer, method, target, body)

    def answer(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        """Route one request; every failure is answered with Confluent's error body."""
        try:
            payload = self.router.route(method, target, body)
            if isinstance(payload, NoContent):
                return 204, b""
            return 200, encode(payload)
        except ApiError as err:
            return err.status, encode(err.body())
        except Exception:
            _log.exception("registry request %s %s failed", method, target[:200])
            return 500, _error(500, 50001, _INTERNAL_ERROR)


async def _read(receive: Receive) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _error(status: int, code: int, message: str) -> bytes:
    return encode(ApiError(status, code, message).body())


def _too_large() -> bytes:
    return _error(413, 413, f"Payload Too Large: a body may have at most {MAX_BODY} bytes")


def _unknown_host(host: bytes) -> bytes:
    name = shown(host.decode("latin-1"), 100)
    return _error(
        403,
        403,
        f"Forbidden: this registry does not answer to the name {name!r} of the Host header; "
        "allow it with --allowed-host (allowed_hosts= of LocalRegistry)",
    )


def _foreign_origin(origins: list[bytes]) -> bytes:
    names = ", ".join(repr(shown(origin.decode("latin-1"), 100)) for origin in origins)
    return _error(
        403,
        403,
        f"Forbidden: requests from the page of origin {names} are not accepted; "
        "allow it with --allowed-origin (allowed_origins= of LocalRegistry)",
    )


def _cors(origin: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]


_PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, POST, PUT, DELETE"),
    (b"access-control-allow-headers", b"Accept, Authorization, Content-Type"),
    (b"access-control-max-age", b"600"),
]
_UNSUPPORTED = _error(
    415,
    415,
    "HTTP 415 Unsupported Media Type: a POST or PUT must carry Content-Type "
    + ", ".join(JSON_TYPES),
)


async def _respond(
    send: Send,
    status: int,
    data: bytes,
    extra: Sequence[tuple[bytes, bytes]] = (),
    *,
    close: bool = False,
) -> None:
    headers = [(b"server", _SERVER), *extra]
    if status != 204:  # no content: no length or type either (RFC 9110)
        headers += [(b"content-type", _JSON), (b"content-length", str(len(data)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Basic realm="SchemaRegistry"'))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})

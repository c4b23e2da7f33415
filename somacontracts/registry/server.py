"""The HTTP side of the local registry: Confluent's REST paths over the standard library.

:class:`LocalRegistry` runs the registry in a background thread of the calling
process (for tests and tools); :func:`serve` runs it in the foreground until SIGINT or
SIGTERM (for ``somacontracts registry serve``).

Requests and responses are JSON with the content type
``application/vnd.schemaregistry.v1+json``; request bodies may also be sent as
``application/json``. Every failure is answered with Confluent's body,
``{"error_code": N, "message": "..."}``: a malformed JSON body gets HTTP 400 with
error code 400 as in Confluent's REST layer, an unknown path 404 with error code 404,
a method a path does not have 405, and anything unexpected 500 with error code 50001,
after which the server keeps serving. Subject names are percent-decoded segment by
segment, so a subject may contain ``/``.

HTTP/1.1 is spoken by a small layer over :mod:`socketserver`, one thread per
connection. Connections stay open between requests (pipelined ones included) unless
the client sends ``Connection: close`` or speaks HTTP/1.0 without ``keep-alive``, and
close after 60 idle seconds. Request bodies come with ``Content-Length``; a
``Transfer-Encoding`` gets 411, a body over 16 MiB 413, a head over 64 KiB 431, a
request line or header that cannot be parsed 400, a version other than HTTP/1.x 505,
and each of these closes the connection. ``Expect: 100-continue`` is honoured and
``HEAD`` answers as ``GET`` without the body. Each response goes out in one write,
with ``TCP_NODELAY``.

GET answers are kept, encoded, by request target until the next write transaction of
the store (:attr:`RegistryStore.generation`), so a repeated lookup costs neither a
query nor JSON encoding, and a delete or registration is seen by the next request.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hmac
import json
import logging
import re
import signal
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from somacontracts.errors import ContractError
from somacontracts.registry.errors import ApiError
from somacontracts.registry.service import SCHEMA_TYPES, Registry
from somacontracts.registry.store import RegistryStore

__all__ = ["CONTENT_TYPE", "LocalRegistry", "RegistryServerError", "serve"]

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_ACCEPTED_TYPES = frozenset(
    {
        CONTENT_TYPE,
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    }
)
_INTERNAL_ERROR = "Error in the backend datastore"
_MAX_BODY = 16 * 1024 * 1024
_MAX_HEAD = 64 * 1024
_MAX_HEADER_LINES = 100
_IDLE_TIMEOUT = 60.0
_READ_SIZE = 64 * 1024
_DRAIN_TIMEOUT = 1.0
_DRAIN_LIMIT = 1024 * 1024
_CACHE_ENTRIES = 10_000
_CACHE_BYTES = 64 * 1024 * 1024
_SERVER_NAME = "somacontracts-registry"
_HTTP_VERSION = re.compile(r"HTTP/(\d)\.(\d)")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_log = logging.getLogger(__name__)

Handler = Callable[["_Request"], Any]


class RegistryServerError(ContractError):
    """Raised when the local registry cannot listen on its host and port."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(address, reason)
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return f"registry cannot listen on {self.address}: {self.reason}"


class _Request:
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

    def number(self, name: str, default: int) -> int:
        try:
            return int(self.text(name, str(default)))
        except ValueError:
            return default

    def schema_id(self) -> int:
        try:
            return int(self.params["id"], 10)
        except ValueError:
            raise ApiError(404, 404, "HTTP 404 Not Found") from None


def _page(items: list[Any], request: _Request) -> list[Any]:
    offset = max(request.number("offset", 0), 0)
    limit = request.number("limit", -1)
    chosen = items[offset:]
    return chosen if limit < 0 else chosen[:limit]


def _routes(registry: Registry) -> list[tuple[str, tuple[str, ...], Handler]]:
    r = registry

    def optional_subject(req: _Request) -> str | None:
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
            lambda req: _Raw(
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
            lambda req: _Raw(r.raw_schema_by_id(req.schema_id())),
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


class _Raw:
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


class _Router:
    """The routes by number of path segments, each path with its handler per method."""

    def __init__(self, routes: list[tuple[str, tuple[str, ...], Handler]]) -> None:
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


class _RequestError(ApiError):
    """A request the connection cannot go on after: it is answered, then closed."""


class _Head(NamedTuple):
    """The request line and headers (names in lower case) of one request."""

    method: str
    target: str
    minor_version: int
    headers: dict[str, str]

    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept after the response."""
        connection = self.headers.get("connection")
        if connection is None:
            return self.minor_version != 0
        tokens = {t.strip().lower() for t in connection.split(",")}
        if self.minor_version == 0:
            return "keep-alive" in tokens
        return "close" not in tokens


def _head_end(buffer: bytearray, start: int) -> tuple[int, int] | None:
    """Where the head in ``buffer`` ends and the body begins; lines end in CRLF or LF."""
    crlf = buffer.find(b"\r\n\r\n", start)
    lf = buffer.find(b"\n\n", start, len(buffer) if crlf < 0 else crlf)
    if lf >= 0:
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 4
    return None


def _parse_head(head: bytes) -> _Head:
    """The request line and headers, or :class:`_RequestError` with 400, 431 or 505."""
    lines = head.decode("latin-1").split("\n")
    words = lines[0].split()
    if len(words) != 3 or _TOKEN.fullmatch(words[0]) is None:
        raise _RequestError(400, 400, "Bad Request: malformed request line")
    method, target, version_text = words
    version = _HTTP_VERSION.fullmatch(version_text)
    if version is None:
        raise _RequestError(400, 400, f"Bad Request: unknown protocol {version_text!r}")
    if version[1] != "1":
        raise _RequestError(505, 505, f"HTTP Version Not Supported: {version_text}")
    if target.startswith(("http://", "https://")):  # absolute form, as sent to a proxy
        parts = urlsplit(target)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/"):
        raise _RequestError(400, 400, "Bad Request: the request target is not a path")
    if len(lines) > _MAX_HEADER_LINES + 1:
        raise _RequestError(431, 431, "Request Header Fields Too Large: too many header lines")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or _TOKEN.fullmatch(name) is None:
            raise _RequestError(400, 400, f"Bad Request: malformed header line {line.strip()!r}")
        key = name.lower()
        value = value.strip(" \t\r")
        previous = headers.get(key)
        if previous is None:
            headers[key] = value
        elif key == "content-length":
            if previous != value:
                raise _RequestError(400, 400, "Bad Request: conflicting Content-Length headers")
        else:
            headers[key] = f"{previous}, {value}"
    return _Head(method, target, int(version[2]), headers)


def _decode(content_type_header: str, raw: bytes) -> Any:
    content_type = content_type_header.partition(";")[0].strip().lower()
    if content_type and content_type not in _ACCEPTED_TYPES:
        raise ApiError(415, 415, "HTTP 415 Unsupported Media Type")
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, 400, "Bad Request: the body is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ApiError(
            400,
            400,
            f"Bad Request: the body is not JSON: {err.msg} (line {err.lineno}, column {err.colno})",
        ) from None
    except RecursionError:
        raise ApiError(400, 400, "Bad Request: the body nests too deeply") from None


def _json(payload: Any) -> bytes:
    if isinstance(payload, _Raw):
        return payload.text.encode("utf-8")
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


@functools.cache
def _status_lines(status: int) -> bytes:
    """The status line and the headers every response with ``status`` has."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [
        f"HTTP/1.1 {status} {reason}",
        f"Server: {_SERVER_NAME}",
        f"Content-Type: {CONTENT_TYPE}",
    ]
    if status == 401:
        lines.append('WWW-Authenticate: Basic realm="SchemaRegistry"')
    return "".join(f"{line}\r\n" for line in lines).encode("latin-1")


@functools.lru_cache(maxsize=1)
def _date(second: int) -> bytes:
    return formatdate(second, usegmt=True).encode("ascii")


def _response(
    status: int, data: bytes, *, connection: bytes = b"", send_body: bool = True
) -> bytes:
    """The whole response; ``connection`` is the value of a ``Connection`` header, if any."""
    parts = [
        _status_lines(status),
        b"Date: %s\r\nContent-Length: %d\r\n" % (_date(int(time.time())), len(data)),
    ]
    if connection:
        parts.append(b"Connection: %s\r\n" % connection)
    parts.append(b"\r\n")
    if send_body:
        parts.append(data)
    return b"".join(parts)


class _AnswerCache:
    """GET answers by request target, each valid while the store's generation is unchanged.

    Bounded in entries and bytes; the oldest entries make room for new ones.
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
        if len(data) > self._max_bytes // 16:
            return
        with self._lock:
            answers = self._answers
            old = answers.pop(target, None)
            if old is not None:
                self._bytes -= len(old[2])
            while answers and (
                len(answers) >= self._max_entries or self._bytes + len(data) > self._max_bytes
            ):
                self._bytes -= len(answers.pop(next(iter(answers)))[2])
            answers[target] = (generation, status, data)
            self._bytes += len(data)


class _Server(socketserver.ThreadingTCPServer):
    """Answers requests; tracks open connections so that stopping closes idle ones too."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        registry: Registry,
        basic_auth: tuple[str, str] | None,
    ) -> None:
        self.registry = registry
        self.router = _Router(_routes(registry))
        self.answers = _AnswerCache()
        self.expected_auth: bytes | None = None
        if basic_auth is not None:
            token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            self.expected_auth = f"Basic {token}".encode()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Connection)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_ = list(self.connections)
        for conn in open_:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def answer(self, head: _Head, body: bytes) -> tuple[int, bytes]:
        """The status and encoded body answering one request."""
        if self.expected_auth is not None:
            given = head.headers.get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(given, self.expected_auth):
                return 401, _json(ApiError(401, 401, "Unauthorized").body())
        if head.method not in ("GET", "HEAD"):
            return self.run(head.method, head.target, head.headers, body)
        generation = self.registry.store.generation
        cached = self.answers.get(head.target, generation)
        if cached is not None:
            return cached
        status, data = self.run("GET", head.target, head.headers, body)
        if status < 500:
            self.answers.put(head.target, generation, status, data)
        return status, data

    def run(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, bytes]:
        try:
            return 200, _json(self.route(method, target, headers, raw))
        except ApiError as err:
            return err.status, _json(err.body())
        except Exception:
            _log.exception("registry request %s %s failed", method, target)
            return 500, _json({"error_code": 50001, "message": _INTERNAL_ERROR})

    def route(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
        path, _, query_text = target.partition("?")
        segments = [unquote(part) for part in path.split("/")[1:]]
        if segments and segments[-1] == "":
            segments.pop()
        found = self.router.find(segments)
        if found is None:
            raise ApiError(404, 404, "HTTP 404 Not Found")
        params, handlers = found
        handler = handlers.get(method)
        if handler is None:
            raise ApiError(405, 405, "HTTP 405 Method Not Allowed")
        body = _decode(headers.get("content-type", ""), raw) if method in ("POST", "PUT") else None
        query = parse_qs(query_text, keep_blank_values=True)
        return handler(_Request(params, query, body))


class _Connection(socketserver.BaseRequestHandler):
    """One client connection: reads requests and answers them until either side closes."""

    server: _Server
    request: socket.socket

    def setup(self) -> None:
        self.buffer = bytearray()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(_IDLE_TIMEOUT)

    def handle(self) -> None:
        # A reset, an idle timeout or stop() shutting the socket all end the connection.
        with contextlib.suppress(OSError):
            while self.serve_one():
                pass

    def serve_one(self) -> bool:
        """Read and answer one request; return whether the connection stays open."""
        try:
            raw_head = self.read_head()
            if raw_head is None:
                return False
            head = _parse_head(raw_head)
            body = self.read_body(head)
        except _RequestError as refused:
            self.request.sendall(
                _response(refused.status, _json(refused.body()), connection=b"close")
            )
            self.drain()
            return False
        status, data = self.server.answer(head, body)
        keep_alive = head.keep_alive()
        if not keep_alive:
            connection = b"close"
        elif head.minor_version == 0:
            connection = b"keep-alive"
        else:
            connection = b""
        send_body = head.method != "HEAD"
        self.request.sendall(_response(status, data, connection=connection, send_body=send_body))
        _log.debug('%s "%s %s" %d', self.client_address[0], head.method, head.target, status)
        return keep_alive

    def read_head(self) -> bytes | None:
        """The next request's line and headers; ``None`` if the client closed first."""
        buffer = self.buffer
        searched = 0
        while True:
            if searched == 0:  # empty lines before a request line are ignored
                while buffer.startswith((b"\r", b"\n")):
                    del buffer[:1]
            end = _head_end(buffer, max(searched - 3, 0))
            if end is not None:
                if end[0] > _MAX_HEAD:
                    raise _RequestError(431, 431, "Request Header Fields Too Large")
                head = bytes(buffer[: end[0]])
                del buffer[: end[1]]
                return head
            if len(buffer) > _MAX_HEAD:
                raise _RequestError(431, 431, "Request Header Fields Too Large")
            searched = len(buffer)
            chunk = self.request.recv(_READ_SIZE)
            if not chunk:
                return None
            buffer += chunk

    def drain(self) -> None:
        """Read what the client still sends, briefly, before closing after a refusal.

        Closing a socket with unread data resets the connection, and the client may
        then lose the response it was sent.
        """
        self.request.shutdown(socket.SHUT_WR)
        self.request.settimeout(_DRAIN_TIMEOUT)
        deadline = time.monotonic() + _DRAIN_TIMEOUT
        left = _DRAIN_LIMIT
        while left > 0 and time.monotonic() < deadline and (chunk := self.request.recv(_READ_SIZE)):
            left -= len(chunk)

    def read_body(self, head: _Head) -> bytes:
        """The body ``Content-Length`` announces; empty without one."""
        if "transfer-encoding" in head.headers:
            raise _RequestError(
                411, 411, "Length Required: chunked request bodies are not supported"
            )
        length_text = head.headers.get("content-length")
        if length_text is None:
            return b""
        if not (length_text.isascii() and length_text.isdigit()):
            raise _RequestError(400, 400, "Bad Request: invalid Content-Length")
        length = int(length_text)
        if length > _MAX_BODY:
            raise _RequestError(413, 413, "Request Entity Too Large")
        buffer = self.buffer
        expects = head.headers.get("expect", "").lower() == "100-continue"
        if expects and len(buffer) < length and head.minor_version >= 1:
            self.request.sendall(_CONTINUE)
        while len(buffer) < length:
            chunk = self.request.recv(min(length - len(buffer), 1024 * 1024))
            if not chunk:
                raise ConnectionResetError("the client closed the connection within a body")
            buffer += chunk
        body = bytes(buffer[:length])
        del buffer[:length]
        return body


class LocalRegistry:
    """A schema registry serving Confluent's REST API from a thread of this process.

    ``port=0`` picks a free port; :attr:`url` tells which once started. ``db_path``
    keeps the state in a SQLite file across restarts; without it the state is in
    memory. ``basic_auth=(user, password)`` makes every request authenticate.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db_path: str | Path | None = None,
        basic_auth: tuple[str, str] | None = None,
        lock_timeout: float = 1.0,
    ) -> None:
        self.host = host
        self.port = port
        self.db_path = db_path
        self.basic_auth = basic_auth
        self.lock_timeout = lock_timeout
        self._store: RegistryStore | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL clients use, such as ``http://127.0.0.1:8081``."""
        if self._server is None:
            raise RuntimeError("the registry is not started")
        address = self._server.server_address
        host, port = str(address[0]), int(address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> LocalRegistry:
        """Open the database and listen; return once requests are served."""
        if self._server is not None:
            return self
        store = RegistryStore(self.db_path, lock_timeout=self.lock_timeout)
        try:
            server = _Server((self.host, self.port), Registry(store), self.basic_auth)
        except OSError as err:
            store.close()
            raise RegistryServerError(f"{self.host}:{self.port}", err.strerror or str(err)) from err
        self._store, self._server = store, server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"registry-{self.url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and the database."""
        server, thread, store = self._server, self._thread, self._store
        self._server = self._thread = self._store = None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join()
        if store is not None:
            store.close()

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    host: str = "127.0.0.1",
    port: int = 8081,
    db: str | Path | None = None,
    *,
    basic_auth: tuple[str, str] | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the registry until SIGINT or SIGTERM; ``on_ready`` gets the URL once listening.

    Must run in the main thread, which receives the signals.
    """
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with LocalRegistry(host=host, port=port, db_path=db, basic_auth=basic_auth) as registry:
            if on_ready is not None:
                on_ready(registry.url)
            while not stopping.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

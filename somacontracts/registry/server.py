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
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import signal
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote

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
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{"):
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


class _Server(ThreadingHTTPServer):
    """Tracks open connections so that stopping closes idle keep-alive ones too."""

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
        self.routes = _routes(registry)
        self.expected_auth = None
        if basic_auth is not None:
            token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            self.expected_auth = f"Basic {token}"
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the second waits
    # for the client's delayed ACK, some 40 ms per request on a kept-alive connection.
    disable_nagle_algorithm = True
    server_version = "somacontracts-registry"
    # Idle keep-alive connections end after this many seconds.
    timeout = 60
    server: _Server

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)

    def dispatch(self, method: str) -> None:
        try:
            raw = self.read_body()
            status, payload = self.answer(method, raw)
        except ApiError as err:
            status, payload = err.status, err.body()
        except Exception:
            _log.exception("registry request %s %s failed", method, self.path)
            status, payload = (
                500,
                {"error_code": 50001, "message": "Error in the backend datastore"},
            )
        self.send(status, payload)

    def read_body(self) -> bytes:
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ApiError(411, 411, "Length Required: chunked request bodies are not supported")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, 400, "Bad Request: invalid Content-Length") from None
        if length < 0 or length > _MAX_BODY:
            self.close_connection = True
            raise ApiError(413, 413, "Request Entity Too Large")
        return self.rfile.read(length)

    def answer(self, method: str, raw: bytes) -> tuple[int, Any]:
        if self.server.expected_auth is not None:
            given = self.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), self.server.expected_auth.encode()):
                raise ApiError(401, 401, "Unauthorized")
        path, _, query_text = self.path.partition("?")
        segments = [unquote(part) for part in path.split("/")[1:]]
        if segments and segments[-1] == "":
            segments.pop()
        query = parse_qs(query_text, keep_blank_values=True)
        allowed = False
        for route_method, pattern, handler in self.server.routes:
            params = _match(pattern, segments)
            if params is None:
                continue
            allowed = True
            if route_method != method:
                continue
            body = self.decode(raw) if method in ("POST", "PUT") else None
            return 200, handler(_Request(params, query, body))
        if allowed:
            raise ApiError(405, 405, "HTTP 405 Method Not Allowed")
        raise ApiError(404, 404, "HTTP 404 Not Found")

    def decode(self, raw: bytes) -> Any:
        content_type = self.headers.get("Content-Type", "").partition(";")[0].strip().lower()
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
                f"Bad Request: the body is not JSON: {err.msg} (line {err.lineno}, "
                f"column {err.colno})",
            ) from None
        except RecursionError:
            raise ApiError(400, 400, "Bad Request: the body nests too deeply") from None

    def send(self, status: int, payload: Any) -> None:
        if isinstance(payload, _Raw):
            data = payload.text.encode("utf-8")
        else:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="SchemaRegistry"')
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


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

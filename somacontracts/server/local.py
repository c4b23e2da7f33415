"""The local registry's server: Confluent's REST API over HTTP, in a thread or the foreground.

:class:`LocalRegistry` runs the registry in a background thread of the calling
process (for tests and tools); :func:`serve` runs it in the foreground until SIGINT or
SIGTERM (for ``somacontracts registry serve``).

The server glues :mod:`~somacontracts.server.http` (connections, HTTP/1.1) to
:mod:`~somacontracts.server.routes` (the REST API): it checks basic authentication,
keeps GET answers and answers every failure with Confluent's body,
``{"error_code": N, "message": "..."}``; anything unexpected gets 500 with error code
50001, after which the server keeps serving. Responses have the content type
``application/vnd.schemaregistry.v1+json``.

GET answers are kept, encoded, by request target until the next write transaction of
the store (:attr:`RegistryStore.generation`), so a repeated lookup costs neither a
query nor JSON encoding, and a delete or registration is seen by the next request.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import logging
import signal
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from somacontracts.errors import ContractError
from somacontracts.server.errors import ApiError
from somacontracts.server.http import Connection, Head, RequestError, Responses
from somacontracts.server.routes import CONTENT_TYPE, Router, api_routes, encode
from somacontracts.server.service import Registry
from somacontracts.server.store import RegistryStore

__all__ = ["CONTENT_TYPE", "LocalRegistry", "RegistryServerError", "serve"]

_INTERNAL_ERROR = "Error in the backend datastore"
_CACHE_ENTRIES = 10_000
_CACHE_BYTES = 64 * 1024 * 1024
_SERVER_NAME = "somacontracts-registry"
_STATUS_HEADERS = {401: ('WWW-Authenticate: Basic realm="SchemaRegistry"',)}
_log = logging.getLogger(__name__)


class RegistryServerError(ContractError):
    """Raised when the local registry cannot listen on its host and port."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(address, reason)
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return f"registry cannot listen on {self.address}: {self.reason}"


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
        self.router = Router(api_routes(registry))
        self.answers = _AnswerCache()
        self.expected_auth: bytes | None = None
        if basic_auth is not None:
            token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            self.expected_auth = f"Basic {token}".encode()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.responses = Responses(_SERVER_NAME, CONTENT_TYPE, _STATUS_HEADERS)
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, Connection)

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

    def answer(self, head: Head, body: bytes) -> tuple[int, bytes]:
        """The status and encoded body answering one request."""
        if self.expected_auth is not None:
            given = head.headers.get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(given, self.expected_auth):
                return 401, encode(ApiError(401, 401, "Unauthorized").body())
        if head.method not in ("GET", "HEAD"):
            return self.run(head, head.method, body)
        generation = self.registry.store.generation
        cached = self.answers.get(head.target, generation)
        if cached is not None:
            return cached
        status, data = self.run(head, "GET", body)
        if status < 500:
            self.answers.put(head.target, generation, status, data)
        return status, data

    def run(self, head: Head, method: str, body: bytes) -> tuple[int, bytes]:
        """Route one request; every failure is answered with Confluent's error body."""
        try:
            content_type = head.headers.get("content-type", "")
            return 200, encode(self.router.route(method, head.target, content_type, body))
        except ApiError as err:
            return err.status, encode(err.body())
        except Exception:
            _log.exception("registry request %s %s failed", method, head.target)
            return 500, encode({"error_code": 50001, "message": _INTERNAL_ERROR})

    def refusal(self, error: RequestError) -> bytes:
        """Confluent's error body, with the HTTP status as error code."""
        return encode(ApiError(error.status, error.status, error.message).body())


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

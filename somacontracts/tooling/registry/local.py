"""The local registry's server: Confluent's REST API over HTTP, in a thread or the foreground.

:class:`LocalRegistry` runs the registry in a background thread of the calling
process (for tests and tools); :func:`serve` runs it in the foreground until SIGINT or
SIGTERM (for ``somacontracts registry serve``).

HTTP is uvicorn's, with httptools (Node.js's llhttp) as the parser and the limits of
:mod:`somacontracts.tooling.registry.protocol`; the REST API is the ASGI application of
:mod:`somacontracts.tooling.registry.app`. uvicorn is maintained, widely deployed and has had few
and promptly fixed security advisories; it needs ``pip install somacontracts[local]``.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from somacontracts.errors import ContractError
from somacontracts.tooling.registry.app import RegistryApp
from somacontracts.tooling.registry.origins import Allowed
from somacontracts.tooling.registry.routes import CONTENT_TYPE
from somacontracts.tooling.registry.service import Registry
from somacontracts.tooling.registry.store import RegistryStore

__all__ = ["CONTENT_TYPE", "LocalRegistry", "RegistryServerError", "serve"]

_BACKLOG = 1024
_STOP_TIMEOUT = 40.0  # beyond uvicorn's graceful shutdown, which waits for answers
_log = logging.getLogger(__name__)


class RegistryServerError(ContractError):
    """Raised when the local registry cannot listen on its host and port."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(address, reason)
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return f"registry cannot listen on {self.address}: {self.reason}"


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port`` (0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not implied: asyncio turns Nagle's algorithm off (TCP_NODELAY) only
    # on sockets whose proto says TCP, and with it on, a response written as head then
    # body waits for the client's delayed ACK: 40 ms a request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError as err:
        sock.close()
        raise RegistryServerError(f"{host}:{port}", err.strerror or str(err)) from err
    except BaseException:
        sock.close()
        raise
    return sock


EVENT_LOOP = "auto"
"""uvicorn's event loop setting: ``auto`` runs uvloop where it is installed (the
``[local]`` extra brings it on Linux and macOS), else asyncio's own loop."""


def _uvicorn(app: RegistryApp) -> Any:
    """A uvicorn server for ``app``, configured with the registry's protocol and limits."""
    try:
        import uvicorn

        from somacontracts.tooling.registry.protocol import (
            IDLE_TIMEOUT,
            REQUEST_DEADLINE,
            GuardedProtocol,
        )
        from somacontracts.tooling.registry.serving import PromptServer
    except ImportError as err:
        raise RegistryServerError(
            "its address",
            f"the local registry needs uvicorn and httptools ({err}); "
            "run `pip install somacontracts[local]`",
        ) from None
    uvicorn_log = logging.getLogger("uvicorn")
    if not uvicorn_log.handlers:  # its notices go where the application's logging sends
        uvicorn_log.addHandler(logging.NullHandler())  # them, and nowhere without it
    config = uvicorn.Config(
        app,
        http=GuardedProtocol,
        loop=EVENT_LOOP,
        proxy_headers=False,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=int(IDLE_TIMEOUT),
        timeout_graceful_shutdown=int(REQUEST_DEADLINE),  # answers in progress are sent
        backlog=_BACKLOG,
    )
    return PromptServer(config)


class LocalRegistry:
    """A schema registry serving Confluent's REST API from a thread of this process.

    ``port=0`` picks a free port; :attr:`url` tells which once started. ``db_path``
    keeps the state in a SQLite file across restarts; without it the state is in
    memory. ``basic_auth=(user, password)`` makes every request authenticate.

    Requests must name the registry in ``Host``: ``localhost``, ``127.0.0.1``, ``[::1]``,
    ``host``, or one of ``allowed_hosts`` (for a registry behind a proxy or reached by
    another name); a request from a web page must come from the registry's own origin or
    one of ``allowed_origins`` (``http://localhost:3000``), which also get CORS answers.
    See :mod:`somacontracts.tooling.registry.origins`. A value that is not a host name or an origin
    raises :class:`~somacontracts.errors.ConfigurationError`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db_path: str | Path | None = None,
        basic_auth: tuple[str, str] | None = None,
        lock_timeout: float = 1.0,
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
    ) -> None:
        self.host = host
        self.port = port
        self.db_path = db_path
        self.basic_auth = basic_auth
        self.lock_timeout = lock_timeout
        self.allowed = Allowed.serving(host, allowed_hosts, allowed_origins)
        self._store: RegistryStore | None = None
        self._app: RegistryApp | None = None
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL clients use, such as ``http://127.0.0.1:8081``."""
        if self._socket is None:
            raise RuntimeError("the registry is not started")
        address = self._socket.getsockname()
        host, port = str(address[0]), int(address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> LocalRegistry:
        """Open the database and listen; return once requests are served."""
        if self._socket is not None:
            return self
        store = RegistryStore(self.db_path, lock_timeout=self.lock_timeout)
        app = RegistryApp(Registry(store), allowed=self.allowed, basic_auth=self.basic_auth)
        try:
            sock = _listen(self.host, self.port)
            server = _uvicorn(app)
        except BaseException:
            app.close()
            store.close()
            raise
        failed: list[BaseException] = []

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as err:  # reported by start(), which waits below
                failed.append(err)

        thread = threading.Thread(target=run, name=f"registry-{self.port}", daemon=True)
        self._store, self._app, self._server, self._socket = store, app, server, sock
        self._thread = thread
        thread.start()
        while not server.started and thread.is_alive():
            thread.join(0.005)
        if not server.started:
            self.stop()
            reason = f"{type(failed[0]).__name__}: {failed[0]}" if failed else "it stopped"
            raise RegistryServerError(f"{self.host}:{self.port}", reason)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and the database."""
        server, thread, app, store, sock = (
            self._server,
            self._thread,
            self._app,
            self._store,
            self._socket,
        )
        self._server = self._thread = self._app = self._store = self._socket = None
        if server is not None:
            server.request_stop()
        if thread is not None:
            thread.join(_STOP_TIMEOUT)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join()
        if sock is not None:
            sock.close()
        if app is not None:
            app.close()
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
    allowed_hosts: Iterable[str] = (),
    allowed_origins: Iterable[str] = (),
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the registry until SIGINT or SIGTERM; ``on_ready`` gets the URL once listening.
    The options are :class:`LocalRegistry`'s.

    Must run in the main thread, which receives the signals.
    """
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with LocalRegistry(
            host=host,
            port=port,
            db_path=db,
            basic_auth=basic_auth,
            allowed_hosts=allowed_hosts,
            allowed_origins=allowed_origins,
        ) as registry:
            if on_ready is not None:
                on_ready(registry.url)
            while not stopping.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

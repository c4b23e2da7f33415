"""HTTP/1.1 connections of the local registry: uvicorn's httptools protocol, with the limits
it lacks.

uvicorn parses HTTP (with httptools, Node.js's llhttp) and runs the ASGI application of
:mod:`somacontracts.tooling.registry.app`. It has no deadline for a request to arrive (its
keep-alive timer restarts on every byte received, so a client trickling a byte a second
holds a connection for ever), no limit on the size or number of header lines, and no cap
on connections short of answering every request 503. :class:`GuardedProtocol` adds them
where uvicorn's parser callbacks let a protocol class (``uvicorn.Config(http=...)``):

* a connection with no request in progress closes after :data:`IDLE_TIMEOUT` seconds,
  whatever stray bytes it sends;
* a request must arrive whole, head and body, within :data:`REQUEST_DEADLINE` seconds
  of its first byte, else it is answered 408 and the connection closed;
* a head over :data:`MAX_HEAD` bytes or :data:`MAX_HEADERS` lines is answered 431;
* an HTTP version other than 1.x is answered 400 (a bad request, not a server fault);
* beyond :data:`MAX_CONNECTIONS` open connections a new one is answered 429 with
  ``Retry-After`` and closed before it is read (Confluent's client retries a 429);
* a request the client cut short by half-closing is answered 400; whole requests
  before it are answered first;
* a request the parser refuses is answered 400.

Each of these answers has Confluent's error body and closes the connection. A connection
the server closes while the client may still send (a refused head, a body not read, or
no half-close from the client yet) first half-closes and discards what arrives for up to
:data:`LINGER` seconds, as web servers' "lingering close" does: closing a socket with
unread input resets the connection, and a client still sending would lose the answer.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "IDLE_TIMEOUT",
    "LINGER",
    "MAX_CONNECTIONS",
    "MAX_HEAD",
    "MAX_HEADERS",
    "REQUEST_DEADLINE",
    "GuardedProtocol",
    "refusal",
]

IDLE_TIMEOUT = 15.0
"""Seconds a connection may stay open with no request in progress."""
REQUEST_DEADLINE = 30.0
"""Seconds a request has to arrive whole, from its first byte."""
MAX_HEAD = 64 * 1024
"""Bytes of request line and header lines a request may have."""
MAX_HEADERS = 100
"""Header lines a request may have."""
MAX_CONNECTIONS = 1024
"""Connections open at once; more are answered 429 and closed."""
LINGER = 2.0
"""Seconds a connection the server closes keeps discarding what the client still sends,
until the client closes its side, before it closes."""

_CONTENT_TYPE = b"application/vnd.schemaregistry.v1+json"


def refusal(status: int, message: str, *extra: tuple[bytes, bytes]) -> bytes:
    """A whole response closing the connection, with Confluent's error body."""
    body = json.dumps({"error_code": status, "message": message}).encode()
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(),
        b"content-type: " + _CONTENT_TYPE,
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
        *(name + b": " + value for name, value in extra),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class _LingeringTransport:
    """A connection's transport whose ``close()``, while its client may still send,
    half-closes and lets the client read the answer before the socket closes."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._closing = False
        self._timer: asyncio.TimerHandle | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._closing or self._transport.is_closing()

    def close(self) -> None:
        transport = self._transport
        if self._closing or transport.is_closing():
            self.close_now()
            return
        self._closing = True
        if not self._protocol.may_send() or not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()  # once what is buffered is sent
        if not transport.is_reading():
            transport.resume_reading()  # to see the client's own close
        self._timer = self._protocol.loop.call_later(LINGER, self.close_now)

    def close_now(self) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._transport.close()


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines, head limits and a connection cap."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._receiving = False  # a request has begun and has not arrived whole
        self._head_bytes = 0
        self._header_lines = 0
        self._refused: tuple[int, str] | None = None  # set by a callback, sent on the error
        self._eof = False  # the client has finished sending
        self._garbage = False  # input the parser refused is left unread
        self._partial: Any = None  # the cycle of a request whose head came, not its body
        self._deferred: tuple[int, str] | None = None  # a refusal waiting for answers before it

    # -- connection ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        lingering = _LingeringTransport(transport, self)
        super().connection_made(cast(asyncio.Transport, lingering))
        if len(self.connections) > MAX_CONNECTIONS:
            self._refuse(429, "too many connections; try again shortly", (b"retry-after", b"1"))
            return
        self._arm(IDLE_TIMEOUT)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
        cast(_LingeringTransport, self.transport).close_now()

    def shutdown(self) -> None:
        """Close at once unless a request that arrived whole is being answered (a server
        that stops does not linger on idle connections)."""
        if self._receiving or self.transport.is_closing() or not self._answering():
            self._disarm()
            cast(_LingeringTransport, self.transport).close_now()
        else:
            super().shutdown()

    def may_send(self) -> bool:
        """Whether input may still come or be left unread: a request not yet whole, refused
        input, or a client that has not finished sending (bytes after an answered request
        are still on their way: closing on them would reset the connection, and the client
        could lose the answer)."""
        return self._receiving or self._garbage or not self._eof

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing() or self._deferred is not None:
            return  # lingering, or after a refused request: discarded
        super().data_received(data)

    def eof_received(self) -> bool:  # type: ignore[override]  # asyncio.Protocol: bool | None
        """The client has finished sending (a half-close): answer what arrived whole, then
        close. asyncio closes the transport at once unless this returns True."""
        if self.transport.is_closing():
            return False  # lingering, and the client has read the answer: close now
        self._eof = True
        if self._answering() or self._deferred is not None:
            return True
        self._finish()
        return True

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self._deferred is not None:
            if not self._answering():
                self._refuse(*self._deferred)
        elif self._eof and not self._answering():
            self._finish()
        elif not self._receiving:
            self._arm(IDLE_TIMEOUT)

    def _answering(self) -> bool:
        """Whether a request that arrived whole is still to be answered."""
        if self.pipeline:  # a request that arrived whole is being answered, more wait
            return True
        cycle = self.cycle
        return cycle is not None and cycle is not self._partial and not cycle.response_complete

    def _finish(self) -> None:
        """Close a connection the client has finished sending on; a request it cut short
        is answered 400."""
        if self._receiving:
            self._refuse(400, "the request ended before it arrived whole")
        else:
            self._disarm()
            self.transport.close()

    # -- parser callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._receiving = True
        self._head_bytes = 0
        self._header_lines = 0
        self._arm(REQUEST_DEADLINE)

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_lines += 1
        self._count_head(len(name) + len(value) + 4)
        if self._header_lines > MAX_HEADERS:
            self._stop(431, f"a request may have at most {MAX_HEADERS} header lines")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self.parser.get_http_version() not in ("1.0", "1.1"):
            self._stop(400, "Bad Request: this registry speaks HTTP/1.1 (and 1.0)")
        super().on_headers_complete()
        self._partial = self.cycle

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._receiving = False
        self._partial = None
        self._disarm()

    def send_400_response(self, msg: str) -> None:
        """Answer what the parser refused (or a callback stopped), and close: after the
        answers of the whole requests before it on the connection, if any are pending."""
        status, message = self._refused or (400, "Bad Request: not a valid HTTP/1.1 request")
        self._refused = None
        self._garbage = True
        if self._answering():
            self._deferred = (status, message)
            self._disarm()  # no deadline or idle timer drops the answers still to come
        else:
            self._refuse(status, message)

    # -- limits ---------------------------------------------------------------------

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD:
            self._stop(431, f"the request line and headers may have at most {MAX_HEAD} bytes")

    def _stop(self, status: int, message: str) -> None:
        """Stop parsing this connection: the error raised here reaches send_400_response."""
        self._refused = (status, message)
        raise ValueError(message)

    def _expired(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self._receiving and (cycle is None or not cycle.response_started):
            if cycle is not None:
                cycle.disconnected = True  # the application's answer, if any, is dropped
            self._refuse(408, f"the request did not arrive whole within {REQUEST_DEADLINE:g} s")
        elif cycle is None or cycle.response_complete:
            self.transport.close()  # idle

    def _refuse(self, status: int, message: str, *extra: tuple[bytes, bytes]) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(refusal(status, message, *extra))
            self.transport.close()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

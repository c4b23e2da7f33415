"""HTTP/1.1 over :mod:`socketserver`: reading requests off a connection and writing responses.

:class:`Connection` handles one client connection in its own thread and hands each
request's :class:`Head` and body to the server it belongs to, an :class:`Application`,
for the status and body to send. This module knows nothing of paths, JSON, schemas or
the registry: what a request means, what a refusal's body says and which headers
every response has are the application's.

Connections stay open between requests (pipelined ones included) unless the client
sends ``Connection: close`` or speaks HTTP/1.0 without ``keep-alive``, and close after
60 idle seconds. Request bodies come with ``Content-Length``; a ``Transfer-Encoding``
gets 411, a body over 16 MiB 413, a head over 64 KiB 431, a request line or header
that cannot be parsed 400, a version other than HTTP/1.x 505, and each of these closes
the connection. ``Expect: 100-continue`` is honoured and ``HEAD`` answers as ``GET``
without the body. Each response goes out in one write, with ``TCP_NODELAY``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import socket
import socketserver
import time
from collections.abc import Mapping
from email.utils import formatdate
from http import HTTPStatus
from typing import NamedTuple, Protocol, cast
from urllib.parse import urlsplit

__all__ = ["Application", "Connection", "Head", "RequestError", "Responses"]

_MAX_BODY = 16 * 1024 * 1024
_MAX_HEAD = 64 * 1024
_MAX_HEADER_LINES = 100
_IDLE_TIMEOUT = 60.0
_READ_SIZE = 64 * 1024
_DRAIN_TIMEOUT = 1.0
_DRAIN_LIMIT = 1024 * 1024
_HTTP_VERSION = re.compile(r"HTTP/(\d)\.(\d)")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_log = logging.getLogger(__name__)


class RequestError(Exception):
    """A request the connection cannot go on after: it is answered, then closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}"


class Head(NamedTuple):
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


class Responses:
    """Whole responses, each with ``Server``, ``Content-Type``, ``Date`` and ``Content-Length``.

    ``status_headers`` adds header lines to the responses with a given status, such as
    ``WWW-Authenticate`` to 401.
    """

    def __init__(
        self,
        server: str,
        content_type: str,
        status_headers: Mapping[int, tuple[str, ...]] | None = None,
    ) -> None:
        self._server = server
        self._content_type = content_type
        self._status_headers = dict(status_headers or {})
        self._status_lines: dict[int, bytes] = {}

    def status_lines(self, status: int) -> bytes:
        """The status line and the headers every response with ``status`` has."""
        found = self._status_lines.get(status)
        if found is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
            lines = [
                f"HTTP/1.1 {status} {reason}",
                f"Server: {self._server}",
                f"Content-Type: {self._content_type}",
                *self._status_headers.get(status, ()),
            ]
            found = "".join(f"{line}\r\n" for line in lines).encode("latin-1")
            self._status_lines[status] = found
        return found

    def build(
        self, status: int, data: bytes, *, connection: bytes = b"", send_body: bool = True
    ) -> bytes:
        """The whole response; ``connection`` is the value of a ``Connection`` header, if any."""
        parts = [
            self.status_lines(status),
            b"Date: %s\r\nContent-Length: %d\r\n" % (_date(int(time.time())), len(data)),
        ]
        if connection:
            parts.append(b"Connection: %s\r\n" % connection)
        parts.append(b"\r\n")
        if send_body:
            parts.append(data)
        return b"".join(parts)


class Application(Protocol):
    """What a :class:`Connection` needs from the server it belongs to."""

    @property
    def responses(self) -> Responses:
        """How the responses are framed."""
        ...

    def answer(self, head: Head, body: bytes) -> tuple[int, bytes]:
        """The status and encoded body answering one request."""
        ...

    def refusal(self, error: RequestError) -> bytes:
        """The encoded body answering a request refused before it could be answered."""
        ...


@functools.lru_cache(maxsize=1)
def _date(second: int) -> bytes:
    return formatdate(second, usegmt=True).encode("ascii")


def _head_end(buffer: bytearray, start: int) -> tuple[int, int] | None:
    """Where the head in ``buffer`` ends and the body begins; lines end in CRLF or LF."""
    crlf = buffer.find(b"\r\n\r\n", start)
    lf = buffer.find(b"\n\n", start, len(buffer) if crlf < 0 else crlf)
    if lf >= 0:
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 4
    return None


def _parse_head(head: bytes) -> Head:
    """The request line and headers, or :class:`RequestError` with 400, 431 or 505."""
    lines = head.decode("latin-1").split("\n")
    words = lines[0].split()
    if len(words) != 3 or _TOKEN.fullmatch(words[0]) is None:
        raise RequestError(400, "Bad Request: malformed request line")
    method, target, version_text = words
    version = _HTTP_VERSION.fullmatch(version_text)
    if version is None:
        raise RequestError(400, f"Bad Request: unknown protocol {version_text!r}")
    if version[1] != "1":
        raise RequestError(505, f"HTTP Version Not Supported: {version_text}")
    if target.startswith(("http://", "https://")):  # absolute form, as sent to a proxy
        parts = urlsplit(target)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/"):
        raise RequestError(400, "Bad Request: the request target is not a path")
    if len(lines) > _MAX_HEADER_LINES + 1:
        raise RequestError(431, "Request Header Fields Too Large: too many header lines")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or _TOKEN.fullmatch(name) is None:
            raise RequestError(400, f"Bad Request: malformed header line {line.strip()!r}")
        key = name.lower()
        value = value.strip(" \t\r")
        previous = headers.get(key)
        if previous is None:
            headers[key] = value
        elif key == "content-length":
            if previous != value:
                raise RequestError(400, "Bad Request: conflicting Content-Length headers")
        else:
            headers[key] = f"{previous}, {value}"
    return Head(method, target, int(version[2]), headers)


class Connection(socketserver.BaseRequestHandler):
    """One client connection: reads requests and answers them until either side closes.

    The server that makes it must be an :class:`Application`.
    """

    request: socket.socket

    def setup(self) -> None:
        self.application = cast(Application, self.server)
        self.buffer = bytearray()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(_IDLE_TIMEOUT)

    def handle(self) -> None:
        # A reset, an idle timeout or the server shutting the socket all end the connection.
        with contextlib.suppress(OSError):
            while self.serve_one():
                pass

    def serve_one(self) -> bool:
        """Read and answer one request; return whether the connection stays open."""
        responses = self.application.responses
        try:
            raw_head = self.read_head()
            if raw_head is None:
                return False
            head = _parse_head(raw_head)
            body = self.read_body(head)
        except RequestError as refused:
            data = self.application.refusal(refused)
            self.request.sendall(responses.build(refused.status, data, connection=b"close"))
            self.drain()
            return False
        status, data = self.application.answer(head, body)
        keep_alive = head.keep_alive()
        if not keep_alive:
            connection = b"close"
        elif head.minor_version == 0:
            connection = b"keep-alive"
        else:
            connection = b""
        send_body = head.method != "HEAD"
        self.request.sendall(
            responses.build(status, data, connection=connection, send_body=send_body)
        )
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
                    raise RequestError(431, "Request Header Fields Too Large")
                head = bytes(buffer[: end[0]])
                del buffer[: end[1]]
                return head
            if len(buffer) > _MAX_HEAD:
                raise RequestError(431, "Request Header Fields Too Large")
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

    def read_body(self, head: Head) -> bytes:
        """The body ``Content-Length`` announces; empty without one."""
        if "transfer-encoding" in head.headers:
            raise RequestError(411, "Length Required: chunked request bodies are not supported")
        length_text = head.headers.get("content-length")
        if length_text is None:
            return b""
        if not (length_text.isascii() and length_text.isdigit()):
            raise RequestError(400, "Bad Request: invalid Content-Length")
        length = int(length_text)
        if length > _MAX_BODY:
            raise RequestError(413, "Request Entity Too Large")
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

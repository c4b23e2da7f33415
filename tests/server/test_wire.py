"""HTTP/1.1 on the wire: persistent and pipelined requests, framing, refusals, answers kept.

These talk to the registry over raw sockets, to see exactly what it sends.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import urlsplit

import pytest

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import A_GUID, raw

SCHEMA = '{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}'
BODY = json.dumps({"schema": SCHEMA}).encode()

Response = tuple[int, dict[str, str], bytes]


class Wire:
    """One client connection: bytes out, parsed responses in."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.reader: BinaryIO = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self, *, head_only: bool = False) -> Response:
        status_line = self.reader.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        headers: dict[str, str] = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head_only else int(headers["content-length"])
        return int(status_line.split()[1]), headers, self.reader.read(length)

    def closed(self) -> bool:
        """Whether the server closed the connection (EOF within the timeout)."""
        return self.reader.read(1) == b""

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


@pytest.fixture
def wire(registry: LocalRegistry) -> Iterator[Wire]:
    connection = Wire(registry.url)
    yield connection
    connection.close()


def get(path: str, *headers: str, version: str = "HTTP/1.1") -> bytes:
    lines = [f"GET {path} {version}", "Host: localhost", *headers, "", ""]
    return "\r\n".join(lines).encode()


def post(path: str, body: bytes, *headers: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: localhost",
        "Content-Type: application/vnd.schemaregistry.v1+json",
        f"Content-Length: {len(body)}",
        *headers,
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + body


def test_one_connection_serves_many_requests(wire: Wire) -> None:
    wire.send(post("/subjects/orders-value/versions", BODY))
    status, headers, body = wire.response()
    assert (status, json.loads(body)) == (200, {"id": 1, "guid": A_GUID})
    assert headers["content-type"] == "application/vnd.schemaregistry.v1+json"
    assert "connection" not in headers
    assert "date" in headers
    for _ in range(3):
        wire.send(get("/schemas/ids/1"))
        status, _, body = wire.response()
        assert (status, json.loads(body)) == (200, {"schema": SCHEMA, "guid": A_GUID})


def test_pipelined_requests_are_answered_in_order(wire: Wire) -> None:
    wire.send(
        post("/subjects/orders-value/versions", BODY)
        + get("/subjects")
        + b"\r\n"  # a stray empty line between requests is ignored
        + get("/schemas/ids/1")
        + get("/nothing")
    )
    answers = [wire.response() for _ in range(4)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 404]
    assert json.loads(answers[1][2]) == ["orders-value"]
    assert json.loads(answers[2][2]) == {"schema": SCHEMA, "guid": A_GUID}


def test_a_request_split_across_packets_is_read_whole(wire: Wire) -> None:
    request = post("/subjects/orders-value/versions", BODY)
    for start in range(0, len(request), 7):
        wire.send(request[start : start + 7])
        time.sleep(0.001)
    assert wire.response()[0] == 200


def test_lines_ending_in_a_bare_line_feed_are_refused(wire: Wire) -> None:
    wire.send(b"GET /subjects HTTP/1.1\nHost: localhost\n\n" + get("/schemas/types"))
    status, headers, body = wire.response()
    assert (status, headers["connection"], json.loads(body)["error_code"]) == (400, "close", 400)
    assert wire.closed()


def test_connection_close_is_honoured(wire: Wire) -> None:
    wire.send(get("/subjects", "Connection: close"))
    status, headers, _ = wire.response()
    assert (status, headers["connection"]) == (200, "close")
    assert wire.closed()


def test_http_1_0_is_answered_and_closed(registry: LocalRegistry) -> None:
    for asked in ((), ("Connection: keep-alive",)):
        once = Wire(registry.url)
        try:
            once.send(get("/subjects", *asked, version="HTTP/1.0"))
            status, headers, _ = once.response()
            assert (status, headers["connection"]) == (200, "close")
            assert once.closed()
        finally:
            once.close()


def test_a_chunked_body_is_read(wire: Wire) -> None:
    head = [
        "POST /subjects/orders-value/versions HTTP/1.1",
        "Host: localhost",
        "Content-Type: application/vnd.schemaregistry.v1+json",
        "Transfer-Encoding: chunked",
    ]
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (BODY[:10], BODY[10:]))
    wire.send("\r\n".join(head).encode() + b"\r\n\r\n" + chunks + b"0\r\n\r\n")
    status, _, body = wire.response()
    assert (status, json.loads(body)) == (200, {"id": 1, "guid": A_GUID})


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET /subjects HTTP/1.1 extra\r\n\r\n", 400),
        (b"GET /subjects FTP/1.1\r\n\r\n", 400),
        (b"GET subjects HTTP/1.1\r\n\r\n", 400),
        (b"GET /subjects HTTP/2.0\r\n\r\n", 400),
        (b"GET /subjects HTTP/1.1\r\nHost registry\r\n\r\n", 400),
        (b"GET /subjects HTTP/1.1\r\nHost: localhost\r\n folded\r\n\r\n", 400),
        (b"GET /subjects HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"POST /subjects/x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /subjects/x HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (
            b"POST /subjects/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n",
            413,
        ),
        (b"POST /subjects/x HTTP/1.1\r\nContent-Length: 1" + b"0" * 5000 + b"\r\n\r\n", 400),
        (b"POST /subjects/x HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\n", 400),
        (b"GET /subjects HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET /subjects HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /subjects HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431),
    ],
)
def test_malformed_requests_get_an_error_and_the_connection_closes(
    wire: Wire, request_bytes: bytes, status: int
) -> None:
    wire.send(request_bytes)
    answered, headers, body = wire.response()
    assert answered == status
    assert headers["connection"] == "close"
    error = json.loads(body)
    assert error["error_code"] == status
    assert isinstance(error["message"], str)
    assert wire.closed()


def test_expect_100_continue_is_answered_before_the_body(wire: Wire) -> None:
    head, _, body = post("/subjects/orders-value/versions", BODY, "Expect: 100-continue").partition(
        b"\r\n\r\n"
    )
    wire.send(head + b"\r\n\r\n")
    assert wire.reader.readline() == b"HTTP/1.1 100 Continue\r\n"
    assert wire.reader.readline() == b"\r\n"
    wire.send(body)
    assert wire.response()[0] == 200


def test_head_answers_like_get_without_the_body(wire: Wire) -> None:
    wire.send(get("/subjects"))
    _, got, body = wire.response()
    wire.send(get("/subjects").replace(b"GET", b"HEAD", 1))
    status, headed, _ = wire.response(head_only=True)
    assert status == 200
    assert headed["content-length"] == got["content-length"] == str(len(body))
    wire.send(get("/subjects"))  # nothing was left unread on the connection
    assert wire.response()[0] == 200


def test_an_absolute_target_is_served(wire: Wire) -> None:
    wire.send(get("http://registry/subjects?deleted=true"))
    assert wire.response()[:1] == (200,)


def test_kept_answers_follow_every_write(registry: LocalRegistry, wire: Wire) -> None:
    def ask(path: str) -> tuple[int, object]:
        wire.send(get(path))
        status, _, body = wire.response()
        return status, json.loads(body)

    assert ask("/subjects") == (200, [])
    assert ask("/schemas/ids/1")[0] == 404
    wire.send(post("/subjects/orders-value/versions", BODY))
    assert wire.response()[0] == 200
    assert ask("/subjects") == (200, ["orders-value"])
    assert ask("/schemas/ids/1") == (200, {"schema": SCHEMA, "guid": A_GUID})
    assert ask("/subjects/orders-value/versions/latest")[1] == {
        "subject": "orders-value",
        "version": 1,
        "id": 1,
        "guid": A_GUID,
        "schema": SCHEMA,
    }
    assert raw(registry.url, "DELETE", "/subjects/orders-value")[0] == 200
    assert ask("/subjects") == (200, [])
    assert ask("/schemas/ids/1")[0] == 200  # readable while only soft-deleted
    assert ask("/subjects/orders-value/versions/latest")[0] == 404
    assert raw(registry.url, "DELETE", "/subjects/orders-value?permanent=true")[0] == 200
    assert ask("/schemas/ids/1")[0] == 404
    assert raw(registry.url, "POST", "/subjects/again-value/versions", BODY)[1] == {
        "id": 1,
        "guid": A_GUID,
    }
    assert ask("/schemas/ids/1") == (200, {"schema": SCHEMA, "guid": A_GUID})
    assert ask("/config") == (200, {"compatibilityLevel": "BACKWARD"})
    assert raw(registry.url, "PUT", "/config", {"compatibility": "FULL"})[0] == 200
    assert ask("/config") == (200, {"compatibilityLevel": "FULL"})


def test_a_kept_answer_still_needs_credentials() -> None:
    with LocalRegistry(basic_auth=("alice", "s3cret")) as secured:
        assert raw(secured.url, "GET", "/subjects", auth=("alice", "s3cret")) == (200, [])
        assert raw(secured.url, "GET", "/subjects")[0] == 401
        assert raw(secured.url, "GET", "/subjects", auth=("alice", "wrong"))[0] == 401


def test_many_clients_at_once(registry: LocalRegistry) -> None:
    assert raw(registry.url, "POST", "/subjects/orders-value/versions", BODY)[1] == {
        "id": 1,
        "guid": A_GUID,
    }
    failures: list[BaseException] = []
    start = threading.Barrier(16)

    def lookups() -> None:
        connection = Wire(registry.url)
        try:
            start.wait()
            for n in range(25):
                path = "/schemas/ids/1" if n % 2 else "/subjects/orders-value/versions/1"
                connection.send(get(path))
                assert connection.response()[0] == 200
        except BaseException as err:  # reported below, in the test's thread
            failures.append(err)
        finally:
            connection.close()

    threads = [threading.Thread(target=lookups) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_stopping_closes_idle_connections() -> None:
    registry = LocalRegistry().start()
    connection = Wire(registry.url)
    try:
        connection.send(get("/subjects"))
        assert connection.response()[0] == 200
        began = time.monotonic()
        registry.stop()
        assert time.monotonic() - began < 5
        assert connection.closed()
    finally:
        connection.close()
        registry.stop()


def test_connections_send_without_delay(registry: LocalRegistry, wire: Wire) -> None:
    """Nagle's algorithm is off on every connection: an answer is written as head then
    body, and with it on the body would wait for the client's delayed ACK (40 ms)."""
    wire.send(get("/subjects"))
    assert wire.response()[0] == 200
    server = registry._server
    assert server is not None
    (connection,) = server.server_state.connections
    sock = connection.transport.get_extra_info("socket")
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0

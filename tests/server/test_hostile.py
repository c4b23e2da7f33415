"""Inputs a hostile client sends: each gets a 4xx in Confluent's error shape, and the
registry keeps working afterwards.
"""

from __future__ import annotations

import base64
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from somacontracts.schema import MAX_NESTING
from somacontracts.tooling.registry import LocalRegistry
from somacontracts.tooling.registry.app import MAX_BODY
from somacontracts.tooling.registry.prepared import MAX_SCHEMA_BYTES
from tests.server.conftest import A_GUID, raw
from tests.server.test_wire import Wire, get, post

STRING = json.dumps({"schema": '"string"'})


@pytest.fixture(autouse=True, params=["auto", "asyncio"])
def event_loop_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test on uvloop (where installed) and on asyncio's own loop."""
    monkeypatch.setattr("somacontracts.tooling.registry.local.EVENT_LOOP", request.param)
    return str(request.param)


I32_MAX = 2**31 - 1


def record(name: str, *fields: str) -> str:
    return json.dumps(
        {"type": "record", "name": name, "fields": [{"name": f, "type": "string"} for f in fields]}
    )


def assert_error(status: int, body: object, expected: int) -> None:
    assert status == expected, body
    assert isinstance(body, dict)
    assert isinstance(body["error_code"], int), body
    assert isinstance(body["message"], str), body


def still_works(url: str, subject: str = "alive") -> None:
    status, body = raw(
        url, "POST", f"/subjects/{subject}/versions", {"schema": record("Alive", "a")}
    )
    assert status == 200, body
    status, fetched = raw(url, "GET", f"/schemas/ids/{body['id']}")
    assert status == 200
    assert json.loads(fetched["schema"])["name"] == "Alive"


# -- ids and versions ---------------------------------------------------------------


@pytest.mark.parametrize("bad_id", [2**63 - 1, 2**31, 4294967301, -5, 0, -(2**63)])
def test_import_refuses_ids_outside_32_bits(tmp_path: Path, bad_id: int) -> None:
    db = tmp_path / "registry.db"
    with LocalRegistry(db_path=db) as registry:
        url = registry.url
        assert raw(url, "PUT", "/mode/imp", {"mode": "IMPORT"})[0] == 200
        status, body = raw(
            url, "POST", "/subjects/imp/versions", {"schema": '"string"', "id": bad_id}
        )
        assert_error(status, body, 422)
        assert str(bad_id)[:20] in body["message"] or "id" in body["message"]
        still_works(url)
    with LocalRegistry(db_path=db) as registry:  # and after a restart
        still_works(registry.url, "after-restart")


def test_import_takes_the_largest_wire_id_and_registration_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    with LocalRegistry(db_path=db) as registry:
        url = registry.url
        assert raw(url, "PUT", "/mode/imp", {"mode": "IMPORT"})[0] == 200
        status, body = raw(
            url, "POST", "/subjects/imp/versions", {"schema": '"string"', "id": I32_MAX}
        )
        assert status == 200, body
        assert body["id"] == I32_MAX
        still_works(url)
    with LocalRegistry(db_path=db) as registry:
        url = registry.url
        still_works(url, "after-restart")
        status, body = raw(url, "POST", "/subjects/more/versions", {"schema": record("M", "m")})
        assert status == 200, body
        assert 1 <= body["id"] < I32_MAX


@pytest.mark.parametrize(
    "path",
    [
        "/schemas/ids/9223372036854775808",
        "/schemas/ids/2147483648",
        "/schemas/ids/-1",
        "/schemas/ids/" + "9" * 5000,
        "/schemas/ids/9223372036854775808/versions",
        "/schemas/ids/9223372036854775808/subjects",
        "/schemas/ids/9223372036854775808/schema",
    ],
)
def test_ids_beyond_32_bits_are_not_found(registry: LocalRegistry, path: str) -> None:
    status, body = raw(registry.url, "GET", path)
    assert_error(status, body, 404)
    assert body["error_code"] == 40403


@pytest.mark.parametrize("version", ["9223372036854775808", "2147483648", "0", "-2", "9" * 5000])
def test_versions_beyond_32_bits_are_refused(registry: LocalRegistry, version: str) -> None:
    raw(registry.url, "POST", "/subjects/s/versions", STRING)
    for method in ("GET", "DELETE"):
        status, body = raw(registry.url, method, f"/subjects/s/versions/{version}")
        assert 400 <= status < 500, (method, status, body)
        assert isinstance(body["error_code"], int)
    still_works(registry.url)


@pytest.mark.parametrize(
    "body",
    [
        '{"schema": "\\"string\\"", "id": ' + "7" * 5000 + "}",
        '{"schema": "\\"string\\"", "version": ' + "7" * 5000 + "}",
        '{"schema": "\\"string\\"", "id": -' + "7" * 5000 + "}",
        '{"schema": "\\"string\\"", "id": 1e400}',
        '{"schema": "\\"string\\"", "id": 1.5}',
        '{"schema": "\\"string\\"", "id": true}',
        '{"schema": "\\"string\\"", "version": -7}',
    ],
)
def test_huge_and_odd_numbers_in_bodies_are_refused(registry: LocalRegistry, body: str) -> None:
    assert raw(registry.url, "PUT", "/mode/n", {"mode": "IMPORT"})[0] == 200
    status, answer = raw(registry.url, "POST", "/subjects/n/versions", body)
    assert 400 <= status < 500, answer
    assert isinstance(answer["error_code"], int)
    assert answer["message"]
    still_works(registry.url)


@pytest.mark.parametrize(
    "target",
    [
        "/subjects/%ff/versions",
        "/subjects/%C0%AF/versions",
        "/subjects/%ED%A0%80",
        "/subjects?x=%ff",
    ],
)
def test_a_target_that_is_not_utf_8_is_refused(registry: LocalRegistry, target: str) -> None:
    """Else names that differ only in bytes that are not UTF-8 would be one subject."""
    status, body = raw(registry.url, "GET", target)
    assert_error(status, body, 400)


@pytest.mark.parametrize("text", ["+1", "01x", "1_0", "\uff11", " 1", "1e0", "0x1"])
def test_numbers_in_paths_and_queries_are_plain_digits(registry: LocalRegistry, text: str) -> None:
    from urllib.parse import quote

    url = registry.url
    for n in range(12):
        raw(url, "POST", f"/subjects/n{n}/versions", {"schema": record(f"N{n}", "a")})
    number = quote(text.encode().decode("unicode_escape"), safe="")
    assert raw(url, "GET", f"/schemas/ids/{number}")[0] == 404
    assert raw(url, "GET", f"/subjects/n1/versions/{number}")[0] == 422
    assert raw(url, "GET", f"/schemas?limit={number}")[1] == raw(url, "GET", "/schemas")[1]


# -- strings that are not text ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/mode", "/mode/s", "/config", "/config/s"])
def test_a_lone_surrogate_in_a_body_is_refused(registry: LocalRegistry, path: str) -> None:
    key = "mode" if path.startswith("/mode") else "compatibility"
    status, body = raw(registry.url, "PUT", path, f'{{"{key}":"\\ud800"}}')
    assert 400 <= status < 500, body
    assert isinstance(body["error_code"], int)
    assert raw(registry.url, "GET", "/mode")[1] == {"mode": "READWRITE"}


@pytest.mark.parametrize("doc", ["\\ud800", "\\udfff", "a\\ud83d", "\\u0000"])
def test_a_schema_whose_text_holds_a_lone_surrogate_is_refused(
    registry: LocalRegistry, doc: str
) -> None:
    schema = f'{{"type":"record","name":"R","doc":"{doc}","fields":[]}}'
    status, body = raw(registry.url, "POST", "/subjects/d/versions", {"schema": schema})
    if doc == "\\u0000":  # a NUL is text: a doc may hold it
        assert status == 200, body
        return
    assert_error(status, body, 422)
    assert body["error_code"] == 42201
    still_works(registry.url)


# -- deep and large schemas -------------------------------------------------------------


def nested_arrays(depth: int) -> str:
    return '{"type":"array","items":' * depth + '"string"' + "}" * depth


def nested_records(depth: int) -> str:
    text = '"string"'
    for level in range(depth):
        text = f'{{"type":"record","name":"R{level}","fields":[{{"name":"f","type":{text}}}]}}'
    return text


@pytest.mark.parametrize(
    "schema",
    [
        nested_arrays(10_000),
        nested_records(10_000),
        "[" * 10_000 + '"null"' + "]" * 10_000,
        '{"type":"map","values":' * 5000 + '"int"' + "}" * 5000,
    ],
    ids=["arrays", "records", "unions", "maps"],
)
def test_a_schema_nested_10000_deep_is_refused(registry: LocalRegistry, schema: str) -> None:
    for path in (
        "/subjects/deep/versions",
        "/subjects/deep",
        "/compatibility/subjects/deep/versions/latest",
    ):
        status, body = raw(registry.url, "POST", path, {"schema": schema})
        assert 400 <= status < 500, (path, status, body)
        assert status != 408, body
        assert isinstance(body["error_code"], int)
    still_works(registry.url)


def test_arrays_nested_400_deep_as_a_second_version_are_refused(registry: LocalRegistry) -> None:
    url = registry.url
    assert raw(url, "POST", "/subjects/n/versions", {"schema": nested_arrays(3)})[0] == 200
    status, body = raw(url, "POST", "/subjects/n/versions", {"schema": nested_arrays(400)})
    assert_error(status, body, 422)
    assert str(MAX_NESTING) in body["message"]
    assert raw(url, "GET", "/subjects/n/versions")[1] == [1]
    still_works(url)


def test_the_deepest_schema_allowed_is_served_and_checked(registry: LocalRegistry) -> None:
    url = registry.url
    deepest = nested_arrays(MAX_NESTING - 1)
    assert raw(url, "PUT", "/config/d", {"compatibility": "FULL_TRANSITIVE"})[0] == 200
    status, body = raw(url, "POST", "/subjects/d/versions", {"schema": deepest})
    assert status == 200, body
    other = deepest.replace('"string"', '"int"')
    status, body = raw(
        url, "POST", "/compatibility/subjects/d/versions/latest?verbose=true", {"schema": other}
    )
    assert status == 200, body
    assert body["is_compatible"] is False
    status, body = raw(url, "POST", "/subjects/d", {"schema": deepest})
    assert status == 200, body
    assert body["version"] == 1


def test_a_schema_over_the_size_limit_is_refused(registry: LocalRegistry) -> None:
    fields = [{"name": f"f{i}", "type": "string", "doc": "x" * 100} for i in range(11_000)]
    schema = json.dumps({"type": "record", "name": "Huge", "fields": fields})
    assert len(schema.encode()) > MAX_SCHEMA_BYTES
    status, body = raw(registry.url, "POST", "/subjects/huge/versions", {"schema": schema})
    assert_error(status, body, 422)
    assert body["error_code"] == 42201
    assert "bytes" in body["message"]
    still_works(registry.url)


def test_a_body_over_the_limit_is_refused_without_being_read(registry: LocalRegistry) -> None:
    wire = Wire(registry.url)
    try:
        head = (
            "POST /subjects/big/versions HTTP/1.1\r\nHost: localhost\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {MAX_BODY + 1}\r\n\r\n"
        )
        wire.send(head.encode())
        status, headers, body = wire.response()
        assert status == 413
        assert headers["connection"] == "close"
        assert json.loads(body)["error_code"] == 413
    finally:
        wire.close()


def test_a_big_parse_does_not_hold_up_reads(registry: LocalRegistry) -> None:
    """Schemas just under the size limit are parsed and checked outside the store's lock."""
    url = registry.url
    assert raw(url, "POST", "/subjects/small/versions", {"schema": record("Small", "a")})[0] == 200
    fields = [{"name": f"f{i}", "type": ["null", "string"], "default": None} for i in range(13_000)]
    big = json.dumps({"schema": json.dumps({"type": "record", "name": "Big", "fields": fields})})
    assert len(big) < MAX_SCHEMA_BYTES
    done = threading.Event()

    def register_big() -> None:
        for i in range(4):
            raw(url, "POST", f"/subjects/big{i}/versions", big)
        done.set()

    worker = threading.Thread(target=register_big)
    started = time.perf_counter()
    worker.start()
    slowest = 0.0
    reads = 0
    while not done.is_set():
        began = time.perf_counter()
        # a different path each time, so that no kept answer serves it
        status, _ = raw(url, "GET", f"/subjects/small/versions/1?n={reads}")
        slowest = max(slowest, time.perf_counter() - began)
        assert status == 200
        reads += 1
    worker.join()
    total = time.perf_counter() - started
    # the four registrations took `total`; reads in between were answered at once
    assert reads >= 4
    assert slowest < max(0.5, total / 4), (slowest, total, reads)


# -- authentication -----------------------------------------------------------------------


@pytest.fixture
def guarded() -> Iterator[LocalRegistry]:
    with LocalRegistry(basic_auth=("ops", "s3cret")) as started:
        yield started


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC", "bAsIc"])
def test_the_basic_scheme_is_case_insensitive(guarded: LocalRegistry, scheme: str) -> None:
    token = base64.b64encode(b"ops:s3cret").decode()
    status, body = raw(
        guarded.url, "GET", "/subjects", headers={"Authorization": f"{scheme} {token}"}
    )
    assert status == 200
    assert body == []


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(b"ops:wrong").decode(),
        "Basic " + base64.b64encode(b"ops").decode(),
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Bearer " + base64.b64encode(b"ops:s3cret").decode(),
        "Basic",
        "",
    ],
)
def test_bad_credentials_are_refused(guarded: LocalRegistry, header: str) -> None:
    status, body = raw(guarded.url, "GET", "/subjects", headers={"Authorization": header})
    assert_error(status, body, 401)
    assert "s3cret" not in json.dumps(body)


def test_two_authorization_headers_are_refused(guarded: LocalRegistry) -> None:
    good = "Basic " + base64.b64encode(b"ops:s3cret").decode()
    wire = Wire(guarded.url)
    try:
        wire.send(get("/subjects", "Authorization: Basic eDp5", f"Authorization: {good}"))
        status, _, body = wire.response()
        assert status == 400
        assert "Authorization" in json.loads(body)["message"]
    finally:
        wire.close()


@pytest.mark.parametrize("size", [2**31, 99999999999999999999, -1])
def test_a_fixed_size_beyond_an_int_is_refused(registry: LocalRegistry, size: int) -> None:
    schema = json.dumps({"type": "fixed", "name": "F", "size": size})
    status, body = raw(registry.url, "POST", "/subjects/f/versions", {"schema": schema})
    assert_error(status, body, 422)


def test_an_unauthenticated_body_is_refused_before_it_is_read(guarded: LocalRegistry) -> None:
    wire = Wire(guarded.url)
    try:
        size = 2 * 1024 * 1024
        head = (
            "POST /subjects/x/versions HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        )
        wire.send(head.encode())  # and not one byte of the body
        status, headers, body = wire.response()
        assert status == 401
        assert headers["connection"] == "close"
        assert json.loads(body)["error_code"] == 401
        assert wire.closed()
    finally:
        wire.close()


@pytest.mark.parametrize("size", [2 * 1024 * 1024, MAX_BODY + 1])
def test_a_client_sending_a_refused_body_whole_still_reads_the_answer(
    guarded: LocalRegistry, size: int
) -> None:
    """As HTTP clients do: the whole body is sent before the answer is read. The registry
    answers before reading it, and lingers so that the client is not reset."""
    wire = Wire(guarded.url)
    try:
        head = (
            "POST /subjects/x/versions HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        )
        wire.send(head.encode() + b"x" * size)
        status, headers, body = wire.response()
        assert status in (401, 413)
        assert headers["connection"] == "close"
        assert json.loads(body)["error_code"] in (401, 413)
    finally:
        wire.close()


@pytest.mark.parametrize(
    "garbage",
    [
        b"BAD\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n",
        b"\x00\xff",
    ],
)
def test_whole_requests_before_a_refused_one_are_answered_first(
    registry: LocalRegistry, garbage: bytes
) -> None:
    url = registry.url
    fields = ",".join(f'{{"name":"f{i}","type":"string"}}' for i in range(5000))
    schema = f'{{"type":"record","name":"Slow","fields":[{fields}]}}'
    wire = Wire(url)
    try:
        wire.send(
            get("/subjects") * 3
            + post("/subjects/slow/versions", json.dumps({"schema": schema}).encode())
            + garbage
            + get("/subjects")
        )
        statuses = [wire.response()[0] for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 400]
        assert wire.closed()
    finally:
        wire.close()
    assert raw(url, "GET", "/subjects/slow/versions")[1] == [1]


def test_stopping_answers_the_requests_in_progress(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A registration being committed when the registry stops is answered, not cut off."""
    from somacontracts.tooling.registry.service import Registry

    entered, release = threading.Event(), threading.Event()
    register = Registry.register

    def held(self: Registry, *args: object, **kwargs: object) -> object:
        entered.set()
        release.wait(10)
        return register(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Registry, "register", held)
    registry = LocalRegistry(db_path=tmp_path / "r.db").start()
    answers: list[tuple[int, object]] = []
    client = threading.Thread(
        target=lambda: answers.append(raw(registry.url, "POST", "/subjects/s/versions", STRING))
    )
    client.start()
    assert entered.wait(10)
    stopping = threading.Thread(target=registry.stop)
    stopping.start()
    time.sleep(1.2)  # the registry is stopping, the registration held beyond 1 s
    release.set()
    client.join(10)
    stopping.join(10)
    assert not stopping.is_alive()
    assert answers == [(200, {"id": 1, "guid": A_GUID})]
    monkeypatch.undo()
    with LocalRegistry(db_path=tmp_path / "r.db") as again:
        assert raw(again.url, "GET", "/subjects/s/versions")[1] == [1]


# -- slow, stalled and many clients ----------------------------------------------------------


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def test_stalled_connections_do_not_delay_others(registry: LocalRegistry) -> None:
    url = registry.url
    raw(url, "POST", "/subjects/s/versions", STRING)
    stalled: list[socket.socket] = []
    try:
        for i in range(200):
            sock = connect(url)
            # half a head, half a body, or a big declared body never sent
            sock.sendall(
                [
                    b"GET /subjects/s/vers",
                    b"POST /subjects/s/versions HTTP/1.1\r\nHost: localhost\r\n"
                    b"Content-Length: 100\r\n\r\n{",
                    b"POST /subjects/s HTTP/1.1\r\nHost: localhost\r\n"
                    b"Content-Length: 8000000\r\n\r\n",
                ][i % 3]
            )
            stalled.append(sock)
        for n in range(20):
            began = time.perf_counter()
            status, body = raw(url, "GET", f"/subjects/s/versions/1?read={n}")
            elapsed = time.perf_counter() - began
            assert status == 200
            assert body["version"] == 1
            assert elapsed < 1.0, elapsed
    finally:
        for sock in stalled:
            sock.close()


def test_a_trickled_request_meets_its_deadline(
    registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("somacontracts.tooling.registry.protocol.REQUEST_DEADLINE", 1.0)
    wire = Wire(registry.url)
    try:
        began = time.perf_counter()
        for byte in get("/subjects"):
            wire.send(bytes([byte]))
            if select.select([wire.sock], [], [], 0.1)[0]:  # answered: stop sending
                break
        status, headers, body = wire.response()
        assert status == 408, body
        assert headers["connection"] == "close"
        assert json.loads(body)["error_code"] == 408
        assert time.perf_counter() - began < 3
    finally:
        wire.close()


def test_an_idle_connection_is_closed(
    registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("somacontracts.tooling.registry.protocol.IDLE_TIMEOUT", 0.3)
    wire = Wire(registry.url)
    try:
        wire.send(get("/subjects"))
        assert wire.response()[0] == 200
        began = time.perf_counter()
        assert wire.closed()
        assert time.perf_counter() - began < 3
    finally:
        wire.close()


def test_connections_beyond_the_cap_are_told_to_retry(
    registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("somacontracts.tooling.registry.protocol.MAX_CONNECTIONS", 5)
    held = [Wire(registry.url) for _ in range(5)]
    try:
        for wire in held:  # each is open and served
            wire.send(get("/subjects"))
            assert wire.response()[0] == 200
        extra = Wire(registry.url)
        try:
            status, headers, body = extra.response()
            assert status == 429
            assert headers["retry-after"] == "1"
            assert json.loads(body)["error_code"] == 429
            assert extra.closed()
        finally:
            extra.close()
    finally:
        for wire in held:
            wire.close()
    time.sleep(0.1)
    still_works(registry.url)


def test_200_simultaneous_connections_are_all_served(registry: LocalRegistry) -> None:
    url = registry.url
    raw(url, "POST", "/subjects/s/versions", STRING)
    sockets = [connect(url) for _ in range(200)]
    try:
        for sock in sockets:
            sock.sendall(post("/subjects/s", STRING.encode()))
        for sock in sockets:
            reader = sock.makefile("rb")
            assert reader.readline().startswith(b"HTTP/1.1 200 ")
            reader.close()
    finally:
        for sock in sockets:
            sock.close()

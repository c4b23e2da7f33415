"""What a web page can make a browser send: each refusal over real HTTP, and the clients
that must keep working (confluent-kafka's, the command line's) keep working."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from confluent_kafka.schema_registry import Schema
from hypothesis import given
from hypothesis import strategies as st

from somacontracts.errors import ConfigurationError
from somacontracts.tooling.cli import EXIT_OK
from somacontracts.tooling.registry import LocalRegistry
from somacontracts.tooling.registry.origins import Allowed, origin_name
from tests.scratch import make_repo, run
from tests.server.conftest import A_GUID, connect, raw

SCHEMA = json.dumps({"schema": '"string"'}).encode()
V1_JSON = "application/vnd.schemaregistry.v1+json"


def send(
    url: str, method: str, path: str, body: bytes | None = None, /, **headers: str
) -> tuple[int, dict[str, str], object]:
    """One request with exactly the headers given (and Host and Content-Length, unless
    given): its status, headers and decoded body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=_named(headers))
        response = connection.getresponse()
        data = response.read()
        answer = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer, json.loads(data) if data else None
    finally:
        connection.close()


def _named(headers: dict[str, str]) -> dict[str, str]:
    return {name.replace("_", "-"): value for name, value in headers.items()}


def refused(answer: tuple[int, dict[str, str], object], status: int) -> str:
    """The message of a refusal with ``status`` and Confluent's error body."""
    got, _, body = answer
    assert got == status, body
    assert isinstance(body, dict), body
    assert body["error_code"] == status, body
    assert isinstance(body["message"], str)
    return body["message"]


def holds_nothing(url: str) -> None:
    assert raw(url, "GET", "/subjects?deleted=true") == (200, [])
    assert raw(url, "GET", "/mode/x?defaultToGlobal=true") == (200, {"mode": "READWRITE"})
    assert raw(url, "GET", "/config") == (200, {"compatibilityLevel": "BACKWARD"})


@pytest.fixture
def url(registry: LocalRegistry) -> str:
    return registry.url


# -- content types ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "application/jsonx",
        "application/json-patch+json",
        "application/vnd.schemaregistry.v2+json",
        "json",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/subjects/x/versions"),
        ("POST", "/subjects/x"),
        ("POST", "/compatibility/subjects/x/versions/latest"),
        ("PUT", "/config"),
        ("PUT", "/mode/x"),
        ("POST", "/dek-registry/v1/keks"),
    ],
)
def test_a_write_without_a_json_content_type_is_refused(
    url: str, content_type: str | None, method: str, path: str
) -> None:
    body = SCHEMA if path.startswith("/subjects") else b'{"compatibility": "NONE"}'
    headers = {} if content_type is None else {"Content-Type": content_type}
    message = refused(send(url, method, path, body, **headers), 415)
    assert "application/vnd.schemaregistry.v1+json" in message
    holds_nothing(url)


@pytest.mark.parametrize(
    "content_type",
    [
        V1_JSON,
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        f"  {V1_JSON} ; q=1",
    ],
)
def test_the_json_content_types_of_confluent_clients_are_accepted(
    url: str, content_type: str
) -> None:
    status, _, body = send(url, "POST", "/subjects/x/versions", SCHEMA, Content_Type=content_type)
    assert (status, body) == (200, {"id": 1, "guid": A_GUID})
    config = b'{"compatibility": "NONE"}'
    status, _, body = send(url, "PUT", "/config/x", config, Content_Type=content_type)
    assert (status, body) == (200, {"compatibility": "NONE"})


def test_a_refused_body_is_not_read_and_the_connection_closes(url: str) -> None:
    """The 415 is sent before the body arrives: a client still sending reads it."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest("POST", "/subjects/x/versions")
        connection.putheader("Content-Length", str(1_000_000))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 415
        assert response.getheader("connection") == "close"
    finally:
        connection.close()
    holds_nothing(url)


def test_a_delete_needs_no_content_type(url: str) -> None:
    """confluent-kafka's client sends a DELETE with neither body nor content type."""
    assert raw(url, "PUT", "/config/x", {"compatibility": "NONE"})[0] == 200
    for schema in ('"int"', '"string"'):
        assert raw(url, "POST", "/subjects/x/versions", {"schema": schema})[0] == 200
    assert send(url, "DELETE", "/subjects/x/versions/1")[::2] == (200, 1)
    assert send(url, "DELETE", "/subjects/x/versions/1?permanent=true")[::2] == (200, 1)
    assert send(url, "DELETE", "/subjects/x")[::2] == (200, [2])
    assert send(url, "DELETE", "/subjects/x?permanent=true")[::2] == (200, [2])
    assert send(url, "DELETE", "/config/x")[0] == 404  # removed with the subject
    holds_nothing(url)


# -- Host ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example.com",
        "attacker.example.com:8081",
        "localhost.attacker.example",
        "127.0.0.1.nip.io",
        "registry",
        "127.0.0.2",
        "0.0.0.0",
        "[::2]:8081",
        "[127.0.0.1]",
        "0177.0.0.1",
        "localhost:80x",
        "localhost:",
        "local host",
        "",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_a_request_naming_another_host_is_refused(url: str, host: str, method: str) -> None:
    path = "/subjects/x" if method == "DELETE" else "/subjects/x/versions"
    body = SCHEMA if method == "POST" else None
    headers = {"Host": host, "Content-Type": V1_JSON}
    message = refused(send(url, method, path, body, **headers), 403)
    assert "--allowed-host" in message
    holds_nothing(url)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LocalHost:1",
        "localhost.:8081",
        "127.0.0.1",
        "127.0.0.1:65535",
        "[::1]",
        "[::1]:8081",
        "[0:0:0:0:0:0:0:1]:8081",
    ],
)
def test_the_loopback_names_are_answered_with_any_port(url: str, host: str) -> None:
    status, _, body = send(
        url, "POST", "/subjects/x/versions", SCHEMA, Host=host, Content_Type=V1_JSON
    )
    assert (status, body) == (200, {"id": 1, "guid": A_GUID})
    assert send(url, "GET", "/subjects", Host=host)[::2] == (200, ["x"])


def test_allowed_hosts_add_names_and_the_listening_address_is_one() -> None:
    with LocalRegistry(host="127.0.0.2", allowed_hosts=["Registry.Internal", "10.1.2.3"]) as reg:
        for host in ("registry.internal", "REGISTRY.INTERNAL:443", "10.1.2.3:8081", "127.0.0.2"):
            assert send(reg.url, "GET", "/subjects", Host=host)[::2] == (200, []), host
        for host in ("other.internal", "internal", "10.1.2.4"):
            refused(send(reg.url, "GET", "/subjects", Host=host), 403)


def test_an_http_1_0_request_without_host_is_answered(url: str) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection._http_vsn_str = "HTTP/1.0"  # type: ignore[attr-defined]
    try:
        connection.putrequest("GET", "/subjects", skip_host=True)
        connection.endheaders()
        assert connection.getresponse().status == 200
    finally:
        connection.close()


# -- Origin -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "http://attacker.example",
        "https://attacker.example:8081",
        "http://127.0.0.1:3000",
        "http://localhost",
        "null",
        "file://",
        "http://127.0.0.1:{port}/path",
        "chrome-extension://abcdef",
        "",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_a_request_from_another_page_is_refused(url: str, origin: str, method: str) -> None:
    port = str(urlsplit(url).port)
    headers = {"Origin": origin.replace("{port}", port), "Content-Type": V1_JSON}
    if method == "OPTIONS":
        headers["Access-Control-Request-Method"] = "POST"
    body = SCHEMA if method == "POST" else None
    answer = send(url, method, "/subjects/x/versions", body, **headers)
    assert "--allowed-origin" in refused(answer, 403)
    assert "access-control-allow-origin" not in answer[1]
    holds_nothing(url)


def test_two_origins_are_refused_if_either_is_foreign(url: str) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest("GET", "/subjects")
        connection.putheader("Origin", f"http://127.0.0.1:{parts.port}")
        connection.putheader("Origin", "http://attacker.example")
        connection.endheaders()
        assert connection.getresponse().status == 403
    finally:
        connection.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_registry_s_own_origin_is_accepted(url: str, scheme: str) -> None:
    """A page the registry's own origin serves (a proxy in front of it, say) gets no CORS
    answer: it needs none."""
    port = urlsplit(url).port
    own = {"Origin": f"{scheme}://localhost:{port}", "Host": f"localhost:{port}"}
    status, headers, body = send(
        url, "POST", "/subjects/x/versions", SCHEMA, Content_Type=V1_JSON, **own
    )
    assert (status, body) == (200, {"id": 1, "guid": A_GUID})
    assert "access-control-allow-origin" not in headers
    default_port = {"Origin": f"{scheme}://registry.test", "Host": "registry.test"}
    with LocalRegistry(allowed_hosts=["registry.test"]) as proxied:
        assert send(proxied.url, "GET", "/subjects", **default_port)[::2] == (200, [])
        moved = {"Origin": f"{scheme}://registry.test:1", "Host": "registry.test"}
        refused(send(proxied.url, "GET", "/subjects", **moved), 403)


@pytest.fixture
def ui_registry() -> Iterator[LocalRegistry]:
    with LocalRegistry(allowed_origins=["http://LOCALHOST:3000", "https://ui.example"]) as reg:
        yield reg


def test_an_allowed_origin_gets_cors_answers(ui_registry: LocalRegistry) -> None:
    url = ui_registry.url
    for origin in ("http://localhost:3000", "https://ui.example", "https://ui.example:443"):
        status, headers, _ = send(
            url,
            "OPTIONS",
            "/subjects/x/versions",
            Origin=origin,
            Access_Control_Request_Method="POST",
            Access_Control_Request_Headers="content-type",
        )
        assert status == 204
        assert headers["access-control-allow-origin"] == origin
        assert "POST" in headers["access-control-allow-methods"]
        assert "Content-Type" in headers["access-control-allow-headers"]
        assert headers["vary"] == "Origin"
    status, headers, body = send(
        url,
        "POST",
        "/subjects/x/versions",
        SCHEMA,
        Origin="http://localhost:3000",
        Content_Type=V1_JSON,
    )
    assert (status, body) == (200, {"id": 1, "guid": A_GUID})
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    status, headers, body = send(url, "GET", "/subjects", Origin="https://ui.example")
    assert (status, body, headers["access-control-allow-origin"]) == (
        200,
        ["x"],
        "https://ui.example",
    )
    # an allowed page still sends JSON to write, and other pages are still refused
    refused(send(url, "POST", "/subjects/y/versions", SCHEMA, Origin="https://ui.example"), 415)
    refused(send(url, "GET", "/subjects", Origin="http://localhost:3001"), 403)
    refused(send(url, "GET", "/subjects", Origin="http://ui.example"), 403)


def test_an_options_request_that_is_no_preflight_is_not_allowed(ui_registry: LocalRegistry) -> None:
    url = ui_registry.url
    assert send(url, "OPTIONS", "/subjects", Origin="https://ui.example")[0] == 405
    assert send(url, "OPTIONS", "/subjects")[0] == 405


def test_a_preflight_needs_no_credentials_and_a_request_does() -> None:
    origin = "http://localhost:3000"
    with LocalRegistry(basic_auth=("u", "p"), allowed_origins=[origin]) as reg:
        status, headers, _ = send(
            reg.url, "OPTIONS", "/subjects", Origin=origin, Access_Control_Request_Method="GET"
        )
        assert (status, headers["access-control-allow-origin"]) == (204, origin)
        answer = send(reg.url, "GET", "/subjects", Origin=origin)
        refused(answer, 401)
        assert answer[1]["access-control-allow-origin"] == origin  # the page can tell why


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hosts", "origins", "named"),
    [
        (["http://registry.test"], [], "allowed_hosts"),
        (["registry.test:8081"], [], "allowed_hosts"),
        (["a b"], [], "allowed_hosts"),
        ([""], [], "allowed_hosts"),
        ([], ["localhost:3000"], "allowed_origins"),
        ([], ["http://localhost:3000/app"], "allowed_origins"),
        ([], ["*"], "allowed_origins"),
        ([], ["null"], "allowed_origins"),
        ([], ["ftp://ui.example"], "allowed_origins"),
    ],
)
def test_bad_names_are_configuration_errors(
    hosts: list[str], origins: list[str], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        LocalRegistry(allowed_hosts=hosts, allowed_origins=origins)


NAMES = st.sampled_from(["localhost", "127.0.0.1", "[::1]", "registry.test", "10.0.0.1"])


@given(name=NAMES, port=st.integers(0, 99999) | st.none(), case=st.booleans())
def test_every_allowed_name_is_answered_with_any_port(
    name: str, port: int | None, case: bool
) -> None:
    allowed = Allowed.serving("10.0.0.1", ["registry.test"])
    header = (name.upper() if case else name) + ("" if port is None else f":{port}")
    assert allowed.host(header.encode())
    own = f"http://{header}".encode()
    assert allowed.origin(own, header.encode())
    assert not allowed.cors(own)


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ("HTTP://LocalHost:3000", "http://localhost:3000"),
        ("https://ui.example", "https://ui.example:443"),
        ("http://[0:0::1]:3000", "http://[::1]:3000"),
        ("http://127.0.0.1", "http://127.0.0.1:80"),
    ],
)
def test_an_allowed_origin_is_named_as_it_is_compared(given: str, named: str) -> None:
    assert origin_name(given, "x") == origin_name(named, "x") == named
    allowed = Allowed.serving("127.0.0.1", origins=[origin_name(given, "x")])
    assert allowed.cors(named.encode())
    assert allowed.origin(given.encode(), b"elsewhere.test")


@given(header=st.binary(max_size=60), other=st.binary(max_size=60))
def test_any_header_bytes_get_a_verdict(header: bytes, other: bytes) -> None:
    allowed = Allowed.serving("127.0.0.1", ["registry.test"], ["http://localhost:3000"])
    assert isinstance(allowed.host(header), bool)
    assert isinstance(allowed.origin(header, other), bool)
    assert isinstance(allowed.cors(header), bool)


# -- the clients that must keep working -------------------------------------------------------


def test_confluent_kafka_s_client_keeps_working(registry: LocalRegistry) -> None:
    """Register, look up, config, mode and every delete, through confluent-kafka's client
    by each loopback name."""
    port = urlsplit(registry.url).port
    for number, name in enumerate(("127.0.0.1", "localhost")):
        subject = f"client-{number}"
        with connect(f"http://{name}:{port}") as client:
            first = Schema(json.dumps({"type": "enum", "name": "E", "symbols": ["A"]}), "AVRO")
            second = Schema(
                json.dumps({"type": "enum", "name": "E", "symbols": ["A", "B"]}), "AVRO"
            )
            client.set_compatibility(subject, "BACKWARD_TRANSITIVE")
            assert client.get_compatibility(subject) == "BACKWARD_TRANSITIVE"
            ids = [client.register_schema(subject, s) for s in (first, second)]
            assert client.lookup_schema(subject, first).version == 1
            assert client.get_latest_version(subject).schema_id == ids[1]
            assert json.loads(client.get_schema(ids[0]).schema_str)["symbols"] == ["A"]
            assert client.update_mode(subject, "READONLY") == "READONLY"
            assert client.delete_mode(subject) == "READONLY"
            assert client.delete_version(subject, 1) == 1
            assert client.delete_version(subject, 1, permanent=True) == 1
            assert client.delete_subject(subject) == [2]
            assert client.delete_subject(subject, permanent=True) == [2]
            assert client.get_subjects() == []


def test_the_command_line_keeps_working(registry: LocalRegistry, tmp_path: Path) -> None:
    """``register`` (KEKs included) and ``status`` by the name the registry client uses by
    default (localhost), and the registry's DELETE from the command line's client."""
    url = f"http://localhost:{urlsplit(registry.url).port}"
    repo = make_repo(tmp_path)
    done = run(repo, "register", "--registry", url, "--create-keks", "local-kms://tests")
    assert done.returncode == EXIT_OK, done.stderr
    assert run(repo, "status", "--registry", url).returncode == EXIT_OK
    subjects = raw(registry.url, "GET", "/subjects")[1]
    assert isinstance(subjects, list)
    assert "tool.requests-value" in subjects
    assert raw(registry.url, "GET", "/dek-registry/v1/keks")[1] == ["somastack_conversations"]

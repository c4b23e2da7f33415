"""The HTTP layer: authentication, content types, bad paths and bodies, never a 500."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import connect, field, raw, record

V1 = record("Order", field("id"))


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalRegistry]:
    """One registry for the property tests, which send many requests."""
    with LocalRegistry() as started:
        yield started


@pytest.fixture(scope="module")
def names_client() -> Iterator[SchemaRegistryClient]:
    """A client of a registry of its own: the random requests sent to ``shared`` register
    schemas under random subjects, which a subject name drawn later could meet."""
    with LocalRegistry() as started, connect(started.url) as sr_client:
        yield sr_client


def test_basic_auth() -> None:
    with LocalRegistry(basic_auth=("alice", "s3cret")) as registry:
        with connect(registry.url, **{"basic.auth.user.info": "alice:s3cret"}) as good:
            assert good.register_schema("orders-value", V1) == 1
        with (
            connect(registry.url, **{"basic.auth.user.info": "alice:wrong"}) as bad,
            pytest.raises(SchemaRegistryError) as refused,
        ):
            bad.get_subjects()
        assert (refused.value.http_status_code, refused.value.error_code) == (401, 401)
        assert raw(registry.url, "GET", "/subjects")[0] == 401
        assert raw(registry.url, "GET", "/subjects", auth=("alice", "s3cret")) == (
            200,
            ["orders-value"],
        )


def test_malformed_json_is_400(registry: LocalRegistry) -> None:
    status, body = raw(registry.url, "POST", "/subjects/x/versions", b'{"schema": ')
    assert (status, body["error_code"]) == (400, 400)
    status, body = raw(registry.url, "POST", "/subjects/x/versions", b"\xff\xfe")
    assert (status, body["error_code"]) == (400, 400)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ([1, 2], 422),
        (b'"just a string"', 422),
        ({}, 42201),
        ({"schema": 5}, 42201),
        ({"schema": ""}, 42201),
        ({"schema": '"int"', "references": "none"}, 42201),
        ({"schema": '"int"', "references": [{"name": "x"}]}, 42201),
        ({"schema": '{"type": "record"}'}, 42201),
        ({"schema": '"int"', "id": "seven"}, 422),
    ],
)
def test_bad_registration_bodies(registry: LocalRegistry, body: object, code: int) -> None:
    status, answer = raw(registry.url, "POST", "/subjects/x/versions", body)
    assert status == int(str(code)[:3])
    assert answer["error_code"] == code


def test_unknown_paths_and_methods(registry: LocalRegistry) -> None:
    assert raw(registry.url, "GET", "/nothing/here") == (
        404,
        {"error_code": 404, "message": "HTTP 404 Not Found"},
    )
    assert raw(registry.url, "GET", "/schemas/ids/abc")[1]["error_code"] == 404
    assert raw(registry.url, "PUT", "/subjects")[1]["error_code"] == 405


def test_unsupported_content_type_is_415(registry: LocalRegistry) -> None:
    status, body = raw(
        registry.url,
        "POST",
        "/subjects/x/versions",
        {"schema": '"int"'},
        headers={"Content-Type": "text/plain"},
    )
    assert (status, body["error_code"]) == (415, 415)
    status, _ = raw(
        registry.url,
        "POST",
        "/subjects/x/versions",
        {"schema": '"int"'},
        headers={"Content-Type": "application/json"},
    )
    assert status == 200


def test_reserved_and_control_character_subjects_are_42208(registry: LocalRegistry) -> None:
    for subject in ("__GLOBAL", "a%01b"):
        status, body = raw(
            registry.url, "POST", f"/subjects/{subject}/versions", {"schema": '"int"'}
        )
        assert (status, body["error_code"]) == (422, 42208), subject


_PATHS = st.sampled_from(
    [
        "/subjects/s/versions",
        "/subjects/s",
        "/compatibility/subjects/s/versions/latest?verbose=true",
        "/config",
        "/config/s",
        "/mode/s",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=_PATHS, body=st.binary(max_size=200))
def test_random_bytes_never_cause_a_server_error(
    shared: LocalRegistry, path: str, body: bytes
) -> None:
    method = "PUT" if path.startswith(("/config", "/mode")) else "POST"
    status, answer = raw(shared.url, method, path, body)
    assert status < 500
    if status >= 400:
        assert isinstance(answer["error_code"], int)
        assert isinstance(answer["message"], str)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_SCHEMAS = st.fixed_dictionaries(
    {"schema": st.one_of(_JSON.map(json.dumps), st.text(max_size=30))},
    optional={"references": _JSON, "schemaType": st.sampled_from(["AVRO", "avro", "JSON", 3])},
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=_PATHS, body=_SCHEMAS)
def test_random_schema_requests_never_cause_a_server_error(
    shared: LocalRegistry, path: str, body: dict[str, object]
) -> None:
    method = "PUT" if path.startswith(("/config", "/mode")) else "POST"
    status, answer = raw(shared.url, method, path, body)
    assert status < 500, answer


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    subject=st.text(
        alphabet=string.ascii_letters + string.digits + " -_./?#%&+=:;~!@$'()*,[]{}äß€",
        min_size=1,
        max_size=30,
    ).filter(lambda s: s.strip() not in (".", ".."))  # HTTP clients resolve dot segments
)
def test_any_subject_name_round_trips(names_client: SchemaRegistryClient, subject: str) -> None:
    schema_id = names_client.register_schema(subject, V1)
    latest = names_client.get_latest_version(subject)
    assert (latest.subject, latest.schema_id) == (subject, schema_id)
    assert subject in names_client.get_subjects()

"""Soft and permanent deletes, with Confluent's rules and error codes."""

from __future__ import annotations

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import connect, field, raw, record

V1 = record("Order", field("id"))
V2 = record("Order", field("id"), field("qty", "int", default=0))


def _code(call: object, *args: object, **kwargs: object) -> int:
    assert callable(call)
    with pytest.raises(SchemaRegistryError) as failed:
        call(*args, **kwargs)
    return int(failed.value.error_code)


def test_subject_soft_then_permanent_delete(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    schema_id = client.register_schema("orders-value", V1)
    client.register_schema("orders-value", V2)
    assert _code(client.delete_subject, "orders-value", permanent=True) == 40405
    assert client.delete_subject("orders-value") == [1, 2]
    assert client.get_subjects() == []
    assert client.get_subjects(deleted=True) == ["orders-value"]
    assert _code(client.get_versions, "orders-value") == 40401
    assert client.get_versions("orders-value", deleted=True) == [1, 2]
    assert _code(client.delete_subject, "orders-value") == 40404
    # A soft-deleted version's schema can still be read by id, to decode old data.
    assert raw(registry.url, "GET", f"/schemas/ids/{schema_id}")[0] == 200
    assert client.delete_subject("orders-value", permanent=True) == [1, 2]
    assert _code(client.delete_subject, "orders-value", permanent=True) == 40401
    status, body = raw(registry.url, "GET", f"/schemas/ids/{schema_id}")
    assert (status, body["error_code"]) == (404, 40403)


def test_version_soft_then_permanent_delete(client: SchemaRegistryClient) -> None:
    client.register_schema("orders-value", V1)
    client.register_schema("orders-value", V2)
    assert _code(client.delete_version, "orders-value", 1, permanent=True) == 40407
    assert client.delete_version("orders-value", 1) == 1
    assert _code(client.delete_version, "orders-value", 1) == 40406
    assert _code(client.get_version, "orders-value", 1) == 40402
    assert client.get_version("orders-value", 1, deleted=True).version == 1
    assert client.delete_version("orders-value", 1, permanent=True) == 1
    assert _code(client.delete_version, "orders-value", 9) == 40402
    assert _code(client.delete_version, "nobody-value", 1) == 40401
    assert client.get_versions("orders-value", deleted=True) == [2]


def test_versions_continue_after_soft_delete_and_restart_after_permanent(
    client: SchemaRegistryClient,
) -> None:
    client.register_schema("orders-value", V1)
    client.delete_subject("orders-value")
    # The client caches registrations; the registry must see each one.
    client.clear_caches()  # type: ignore[no-untyped-call]
    client.register_schema("orders-value", V1)
    assert client.get_versions("orders-value") == [2]
    client.delete_subject("orders-value")
    client.delete_subject("orders-value", permanent=True)
    client.clear_caches()  # type: ignore[no-untyped-call]
    client.register_schema("orders-value", V1)
    assert client.get_versions("orders-value") == [1]


def test_schema_registered_again_after_permanent_delete_keeps_its_id(
    registry: LocalRegistry,
) -> None:
    with connect(registry.url) as sr_client:
        schema_id = sr_client.register_schema("orders-value", V1)
        sr_client.register_schema("other-value", V2)
        sr_client.delete_subject("orders-value")
        sr_client.delete_subject("orders-value", permanent=True)
        sr_client.clear_caches()
        assert sr_client.register_schema("orders-value", V1) == schema_id


def test_latest_version_delete(registry: LocalRegistry, client: SchemaRegistryClient) -> None:
    client.register_schema("orders-value", V1)
    client.register_schema("orders-value", V2)
    status, body = raw(registry.url, "DELETE", "/subjects/orders-value/versions/latest")
    assert (status, body) == (200, 2)
    assert client.get_versions("orders-value") == [1]

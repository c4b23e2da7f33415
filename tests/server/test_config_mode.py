"""Compatibility configs and modes: shapes of the answers, defaults and error codes."""

from __future__ import annotations

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import A_GUID, field, raw, record

V1 = record("Order", field("id"))
V2 = record("Order", field("id"), field("qty", "int", default=0))


def test_global_config_defaults_to_backward(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    assert raw(registry.url, "GET", "/config") == (200, {"compatibilityLevel": "BACKWARD"})
    # Typed as a str, the client returns the response body.
    answer: object = client.set_compatibility(level="full")
    assert answer == {"compatibility": "FULL"}
    assert client.get_compatibility() == "FULL"
    assert raw(registry.url, "DELETE", "/config") == (200, {"compatibilityLevel": "FULL"})
    assert client.get_compatibility() == "BACKWARD"


def test_subject_config(registry: LocalRegistry, client: SchemaRegistryClient) -> None:
    status, body = raw(registry.url, "GET", "/config/orders-value")
    assert (status, body["error_code"]) == (404, 40408)
    status, body = raw(registry.url, "GET", "/config/orders-value?defaultToGlobal=true")
    assert (status, body) == (200, {"compatibilityLevel": "BACKWARD"})
    # A subject may get a level before it has any schema.
    answer: object = client.set_compatibility("orders-value", "NONE")
    assert answer == {"compatibility": "NONE"}
    assert client.get_compatibility("orders-value") == "NONE"
    assert client.get_config("orders-value").compatibility_level == "NONE"
    assert client.delete_config("orders-value").compatibility_level == "NONE"
    status, body = raw(registry.url, "DELETE", "/config/orders-value")
    assert (status, body["error_code"]) == (404, 40401)


def test_invalid_levels_are_42203(registry: LocalRegistry, client: SchemaRegistryClient) -> None:
    with pytest.raises(SchemaRegistryError) as invalid:
        client.set_compatibility(level="SIDEWAYS")
    assert (invalid.value.http_status_code, invalid.value.error_code) == (422, 42203)
    for body in ({}, {"compatibility": 3}, {"compatibility": None}):
        status, answer = raw(registry.url, "PUT", "/config/orders-value", body)
        assert (status, answer["error_code"]) == (422, 42203), body
    assert client.get_compatibility() == "BACKWARD"


def test_modes(registry: LocalRegistry, client: SchemaRegistryClient) -> None:
    assert client.get_global_mode() == "READWRITE"
    with pytest.raises(SchemaRegistryError) as unset:
        client.get_mode("orders-value")
    assert unset.value.error_code == 40409
    assert raw(registry.url, "GET", "/mode/orders-value?defaultToGlobal=true") == (
        200,
        {"mode": "READWRITE"},
    )
    client.register_schema("orders-value", V1)
    assert client.update_mode("orders-value", "READONLY") == "READONLY"
    with pytest.raises(SchemaRegistryError) as read_only:
        client.register_schema("orders-value", V2)
    assert (read_only.value.http_status_code, read_only.value.error_code) == (422, 42205)
    with pytest.raises(SchemaRegistryError) as no_delete:
        client.delete_subject("orders-value")
    assert no_delete.value.error_code == 42205
    assert client.register_schema("other-value", V2) > 0
    assert client.delete_mode("orders-value") == "READONLY"
    assert client.register_schema("orders-value", V2) > 0


def test_invalid_mode_is_42204(registry: LocalRegistry, client: SchemaRegistryClient) -> None:
    with pytest.raises(SchemaRegistryError) as invalid:
        client.update_global_mode("SOMETIMES")
    assert (invalid.value.http_status_code, invalid.value.error_code) == (422, 42204)
    status, body = raw(registry.url, "PUT", "/mode", {})
    assert (status, body["error_code"]) == (422, 42204)


def test_import_mode_keeps_given_ids(registry: LocalRegistry, client: SchemaRegistryClient) -> None:
    client.register_schema("existing-value", V1)
    with pytest.raises(SchemaRegistryError) as refused:
        client.update_global_mode("IMPORT")
    assert refused.value.error_code == 42205
    assert client.update_mode("imported-value", "IMPORT") == "IMPORT"
    body = {"schema": V2.schema_str, "id": 42, "version": 5}
    assert raw(registry.url, "POST", "/subjects/imported-value/versions", body) == (
        200,
        {"id": 42, "guid": A_GUID},
    )
    version = client.get_version("imported-value", 5)
    assert (version.schema_id, version.version) == (42, 5)
    clash = {"schema": record("Other", field("x")).schema_str, "id": 42, "version": 6}
    status, answer = raw(registry.url, "POST", "/subjects/imported-value/versions", clash)
    assert (status, answer["error_code"]) == (422, 42205)
    status, answer = raw(registry.url, "POST", "/subjects/existing-value/versions", body)
    assert (status, answer["error_code"]) == (422, 42205)

"""Compatibility at registration and the compatibility endpoint, with Confluent's messages."""

from __future__ import annotations

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import field, raw, record

V1 = record("Order", field("id"))
ADDS_REQUIRED = record("Order", field("id"), field("qty", "int"))
ADDS_OPTIONAL = record("Order", field("id"), field("qty", "int", default=0))
DROPS_ID = record("Order", field("qty", "int", default=0))


def test_incompatible_registration_is_409_with_confluents_details(
    client: SchemaRegistryClient,
) -> None:
    client.register_schema("orders-value", V1)
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("orders-value", ADDS_REQUIRED)
    assert (refused.value.http_status_code, refused.value.error_code) == (409, 409)
    message = refused.value.error_message
    assert message.startswith(
        'Schema being registered is incompatible with an earlier schema for subject "orders-value"'
    )
    assert (
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'qty' at path "
        "'/fields/1' in the new schema has no default value and is missing in the old schema', "
        "additionalInfo:'qty'}"
    ) in message
    assert "{oldSchemaVersion: 1}" in message
    assert "{compatibility: 'BACKWARD'}" in message
    assert client.get_versions("orders-value") == [1]


def test_verbose_compatibility_messages(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    client.register_schema("orders-value", V1)
    assert client.test_compatibility("orders-value", ADDS_OPTIONAL) is True
    assert client.test_compatibility("orders-value", ADDS_REQUIRED, verbose=True) is False
    path = "/compatibility/subjects/orders-value/versions/latest?verbose=true"
    status, body = raw(registry.url, "POST", path, {"schema": ADDS_REQUIRED.schema_str})
    assert status == 200
    assert body["is_compatible"] is False
    assert body["messages"][0].startswith("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'")
    assert body["messages"][1:] == [
        "{oldSchemaVersion: 1}",
        "{oldSchema: '"
        '{"type":"record","name":"Order","namespace":"test",'
        '"fields":[{"name":"id","type":"string"}]}'
        "'}",
        "{compatibility: 'BACKWARD'}",
    ]
    _, quiet = raw(
        registry.url, "POST", path.partition("?")[0], {"schema": ADDS_REQUIRED.schema_str}
    )
    assert quiet == {"is_compatible": False}
    _, fine = raw(registry.url, "POST", path, {"schema": ADDS_OPTIONAL.schema_str})
    assert fine == {"is_compatible": True, "messages": []}


def test_forward_messages_name_the_old_schema_as_reader(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    client.set_compatibility("orders-value", "FORWARD")
    client.register_schema("orders-value", V1)
    path = "/compatibility/subjects/orders-value/versions?verbose=true"
    _, body = raw(registry.url, "POST", path, {"schema": DROPS_ID.schema_str})
    assert body["is_compatible"] is False
    assert (
        "in the old schema has no default value and is missing in the new schema"
        in (body["messages"][0])
    )
    assert body["messages"][-1] == "{compatibility: 'FORWARD'}"


def test_compatibility_against_missing_versions(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    assert client.test_compatibility("nobody-value", V1) is True
    with pytest.raises(SchemaRegistryError) as missing:
        client.test_compatibility("nobody-value", V1, version=1)
    assert missing.value.error_code == 40402
    status, body = raw(
        registry.url,
        "POST",
        "/compatibility/subjects/x/versions/zero",
        {"schema": V1.schema_str},
    )
    assert (status, body["error_code"]) == (422, 42202)


def test_subject_level_overrides_global_level(client: SchemaRegistryClient) -> None:
    client.register_schema("loose-value", V1)
    client.register_schema("strict-value", V1)
    client.set_compatibility("loose-value", "NONE")
    assert client.register_schema("loose-value", ADDS_REQUIRED) > 0
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("strict-value", ADDS_REQUIRED)
    assert refused.value.error_code == 409


def test_global_level_applies_to_subjects_without_one(client: SchemaRegistryClient) -> None:
    client.register_schema("orders-value", V1)
    client.set_compatibility(level="FORWARD")
    # Backward-incompatible but forward-compatible: the old reader ignores the new field.
    assert client.register_schema("orders-value", ADDS_REQUIRED) > 0
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("orders-value", record("Order", field("qty", "int")))
    assert refused.value.error_code == 409


def test_transitive_levels_check_every_live_version(client: SchemaRegistryClient) -> None:
    client.set_compatibility(level="NONE")
    client.register_schema("orders-value", V1)
    client.register_schema("orders-value", record("Order", field("other", "int")))
    # Reads version 2's data but not version 1's, which has no "other".
    new = record("Order", field("other", "int"), field("extra", "string", default=""))
    client.set_compatibility("orders-value", "BACKWARD")
    assert client.test_compatibility_all_versions("orders-value", new) is True
    client.set_compatibility("orders-value", "BACKWARD_TRANSITIVE")
    assert client.test_compatibility_all_versions("orders-value", new) is False
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("orders-value", new)
    assert "{oldSchemaVersion: 1}" in refused.value.error_message
    assert "{compatibility: 'BACKWARD_TRANSITIVE'}" in refused.value.error_message


def test_soft_deleted_versions_are_not_checked(client: SchemaRegistryClient) -> None:
    client.register_schema("orders-value", V1)
    client.register_schema("orders-value", ADDS_OPTIONAL)
    client.delete_version("orders-value", 2)
    narrower = record("Order", field("id"), field("qty", "string", default=""))
    client.set_compatibility("orders-value", "FULL_TRANSITIVE")
    assert client.register_schema("orders-value", narrower) > 0
    assert client.get_versions("orders-value") == [1, 3]

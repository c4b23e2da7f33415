"""Schema references: stored, returned, resolved when parsing, and protected from deletion."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import field, raw, record

ADDRESS = record("Address", field("street"), namespace="shared")


def _person(*extra: dict[str, object]) -> Schema:
    schema = {
        "type": "record",
        "name": "Person",
        "namespace": "people",
        "fields": [{"name": "home", "type": "shared.Address"}, *extra],
    }
    return Schema(
        json.dumps(schema), "AVRO", [SchemaReference("shared.Address", "address-value", 1)]
    )


def test_register_and_read_a_schema_with_a_reference(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    address_id = client.register_schema("address-value", ADDRESS)
    person_id = client.register_schema("person-value", _person())
    assert person_id != address_id
    latest = client.get_latest_version("person-value")
    assert [(r.name, r.subject, r.version) for r in latest.schema.references or []] == [
        ("shared.Address", "address-value", 1)
    ]
    _, body = raw(registry.url, "GET", f"/schemas/ids/{person_id}")
    assert body["references"] == [
        {"name": "shared.Address", "subject": "address-value", "version": 1}
    ]
    assert json.loads(body["schema"])["fields"][0]["type"] == "shared.Address"
    assert client.lookup_schema("person-value", _person()).schema_id == person_id
    assert client.get_referenced_by("address-value", 1) == [person_id]


def test_referenced_types_take_part_in_compatibility(client: SchemaRegistryClient) -> None:
    client.register_schema("address-value", ADDRESS)
    client.register_schema("person-value", _person())
    evolved = _person({"name": "age", "type": "int"})
    assert client.test_compatibility("person-value", evolved) is False
    assert client.register_schema(
        "person-value", _person({"name": "age", "type": "int", "default": 0})
    )


def test_unresolvable_references_are_42201(client: SchemaRegistryClient) -> None:
    with pytest.raises(SchemaRegistryError) as missing:
        client.register_schema("person-value", _person())
    assert missing.value.error_code == 42201
    assert "address-value" in missing.value.error_message
    unreferenced = record("Person", field("home", "shared.Address"), namespace="people")
    with pytest.raises(SchemaRegistryError) as unknown_type:
        client.register_schema("person-value", unreferenced)
    assert unknown_type.value.error_code == 42201


def test_a_referenced_version_cannot_be_deleted(client: SchemaRegistryClient) -> None:
    client.register_schema("address-value", ADDRESS)
    client.register_schema("person-value", _person())
    with pytest.raises(SchemaRegistryError) as in_use:
        client.delete_version("address-value", 1)
    assert (in_use.value.http_status_code, in_use.value.error_code) == (422, 42206)
    client.delete_subject("person-value")
    assert client.delete_version("address-value", 1) == 1


def test_a_version_soft_deleted_referrers_name_cannot_be_deleted_for_good(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    """Else the subject could take a different schema as the same version, and the
    referrer's id, handed out again, would inline the old one."""
    client.register_schema("address-value", ADDRESS)
    client.register_schema("person-value", _person())
    client.delete_subject("person-value")
    client.delete_subject("address-value")
    with pytest.raises(SchemaRegistryError) as refused:
        client.delete_subject("address-value", permanent=True)
    assert (refused.value.http_status_code, refused.value.error_code) == (422, 42206)
    status, body = raw(registry.url, "DELETE", "/subjects/address-value/versions/1?permanent=true")
    assert (status, body["error_code"]) == (422, 42206)
    client.delete_subject("person-value", permanent=True)  # the referrer first
    assert client.delete_subject("address-value", permanent=True) == [1]

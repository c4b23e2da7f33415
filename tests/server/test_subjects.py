"""Registering, looking up and reading schemas through Confluent's client."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import A_GUID, connect, field, raw, record

V1 = record("Order", field("id"))
V2 = record("Order", field("id"), field("note", ["null", "string"], default=None))


def test_register_returns_one_id_per_schema_and_no_new_version(
    client: SchemaRegistryClient,
) -> None:
    first = client.register_schema("orders-value", V1)
    again = client.register_schema("orders-value", Schema(V1.schema_str, "AVRO"))
    assert first == again == 1
    assert client.get_versions("orders-value") == [1]


def test_evolving_adds_versions_with_new_ids(client: SchemaRegistryClient) -> None:
    id1 = client.register_schema("orders-value", V1)
    id2 = client.register_schema("orders-value", V2)
    assert id2 != id1
    assert client.get_versions("orders-value") == [1, 2]
    latest = client.get_latest_version("orders-value")
    assert (latest.version, latest.schema_id) == (2, id2)
    assert json.loads(latest.schema.schema_str or "")["fields"][1]["name"] == "note"
    first = client.get_version("orders-value", 1)
    assert (first.version, first.schema_id, first.subject) == (1, id1, "orders-value")


def test_same_schema_under_another_subject_gets_the_same_id(client: SchemaRegistryClient) -> None:
    id1 = client.register_schema("a-value", V1)
    id2 = client.register_schema("b-value", V1)
    assert id1 == id2
    assert client.get_subjects() == ["a-value", "b-value"]
    assert sorted(client.get_subjects_by_schema_id(id1)) == ["a-value", "b-value"]
    versions = client.get_schema_versions(id1)
    assert sorted((v.subject, v.version) for v in versions) == [("a-value", 1), ("b-value", 1)]


def test_lookup_finds_the_version_of_a_registered_schema(client: SchemaRegistryClient) -> None:
    client.register_schema("orders-value", V1)
    schema_id = client.register_schema("orders-value", V2)
    found = client.lookup_schema("orders-value", V2)
    assert (found.subject, found.version, found.schema_id) == ("orders-value", 2, schema_id)


def test_lookup_errors(client: SchemaRegistryClient) -> None:
    with pytest.raises(SchemaRegistryError) as missing_subject:
        client.lookup_schema("nobody-value", V1)
    assert missing_subject.value.error_code == 40401
    client.register_schema("orders-value", V1)
    with pytest.raises(SchemaRegistryError) as missing_schema:
        client.lookup_schema("orders-value", record("Other", field("x", "int")))
    assert (missing_schema.value.http_status_code, missing_schema.value.error_code) == (404, 40403)


def test_schema_by_id_and_raw_endpoints(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    schema_id = client.register_schema("orders-value", V1)
    fetched = client.get_schema(schema_id)
    assert json.loads(fetched.schema_str or "") == json.loads(V1.schema_str or "")
    status, body = raw(registry.url, "GET", f"/schemas/ids/{schema_id}/schema")
    assert status == 200
    assert body == json.loads(V1.schema_str or "")
    status, body = raw(registry.url, "GET", "/subjects/orders-value/versions/latest/schema")
    assert (status, body["name"]) == (200, "Order")
    with pytest.raises(SchemaRegistryError) as unknown:
        client.get_schema(999)
    assert unknown.value.error_code == 40403


def test_stored_text_ignores_whitespace_and_attribute_order(registry: LocalRegistry) -> None:
    spaced = '{ "namespace": "test", "fields": [ {"type": "string", "name": "id"} ],\n'
    spaced += '  "name": "Order", "type": "record" }'
    status, body = raw(registry.url, "POST", "/subjects/orders-value/versions", {"schema": spaced})
    assert status == 200
    compact = (
        '{"type":"record","name":"Order","namespace":"test",'
        '"fields":[{"name":"id","type":"string"}]}'
    )
    status, again = raw(registry.url, "POST", "/subjects/other-value/versions", {"schema": compact})
    assert again == body
    status, version = raw(registry.url, "GET", "/subjects/orders-value/versions/1")
    assert version == {
        "subject": "orders-value",
        "version": 1,
        "id": 1,
        "guid": A_GUID,
        "schema": compact,
    }


def test_docs_and_defaults_make_a_different_schema(client: SchemaRegistryClient) -> None:
    with_doc = record("Order", field("id", doc="the order id"))
    assert client.register_schema("a-value", V1) != client.register_schema("b-value", with_doc)


def test_qualified_and_namespaced_names_are_one_schema(client: SchemaRegistryClient) -> None:
    qualified = Schema(
        json.dumps(
            {"type": "record", "name": "test.Order", "fields": [{"name": "id", "type": "string"}]}
        ),
        "AVRO",
    )
    assert client.register_schema("orders-value", V1) == client.register_schema(
        "orders-value", qualified
    )
    assert client.get_versions("orders-value") == [1]


def test_normalize_ignores_the_order_of_properties_and_aliases(
    client: SchemaRegistryClient,
) -> None:
    def tagged(props: dict[str, object], aliases: list[str]) -> Schema:
        schema = {"type": "record", "name": "Order", "namespace": "test", **props}
        schema |= {"aliases": aliases, "fields": [{"name": "id", "type": "string"}]}
        return Schema(json.dumps(schema), "AVRO")

    first = tagged({"owner": "sales", "tier": 1}, ["Old", "Older"])
    second = tagged({"tier": 1, "owner": "sales"}, ["Older", "Old"])
    first_id = client.register_schema("orders-value", first)
    # Without normalization the order counts, as in Confluent.
    with pytest.raises(SchemaRegistryError) as not_found:
        client.lookup_schema("orders-value", second)
    assert not_found.value.error_code == 40403
    found = client.lookup_schema("orders-value", second, normalize_schemas=True)
    assert found.schema_id == first_id
    assert client.register_schema("orders-value", second, normalize_schemas=True) == first_id
    assert client.get_versions("orders-value") == [1]


def test_normalized_registration_stores_the_normal_form(client: SchemaRegistryClient) -> None:
    schema_id = client.register_schema("orders-value", V1, normalize_schemas=True)
    stored = json.loads(client.get_schema(schema_id).schema_str or "")
    assert stored == {
        "type": "record",
        "name": "test.Order",
        "fields": [{"name": "id", "type": "string"}],
    }


def test_schema_types_and_root(registry: LocalRegistry, client: SchemaRegistryClient) -> None:
    assert client.get_schema_types() == ["AVRO"]
    assert raw(registry.url, "GET", "/") == (200, {})


def test_other_schema_types_are_refused(registry: LocalRegistry) -> None:
    status, body = raw(
        registry.url,
        "POST",
        "/subjects/p-value/versions",
        {"schema": 'syntax = "proto3"; message M {}', "schemaType": "PROTOBUF"},
    )
    assert (status, body["error_code"]) == (422, 42201)
    assert "AVRO" in body["message"]


def test_invalid_schemas_are_42201_with_the_reason(client: SchemaRegistryClient) -> None:
    bad_default = record("Order", field("n", "int", default="zero"))
    with pytest.raises(SchemaRegistryError) as invalid:
        client.register_schema("orders-value", bad_default)
    assert (invalid.value.http_status_code, invalid.value.error_code) == (422, 42201)
    assert "/fields/0/default" in invalid.value.error_message
    with pytest.raises(SchemaRegistryError) as not_json:
        client.register_schema("orders-value", Schema("{not json", "AVRO"))
    assert not_json.value.error_code == 42201
    assert client.get_subjects() == []


def test_versions_and_version_errors(registry: LocalRegistry, client: SchemaRegistryClient) -> None:
    client.register_schema("orders-value", V1)
    for bad in ("0", "abc", "-2", "2147483648"):
        status, body = raw(registry.url, "GET", f"/subjects/orders-value/versions/{bad}")
        assert (status, body["error_code"]) == (422, 42202), bad
    status, body = raw(registry.url, "GET", "/subjects/orders-value/versions/-1")
    assert (status, body["version"]) == (200, 1)
    with pytest.raises(SchemaRegistryError) as missing_version:
        client.get_version("orders-value", 7)
    assert missing_version.value.error_code == 40402
    with pytest.raises(SchemaRegistryError) as missing_subject:
        client.get_versions("nobody-value")
    assert missing_subject.value.error_code == 40401


def test_subject_names_are_escaped_both_ways(registry: LocalRegistry) -> None:
    subject = "a/b c?d%e#f"
    with connect(registry.url) as sr_client:
        schema_id = sr_client.register_schema(subject, V1)
        assert sr_client.get_subjects() == [subject]
        assert sr_client.get_latest_version(subject).schema_id == schema_id


def test_paging_of_subjects(client: SchemaRegistryClient) -> None:
    for name in ("c", "a", "b"):
        client.register_schema(name, V1)
    assert client.get_subjects() == ["a", "b", "c"]
    assert client.get_subjects(offset=1, limit=1) == ["b"]
    assert client.get_subjects(subject_prefix="b") == ["b"]

"""Schema GUIDs, as Confluent Platform 8 gives them: in every answer that names a schema,
``/schemas/guids/{guid}`` and its ``/ids``, stable across restarts, imports and old
databases, and what confluent-kafka's serdes need to carry a schema id in a header."""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    dual_schema_id_deserializer,
    header_schema_id_serializer,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts.tooling.registry import LocalRegistry
from somacontracts.tooling.registry.store import guid_of
from tests.server.conftest import A_GUID, connect, field, raw, record

V1 = record("Order", field("id"))
V2 = record("Order", field("id"), field("qty", "int", default=0))


def test_every_answer_naming_a_schema_carries_its_guid(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    url = registry.url
    status, first = raw(url, "POST", "/subjects/orders-value/versions", {"schema": V1.schema_str})
    assert (status, first) == (200, {"id": 1, "guid": A_GUID})
    guid = first["guid"]
    second = raw(url, "POST", "/subjects/orders-value/versions", {"schema": V2.schema_str})[1]
    assert second["guid"] not in (guid, None)
    again = raw(url, "POST", "/subjects/copy-value/versions", {"schema": V1.schema_str})[1]
    assert again == first  # one schema, one id, one GUID, whatever the subject
    assert raw(url, "GET", "/subjects/orders-value/versions/1")[1]["guid"] == guid
    assert raw(url, "POST", "/subjects/orders-value", {"schema": V1.schema_str})[1]["guid"] == guid
    assert raw(url, "GET", "/schemas/ids/1")[1]["guid"] == guid
    registered = client.register_schema_full_response("orders-value", V1)
    assert (registered.schema_id, registered.guid) == (1, guid)
    assert client.lookup_schema("orders-value", V1).guid == guid


def test_a_schema_is_found_by_its_guid(registry: LocalRegistry) -> None:
    url = registry.url
    guid = raw(url, "POST", "/subjects/orders-value/versions", {"schema": V2.schema_str})[1]["guid"]
    assert raw(url, "GET", f"/schemas/guids/{guid}") == raw(url, "GET", "/schemas/ids/1")
    assert raw(url, "GET", f"/schemas/guids/{guid.upper()}")[0] == 200
    assert raw(url, "GET", f"/schemas/guids/{guid}/ids") == (200, [{"context": ".", "id": 1}])
    with SchemaRegistryClient({"url": url}) as fresh:
        assert (
            fresh.get_schema_by_guid(guid).schema_str
            == raw(url, "GET", "/schemas/ids/1")[1]["schema"]
        )
    # a version soft-deleted still names it; once none does, it is gone, as by id
    assert raw(url, "DELETE", "/subjects/orders-value/versions/1")[0] == 200
    assert raw(url, "GET", f"/schemas/guids/{guid}")[0] == 200
    assert raw(url, "DELETE", "/subjects/orders-value/versions/1?permanent=true")[0] == 200
    status, answer = raw(url, "GET", f"/schemas/guids/{guid}")
    assert (status, answer["error_code"]) == (404, 40403)
    assert raw(url, "GET", f"/schemas/guids/{guid}/ids") == (200, [])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=60))
def test_any_other_text_is_no_guid(registry: LocalRegistry, text: str) -> None:
    path = "/schemas/guids/" + "".join(f"%{b:02X}" for b in text.encode())
    status, answer = raw(registry.url, "GET", path)
    assert (status, answer["error_code"]) == (404, 40403)
    assert raw(registry.url, "GET", path + "/ids") == (200, [])


def test_guids_survive_a_restart_and_an_old_database(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    with LocalRegistry(db_path=db) as registry, connect(registry.url) as sr_client:
        before = sr_client.register_schema_full_response("orders-value", V1).guid
        newer = sr_client.register_schema_full_response("orders-value", V2).guid
    with LocalRegistry(db_path=db) as registry:
        assert raw(registry.url, "GET", "/schemas/ids/1")[1]["guid"] == before
    with sqlite3.connect(db) as conn:  # a database written before schemas had GUIDs
        conn.execute("DROP INDEX schemas_by_guid")
        conn.execute("ALTER TABLE schemas DROP COLUMN guid")
    conn.close()
    with LocalRegistry(db_path=db) as registry:
        assert raw(registry.url, "GET", "/schemas/ids/1")[1]["guid"] == before
        assert raw(registry.url, "GET", f"/schemas/guids/{newer}/ids")[1] == [
            {"context": ".", "id": 2}
        ]


def test_an_imported_schema_keeps_its_guid(registry: LocalRegistry) -> None:
    url = registry.url
    guid = raw(url, "POST", "/subjects/orders-value/versions", {"schema": V1.schema_str})[1]["guid"]
    with LocalRegistry() as other:
        assert raw(other.url, "PUT", "/mode/orders-value", {"mode": "IMPORT"})[0] == 200
        body = {"schema": V1.schema_str, "id": 40, "version": 3}
        assert raw(other.url, "POST", "/subjects/orders-value/versions", body)[1] == {
            "id": 40,
            "guid": guid,
        }


@given(digest=st.binary(min_size=32, max_size=32))
def test_a_guid_is_a_version_8_uuid_of_the_hash(digest: bytes) -> None:
    guid = uuid.UUID(guid_of(digest.hex()))
    assert (guid.version, guid.variant) == (8, uuid.RFC_4122)
    kept = bytearray(guid.bytes)
    kept[6] = (kept[6] & 0x0F) | (digest[6] & 0xF0)  # the version nibble aside,
    kept[8] = (kept[8] & 0x3F) | (digest[8] & 0xC0)  # and the variant bits
    assert bytes(kept) == digest[:16]


@pytest.mark.parametrize("field_", [MessageField.VALUE, MessageField.KEY])
def test_confluent_kafka_s_serdes_carry_the_guid_in_a_header(
    registry: LocalRegistry, field_: MessageField
) -> None:
    schema = str(V2.schema_str)
    headers: list[tuple[str, str | bytes | None]] = []
    ctx = SerializationContext("orders", field_, headers)
    with SchemaRegistryClient({"url": registry.url}) as client:
        write = AvroSerializer(
            client, schema, conf={"schema.id.serializer": header_schema_id_serializer}
        )
        data = write({"id": "order-0001", "qty": 3}, ctx)
        guid = client.get_latest_version(f"orders-{field_}").guid
    name = "__key_schema_id" if field_ is MessageField.KEY else "__value_schema_id"
    assert headers == [(name, b"\x01" + uuid.UUID(guid).bytes)]
    avro = io.BytesIO()
    schemaless_writer(avro, parse_schema(json.loads(schema)), {"id": "order-0001", "qty": 3})
    assert data == avro.getvalue()  # no prefix: the Avro encoding alone
    with SchemaRegistryClient({"url": registry.url}) as fresh:  # nothing cached
        read = AvroDeserializer(fresh, conf={"schema.id.deserializer": dual_schema_id_deserializer})
        assert read(data, ctx) == {"id": "order-0001", "qty": 3}

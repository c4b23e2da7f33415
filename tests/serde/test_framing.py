"""Schema ids in message headers (Confluent Platform 8): the serdes read both framings and
write header ids when asked, both ways with confluent-kafka's own serdes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    dual_schema_id_deserializer,
    header_schema_id_serializer,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import given, settings
from hypothesis import strategies as st

from somacontracts import models
from somacontracts.errors import ContractError, DeserializationError, SchemaNotFoundError
from somacontracts.errors import SerializationError as ContractSerializationError
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.serde.framing import Frame, frame_of
from tests.serde.test_serde import tool_invocation

TOPIC = "tool.requests"
Headers = list[tuple[str, str | bytes | None]]


def context(headers: Any = None, field: MessageField = MessageField.VALUE) -> SerializationContext:
    return SerializationContext(TOPIC, field, headers)


@pytest.fixture(scope="module")
def guid(client: SchemaRegistryClient) -> uuid.UUID:
    """The GUID of ToolInvocation's schema under its subject."""
    found = client.get_latest_version("tool.requests-value")
    assert found.guid is not None
    return uuid.UUID(found.guid)


@pytest.fixture(scope="module")
def reader(client: SchemaRegistryClient) -> Any:
    with ContractDeserializer(models.ToolInvocation, client) as deserializer:
        yield deserializer


def test_header_ids_both_ways_with_confluent_kafka(
    client: SchemaRegistryClient, reader: Any, guid: uuid.UUID
) -> None:
    call = tool_invocation()
    headers: Headers = [("trace", b"t-1")]
    with ContractSerializer(models.ToolInvocation, client, schema_id_in_header=True) as serialize:
        data = serialize(call, context(headers))
    assert headers == [("trace", b"t-1"), ("__value_schema_id", b"\x01" + guid.bytes)]
    prefixed = ContractSerializer(models.ToolInvocation, client)(call, context())
    assert prefixed is not None
    assert data == prefixed[5:]  # the Avro encoding alone
    assert reader(data, context(headers)) == call
    confluent = AvroDeserializer(
        client, conf={"schema.id.deserializer": dual_schema_id_deserializer}
    )
    assert confluent(data, context(headers)) == confluent(prefixed, context())
    # the reverse: confluent-kafka writes the GUID in a header, this package reads it
    write = AvroSerializer(
        client,
        None,
        conf={
            "auto.register.schemas": False,
            "use.latest.version": True,
            "schema.id.serializer": header_schema_id_serializer,
        },
    )
    theirs: Headers = []
    written = write(call.to_avro(), context(theirs))
    assert theirs == [("__value_schema_id", b"\x01" + guid.bytes)]
    assert reader(written, context(theirs)) == call
    with ContractDeserializer(models.ToolInvocation, client) as fresh:  # nothing cached
        assert fresh(written, context(dict(theirs))) == call


def test_a_key_s_schema_is_named_by_the_key_header(
    client: SchemaRegistryClient, reader: Any, guid: uuid.UUID
) -> None:
    headers: Headers = []
    key_ctx = context(headers, MessageField.KEY)
    subject = "tool.requests-value"  # the key here carries the value's schema
    with ContractSerializer(
        models.ToolInvocation, client, subject=subject, schema_id_in_header=True
    ) as serialize:
        data = serialize(tool_invocation(), key_ctx)
    assert [name for name, _ in headers] == ["__key_schema_id"]
    with ContractDeserializer(models.ToolInvocation, client, subject=subject) as read:
        assert read(data, key_ctx) is not None
        with pytest.raises(DeserializationError):  # the value's header is not the key's
            read(data, context([("__value_schema_id", headers[0][1])], MessageField.KEY))


def test_the_header_wins_over_what_looks_like_a_prefix(
    client: SchemaRegistryClient, reader: Any, guid: uuid.UUID
) -> None:
    call = tool_invocation()
    prefixed = ContractSerializer(models.ToolInvocation, client)(call, context())
    assert prefixed is not None
    # a prefixed message whose header names the schema: the prefix is then payload
    header = [("__value_schema_id", b"\x01" + guid.bytes)]
    with pytest.raises(DeserializationError):
        reader(prefixed, context(header))
    # a header of magic byte 0 and an id is read too
    schema_id = prefixed[:5]
    assert reader(prefixed[5:], context([("__value_schema_id", schema_id)])) == call
    # and a prefix of magic byte 1 and the GUID
    assert reader(b"\x01" + guid.bytes + prefixed[5:], context()) == call


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "header __value_schema_id carries no schema id"),
        (b"", "header __value_schema_id: 0 bytes are too few"),
        (b"\x01" + bytes(15), "header __value_schema_id: 16 bytes are too few"),
        (b"\x01" + bytes(17), "header __value_schema_id: 18 bytes, not a schema id (17 bytes)"),
        (b"\x07" + bytes(16), "header __value_schema_id: unknown magic byte 7"),
        (b"\x00\x00\x00\x00", "header __value_schema_id: 4 bytes are too few"),
    ],
)
def test_a_damaged_id_header_is_a_deserialization_error(
    reader: Any, value: bytes | None, reason: str
) -> None:
    with pytest.raises(DeserializationError) as refused:
        reader(b"\x02ab", context([("__value_schema_id", value)]))
    assert refused.value.reason.startswith(reason)
    assert refused.value.topic == TOPIC


def test_an_unknown_guid_is_schema_not_found(reader: Any) -> None:
    unknown = uuid.UUID(int=1)
    for _ in range(2):  # remembered, as an unknown id is
        with pytest.raises(SchemaNotFoundError, match=f"schema GUID {unknown} is not in"):
            reader(b"\x02ab", context([("__value_schema_id", b"\x01" + unknown.bytes)]))


def test_header_ids_need_headers_to_write_into(client: SchemaRegistryClient) -> None:
    with ContractSerializer(models.ToolInvocation, client, schema_id_in_header=True) as serialize:
        for ctx in (context(), None):
            with pytest.raises(ContractSerializationError, match="needs the message's headers"):
                serialize(tool_invocation(), ctx)
        written: dict[str, Any] = {}
        assert serialize(tool_invocation(), context(written))
        assert set(written) == {"__value_schema_id"}


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(st.none(), st.binary(max_size=24)),
    payload=st.binary(max_size=40),
    name=st.sampled_from(["__value_schema_id", "__key_schema_id", "other"]),
)
def test_any_header_is_read_or_refused_with_a_contract_error(
    reader: Any, value: bytes | None, payload: bytes, name: str
) -> None:
    try:
        decoded = reader(payload, context([(name, value)]))
    except ContractError:
        return
    assert isinstance(decoded, models.ToolInvocation)


@given(guid=st.uuids(), payload=st.binary(max_size=8), schema_id=st.integers(0, 2**32 - 1))
def test_frames_name_the_schema_and_where_the_avro_starts(
    guid: uuid.UUID, payload: bytes, schema_id: int
) -> None:
    by_guid = [("__value_schema_id", b"\x01" + guid.bytes)]
    assert frame_of(payload, by_guid) == Frame(None, guid, 0, "__value_schema_id")
    prefix = b"\x00" + schema_id.to_bytes(4, "big")
    assert frame_of(prefix + payload, None) == Frame(schema_id, None, 5)
    assert frame_of(b"\x01" + guid.bytes + payload, {"other": b"x"}) == Frame(None, guid, 17)
    assert Frame(None, guid, 0, "__value_schema_id").shown() == {
        "in": "__value_schema_id",
        "guid": str(guid),
    }
    assert Frame(schema_id, None, 5).shown() == {"in": "prefix", "id": schema_id}

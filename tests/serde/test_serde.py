"""The typed serdes against the local registry over HTTP: round trips, interop, failures."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts import models
from somacontracts.errors import (
    ContractError,
    DeserializationError,
    IncompatibleWriterError,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SerializationError,
)
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.tooling.registry import LocalRegistry
from somacontracts.tooling.testing import datums

LATEST: list[Any] = [
    models.ToolInvocation,
    models.ToolResult,
    models.DelegatedTask,
    models.ConversationEvent,
    models.SettingsPayload,
]
CTX = SerializationContext("tool.requests", MessageField.VALUE)
SLOW = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def tool_invocation(**changes: Any) -> models.ToolInvocation:
    values: dict[str, Any] = {
        "task_id": uuid.uuid4(),
        "tenant_id": "tenant-1",
        "persona": "agent0",
        "tool_name": "shell",
        "payload": {"command": "ls", "args": ["-l", 1, 2.5, None, True, {"deep": []}]},
        "metadata": models.ToolInvocationMetadata(
            requested_by="gateway", timestamp=dt.datetime(2025, 10, 9, 16, 59, tzinfo=dt.UTC)
        ),
    }
    values.update(changes)
    return models.ToolInvocation(**values)


def ctx_for(model: Any) -> SerializationContext:
    return SerializationContext(model.SUBJECT.removesuffix("-value"), MessageField.VALUE)


@pytest.mark.parametrize("model", LATEST, ids=lambda m: m.__name__)
def test_every_contract_round_trips(
    model: Any, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    serializer = ContractSerializer(model, client)
    deserializer: ContractDeserializer[Any] = ContractDeserializer(model, client)

    @SLOW
    @given(data=st.data())
    def round_trip(data: st.DataObject) -> None:
        datum = data.draw(datums(serializer.model.SCHEMA))
        datum["metadata"]["schema_version"] = model.SCHEMA_VERSION  # the serializer stamps it
        obj = model.from_avro(datum)
        framed = serializer(obj, ctx_for(model))
        assert framed is not None
        assert framed[0] == 0
        back = deserializer(framed, ctx_for(model))
        assert back == obj
        assert type(back) is model

    round_trip()


def test_framing_and_schema_version_stamp(client: SchemaRegistryClient) -> None:
    obj = tool_invocation()
    obj.metadata.schema_version = 99
    framed = ContractSerializer(models.ToolInvocation, client)(obj, CTX)
    assert framed is not None
    schema_id = int.from_bytes(framed[1:5], "big")
    registered = client.lookup_schema(
        "tool.requests-value",
        Schema(json.dumps(models.ToolInvocation.SCHEMA), "AVRO"),
        normalize_schemas=True,
    )
    assert schema_id == registered.schema_id
    back = ContractDeserializer(models.ToolInvocation, client)(framed, CTX)
    assert back is not None
    assert back.metadata.schema_version == models.ToolInvocation.SCHEMA_VERSION
    assert obj.metadata.schema_version == 99  # stamped in the bytes, not in the caller's object


def test_none_is_a_tombstone(client: SchemaRegistryClient) -> None:
    assert ContractSerializer(models.ToolInvocation, client)(None, CTX) is None
    assert ContractDeserializer(models.ToolInvocation, client)(None, CTX) is None
    # A tombstone needs no schema id: no registry call, even to one that does not answer.
    with SchemaRegistryClient({"url": "http://127.0.0.1:9"}) as unreachable:
        serializer = ContractSerializer(models.ToolInvocation, unreachable, warm_up=False)
        assert serializer(None, CTX) is None


def test_confluent_serdes_read_ours_and_we_read_theirs(client: SchemaRegistryClient) -> None:
    obj = tool_invocation()
    ours = ContractSerializer(models.ToolInvocation, client)(obj, CTX)
    theirs_reader = AvroDeserializer(client)
    datum = theirs_reader(ours, CTX)
    assert datum == obj.to_avro()

    theirs_writer = AvroSerializer(
        client,
        json.dumps(models.ToolInvocation.SCHEMA),
        conf={"auto.register.schemas": False, "normalize.schemas": True},
    )
    framed = theirs_writer(obj.to_avro(), CTX)
    assert framed is not None
    assert framed[:5] == ours[:5] if ours is not None else False
    assert ContractDeserializer(models.ToolInvocation, client)(framed, CTX) == obj


def test_bad_values_name_the_field(client: SchemaRegistryClient) -> None:
    serializer = ContractSerializer(models.ToolInvocation, client)
    with pytest.raises(SerializationError) as caught:
        serializer(tool_invocation(tenant_id=3), CTX)
    message = str(caught.value)
    assert message.startswith("tool.requests: ")
    assert "tenant_id" in message
    assert "int" in message
    assert "\n" not in message
    with pytest.raises(SerializationError, match=r'payload\["x"\]: nan is not a JSON number'):
        serializer(tool_invocation(payload={"x": float("nan")}), CTX)
    with pytest.raises(SerializationError, match=r"expected a ToolInvocation"):
        serializer({"task_id": "x"}, CTX)  # type: ignore[arg-type]


def test_missing_schema_fails_at_construction(registry: LocalRegistry) -> None:
    with LocalRegistry(host="127.0.0.1", port=0) as empty:
        with pytest.raises(
            SchemaNotFoundError, match=r'subject "tool.requests-value" holds no version'
        ):
            ContractSerializer(models.ToolInvocation, empty.url)
        with pytest.raises(SchemaNotFoundError):
            ContractDeserializer(models.ToolInvocation, empty.url)
        with ContractSerializer(models.ToolInvocation, empty.url, auto_register=True):
            pass
        with ContractDeserializer(models.ToolInvocation, empty.url) as deserializer:
            assert deserializer.model is models.ToolInvocation


def test_id_of_another_subject_is_refused(client: SchemaRegistryClient) -> None:
    result = models.ToolResult.from_avro(
        {
            "task_id": uuid.uuid4(),
            "status": "success",
            "output": "{}",
            "metrics": {"duration_ms": 1},
            "metadata": {
                "schema_version": 1,
                "tenant_id": "t",
                "correlation_id": None,
                "timestamp": None,
                "extra": "{}",
            },
        }
    )
    framed = ContractSerializer(models.ToolResult, client)(result, ctx_for(models.ToolResult))
    with pytest.raises(IncompatibleWriterError, match="not under a subject of ToolInvocation"):
        ContractDeserializer(models.ToolInvocation, client)(framed, CTX)


def test_unknown_id_and_bad_framing(client: SchemaRegistryClient) -> None:
    deserializer = ContractDeserializer(models.ToolInvocation, client)
    with pytest.raises(SchemaNotFoundError, match="schema id 99999 is not in the registry"):
        deserializer(b"\x00" + (99999).to_bytes(4, "big") + b"\x02", CTX)
    with pytest.raises(DeserializationError, match="unknown magic byte 2"):
        deserializer(b"\x02\x00\x00\x00\x01", CTX)
    with pytest.raises(DeserializationError, match="5 bytes are too few"):  # 1: a GUID
        deserializer(b"\x01\x00\x00\x00\x01", CTX)
    with pytest.raises(DeserializationError, match="too few"):
        deserializer(b"\x00\x00", CTX)
    framed = ContractSerializer(models.ToolInvocation, client)(tool_invocation(), CTX)
    assert framed is not None
    with pytest.raises(DeserializationError, match="cannot decode"):
        deserializer(framed[:-4], CTX)
    with pytest.raises(DeserializationError, match="1 byte after the record"):
        deserializer(framed + b"\x00", CTX)


@SLOW
@given(payload=st.binary(max_size=64))
def test_random_bytes_raise_only_contract_errors(
    client: SchemaRegistryClient, payload: bytes
) -> None:
    deserializer = ContractDeserializer(models.ToolInvocation, client, warm_up=False)
    for data in (payload, b"\x00" + payload, b"\x00\x00\x00\x00\x04" + payload):
        with contextlib.suppress(ContractError):
            deserializer(data, CTX)


@SLOW
@given(cut=st.integers(min_value=0, max_value=200), flip=st.integers(min_value=0, max_value=255))
def test_truncated_and_corrupted_messages_raise_only_contract_errors(
    client: SchemaRegistryClient, cut: int, flip: int
) -> None:
    framed = ContractSerializer(models.ToolInvocation, client)(tool_invocation(), CTX)
    assert framed is not None
    deserializer = ContractDeserializer(models.ToolInvocation, client)
    corrupted = bytearray(framed)
    corrupted[5 + cut % (len(framed) - 5)] ^= flip
    for data in (framed[: cut % len(framed)], bytes(corrupted)):
        with contextlib.suppress(ContractError):
            deserializer(data, CTX)


def test_keeps_working_from_cache_when_the_registry_stops() -> None:
    with LocalRegistry(host="127.0.0.1", port=0) as short_lived:
        serializer = ContractSerializer(models.ToolInvocation, short_lived.url, auto_register=True)
        deserializer = ContractDeserializer(models.ToolInvocation, short_lived.url)
    with serializer, deserializer:
        obj = tool_invocation()
        for _ in range(3):
            framed = serializer(obj, CTX)
            assert deserializer(framed, CTX) == obj
        with pytest.raises(RegistryUnavailableError):
            deserializer(b"\x00" + (12345).to_bytes(4, "big") + b"\x02", CTX)


def test_a_cached_refusal_does_not_grow_with_each_message(client: SchemaRegistryClient) -> None:
    import traceback

    deserializer = ContractDeserializer(models.ToolInvocation, client)
    unknown = b"\x00" + (424242).to_bytes(4, "big") + b"\x02"
    depths = []
    for _ in range(20):
        with pytest.raises(SchemaNotFoundError) as caught:
            deserializer(unknown, CTX)
        depths.append(len(traceback.extract_tb(caught.value.__traceback__)))
    assert depths[-1] == depths[1]

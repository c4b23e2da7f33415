"""The deserializer refuses damaged bytes: cut short anywhere, or with bytes after the record.

The reader here is a model with one field; the writer's schema adds a field of every
Avro type after it, which the reader skips. Skipping must check that the bytes are
there: a message cut inside a skipped field is an error, not the record it would have
been.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_writer

from somacontracts.errors import DeserializationError
from somacontracts.runtime import write_long
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.serde.scan import MAX_EMPTY_ITEMS
from tests.generated import generated

PACKAGE = "generated_damage_models"
SUBJECT = "cut-value"
CTX = SerializationContext("cut", MessageField.VALUE)
READER = {
    "type": "record",
    "name": "Cut",
    "namespace": "test.damage",
    "doc": "d",
    "fields": [{"name": "id", "type": "string", "doc": "d"}],
}
WRITER_ONLY: list[tuple[Any, Any]] = [
    ("boolean", True),
    ("int", -123456),
    ("long", 2**40),
    ("float", 1.5),
    ("double", -2.25),
    ("bytes", b"\x00\x01bytes"),
    ("string", "a string of some length"),
    ({"type": "fixed", "name": "Four", "size": 4}, b"abcd"),
    ({"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}, "GREEN"),
    ({"type": "array", "items": "string"}, ["x", "yy", "zzz"]),
    ({"type": "map", "values": "long"}, {"k": 1, "kk": 300}),
    (["null", "string"], "branch"),
    (
        {"type": "record", "name": "Inner", "fields": [{"name": "a", "type": "string"}]},
        {"a": "inner"},
    ),
]


def writer_schema(kind: Any, *, last: bool) -> dict[str, Any]:
    """The reader's record with one more field of ``kind``, after or before ``id``."""
    extra = {"name": "extra", "type": kind}
    fields = [READER["fields"][0], extra] if last else [extra, READER["fields"][0]]
    return {**READER, "fields": fields}


@pytest.fixture(scope="module")
def cut_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tree = tmp_path_factory.mktemp("damage-tree")
    (tree / "Cut").mkdir()
    (tree / "Cut" / "v1.avsc").write_text(json.dumps(READER))
    with generated(tree, tmp_path_factory.mktemp("damage-codegen") / PACKAGE, "cut") as module:
        yield module.CutV1


@pytest.fixture(scope="module")
def reader(client: SchemaRegistryClient, cut_model: Any) -> ContractDeserializer[Any]:
    client.set_compatibility(SUBJECT, "NONE")
    ContractSerializer(cut_model, client, subject=SUBJECT, auto_register=True)
    return ContractDeserializer(cut_model, client, subjects=(SUBJECT,))


def framed(client: SchemaRegistryClient, schema: dict[str, Any], datum: dict[str, Any]) -> bytes:
    schema_id = client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO"))
    buffer = io.BytesIO()
    buffer.write(b"\x00" + schema_id.to_bytes(4, "big"))
    schemaless_writer(buffer, parse_schema(schema), datum)
    return buffer.getvalue()


@pytest.mark.parametrize("last", [True, False], ids=["after-id", "before-id"])
@pytest.mark.parametrize(
    ("kind", "value"), WRITER_ONLY, ids=lambda v: json.dumps(v, default=str)[:20]
)
def test_every_cut_point_raises(
    client: SchemaRegistryClient,
    reader: ContractDeserializer[Any],
    kind: Any,
    value: Any,
    last: bool,
) -> None:
    data = framed(client, writer_schema(kind, last=last), {"id": "the-id", "extra": value})
    whole = reader(data, CTX)
    assert whole is not None
    assert whole.id == "the-id"
    for cut in range(5, len(data)):
        with pytest.raises(DeserializationError, match=r"cannot decode|after the record"):
            reader(data[:cut], CTX)
    with pytest.raises(DeserializationError, match=r"^cut: 2 bytes after the record"):
        reader(data + b"\x02\x04", CTX)


def test_bytes_after_a_record_of_the_model_s_own_schema(
    client: SchemaRegistryClient, reader: ContractDeserializer[Any], cut_model: Any
) -> None:
    data = ContractSerializer(cut_model, client, subject=SUBJECT)(cut_model(id="x"), CTX)
    assert data is not None
    assert reader(data, CTX) == cut_model(id="x")
    with pytest.raises(DeserializationError, match=r"^cut: 1 byte after the record \(schema id"):
        reader(data + b"\x00", CTX)
    for cut in range(5, len(data)):
        with pytest.raises(DeserializationError, match=r"cannot decode"):
            reader(data[:cut], CTX)


@pytest.mark.parametrize(
    "items",
    ["null", {"type": "record", "name": "Nothing", "fields": [{"name": "n", "type": "null"}]}],
    ids=["nulls", "empty records"],
)
def test_arrays_of_items_that_take_no_bytes_are_capped(
    client: SchemaRegistryClient, reader: ContractDeserializer[Any], items: Any
) -> None:
    """A few bytes may claim 2**40 nulls; fastavro alone would loop over every one."""
    schema = writer_schema({"type": "array", "items": items}, last=True)
    schema_id = client.register_schema(SUBJECT, Schema(json.dumps(schema), "AVRO"))
    frame = b"\x00" + schema_id.to_bytes(4, "big") + b"\x0cthe-id"
    for claimed, accepted in ((3, True), (MAX_EMPTY_ITEMS, True), (2**40, False)):
        body = bytearray(frame)
        write_long(body, claimed)
        body.append(0)
        if accepted:
            assert reader(bytes(body), CTX) is not None
            continue
        started = time.monotonic()
        with pytest.raises(DeserializationError, match="empty items at byte 12 is too many"):
            reader(bytes(body), CTX)
        assert time.monotonic() - started < 5
    split = bytearray(frame)  # the cap holds over all blocks, not only one
    for _ in range(2):
        write_long(split, MAX_EMPTY_ITEMS)
    split.append(0)
    with pytest.raises(DeserializationError, match="more than 16777216 array items that take no"):
        reader(bytes(split), CTX)

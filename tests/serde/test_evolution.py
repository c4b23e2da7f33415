"""Schema evolution through the serdes: unions of records, old data into new classes, and back.

``corpus/Shapes`` has three versions: v2 adds an optional field; v3 adds a record to
the union of two same-shaped records and widens ``count`` from int to long, so v3 is
BACKWARD compatible with v1 and v2 but not FORWARD. The classes are generated here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from fastavro import parse_schema, schemaless_writer

from somacontracts import models
from somacontracts.errors import IncompatibleWriterError
from somacontracts.serde import ContractDeserializer, ContractSerializer
from tests.generated import generated

CORPUS = Path(__file__).parent / "corpus"
PACKAGE = "generated_serde_models"
SUBJECT = "shapes-value"


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    with generated(CORPUS, tmp_path_factory.mktemp("serde-codegen") / PACKAGE, "shapes") as module:
        yield module


@pytest.fixture(scope="module")
def registered(client: SchemaRegistryClient, shapes: ModuleType) -> SchemaRegistryClient:
    client.set_compatibility(SUBJECT, "BACKWARD")
    for model in (shapes.ShapesV1, shapes.ShapesV2, shapes.ShapesV3):
        ContractSerializer(model, client, subject=SUBJECT, auto_register=True)
    return client


def serdes(model: Any, client: SchemaRegistryClient) -> tuple[Any, Any]:
    return (
        ContractSerializer(model, client, subject=SUBJECT),
        ContractDeserializer(model, client, subjects=(SUBJECT,)),
    )


@pytest.mark.parametrize("version", [1, 2, 3])
def test_same_shaped_records_in_a_union_come_back_as_their_own_branch(
    shapes: ModuleType, registered: SchemaRegistryClient, version: int
) -> None:
    model = getattr(shapes, f"ShapesV{version}")
    circle, square = getattr(shapes, f"CircleV{version}"), getattr(shapes, f"SquareV{version}")
    write, read = serdes(model, registered)
    for shape in (circle(radius=2.0), square(side=2.0)):
        obj = model(id=uuid.uuid4(), shape=shape, count=3, tags=["a"])
        back = read(write(obj))
        assert back == obj
        assert type(back.shape) is type(shape)


def test_v1_data_reads_into_the_latest_class(
    shapes: ModuleType, registered: SchemaRegistryClient
) -> None:
    write_v1, _ = serdes(shapes.ShapesV1, registered)
    _, read_latest = serdes(shapes.Shapes, registered)
    assert shapes.Shapes is shapes.ShapesV3
    sent = shapes.ShapesV1(id=uuid.uuid4(), shape=shapes.SquareV1(side=1.5), count=7)
    got = read_latest(write_v1(sent))
    assert got == shapes.Shapes(
        id=sent.id, shape=shapes.Square(side=1.5), count=7, tags=[], label=None
    )
    assert type(got.shape) is shapes.SquareV3


def test_new_optional_field_reads_both_ways(
    shapes: ModuleType, registered: SchemaRegistryClient
) -> None:
    write_v2, read_v2 = serdes(shapes.ShapesV2, registered)
    write_v1, read_v1 = serdes(shapes.ShapesV1, registered)
    newer = shapes.ShapesV2(id=uuid.uuid4(), shape=shapes.CircleV2(radius=1.0), count=1, label="x")
    older = read_v1(write_v2(newer))
    assert older == shapes.ShapesV1(
        id=newer.id, shape=shapes.CircleV1(radius=1.0), count=1, tags=[]
    )
    assert read_v2(write_v1(older)).label is None


def test_an_old_reader_refuses_what_the_level_does_not_promise(
    shapes: ModuleType, registered: SchemaRegistryClient
) -> None:
    write_v3, _ = serdes(shapes.ShapesV3, registered)
    _, read_v1 = serdes(shapes.ShapesV1, registered)
    framed = write_v3(
        shapes.ShapesV3(id=uuid.uuid4(), shape=shapes.TriangleV3(base=1, height=2), count=2**40)
    )
    with pytest.raises(
        IncompatibleWriterError, match="ShapesV1 cannot read data written with schema id"
    ):
        read_v1(framed)


def test_a_writer_that_differs_in_a_logical_type_alone_reads_as_written(
    client: SchemaRegistryClient,
) -> None:
    """Millis written, micros read: the writer's logical type decides, not the reader's."""
    writer = json.loads(json.dumps(models.ToolInvocation.SCHEMA))
    writer["fields"][5]["type"]["fields"][2]["type"]["logicalType"] = "timestamp-millis"
    schema_id = client.register_schema("tool.requests-value", Schema(json.dumps(writer), "AVRO"))
    moment = dt.datetime(2025, 10, 9, 16, 59, 1, 123000, tzinfo=dt.UTC)
    datum = {
        "task_id": uuid.uuid4(),
        "tenant_id": "t",
        "persona": "p",
        "tool_name": "shell",
        "payload": "{}",
        "metadata": {
            "schema_version": 1,
            "requested_by": "g",
            "timestamp": moment,
            "correlation_id": None,
            "extra": "{}",
        },
    }
    buffer = io.BytesIO(b"\x00" + schema_id.to_bytes(4, "big"))
    buffer.seek(5)
    schemaless_writer(buffer, parse_schema(writer), datum)
    read = ContractDeserializer(models.ToolInvocation, client)(buffer.getvalue())
    assert read is not None
    assert read.metadata.timestamp == moment

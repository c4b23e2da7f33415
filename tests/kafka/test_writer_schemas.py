"""Any writer schema the registry accepts is read, or refused once as a typed error the
consumer dead-letters: never a stop. Writers that rely on Apache Avro Java's fallback to
the null namespace, aliases across namespaces and named types reused across unions,
written by confluent-kafka's serializer (or by hand where it cannot write them)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_writer

from somacontracts.catalog.environment import Settings
from somacontracts.errors import IncompatibleWriterError
from somacontracts.kafka import ContractConsumer, dlq_name
from somacontracts.serde import ContractDeserializer
from somacontracts.tooling.registry import LocalRegistry
from tests.generated import generated
from tests.kafka.conftest import create_topics

PACKAGE = "generated_writer_models"
TOPIC = "parcels"
SUBJECT = f"{TOPIC}-value"
CTX = SerializationContext(TOPIC, MessageField.VALUE)
FALLS_BACK = r'cannot be read here: .*Java falls back to the type "Note" of the null namespace'


def _box(namespace: str, *aliases: str) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Box",
        "namespace": namespace,
        "doc": "d",
        **({"aliases": list(aliases)} if aliases else {}),
        "fields": [{"name": "n", "type": "int", "doc": "d"}],
    }


READER = {
    "type": "record",
    "name": "Parcel",
    "namespace": "shop",
    "doc": "d",
    "aliases": ["old.Parcel"],
    "fields": [
        {"name": "id", "type": "string", "doc": "d"},
        {"name": "box", "type": ["null", _box("shop", "old.Box")], "default": None, "doc": "d"},
        {"name": "spare", "type": ["null", "shop.Box"], "default": None, "doc": "d"},
    ],
}
FALLBACK = {
    "type": "record",
    "name": "Parcel",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "string"},
        {
            "name": "a",
            "type": {
                "type": "record",
                "name": "Note",
                "namespace": "",
                "fields": [{"name": "t", "type": "string"}],
            },
        },
        {"name": "b", "type": "Note"},  # Java: "Note" of the null namespace, by its fallback
    ],
}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tree = tmp_path_factory.mktemp("writer-tree")
    (tree / "Parcel").mkdir()
    (tree / "Parcel" / "v1.avsc").write_text(json.dumps(READER))
    with generated(tree, tmp_path_factory.mktemp("writer-codegen") / PACKAGE, "parcel") as module:
        yield module.ParcelV1


@pytest.fixture(scope="module")
def local() -> Iterator[LocalRegistry]:
    with LocalRegistry() as started:
        yield started


def _client(url: str, model: Any) -> SchemaRegistryClient:
    """A client of ``url``, whose subject holds the model's schema and takes any other."""
    opened = SchemaRegistryClient({"url": url, "max.retries": 0})
    opened.set_compatibility(SUBJECT, "NONE")
    opened.register_schema(SUBJECT, Schema(json.dumps(model.SCHEMA), "AVRO"))
    return opened


@pytest.fixture(scope="module")
def client(local: LocalRegistry, model: Any) -> Iterator[SchemaRegistryClient]:
    with _client(local.url, model) as opened:
        yield opened


def _fallback_message(client: SchemaRegistryClient) -> bytes:
    """A message of the fallback writer, framed by hand: no fastavro-based serializer,
    confluent-kafka's included, parses that schema (its bytes are plain strings)."""
    schema_id = client.register_schema(SUBJECT, Schema(json.dumps(FALLBACK), "AVRO"))
    same_bytes = parse_schema(
        {
            "type": "record",
            "name": "Same",
            "fields": [{"name": name, "type": "string"} for name in ("id", "a_t", "b_t")],
        }
    )
    body = io.BytesIO()
    schemaless_writer(body, same_bytes, {"id": "p-1", "a_t": "x", "b_t": "y"})
    return b"\x00" + schema_id.to_bytes(4, "big") + body.getvalue()


def test_a_writer_only_java_resolves_is_refused_once_as_a_typed_error(model: Any) -> None:
    with LocalRegistry() as own, _client(own.url, model) as client:
        data = _fallback_message(client)
        with ContractDeserializer(model, own.url, subjects=[SUBJECT]) as read:
            with pytest.raises(
                IncompatibleWriterError,
                match=FALLS_BACK,
            ) as first:
                read(data, CTX)
            assert first.value.topic == TOPIC
            # Refused once: the answer is kept, the registry is not asked again.
            own.stop()
            with pytest.raises(
                IncompatibleWriterError,
                match=FALLS_BACK,
            ):
                read(data, CTX)


def test_aliases_across_namespaces_and_types_reused_across_unions_are_read(
    client: SchemaRegistryClient, local: LocalRegistry, model: Any
) -> None:
    """Written with ``old.Parcel``/``old.Box`` (the reader's aliases), ``Box`` used by two
    unions, by confluent-kafka's own serializer."""
    writer = {
        **READER,
        "namespace": "old",
        "aliases": [],
        "fields": [
            READER["fields"][0],
            {"name": "box", "type": ["null", _box("old")], "default": None},
            {"name": "spare", "type": ["null", "old.Box"], "default": None},
        ],
    }
    client.register_schema(SUBJECT, Schema(json.dumps(writer), "AVRO"))
    theirs = AvroSerializer(
        client,
        json.dumps(writer),
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    data = theirs({"id": "p-2", "box": {"n": 1}, "spare": {"n": 2}}, CTX)
    with ContractDeserializer(model, local.url, subjects=[SUBJECT]) as read:
        got = read(data, CTX)
    assert got is not None
    assert (got.id, got.box.n, got.spare.n) == ("p-2", 1, 2)


def test_the_consumer_dead_letters_what_it_cannot_read_and_goes_on(
    client: SchemaRegistryClient,
    local: LocalRegistry,
    model: Any,
    settings: Settings,
    bootstrap: str,
    admin: AdminClient,
) -> None:
    topic = f"{TOPIC}.{uuid.uuid4().hex[:8]}"
    create_topics(admin, topic, partitions=1)
    good = AvroSerializer(
        client,
        json.dumps(model.SCHEMA),
        conf={"auto.register.schemas": False, "subject.name.strategy": lambda ctx, r: SUBJECT},
    )
    producer = Producer({"bootstrap.servers": bootstrap})
    context = SerializationContext(topic, MessageField.VALUE)
    for value in (
        _fallback_message(client),
        good({"id": "p-3"}, context),
        _fallback_message(client),
    ):
        producer.produce(topic, value, b"k")
    assert producer.flush(10) == 0
    handled: list[Any] = []
    with ContractConsumer(
        model,
        local.url,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        subject=SUBJECT,
    ) as consumer:
        stats = consumer.run(
            lambda received: handled.append(received.value.id), max_messages=3, idle_timeout=10
        )
    assert handled == ["p-3"]
    assert (stats.handled, stats.dead_lettered) == (1, 2)
    dead = Consumer({"bootstrap.servers": bootstrap, "group.id": f"dlq-{uuid.uuid4().hex[:6]}"})
    try:
        dead.assign([TopicPartition(dlq_name(topic), 0, 0)])
        copies = [m for m in (dead.poll(5) for _ in range(2)) if m is not None and not m.error()]
    finally:
        dead.close()
    errors = [dict(m.headers() or [])["dlq.error"] for m in copies]
    assert [isinstance(e, bytes) and b"falls back" in e for e in errors] == [True, True]

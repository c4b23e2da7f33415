"""Schema ids in message headers through a real broker, both ways with confluent-kafka's
own clients: its SerializingProducer writes the GUID in ``__value_schema_id`` and the
contract consumer reads it; the contract producer does, and its DeserializingConsumer
reads it; and the ``consume`` console shows which framing each message has."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from confluent_kafka import DeserializingConsumer, SerializingProducer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    dual_schema_id_deserializer,
    header_schema_id_serializer,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import StringSerializer

from somacontracts.catalog.environment import Settings
from somacontracts.kafka import ContractProducer
from somacontracts.models import ToolInvocation
from somacontracts.tooling.cli import EXIT_OK, main
from somacontracts.tooling.dev.samples import sample_invocation
from tests.kafka.conftest import create_topics, received_from

SUBJECT = ToolInvocation.SUBJECT
ID_HEADER = "__value_schema_id"


def _guid(registry: str) -> uuid.UUID:
    with SchemaRegistryClient({"url": registry}) as client:
        found = client.get_latest_version(SUBJECT).guid
    assert found is not None
    return uuid.UUID(found)


def test_confluent_kafka_writes_header_ids_and_the_contract_consumer_reads_them(
    settings: Settings, registry: str, bootstrap: str, admin: AdminClient
) -> None:
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic, partitions=1)
    calls = [sample_invocation(tenant_id=f"t{i}") for i in range(3)]
    with SchemaRegistryClient({"url": registry}) as client:
        theirs = SerializingProducer(
            {
                "bootstrap.servers": bootstrap,
                "key.serializer": StringSerializer(),
                "value.serializer": AvroSerializer(
                    client,
                    None,
                    conf={
                        "auto.register.schemas": False,
                        "use.latest.version": True,
                        "subject.name.strategy": lambda ctx, name: SUBJECT,
                        "schema.id.serializer": header_schema_id_serializer,
                    },
                ),
            }
        )
        for call in calls[:2]:
            theirs.produce(
                topic, key=call.tenant_id, value=call.to_avro(), headers=[("trace", b"x")]
            )
        theirs.flush(10)
    with ContractProducer(
        ToolInvocation, registry, settings=settings, topic=topic, subject=SUBJECT
    ) as ours:
        ours.send(calls[2]).result(10)  # Confluent's prefix, on the same topic
    received = received_from(settings, registry, ToolInvocation, topic, 3, subject=SUBJECT)
    assert [r.value for r in received] == calls
    guid = _guid(registry)
    assert [dict(r.headers).get(ID_HEADER) for r in received] == [
        b"\x01" + guid.bytes,
        b"\x01" + guid.bytes,
        None,
    ]
    assert dict(received[0].headers)["trace"] == b"x"


def test_the_contract_producer_writes_header_ids_confluent_kafka_reads_them(
    settings: Settings,
    registry: str,
    bootstrap: str,
    admin: AdminClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic, partitions=1)
    calls = [sample_invocation(tenant_id=f"t{i}") for i in range(4)]
    with ContractProducer(
        ToolInvocation,
        registry,
        settings=settings,
        topic=topic,
        subject=SUBJECT,
        schema_id_in_header=True,
    ) as ours:
        ours.send(calls[0], headers=[("trace", b"y")]).result(10)
        ours.produce(calls[1])
        key, value = ours.encode(calls[2])  # a processor's way: encoded, then queued
        ours.produce_encoded(key, value)
        ours.flush(10)
    with ContractProducer(
        ToolInvocation, registry, settings=settings, topic=topic, subject=SUBJECT
    ) as plain:
        plain.send(calls[3]).result(10)
    found: list[Any] = []
    with SchemaRegistryClient({"url": registry}) as client:
        theirs = DeserializingConsumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"theirs-{uuid.uuid4().hex[:6]}",
                "enable.auto.commit": False,
                "value.deserializer": AvroDeserializer(
                    client, conf={"schema.id.deserializer": dual_schema_id_deserializer}
                ),
            }
        )
        try:
            theirs.assign([TopicPartition(topic, 0, 0)])
            for _ in range(100):
                msg = theirs.poll(0.2)
                if msg is not None and msg.error() is None:
                    found.append(msg)
                if len(found) == 4:
                    break
        finally:
            theirs.close()
    assert [ToolInvocation.from_avro(msg.value()) for msg in found] == calls
    guid = _guid(registry)
    assert [dict(msg.headers() or []).get(ID_HEADER) for msg in found] == [
        b"\x01" + guid.bytes,
        b"\x01" + guid.bytes,
        b"\x01" + guid.bytes,
        None,
    ]
    assert dict(found[0].headers())["trace"] == b"y"
    # the console names each message's framing
    monkeypatch.setenv("TOOL_REQUESTS_TOPIC", topic)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", registry)
    assert main(["consume", topic, "--from-beginning"]) == EXIT_OK
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    with SchemaRegistryClient({"url": registry}) as client:
        schema_id = client.get_latest_version(SUBJECT).schema_id
    assert [r["schema"] for r in records] == [
        *[{"in": ID_HEADER, "guid": str(guid)}] * 3,
        {"in": "prefix", "id": schema_id},
    ]
    assert [r["schema_version"] for r in records] == [ToolInvocation.SCHEMA_VERSION] * 4
    assert main(["consume", topic, "--from-beginning", "--format", "table"]) == EXIT_OK
    table = capsys.readouterr().out
    assert f"guid {str(guid)[:8]} in {ID_HEADER}" in table
    assert f"id {schema_id} " in table

"""Every client path through a registry that drops rules (Karapace 5's profile in front of
the local registry, ``tests/registries.py``), on the test broker: no path (serializer,
producer, processor, ``produce``, ``demo``, ``auto_register``) writes
``ConversationEvent.content`` in plain text, and a v2 consumer, ``consume`` included, reads
a v1 message where ``/schemas/ids/{id}/subjects`` is not served."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from somacontracts.catalog.environment import Settings
from somacontracts.errors import RulesMissingError
from somacontracts.kafka import (
    ContractConsumer,
    ContractProcessor,
    ContractProducer,
    Received,
    dlq_name,
)
from somacontracts.models import ConversationEvent, ConversationEventV1, ConversationEventV2
from somacontracts.serde import ContractSerializer
from somacontracts.tooling import sources
from somacontracts.tooling.cli import EXIT_USAGE, main
from somacontracts.tooling.plainjson import to_plain_json
from somacontracts.tooling.registration import schema_of
from somacontracts.tooling.registry import LocalRegistry
from tests.kafka.conftest import FAST_GROUP, create_topics
from tests.registries import KARAPACE_5, karapace_with_dek_registry, profiled_registry
from tests.serde.test_registry_profiles import event

TOPICS = ("conversation.inbound", "conversation.outbound")
DEMO_CONTENT = b"hello"  # what the demo's ConversationEvent says


@pytest.fixture
def karapace() -> Iterator[tuple[LocalRegistry, str]]:
    with profiled_registry(KARAPACE_5) as pair:
        yield pair


def register_as_sent(url: str, *subjects: str) -> None:
    """ConversationEvent's versions with their rules under ``subjects``, as ``register`` did
    before it read them back: the registry keeps what it keeps."""
    with SchemaRegistryClient({"url": url}) as client:
        for subject in subjects:
            for version in sources.bundled()["ConversationEvent"].versions:
                client.register_schema(subject, schema_of(version), normalize_schemas=True)


def every_value(bootstrap: str, topic: str) -> list[bytes]:
    """Every message value on every partition of ``topic``."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "grep", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        values: list[bytes] = []
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, partition, low)])
            seen = low
            for _ in range(200):
                if seen >= high:
                    break
                message = consumer.poll(0.2)
                if message is not None and message.error() is None:
                    values.append(message.value() or b"")
                    seen = (message.offset() or 0) + 1
        return values
    finally:
        consumer.close()


def test_no_client_path_writes_content_in_plain_text(
    karapace: tuple[LocalRegistry, str],
    bootstrap: str,
    admin: AdminClient,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = karapace
    create_topics(admin, *TOPICS)
    register_as_sent(url, *(f"{t}-value" for t in TOPICS))
    secret = f"my card number is 4111 1111 1111 1111 ({uuid.uuid4().hex})"
    written = event(2, secret)
    # The serializer and the producer refuse to start.
    with pytest.raises(RulesMissingError, match='rule "encryptPII" of version 2 is missing'):
        ContractSerializer(ConversationEvent, url)
    with pytest.raises(RulesMissingError, match=r"ConversationEvent\.content would go out"):
        ContractProducer(ConversationEvent, url, settings=settings, topic=TOPICS[1])
    # So does a processor whose output is ConversationEvent.
    with pytest.raises(RulesMissingError, match=r'under "conversation\.outbound-value"'):
        ContractProcessor(
            ConversationEventV1,
            ConversationEvent,
            url,
            settings=settings,
            topics=[TOPICS[0]],
            partitions=[(TOPICS[0], 0)],
            group_id=f"relay-{uuid.uuid4().hex[:6]}",
            output_topic=TOPICS[1],
        )
    # auto_register registers the version with its rules, which the registry drops.
    with pytest.raises(RulesMissingError, match='under "other-value"'):
        ContractSerializer(ConversationEvent, url, auto_register=True, subject="other-value")
    # `produce` stops with one line, nothing sent.
    lines = tmp_path / "events.jsonl"
    lines.write_text(json.dumps(to_plain_json(ConversationEvent.SCHEMA, written.to_avro())) + "\n")
    command = ["produce", TOPICS[1], str(lines), "--bootstrap", bootstrap, "--registry", url]
    assert main(command) == EXIT_USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(
        'somacontracts produce: error: ConversationEvent under "conversation.outbound-value": '
        'rule "encryptPII" of version 2 is missing from the version registered at'
    )
    # `demo` stops before it registers or sends anything: no DEK registry; and where the
    # keys are kept but the rules dropped, when it reads the version back.
    for profile, said in (
        (KARAPACE_5, "the registry has no DEK registry"),
        (karapace_with_dek_registry(), "was stored without its rule set"),
    ):
        with profiled_registry(profile) as (_, demo_url):
            assert main(["demo", "--bootstrap", bootstrap, "--registry", demo_url]) == EXIT_USAGE
        out, err = capsys.readouterr()
        assert said in err
        assert "went through Kafka" not in out
    for topic in TOPICS:
        for value in every_value(bootstrap, topic):
            assert secret.encode() not in value
            assert DEMO_CONTENT not in value


def test_a_v2_consumer_reads_a_v1_message_without_the_subjects_of_an_id(
    karapace: tuple[LocalRegistry, str],
    bootstrap: str,
    admin: AdminClient,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = karapace
    subject = "conversation.inbound-value"
    register_as_sent(url, subject)
    topic = f"conversation.inbound.{uuid.uuid4().hex[:8]}"
    create_topics(admin, topic, partitions=1)
    said = f"rolling upgrade {uuid.uuid4().hex}"
    with ContractProducer(
        ConversationEventV1, url, settings=settings, topic=topic, subject=subject
    ) as producer:
        producer.send(event(1, said)).result(10)
    received: list[Received[Any]] = []
    with ContractConsumer(
        ConversationEventV2,
        url,
        settings=settings,
        topics=[topic],
        subject=subject,
        group_id=f"upgrade-{uuid.uuid4().hex[:6]}",
        config=FAST_GROUP,
    ) as consumer:
        stats = consumer.run(received.append, idle_timeout=5, max_messages=1)
    assert stats.dead_lettered == 0
    (got,) = received
    assert isinstance(got.value, ConversationEventV2)
    assert got.value.content == said
    assert got.value.metadata.schema_version == 1
    assert every_value(bootstrap, dlq_name(topic)) == []
    # `consume` reads it the same way (the topic's contract from the catalog: ConversationEvent).
    create_topics(admin, TOPICS[0])
    with ContractProducer(
        ConversationEventV1, url, settings=settings, topic=TOPICS[0], subject=subject
    ) as producer:
        delivered = producer.send(event(1, said)).result(10)
    command = ["consume", TOPICS[0], "--partition", str(delivered.partition)]
    command += ["--offset", str(delivered.offset), "--max", "1"]
    assert main([*command, "--bootstrap", bootstrap, "--registry", url]) == 0
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["value"]["content"] == said
    assert record["schema_version"] == 1

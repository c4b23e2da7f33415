"""Encrypted fields through a real broker: what a producer with an ENCRYPT rule puts on
Kafka holds no plaintext of the tagged field, and a message a read rule refuses reaches
the dead-letter topic with its fields still encrypted."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry.common.schema_registry_client import (
    RuleMode,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts.catalog.environment import Settings
from somacontracts.errors import SchemaNotFoundError
from somacontracts.kafka import ContractConsumer, ContractProducer, Received, dlq_name
from somacontracts.serde import RuleOptions
from tests.datacontracts import Event, cel_rule, encrypt_rule, event, register
from tests.kafka.conftest import FAST_GROUP, create_topics

RULES = RuleOptions(kms={"secret": os.environ["LOCAL_SECRET"]})
ENCRYPT = encrypt_rule("kafka_tests", on_failure="ERROR,ERROR")
NOT_BLOCKED = cel_rule(
    'message.tenant_id != "blocked"', name="tenantNotBlocked", mode=RuleMode.READ, on_failure="DLQ"
)
WINDOW = 8
"""Length of the plaintext pieces looked for in the bytes (shorter pieces of random text
occur in any bytes by chance)."""


def read_raw(bootstrap: str, topic: str, count: int) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "raw", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        found: list[Any] = []
        for _ in range(100):
            if len(found) == count:
                break
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                found.append(msg)
        return found
    finally:
        consumer.close()


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(contents=st.lists(st.text(min_size=WINDOW, max_size=400), min_size=1, max_size=20))
def test_no_plaintext_of_a_tagged_field_reaches_the_broker(
    contents: list[str], registry: str, bootstrap: str, admin: AdminClient, settings: Settings
) -> None:
    topic = f"conversation.inbound.{uuid.uuid4().hex[:8]}"
    create_topics(admin, topic, partitions=1)
    register(registry, f"{topic}-value", ENCRYPT)
    with ContractProducer(Event, registry, settings=settings, topic=topic, rules=RULES) as out:
        for content in contents:
            out.send(event(content=content))
        out.flush()
    stored = [m.value() for m in read_raw(bootstrap, topic, len(contents))]
    assert len(stored) == len(contents)
    for content in contents:
        plain = content.encode()
        pieces = {plain[i : i + WINDOW] for i in range(len(plain) - WINDOW + 1)}
        assert not any(piece in value for value in stored for piece in pieces)


def test_a_dead_lettered_message_keeps_its_fields_encrypted(
    registry: str, bootstrap: str, admin: AdminClient, settings: Settings
) -> None:
    topic = f"conversation.inbound.{uuid.uuid4().hex[:8]}"
    create_topics(admin, topic, partitions=1)
    register(registry, f"{topic}-value", ENCRYPT, NOT_BLOCKED)
    secret = "my passport number is 12AB34567"
    with ContractProducer(Event, registry, settings=settings, topic=topic, rules=RULES) as out:
        out.send(event("hello there", tenant_id="t-1")).result(10)
        out.send(event(secret, tenant_id="blocked")).result(10)
    handled: list[str | None] = []

    def handle(received: Received[Any]) -> None:
        handled.append(received.value.content)

    with ContractConsumer(
        Event,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        group_id=f"dlq-{uuid.uuid4().hex[:6]}",
        config=FAST_GROUP,
        rules=RULES,
    ) as consumer:
        stats = consumer.run(handle, max_messages=2, idle_timeout=10)
    assert handled == ["hello there"]  # decrypted for the handler
    assert stats.dead_lettered == 1
    original = read_raw(bootstrap, topic, 2)[1].value()
    (dead,) = read_raw(bootstrap, dlq_name(topic), 1)
    assert dead.value() == original
    assert b"passport" not in dead.value()
    error = dict(dead.headers())["dlq.error"]
    assert b"tenantNotBlocked" in error
    assert b"passport" not in error


def test_on_a_topic_of_its_own_the_producer_s_subject_is_the_consumer_s(
    registry: str, admin: AdminClient, settings: Settings
) -> None:
    """A topic whose subject is not ``<topic>-value`` (a test topic, a renamed one): the
    consumer named with the producer's subject decrypts; one left to the default stops
    at start-up naming the subject it looked under, instead of handing out ciphertext."""
    subject = f"conversation.inbound.{uuid.uuid4().hex[:8]}-value"
    topic = f"{subject.removesuffix('-value')}.x1"
    create_topics(admin, topic, partitions=1)
    register(registry, subject, ENCRYPT)
    sent = event()
    with ContractProducer(
        Event, registry, settings=settings, topic=topic, subject=subject, rules=RULES
    ) as out:
        out.send(sent).result(10)
    handled: list[Any] = []
    with ContractConsumer(
        Event,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        subject=subject,
        rules=RULES,
    ) as consumer:
        consumer.run(lambda received: handled.append(received.value), max_messages=1)
    assert handled == [sent]
    with pytest.raises(SchemaNotFoundError, match=f'subject "{topic}-value" holds no version'):
        ContractConsumer(Event, registry, settings=settings, topics=[topic], rules=RULES)

"""Serializer, deserializer, producer and consumer agree on a message's subject for every
subject name strategy Confluent has, for the schema and for the data keys of its
encrypted fields; confluent-kafka's deserializer reads ours under the same strategy."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import (
    FieldEncryptionExecutor,
)
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.errors import ConfigurationError
from somacontracts.serde import ContractDeserializer, ContractSerializer, RuleOptions
from somacontracts.tooling.registry import LocalRegistry
from tests.datacontracts import Event, encrypt_rule, event, register

SECRET = {"secret": os.environ["LOCAL_SECRET"]}
FULL_NAME = "somastack.contracts.ConversationEvent"
Strategy = Callable[[SerializationContext | None, str | None], str | None]


def explicit(subject: str) -> Strategy:
    """How a confluent-kafka user names one subject whatever the topic."""
    return lambda ctx, record: subject


CASES: list[tuple[str, dict[str, Any], Strategy, Callable[[str], str]]] = [
    ("topic", {}, topic_subject_name_strategy, lambda topic: f"{topic}-value"),
    (
        "record",
        {"subject_name_strategy": record_subject_name_strategy},
        record_subject_name_strategy,
        lambda topic: FULL_NAME,
    ),
    (
        "topic-record",
        {"subject_name_strategy": topic_record_subject_name_strategy},
        topic_record_subject_name_strategy,
        lambda topic: f"{topic}-{FULL_NAME}",
    ),
    (
        "explicit",
        {"subject": "payments.captured-value"},
        explicit("payments.captured-value"),
        lambda topic: "payments.captured-value",
    ),
]


@pytest.fixture(scope="module")
def registry() -> Iterator[LocalRegistry]:
    with LocalRegistry() as started:
        yield started


@pytest.mark.parametrize(
    ("options", "strategy", "subject_of"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_strategy_names_one_subject_for_schema_and_keys(
    registry: LocalRegistry,
    options: dict[str, Any],
    strategy: Strategy,
    subject_of: Callable[[str], str],
) -> None:
    topic = f"conversation.inbound.{uuid.uuid4().hex[:8]}"
    subject = subject_of(topic)
    schema_id = register(registry.url, subject, encrypt_rule(kek=f"k{uuid.uuid4().hex[:6]}"))
    context = SerializationContext(topic, MessageField.VALUE)
    rules = RuleOptions(kms=SECRET)
    sent = event()
    # No warm-up: it checks the subjects of the model's own topics, and this topic is new.
    with (
        ContractSerializer(Event, registry.url, rules=rules, warm_up=False, **options) as write,
        ContractDeserializer(Event, registry.url, rules=rules, warm_up=False, **options) as read,
    ):
        data = write(sent, context)
        assert data is not None
        assert data[1:5] == schema_id.to_bytes(4, "big")
        assert b"4111" not in data
        assert read(data, context) == sent  # decrypted: the DEK found under the same subject
    executor = FieldEncryptionExecutor()
    rule_registry = RuleRegistry()  # type: ignore[no-untyped-call]
    rule_registry.register_executor(executor)
    with SchemaRegistryClient({"url": registry.url}) as client:
        theirs = AvroDeserializer(
            client,
            conf={"subject.name.strategy": strategy},
            rule_conf=SECRET,
            rule_registry=rule_registry,
        )
        assert theirs(data, context)["content"] == sent.content
    executor.close()  # type: ignore[no-untyped-call]


def test_a_strategy_that_names_nothing_is_a_configuration_error(registry: LocalRegistry) -> None:
    register(registry.url, "conversation.inbound-value")
    with (
        ContractSerializer(
            Event, registry.url, subject_name_strategy=lambda ctx, record: None, warm_up=False
        ) as write,
        pytest.raises(ConfigurationError, match="subject_name_strategy: gave no subject"),
    ):
        write(event(), SerializationContext("conversation.inbound", MessageField.VALUE))

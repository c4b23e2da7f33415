"""The typed serdes against registries that drop what Confluent keeps (Karapace 5's profile,
in front of the local registry): a serializer whose model carries rules refuses a version
stored without them, ``auto_register`` sends them, and a reader finds a writer's subjects
where ``/schemas/ids/{id}/subjects`` is not served."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.common.schema_registry_client import RuleSet
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.errors import RulesMissingError
from somacontracts.models import ConversationEventV1, ConversationEventV2, conversation_event
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.tooling import sources
from somacontracts.tooling.keks import create_keks
from somacontracts.tooling.registration import schema_of, schema_text
from somacontracts.tooling.registry import LocalRegistry
from tests.datacontracts import cel_rule
from tests.registries import KARAPACE_5, karapace_with_dek_registry, profiled_registry
from tests.server.conftest import raw

TOPIC = "conversation.outbound"
SUBJECT = f"{TOPIC}-value"
CONTEXT = SerializationContext(TOPIC, MessageField.VALUE)
PLAINTEXT = "my card number is 4111 1111 1111 1111"
CONVERSATIONS = sources.bundled()["ConversationEvent"]


EVENT_ID = uuid.UUID("5d0b7f3e-6a44-4e43-9a3c-2b6a0d7c1e11")
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def event(version: int, content: str = PLAINTEXT) -> Any:
    """A ConversationEvent of ``version`` (its model's classes) saying ``content``."""

    def named(name: str) -> Any:
        return getattr(conversation_event, f"{name}V{version}")

    return named("ConversationEvent")(
        event_id=EVENT_ID,
        conversation_id="c-1",
        tenant_id="t-1",
        sequence=0,
        type=named("ConversationEventType").message,
        role=named("ConversationRole").user,
        content=content,
        metadata=named("ConversationEventMetadata")(source="gateway", timestamp=WHEN),
    )


def register_as_sent(url: str, *versions: int) -> None:
    """Register ``versions`` of ConversationEvent with their rules under both subjects, as
    ``register`` did before it read them back: the registry keeps what it keeps."""
    with SchemaRegistryClient({"url": url}) as client:
        for subject in ("conversation.inbound-value", SUBJECT):
            for number in versions:
                client.register_schema(
                    subject, schema_of(CONVERSATIONS.version(number)), normalize_schemas=True
                )


@pytest.fixture
def karapace() -> Iterator[tuple[LocalRegistry, str]]:
    with profiled_registry(KARAPACE_5) as pair:
        yield pair


def test_a_serializer_refuses_a_version_stored_without_its_rules(
    karapace: tuple[LocalRegistry, str],
) -> None:
    _, url = karapace
    register_as_sent(url, 1, 2)
    # At start-up, under the first subject it checks; without warm-up, at the first message.
    for warm_up, subject in ((True, "conversation.inbound-value"), (False, SUBJECT)):
        with (
            pytest.raises(RulesMissingError) as refused,
            ContractSerializer(ConversationEventV2, url, warm_up=warm_up) as serialize,
        ):
            serialize(event(2), CONTEXT)
        assert str(refused.value) == (
            f'ConversationEvent under "{subject}": rule "encryptPII" of version 2 is missing '
            f"from the version registered at {url} (the registry dropped it, or the version "
            "was registered without it): nothing is written, else ConversationEvent.content "
            "would go out in plain text"
        )
    # v1 carries no rules: its serializer writes as before.
    with ContractSerializer(ConversationEventV1, url) as serialize:
        framed = serialize(event(1), CONTEXT)
        assert framed is not None
        assert PLAINTEXT.encode() in framed


def test_auto_register_sends_the_rules_and_refuses_a_registry_that_drops_them(
    karapace: tuple[LocalRegistry, str],
) -> None:
    registry, url = karapace
    with pytest.raises(RulesMissingError, match='rule "encryptPII" of version 2 is missing'):
        ContractSerializer(ConversationEventV2, url, auto_register=True, subject=SUBJECT)
    # What went up was the version with its rules; the registry kept the schema alone, so
    # the version is withdrawn: registered with its rules or not at all.
    status, _ = raw(registry.url, "GET", f"/subjects/{SUBJECT}/versions/1")
    assert status == 404
    status, deleted = raw(registry.url, "GET", f"/subjects/{SUBJECT}/versions?deleted=true")
    assert status == 404 or deleted == []


def test_auto_register_registers_the_version_with_its_rules() -> None:
    with LocalRegistry() as registry, SchemaRegistryClient({"url": registry.url}) as client:
        create_keks(client, ["somastack_conversations"], "local-kms://tests")
        # A version registered earlier without the rules is not taken for the model's.
        client.register_schema(
            SUBJECT, Schema(schema_text(CONVERSATIONS.version(2)), "AVRO"), normalize_schemas=True
        )
        with ContractSerializer(
            ConversationEventV2, registry.url, auto_register=True, subject=SUBJECT
        ) as serialize:
            framed = serialize(event(2), CONTEXT)
        assert framed is not None
        assert PLAINTEXT.encode() not in framed
        status, latest = raw(registry.url, "GET", f"/subjects/{SUBJECT}/versions/latest")
        assert status == 200
        assert latest["version"] == 2
        assert latest["ruleSet"] == ConversationEventV2.DATA_CONTRACT["ruleSet"]
        with ContractDeserializer(ConversationEventV2, registry.url, subject=SUBJECT) as read:
            assert read(framed, CONTEXT) == event(2)


def test_a_v2_reader_reads_a_v1_writer_without_the_subjects_of_an_id(
    karapace: tuple[LocalRegistry, str],
) -> None:
    _registry, url = karapace
    register_as_sent(url, 1, 2)
    status, _ = raw(url, "GET", "/schemas/ids/1/subjects")
    assert status == 404
    with ContractSerializer(ConversationEventV1, url) as write:
        framed = write(event(1, "hello"), CONTEXT)
    with ContractDeserializer(ConversationEventV2, url) as read:
        got = read(framed, CONTEXT)
    assert isinstance(got, ConversationEventV2)
    assert got.content == "hello"
    assert got.metadata.schema_version == 1


def test_the_karapace_profile_answers_as_karapace_does(
    karapace: tuple[LocalRegistry, str],
) -> None:
    """The profile's assumptions, each one request: what the tests above rely on."""
    registry, url = karapace
    register_as_sent(url, 1)
    version = raw(url, "GET", f"/subjects/{SUBJECT}/versions/1")[1]
    assert set(version) == {"subject", "version", "id", "schema"}
    assert re.fullmatch(r'\{"doc":.*"type":"record"\}', version["schema"])  # keys sorted
    assert raw(url, "GET", "/dek-registry/v1/keks/somastack_conversations") == (404, "Not Found")
    assert raw(url, "GET", "/schemas/ids/1/versions")[1] == [
        {"subject": "conversation.inbound-value", "version": 1},
        {"subject": SUBJECT, "version": 1},
    ]
    status, refused = raw(url, "PUT", f"/config/{SUBJECT}", {"compatibilityGroup": "g"})
    assert status == 422
    assert refused["message"][0]["loc"] == ["body", "compatibility"]
    both = {"compatibility": "FULL", "compatibilityGroup": "application.major.version"}
    assert raw(url, "PUT", f"/config/{SUBJECT}", both) == (200, {"compatibility": "FULL"})
    assert raw(url, "GET", f"/config/{SUBJECT}") == (200, {"compatibilityLevel": "FULL"})
    assert raw(registry.url, "GET", f"/config/{SUBJECT}") == (200, {"compatibilityLevel": "FULL"})


def test_a_registry_that_keeps_keys_but_drops_rules_is_refused_the_same() -> None:
    with profiled_registry(karapace_with_dek_registry()) as (_, url):
        register_as_sent(url, 1, 2)
        with pytest.raises(RulesMissingError, match='rule "encryptPII"'):
            ContractSerializer(ConversationEventV2, url)


class CheckedEvent(ConversationEventV1):
    """Version 1 with a CEL condition of its own repository version."""

    DATA_CONTRACT: ClassVar[dict[str, Any]] = {
        "ruleSet": {"domainRules": [cel_rule('message.tenant_id != ""').to_dict()]}
    }


def test_a_rule_changed_or_of_another_type_is_refused_too() -> None:
    rule = CheckedEvent.DATA_CONTRACT["ruleSet"]["domainRules"][0]
    text = schema_text(CONVERSATIONS.version(1))
    with LocalRegistry() as registry, SchemaRegistryClient({"url": registry.url}) as client:
        subject = "checked-value"
        client.register_schema(subject, Schema(text, "AVRO"), normalize_schemas=True)
        with pytest.raises(RulesMissingError) as missing:
            ContractSerializer(CheckedEvent, registry.url, subject=subject)
        assert str(missing.value).endswith(
            '"checked-value": rule "tenantSet" of version 1 is missing from the version '
            f"registered at {registry.url} (the registry dropped it, or the version was "
            "registered without it): nothing is written, else its rules would not run"
        )
        other = {"domainRules": [{**rule, "expr": "true"}]}
        changed = Schema(text, "AVRO", [], None, RuleSet.from_dict(other))
        client.register_schema(subject, changed, normalize_schemas=True)
        with pytest.raises(RulesMissingError, match='rule "tenantSet" of version 1 differs in'):
            ContractSerializer(CheckedEvent, registry.url, subject=subject, auto_register=False)
        # With its own rule registered (as auto_register does) it writes, and checks.
        with ContractSerializer(
            CheckedEvent, registry.url, subject=subject, auto_register=True
        ) as serialize:
            fields = {f.name: getattr(event(1), f.name) for f in dataclasses.fields(CheckedEvent)}
            assert serialize(CheckedEvent(**fields), CONTEXT) is not None

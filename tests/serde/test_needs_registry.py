"""``ContractDeserializer.needs_registry``: which messages decode without a call to the
registry (the async consumer decodes those on its event loop, the others in its worker).
Every message said not to need it is decoded with the registry gone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts import models
from somacontracts.errors import RegistryError
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.serde.framing import GUID_MAGIC, HEADER, MAGIC
from somacontracts.tooling.registry import LocalRegistry
from tests.registries import Profile, ProfileProxy
from tests.serde.test_registry_profiles import event
from tests.serde.test_serde import tool_invocation

CALLS = SerializationContext("tool.requests", MessageField.VALUE)
EVENTS = SerializationContext("conversation.outbound", MessageField.VALUE)


def _with_headers(headers: list[tuple[str, Any]]) -> SerializationContext:
    return SerializationContext("tool.requests", MessageField.VALUE, headers)


def test_only_what_decodes_without_the_registry_is_said_not_to_need_it(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    call = tool_invocation()
    own = ContractSerializer(models.ToolInvocation, client)(call, CALLS)
    headers: list[tuple[str, Any]] = [("trace", b"t-1")]
    body = ContractSerializer(models.ToolInvocation, client, schema_id_in_header=True)(
        call, _with_headers(headers)
    )
    old_event = ContractSerializer(models.ConversationEventV1, client)(event(1), EVENTS)
    assert own is not None
    assert body is not None
    assert old_event is not None
    guid = uuid.UUID(str(client.get_latest_version("tool.requests-value").guid))
    guid_prefixed = bytes([GUID_MAGIC]) + guid.bytes + own[HEADER.size :]
    v2_id = client.get_latest_version("conversation.outbound-value").schema_id
    v2_framed = HEADER.pack(MAGIC, v2_id) + b"\x00"

    with ProfileProxy(registry.url, Profile("a registry that goes away")) as far:
        remote = SchemaRegistryClient({"url": far.url, "max.retries": 0})
        calls = ContractDeserializer(models.ToolInvocation, remote)
        events = ContractDeserializer(models.ConversationEvent, remote)
        # The model's own schema, met at warm-up: no call.
        assert not calls.needs_registry(own, CALLS)
        assert not calls.needs_registry(bytearray(own), CALLS)
        # A header naming the schema by GUID, and a writer version not met: a call, once.
        assert calls.needs_registry(body, _with_headers(headers))
        assert events.needs_registry(old_event, EVENTS)
        assert calls(body, _with_headers(headers)) == call
        assert events(old_event, EVENTS) is not None
        assert not calls.needs_registry(body, _with_headers(headers))
        assert not events.needs_registry(old_event, EVENTS)
        # A GUID in the prefix: a call unless the GUID was met (the header above named it).
        assert not calls.needs_registry(guid_prefixed, CALLS)
        other = bytes([GUID_MAGIC]) + uuid.uuid4().bytes + own[HEADER.size :]
        assert calls.needs_registry(other, CALLS)
        # A version with rules: decryption may ask for keys.
        assert events.needs_registry(v2_framed, EVENTS)
        # What is refused as it is needs nothing.
        assert not calls.needs_registry(None, CALLS)

    # The registry is gone: what was said not to need it still decodes.
    assert calls(own, CALLS) == call
    assert calls(body, _with_headers(headers)) == call
    decoded = events(old_event, EVENTS)
    assert decoded is not None
    assert decoded.content == event(1).content
    assert calls(guid_prefixed, CALLS) == call
    with pytest.raises(RegistryError):  # the one that needed it
        calls(other, CALLS)

"""Data Contract parts the rule tests share: an ENCRYPT rule, a CEL condition, the PII tag
of ConversationEvent.content, and registering ConversationEvent v1 with them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.common.schema_registry_client import (
    Metadata,
    MetadataTags,
    Rule,
    RuleKind,
    RuleMode,
    RuleParams,
    RuleSet,
)

from somacontracts import models

Event = models.ConversationEventV1
PII = Metadata(MetadataTags({"somastack.contracts.ConversationEvent.content": ["PII"]}), None, None)
"""The PII tag on ConversationEvent.content, given by the version's metadata."""


def encrypt_rule(
    kek: str = "conversations", *, expiry_days: int | None = None, on_failure: str = "ERROR,NONE"
) -> Rule:
    """An ENCRYPT rule on PII fields, its KEK in the local KMS."""
    params = {"encrypt.kek.name": kek, "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "k1"}
    if expiry_days is not None:
        params["encrypt.dek.expiry.days"] = str(expiry_days)
    return Rule(
        "encryptPII",
        None,
        RuleKind.TRANSFORM,
        RuleMode.WRITEREAD,
        "ENCRYPT",
        ["PII"],
        RuleParams(params),
        None,
        None,
        on_failure,
        False,
    )


def cel_rule(
    expr: str,
    *,
    name: str = "tenantSet",
    mode: RuleMode = RuleMode.WRITE,
    on_failure: str = "ERROR",
) -> Rule:
    """A CEL condition on the whole message."""
    return Rule(
        name, None, RuleKind.CONDITION, mode, "CEL", None, None, expr, None, on_failure, False
    )


def register(url: str, subject: str, *rules: Rule, metadata: Metadata | None = PII) -> int:
    """Register ConversationEvent v1 under ``subject`` with ``rules`` and ``metadata``."""
    with SchemaRegistryClient({"url": url}) as client:
        schema = Schema(json.dumps(Event.SCHEMA), "AVRO", [], metadata, RuleSet(None, list(rules)))
        return int(client.register_schema(subject, schema))


def event(content: str | None = "my card number is 4111 1111 1111 1111", **changes: Any) -> Any:
    """A user's message."""
    fields: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "conversation_id": "c-1",
        "tenant_id": "t-1",
        "sequence": 0,
        "type": models.ConversationEventTypeV1.message,
        "role": models.ConversationRoleV1.user,
        "content": content,
        "metadata": models.ConversationEventMetadataV1(
            source="gateway", timestamp=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        ),
    }
    fields.update(changes)
    return Event(**fields)

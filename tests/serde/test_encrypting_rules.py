"""Which fields a model's ENCRYPT rules encrypt on write, as Confluent's field executors
decide it: the serializer refuses a registered version that would not run such a rule,
naming the fields that would go out in plain text."""

from __future__ import annotations

import dataclasses

from somacontracts import models
from somacontracts.serde.contract_model import model_schema
from somacontracts.serde.registered import encrypting_rules


def _with_rules(*rules: dict[str, object]) -> dict[str, tuple[str, ...]]:
    own = model_schema(models.ConversationEvent)
    assert own.contract is not None
    metadata, _ = own.contract
    return encrypting_rules(dataclasses.replace(own, contract=(metadata, {"domainRules": rules})))


def _encrypt(name: str, **more: object) -> dict[str, object]:
    rule: dict[str, object] = {"name": name, "kind": "TRANSFORM", "type": "ENCRYPT"}
    return {**rule, "mode": "WRITEREAD", **more}


def test_a_rule_with_tags_encrypts_the_fields_tagged_so() -> None:
    assert _with_rules(_encrypt("pii", tags=["PII"])) == {"pii": ("ConversationEvent.content",)}
    assert _with_rules(_encrypt("other", tags=["SECRET"])) == {}


def test_a_rule_without_tags_encrypts_every_string_or_bytes_field() -> None:
    covered = _with_rules(_encrypt("everything"))["everything"]
    assert "ConversationEvent.content" in covered  # ["null", "string"]
    assert "ConversationEvent.tenant_id" in covered
    assert "ConversationEvent.sequence" not in covered  # a long: not encrypted
    assert "ConversationEvent.type" not in covered  # an enum: not encrypted


def test_a_disabled_or_read_only_rule_encrypts_nothing_on_write() -> None:
    assert _with_rules(_encrypt("off", disabled=True), _encrypt("read", mode="READ")) == {}
    assert _with_rules(_encrypt("write", mode="WRITE", tags=["PII"])) == {
        "write": ("ConversationEvent.content",)
    }

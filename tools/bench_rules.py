"""Benchmark of the serdes with Data Contract rules: a ConversationEvent whose ``content``
is encrypted by an ENCRYPT rule (local KMS, AES256_GCM), ours against confluent-kafka's.

Both run in one process on the same event, against a local registry started here in
which the ConversationEvent schema is registered with the rule and a PII tag on
``content`` (``metadata.tags``):

* confluent-kafka: ``AvroSerializer`` (``use.latest.version``, the only way it runs a
  version's rules) / ``AvroDeserializer`` on the dict, with its ``FieldEncryptionExecutor``;
* ours: ``ContractSerializer`` / ``ContractDeserializer`` from and to the typed object;
* as a floor, ours on the same schema registered without rules (no encryption at all).

Prints records per second and the ratios (target: ours >= 1.5x confluent-kafka both
ways). ``--json`` adds one line with every figure as JSON.

    python tools/bench_rules.py [--seconds 3] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.common.schema_registry_client import (
    Rule,
    RuleKind,
    RuleMode,
    RuleParams,
    RuleSet,
)
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import (
    FieldEncryptionExecutor,
)
from confluent_kafka.serialization import MessageField, SerializationContext

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_serde import rates

from somacontracts import models
from somacontracts.serde import ContractDeserializer, ContractSerializer, RuleOptions
from somacontracts.tooling.registry import LocalRegistry

Event = models.ConversationEventV2
SECRET = {"secret": "bench-local-kms-secret"}
ENCRYPT = Rule(
    "encryptPII",
    None,
    RuleKind.TRANSFORM,
    RuleMode.WRITEREAD,
    "ENCRYPT",
    ["PII"],
    RuleParams(
        {
            "encrypt.kek.name": "conversations",
            "encrypt.kms.type": "local-kms",
            "encrypt.kms.key.id": "bench",
        }
    ),
    None,
    None,
    None,
    False,
)


def sample() -> Any:
    """A user's message of a few sentences, as the gateway publishes it."""
    return Event(
        event_id=uuid.uuid4(),
        conversation_id="conv-7c0a4b1e",
        tenant_id="tenant-0042",
        sequence=12,
        type=models.ConversationEventTypeV2.message,
        role=models.ConversationRoleV2.user,
        persona="agent0",
        user_id="user-8812",
        content=(
            "Please book the 9:40 train to Lyon for me and my colleague, and send the "
            "tickets to the address I gave you last week. My card ends in 4242."
        ),
        data={"attachments": [], "locale": "en-GB"},
        metadata=models.ConversationEventMetadataV2(
            source="gateway", timestamp=dt.datetime.now(dt.UTC), correlation_id="req-51"
        ),
    )


def run(seconds: float, as_json: bool) -> None:
    """Measure and print."""
    obj = sample()
    datum = obj.to_avro()
    text = json.dumps(Event.SCHEMA)
    with LocalRegistry() as registry, SchemaRegistryClient({"url": registry.url}) as client:
        client.register_schema(
            "encrypted-value", Schema(text, "AVRO", [], None, RuleSet(None, [ENCRYPT]))
        )
        client.register_schema("plain-value", Schema(text, "AVRO"))
        encrypted = SerializationContext("encrypted", MessageField.VALUE)
        plain = SerializationContext("plain", MessageField.VALUE)
        options = RuleOptions(kms=SECRET)
        ours_out = ContractSerializer(Event, client, subject="encrypted-value", rules=options)
        ours_in = ContractDeserializer(Event, client, subjects=["encrypted-value"], rules=options)
        floor_out = ContractSerializer(Event, client, subject="plain-value")
        floor_in = ContractDeserializer(Event, client, subjects=["plain-value"])
        executor = FieldEncryptionExecutor()
        rule_registry = RuleRegistry()  # type: ignore[no-untyped-call]
        rule_registry.register_executor(executor)
        conf = {"auto.register.schemas": False, "use.latest.version": True}
        # A client of their own: confluent-kafka's client caches a lookup's answer as the
        # version (without its rules), and our serdes look their schema up.
        their_client = SchemaRegistryClient({"url": registry.url})
        theirs_out = AvroSerializer(
            their_client, None, conf=conf, rule_conf=SECRET, rule_registry=rule_registry
        )
        theirs_in = AvroDeserializer(their_client, rule_conf=SECRET, rule_registry=rule_registry)

        ours_bytes = ours_out(obj, encrypted)
        their_bytes = theirs_out(dict(datum), encrypted)
        plain_bytes = floor_out(obj, plain)
        assert ours_bytes is not None
        assert their_bytes is not None
        assert plain_bytes is not None
        assert obj.content is not None
        assert obj.content.encode() not in ours_bytes
        assert obj.content.encode() not in their_bytes
        assert ours_in(their_bytes, encrypted) == obj  # each reads the other's
        assert theirs_in(ours_bytes, encrypted)["content"] == obj.content
        assert floor_in(plain_bytes, plain) == obj

        write = rates(
            {
                # A copy of the dict: confluent-kafka's rules replace the field in place.
                "confluent-kafka AvroSerializer + ENCRYPT (dict)": lambda: theirs_out(
                    dict(datum), encrypted
                ),
                "somacontracts ContractSerializer + ENCRYPT": lambda: ours_out(obj, encrypted),
                "somacontracts ContractSerializer, no rules": lambda: floor_out(obj, plain),
            },
            seconds,
        )
        read = rates(
            {
                "confluent-kafka AvroDeserializer + ENCRYPT (dict)": lambda: theirs_in(
                    ours_bytes, encrypted
                ),
                "somacontracts ContractDeserializer + ENCRYPT": lambda: ours_in(
                    ours_bytes, encrypted
                ),
                "somacontracts ContractDeserializer, no rules": lambda: floor_in(
                    plain_bytes, plain
                ),
            },
            seconds,
        )
        print(
            f"record: ConversationEvent, content of {len(obj.content)} characters encrypted "
            f"({len(ours_bytes)} bytes framed; {len(plain_bytes)} without encryption)"
        )
        figures: dict[str, float] = {}
        for title, measured in (("serialize", write), ("deserialize", read)):
            theirs, ours, floor = measured.values()
            print(f"\n{title}:")
            for name, value in measured.items():
                print(f"  {name:52s} {value:10,.0f} records/s")
            print(
                f"  ours / confluent-kafka = {ours / theirs:.2f}x (target >= 1.5x); "
                f"encryption costs {1e6 / ours - 1e6 / floor:.1f} µs a record"
            )
            figures[f"{title} records/s"] = round(ours)
            figures[f"{title} / confluent-kafka"] = round(ours / theirs, 3)
        if as_json:
            print(json.dumps(figures))
        for closing in (ours_out, ours_in, floor_out, floor_in):
            closing.close()
        executor.close()  # type: ignore[no-untyped-call]
        their_client.close()


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="time per contender, split into rounds"
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    run(args.seconds, args.json)


if __name__ == "__main__":
    main()

"""Shared types through a registry: ``register``, the local registry's references, and the
serdes and confluent-kafka's reading each other's bytes."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts import ContractDeserializer, ContractSerializer
from somacontracts.errors import SchemaNotFoundError
from somacontracts.tooling.cli import EXIT_OK
from somacontracts.tooling.registry import LocalRegistry
from tests.references.payments.models import LineItem, PaymentCaptured, RefundIssued, Unit
from tests.scratch import run

LINE_ITEM = "payments.contracts.LineItem"
UNIT = "payments.contracts.Unit"
REFUNDS = SerializationContext("payments.refunds", MessageField.VALUE)


def a_refund() -> RefundIssued:
    item = LineItem(sku="A-1", quantity=2, unit=Unit.KILOGRAM, unit_price=decimal.Decimal("9.9"))
    return RefundIssued(
        refund_id=uuid.uuid4(),
        payment_id=uuid.uuid4(),
        merchant_id="merchant-7",
        items=[item],
        main_unit=Unit.PIECE,
    )


def _references(client: SchemaRegistryClient, subject: str) -> list[tuple[Any, ...]]:
    latest = client.get_latest_version(subject)
    return [(r.name, r.subject, r.version) for r in latest.schema.references or []]


def test_register_registers_shared_types_first_and_sends_references(
    payments: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    first = run(payments, "register", "--registry", registry.url)
    assert first.returncode == EXIT_OK, first.stderr
    assert sorted(client.get_subjects()) == sorted(
        [LINE_ITEM, UNIT, "payments.captured-value", "payments.refunds-value"]
    )
    assert _references(client, LINE_ITEM) == [(UNIT, UNIT, 1)]
    assert _references(client, "payments.refunds-value") == [
        (LINE_ITEM, LINE_ITEM, 1),
        (UNIT, UNIT, 1),
    ]
    assert _references(client, "payments.captured-value") == []  # defines them itself
    refund_id = client.get_latest_version("payments.refunds-value").schema_id
    assert client.get_referenced_by(LINE_ITEM, 1) == [refund_id]
    line_item_id = client.get_latest_version(LINE_ITEM).schema_id
    assert set(client.get_referenced_by(UNIT, 1)) == {line_item_id, refund_id}
    with pytest.raises(SchemaRegistryError) as refused:
        client.delete_version(LINE_ITEM, 1)
    assert (refused.value.http_status_code, refused.value.error_code) == (422, 42206)
    again = run(payments, "register", "--registry", registry.url)
    assert again.returncode == EXIT_OK, again.stderr
    assert client.get_versions(LINE_ITEM) == [1]
    assert client.get_versions("payments.refunds-value") == [1]
    status = run(payments, "status", "--registry", registry.url)
    assert status.returncode == EXIT_OK, status.stdout + status.stderr
    # check asks the registry about each latest version with its shared types written out
    checked = run(payments, "check", "--registry", registry.url, "--format", "json")
    assert checked.returncode == EXIT_OK, checked.stdout + checked.stderr


def test_serdes_and_confluent_kafka_read_each_other(client: SchemaRegistryClient) -> None:
    refund = a_refund()
    with ContractSerializer(RefundIssued, client, auto_register=True) as serialize:
        framed = serialize(refund, REFUNDS)
    assert framed is not None
    assert _references(client, "payments.refunds-value") == [
        (LINE_ITEM, LINE_ITEM, 1),
        (UNIT, UNIT, 1),
    ]
    theirs = AvroDeserializer(client)(framed, REFUNDS)
    assert theirs is not None
    assert theirs["items"][0]["unit"] == "KILOGRAM"
    assert theirs["items"][0]["unit_price"] == decimal.Decimal("9.9000")
    assert theirs["refund_id"] == refund.refund_id
    registered = client.get_latest_version("payments.refunds-value").schema
    write = AvroSerializer(
        client,
        Schema(registered.schema_str, "AVRO", registered.references),
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    written = write(refund.to_avro(), REFUNDS)
    with ContractDeserializer(RefundIssued, client) as deserialize:
        assert deserialize(written, REFUNDS) == refund
        assert deserialize(framed, REFUNDS) == refund


def test_a_serializer_without_its_shared_types_registered_refuses_to_start(
    client: SchemaRegistryClient,
) -> None:
    with pytest.raises(SchemaNotFoundError) as refused:
        ContractSerializer(RefundIssued, client)
    assert f'subject "{UNIT}" holds no version of the shared type' in str(refused.value)


def test_the_defining_contract_is_registered_as_it_is(client: SchemaRegistryClient) -> None:
    payment = PaymentCaptured(
        payment_id=uuid.uuid4(),
        merchant_id="m",
        items=[LineItem(sku="B", quantity=1, unit=Unit.PIECE, unit_price=decimal.Decimal(1))],
        captured_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    context = SerializationContext("payments.captured", MessageField.VALUE)
    with (
        ContractSerializer(PaymentCaptured, client, auto_register=True) as serialize,
        ContractDeserializer(PaymentCaptured, client) as deserialize,
    ):
        assert deserialize(serialize(payment, context), context) == payment
    assert client.get_subjects() == ["payments.captured-value"]

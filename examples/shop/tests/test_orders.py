"""The shop's contract tests, on the fixtures and strategies of somacontracts."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import given, settings
from hypothesis import strategies as st
from somacontracts import ContractDeserializer, ContractSerializer
from somacontracts.tooling.testing import EvolutionCase, evolution_cases, models

from shop.contracts import Order, OrderLine, OrderState

TOPIC = "shop.orders"


def an_order() -> Order:
    return Order(
        order_id=uuid.uuid4(),
        customer_id="customer-7",
        state=OrderState.PAID,
        lines=[OrderLine(sku="A-1", quantity=2, unit_price=decimal.Decimal("9.90"))],
        attributes={"channel": "web"},
        note=None,
        placed_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        coupon="WINTER",
    )


@settings(max_examples=50, deadline=None)
@given(order=models(Order))
def test_every_order_survives_the_wire(
    somacontracts_registry: str, order: Order
) -> None:
    context = SerializationContext(TOPIC, MessageField.VALUE)
    with (
        ContractSerializer(
            Order, somacontracts_registry, subject="shop.orders-value"
        ) as write,
        ContractDeserializer(Order, somacontracts_registry) as read,
    ):
        assert read(write(order, context), context) == order


@pytest.mark.parametrize("case", evolution_cases(), ids=str)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_version_reads_what_its_level_promises(
    case: EvolutionCase, data: st.DataObject
) -> None:
    case.check(data.draw(case.datums()))


def test_an_order_goes_through_kafka_keyed_by_customer(
    somacontracts_topic: Callable[..., str],
    somacontracts_producer: Callable[..., Any],
    somacontracts_consumer: Callable[..., Any],
) -> None:
    topic = somacontracts_topic(TOPIC)
    sent = an_order()
    producer = somacontracts_producer(
        Order, topic, key_field="customer_id", subject="shop.orders-value"
    )
    delivered = producer.send(sent).result(timeout=30)
    assert delivered.key == b"customer-7"
    received: list[Any] = []
    consumer = somacontracts_consumer(Order, topic)
    consumer.run(received.append, idle_timeout=5, max_messages=1)
    assert [r.value for r in received] == [sent]

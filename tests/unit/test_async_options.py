"""The asyncio clients take every keyword option of their synchronous counterparts, under
the same names and types, so that ``mypy --strict`` accepts what runs."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest

from somacontracts.kafka import (
    AsyncContractConsumer,
    AsyncContractProducer,
    ContractConsumer,
    ContractProducer,
    async_consumer,
    async_producer,
)


def _keywords(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls.__init__)
    return {
        name: hints[name]
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }


@pytest.mark.parametrize(
    ("options", "synchronous", "asynchronous"),
    [
        (async_producer.ProducerOptions, ContractProducer, AsyncContractProducer),
        (async_consumer.ConsumerOptions, ContractConsumer, AsyncContractConsumer),
    ],
)
def test_async_options_are_the_synchronous_keywords(
    options: Any, synchronous: type[Any], asynchronous: type[Any]
) -> None:
    assert typing.get_type_hints(options) == _keywords(synchronous)
    assert asynchronous.__init__.__kwdefaults__ is None  # all of them through **options

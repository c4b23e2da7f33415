"""What the producer and consumer need to know about a model class: contract and topic."""

from __future__ import annotations

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError
from somacontracts.serde import ContractModel

__all__ = ["contract_name", "key_field_for", "topic_for"]


def contract_name(model: type[ContractModel]) -> str:
    """The catalog name of ``model``'s contract (the last part of its record's full name)."""
    full_name: str = getattr(model, "FULL_NAME", model.SCHEMA["name"])
    return full_name.rsplit(".", 1)[-1]


def topic_for(model: type[ContractModel], settings: Settings, topic: str | None) -> str:
    """``topic`` if given, else the single catalog topic of ``model``'s contract."""
    if topic is not None:
        return topic
    name = contract_name(model)
    topics = settings.topics_of(name)
    if len(topics) != 1:
        raise ConfigurationError(
            "topic", f"{name} travels on {', '.join(topics)}; say which one with topic="
        )
    return topics[0]


def key_field_for(model: type[ContractModel], settings: Settings, topic: str) -> str:
    """The payload field that keys ``model``'s messages on ``topic``: the catalog's ``key``
    of the topic, else of the contract's topics."""
    key = settings.topic_named(topic)
    if key is not None:
        return settings.catalog.topic(key).key_field
    name = contract_name(model)
    if name in settings.catalog.contracts:
        return settings.catalog.contracts[name].key_field
    raise ConfigurationError(
        "key_field",
        f"topic {topic!r} is not in the catalog and {name} has no topic there: declare the "
        "topic (its key field) in the catalog, or pass key_field=",
    )

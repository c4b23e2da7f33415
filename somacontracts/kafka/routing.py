"""What the producer and consumer need to know about a model class: contract, topic, key."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError
from somacontracts.serde import ContractModel
from somacontracts.serde.contract_model import model_schema

__all__ = ["contract_name", "key_field_for", "key_of", "topic_for"]


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


def key_of(
    model: type[ContractModel], settings: Settings, topic: str, key_field: str | None
) -> Callable[[Any], Any]:
    """The function that reads the key field of a ``model`` object on ``topic``:
    ``key_field`` if given, else the catalog's (:func:`key_field_for`). Raises
    :class:`~somacontracts.errors.ConfigurationError` naming the topic, the key and why
    if the field cannot key ``model``'s messages (:mod:`somacontracts.schema.keys`: a
    missing field, a type without one text, personal data), so that a producer refuses
    at start-up rather than at its first message."""
    from somacontracts.schema.keys import key_problem  # the schema model loads with a client

    path = key_field or key_field_for(model, settings, topic)
    schema = model_schema(model)
    metadata, rule_set = schema.contract or (None, None)
    problem = key_problem(schema.node, path, metadata=metadata, rule_set=rule_set)
    if problem is not None:
        where, origin = (
            ("key_field", "key_field=")
            if key_field
            else ("key", f"the catalog's, {settings.catalog.source or 'the platform'}")
        )
        version = getattr(model, "SCHEMA_VERSION", None)
        label = contract_name(model) + ("" if version is None else f" v{version}")
        raise ConfigurationError(
            where,
            f"topic {topic!r} cannot be keyed by {path!r} ({origin}) of {label}: {problem.reason}",
        )
    return attrgetter(path)

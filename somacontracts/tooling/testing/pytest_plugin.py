"""pytest fixtures for services that adopt somacontracts, loaded through the ``pytest11``
entry point wherever the package is installed.

* ``somacontracts_registry`` (session): the URL of a local schema registry, in memory,
  holding every version of every contract of the project (the nearest ``pyproject.toml``
  with ``[tool.somacontracts]`` from pytest's root folder; this package's own contracts
  without one), under each contract's subjects, at its level, and the KEKs its ENCRYPT
  rules name (in the local KMS).
* ``somacontracts_rules`` (session): the :class:`~somacontracts.serde.RuleOptions` the
  producers and consumers below run Data Contract rules with (``LOCAL_SECRET``, else a
  fixed secret for tests); pass ``rules=`` to use others.
* ``somacontracts_bootstrap`` (session): ``KAFKA_BOOTSTRAP_SERVERS`` if set, else a local
  Kafka-protocol broker (Tansu, from the ``local`` extra) started for the session.
* ``somacontracts_serdes`` (session factory): ``somacontracts_serdes(Order)`` is a
  ``(serializer, deserializer)`` pair of the model on that registry, with the fixtures'
  rules, made once per session; ``subject=`` names another subject than the model's.
  An error making it (a missing KEK, extra or secret) is raised again at once on every
  later call, so a hypothesis property fails fast instead of shrinking through it.
* ``somacontracts_topic`` (factory): ``somacontracts_topic("orders")`` creates a topic of
  that stem with a unique suffix (and its dead-letter topic) and returns its name.
* ``somacontracts_producer`` / ``somacontracts_consumer`` (factories): typed
  :class:`~somacontracts.kafka.ContractProducer` and
  :class:`~somacontracts.kafka.ContractConsumer` on those servers, closed at teardown;
  the consumer reads every partition of its topic from the start, in a group of its own
  (one per consumer). On a topic made by ``somacontracts_topic`` both use the subject of
  its stem (``orders-value``), where the registry fixture registered the contract, unless
  given ``subject=``: producer and consumer agree on it, as the data keys of encrypted
  fields are kept per subject. A keyword the test gives wins over the fixture's own
  (``group_id=``: the partitions from that group's committed offsets; ``partitions=``,
  ``settings=``, ``rules=``, ...).

Everything is imported when a fixture is first used, so the plugin costs nothing in a
session that does not use it. Under pytest-xdist each worker starts its own servers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

LOCAL_KMS_KEY = "local-kms://somacontracts-tests"
"""The local KMS key the fixture registry's KEKs are created with."""
LOCAL_KMS_SECRET = "somacontracts-tests"
"""The local KMS secret of the fixtures when ``LOCAL_SECRET`` is not set (tests only)."""

__all__ = [
    "somacontracts_bootstrap",
    "somacontracts_consumer",
    "somacontracts_producer",
    "somacontracts_registry",
    "somacontracts_rules",
    "somacontracts_serdes",
    "somacontracts_topic",
]

_STEMS: dict[str, str] = {}
"""The stem of every topic ``somacontracts_topic`` made (unique names: one map serves all)."""


def _subject_options(topic: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the subject of ``topic``'s stem, when it has one and none is given."""
    stem = _STEMS.get(topic)
    if stem is None or "subject" in options or "subject_name_strategy" in options:
        return options
    return {**options, "subject": f"{stem}-value"}


@pytest.fixture(scope="session")
def somacontracts_registry(pytestconfig: pytest.Config) -> Iterator[str]:
    """URL of a local registry holding the project's contracts."""
    from somacontracts.serde.registry_client import connect
    from somacontracts.tooling import sources
    from somacontracts.tooling.configuration import read_config
    from somacontracts.tooling.keks import create_keks, kek_names
    from somacontracts.tooling.registration import register_tree
    from somacontracts.tooling.registry import LocalRegistry

    config = read_config(start=Path(pytestconfig.rootpath))
    tree = sources.load_tree(config.schemas or sources.bundled_root())
    with LocalRegistry() as registry, connect(url=registry.url) as client:
        create_keks(client, kek_names(tree), LOCAL_KMS_KEY)  # before the versions needing them
        register_tree(
            client,
            tree,
            lambda name: config.subjects_of(name, environ={}),
            config.level_of,
        )
        yield registry.url


@pytest.fixture(scope="session")
def somacontracts_rules() -> Any:
    """The :class:`~somacontracts.serde.RuleOptions` of the fixtures' producers and
    consumers: the local KMS secret ``LOCAL_SECRET``, else a fixed one for tests."""
    from somacontracts.serde import RuleOptions

    return RuleOptions(kms={"secret": os.environ.get("LOCAL_SECRET", LOCAL_KMS_SECRET)})


@pytest.fixture(scope="session")
def somacontracts_serdes(
    somacontracts_registry: str, somacontracts_rules: Any
) -> Iterator[Callable[..., tuple[Any, Any]]]:
    """``make(model, subject=None)``: the model's (serializer, deserializer) on the fixture
    registry, made once per session; a failure to make them is raised again at once."""
    from somacontracts.serde import ContractDeserializer, ContractSerializer

    made: dict[tuple[type[Any], str | None], tuple[Any, Any] | Exception] = {}
    with ExitStack() as closing:

        def make(model: type[Any], subject: str | None = None) -> tuple[Any, Any]:
            found = made.get((model, subject))
            if found is None:
                try:
                    write = closing.enter_context(
                        ContractSerializer(
                            model,
                            somacontracts_registry,
                            subject=subject,
                            rules=somacontracts_rules,
                        )
                    )
                    read = closing.enter_context(
                        ContractDeserializer(
                            model,
                            somacontracts_registry,
                            subject=subject,
                            rules=somacontracts_rules,
                        )
                    )
                except Exception as err:
                    found = err
                else:
                    found = (write, read)
                made[model, subject] = found
            if isinstance(found, Exception):
                raise found.with_traceback(None)
            return found

        yield make


@pytest.fixture(scope="session")
def somacontracts_bootstrap() -> Iterator[str]:
    """Bootstrap servers: ``KAFKA_BOOTSTRAP_SERVERS``, else a local broker."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    from somacontracts.tooling.dev.broker import LocalBroker

    with LocalBroker() as broker:
        yield broker.bootstrap_servers


@pytest.fixture
def somacontracts_topic(somacontracts_bootstrap: str) -> Callable[..., str]:
    """``make(stem, partitions=3)``: a new topic (and its dead-letter topic); its name."""
    from somacontracts.catalog.environment import load_settings
    from somacontracts.kafka import TopicSpec, apply_plans, dlq_name, open_admin, plan_topics

    def make(stem: str, partitions: int = 3) -> str:
        name = f"{stem}.{uuid.uuid4().hex[:8]}"
        admin = open_admin(load_settings({"KAFKA_BOOTSTRAP_SERVERS": somacontracts_bootstrap}))
        specs = [TopicSpec(topic, partitions) for topic in (name, dlq_name(name))]
        apply_plans(admin, plan_topics(admin, specs))
        _STEMS[name] = stem
        return name

    return make


@pytest.fixture
def somacontracts_producer(
    somacontracts_registry: str, somacontracts_bootstrap: str, somacontracts_rules: Any
) -> Iterator[Callable[..., Any]]:
    """``make(model, topic, key_field=None, **options)``: a typed producer (the test's
    ``options`` win over the fixture's settings and rules), closed after."""
    from somacontracts.catalog.environment import load_settings
    from somacontracts.kafka import ContractProducer

    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": somacontracts_bootstrap})
    made: list[ContractProducer[Any]] = []

    def make(model: type[Any], topic: str, key_field: str | None = None, **options: Any) -> Any:
        defaults = {"settings": settings, "rules": somacontracts_rules}
        producer = ContractProducer(
            model,
            somacontracts_registry,
            topic=topic,
            key_field=key_field,
            **_subject_options(topic, {**defaults, **options}),
        )
        made.append(producer)
        return producer

    yield make
    for producer in made:
        producer.close()


@pytest.fixture
def somacontracts_consumer(
    somacontracts_registry: str, somacontracts_bootstrap: str, somacontracts_rules: Any
) -> Iterator[Callable[..., Any]]:
    """``make(model, topic, **options)``: a typed consumer of every partition of
    ``topic`` from its start, in a group of its own; the test's ``options`` win over
    these; closed after."""
    from somacontracts.catalog.environment import load_settings
    from somacontracts.kafka import ContractConsumer, open_admin

    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": somacontracts_bootstrap})
    made: list[ContractConsumer[Any]] = []

    def make(model: type[Any], topic: str, **options: Any) -> Any:
        if "partitions" not in options:
            metadata = open_admin(settings).list_topics(topic, timeout=10)
            found = sorted(metadata.topics[topic].partitions)
            options = {**options, "partitions": [(topic, p) for p in found]}
        defaults = {
            "settings": settings,
            "topics": [topic],
            "group_id": f"somacontracts-test-{uuid.uuid4().hex[:8]}",
            "rules": somacontracts_rules,
        }
        consumer = ContractConsumer(
            model, somacontracts_registry, **_subject_options(topic, {**defaults, **options})
        )
        made.append(consumer)
        return consumer

    yield make
    for consumer in made:
        consumer.close()

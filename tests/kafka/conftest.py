"""Fixtures of the Kafka tests: a broker (local Tansu, or KAFKA_BOOTSTRAP_SERVERS), a registry.

Consumers use short group timeouts so that a group join takes seconds, not tens of them.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.kafka import (
    ContractConsumer,
    Received,
    TopicSpec,
    apply_plans,
    dlq_name,
    plan_topics,
)

FAST_GROUP: dict[str, Any] = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "max.poll.interval.ms": 10000,
}


@pytest.fixture(scope="session")
def bootstrap(somacontracts_bootstrap: str) -> str:
    """``host:port`` of the cluster the tests use: the plugin's (KAFKA_BOOTSTRAP_SERVERS,
    else a local broker)."""
    return somacontracts_bootstrap


@pytest.fixture(scope="session")
def registry(somacontracts_registry: str) -> str:
    """URL of a local registry holding every contract under its catalog subjects: the
    plugin's, for this repository's configuration."""
    return somacontracts_registry


@pytest.fixture
def settings(bootstrap: str) -> Settings:
    """Settings for the test cluster with unique tool topic names."""
    suffix = uuid.uuid4().hex[:8]
    return load_settings(
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "TOOL_REQUESTS_TOPIC": f"tool.requests.{suffix}",
            "TOOL_RESULTS_TOPIC": f"tool.results.{suffix}",
        }
    )


@pytest.fixture
def names() -> dict[str, str]:
    """The payments service's topic names for this test (``tests/payments_service``): its
    catalog's, suffixed through the environment variables the catalog names, so runs on
    one cluster never meet."""
    suffix = uuid.uuid4().hex[:8]
    return {
        "PAYMENTS_CAPTURED_TOPIC": f"payments.captured.{suffix}",
        "PAYMENTS_REFUNDS_TOPIC": f"payments.refunds.{suffix}",
    }


@pytest.fixture
def env(bootstrap: str, registry: str, names: dict[str, str]) -> dict[str, str]:
    """The environment of the payments service's commands: the test cluster and registry,
    its topic names (:func:`names`)."""
    drop = ("KAFKA_CFG_LOG_RETENTION_HOURS", "SOMACONTRACTS_CATALOG")
    return {
        **{k: v for k, v in os.environ.items() if k not in drop},
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SCHEMA_REGISTRY_URL": registry,
        **names,
    }


@pytest.fixture
def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "log.connection.close": False})


def create_topics(admin: AdminClient, *names: str, partitions: int = 3) -> None:
    """Create ``names`` and their dead-letter topics."""
    specs = [TopicSpec(n, partitions) for name in names for n in (name, dlq_name(name))]
    apply_plans(admin, plan_topics(admin, specs))


def received_from(
    settings: Settings, registry: str, model: Any, topic: str, count: int, **options: Any
) -> list[Received[Any]]:
    """The first ``count`` messages of ``topic``'s partition 0, read by a contract
    consumer of a new group (``options`` passed on to it)."""
    found: list[Received[Any]] = []
    with ContractConsumer(
        model,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        group_id=f"read-{uuid.uuid4().hex[:6]}",
        config=FAST_GROUP,
        **options,
    ) as consumer:
        consumer.run(found.append, max_messages=count, idle_timeout=10)
    return found

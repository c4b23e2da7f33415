"""Fixtures of the Kafka tests: a broker (local Tansu, or KAFKA_BOOTSTRAP_SERVERS), a registry.

Consumers use short group timeouts so that a group join takes seconds, not tens of them.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from somacontracts.kafka import TopicSpec, apply_plans, dlq_name, plan_topics
from somacontracts.settings import Settings, load_settings

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
def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "log.connection.close": False})


def create_topics(admin: AdminClient, *names: str, partitions: int = 3) -> None:
    """Create ``names`` and their dead-letter topics."""
    specs = [TopicSpec(n, partitions) for name in names for n in (name, dlq_name(name))]
    apply_plans(admin, plan_topics(admin, specs))

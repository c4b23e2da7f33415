"""Fixtures of the Kafka tests: a broker (local Tansu, or KAFKA_BOOTSTRAP_SERVERS), a registry.

Consumers use short group timeouts so that a group join takes seconds, not tens of them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from somacontracts.cli import EXIT_OK, main
from somacontracts.kafka import TopicSpec, apply_plans, dlq_name, plan_topics
from somacontracts.kafka.local import LocalBroker
from somacontracts.server import LocalRegistry
from somacontracts.settings import Settings, load_settings

FAST_GROUP: dict[str, Any] = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "max.poll.interval.ms": 10000,
}


@pytest.fixture(scope="session")
def bootstrap() -> Iterator[str]:
    """``host:port`` of the cluster the tests use."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    with LocalBroker() as broker:
        yield broker.bootstrap_servers


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a local registry holding every contract under its catalog subjects."""
    lock = Path(tmp_path_factory.mktemp("lock")) / "somacontracts.lock"
    with LocalRegistry(host="127.0.0.1", port=0) as started:
        assert main(["register", "--registry", started.url, "--lock", str(lock)]) == EXIT_OK
        yield started.url


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

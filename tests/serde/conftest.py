"""Fixtures of the serde tests: a local registry holding every contract, and its client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from somacontracts.tooling.cli import EXIT_OK, main
from somacontracts.tooling.registry import LocalRegistry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """A local registry in which `somacontracts register` put every contract."""
    lock = Path(tmp_path_factory.mktemp("lock")) / "somacontracts.lock"
    with LocalRegistry(host="127.0.0.1", port=0) as started:
        command = ["register", "--registry", started.url, "--lock", str(lock)]
        assert main([*command, "--create-keks", "local-kms://serde-tests"]) == EXIT_OK
        yield started


@pytest.fixture(scope="module")
def client(registry: LocalRegistry) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry.url, "max.retries": 0}) as opened:
        yield opened

"""``register`` and ``status`` against registries that drop what Confluent keeps: Karapace 5's
profile (a proxy in front of the local registry, see ``tests/registries.py``) and the same
with a DEK registry. What a registry lacks is found out before anything is registered;
what it dropped from a version is exit 1 naming subject, version and part, and the lock
is not written; key order is no drift, and drift says why."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from somacontracts.catalog.environment import load_settings
from somacontracts.tooling import sources
from somacontracts.tooling.cli import EXIT_OK, EXIT_VIOLATIONS
from somacontracts.tooling.registration import schema_of, schema_text
from somacontracts.tooling.registry import LocalRegistry
from tests.registries import KARAPACE_5, karapace_with_dek_registry, profiled_registry
from tests.scratch import add_version, make_repo, run
from tests.server.conftest import raw

KEKS = ("--create-keks", "local-kms://tests")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def karapace() -> Iterator[tuple[LocalRegistry, str]]:
    with profiled_registry(KARAPACE_5) as pair:
        yield pair


def refused(repo: Path, url: str, *options: str) -> str:
    """The one line ``register`` says when it exits 1."""
    result = run(repo, "register", "--registry", url, *options)
    assert result.returncode == EXIT_VIOLATIONS, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    return line


def subjects_of(registry: LocalRegistry) -> list[str]:
    with SchemaRegistryClient({"url": registry.url}) as client:
        return sorted(client.get_subjects())


def test_without_a_dek_registry_nothing_is_registered(
    repo: Path, karapace: tuple[LocalRegistry, str]
) -> None:
    registry, url = karapace
    lock = (repo / "somacontracts.lock").read_text()
    for extra in ((), KEKS):
        line = refused(repo, url, *extra)
        assert line.startswith(
            f"somacontracts register: schema registry {url}: the registry has no DEK registry "
            "(GET /dek-registry/v1/keks/somastack_conversations: HTTP 404"
        )
        assert "encrypted fields need Confluent's DEK registry" in line
        assert line.endswith("; nothing registered")
        assert subjects_of(registry) == []
        assert (repo / "somacontracts.lock").read_text() == lock


def test_a_registry_that_drops_the_rule_set_stops_register_before_the_lock(repo: Path) -> None:
    with profiled_registry(karapace_with_dek_registry()) as (registry, url):
        lock = (repo / "somacontracts.lock").read_text()
        line = refused(repo, url, *KEKS)
        assert line.startswith(
            f"somacontracts register: schema registry {url}: conversation.inbound-value v2 of "
            "ConversationEvent (registry version 2, id "
        )
        assert "was stored without its rule set: the registry dropped or changed" in line
        assert (repo / "somacontracts.lock").read_text() == lock
        # What it holds now is drift, and says why, to status and to a second register.
        status = run(repo, "status", "--registry", url, "--format", "json")
        assert status.returncode == EXIT_VIOLATIONS
        row = next(r for r in json.loads(status.stdout) if r["subject"].startswith("conv"))
        assert [(d["version"], d["reason"]) for d in row["drift"]] == [
            (2, "v2's schema without its rule set")
        ]
        again = run(repo, "register", "--registry", url, *KEKS)
        assert again.returncode == EXIT_VIOLATIONS
        assert re.search(
            r"conversation.inbound-value: registry version 2 \(id \d+\) is no version of "
            r"ConversationEvent in this repository \(drift\): it holds v2's schema without its "
            r"rule set",
            again.stderr,
        )
        assert subjects_of(registry)  # the versions before it stay; the lock names none


def test_key_order_is_no_drift_and_drift_says_why(
    repo: Path, karapace: tuple[LocalRegistry, str]
) -> None:
    """Every version registered through Karapace as a tool that does not read back would:
    the registry keeps each schema with its keys sorted, and no rules."""
    _, url = karapace
    settings = load_settings({})
    with SchemaRegistryClient({"url": url}) as client:
        for name, contract in sources.bundled().items():
            for subject in settings.subjects_of(name):
                client.set_compatibility(subject, "FULL_TRANSITIVE")
                for version in contract.versions:
                    client.register_schema(subject, schema_of(version), normalize_schemas=True)
    delegated = raw(url, "GET", "/subjects/task.delegated-value/versions/1")[1]["schema"]
    sent = schema_text(sources.bundled()["DelegatedTask"].version(1))
    assert delegated != sent  # the default object's keys were sorted
    assert '"default":{"correlation_id":null,"extra":"{}"' in delegated
    status = run(repo, "status", "--registry", url, "--format", "json")
    assert status.returncode == EXIT_VIOLATIONS
    rows = {r["subject"]: r for r in json.loads(status.stdout)}
    for subject, row in rows.items():
        expected = [(2, "v2's schema without its rule set")] if "conversation" in subject else []
        assert [(d["version"], d["reason"]) for d in row["drift"]] == expected, subject
    text = run(repo, "status", "--registry", url)
    assert re.search(r"version 2 \(id \d+\): v2's schema without its rule set", text.stdout)


def test_majors_are_refused_up_front_where_groups_are_not_kept(repo: Path) -> None:
    add_version(
        repo,
        "ToolResult",
        lambda s: s["fields"].append({"name": "cost", "type": "double", "doc": "d"}),
    )
    migrations = {
        "metadata": {"properties": {"application.major.version": "2"}},
        "ruleSet": {
            "migrationRules": [
                {
                    "name": "upgradeCost",
                    "kind": "TRANSFORM",
                    "mode": "UPGRADE",
                    "type": "JSONATA",
                    "expr": "$merge([$, {'cost': 0}])",
                },
                {
                    "name": "downgradeCost",
                    "kind": "TRANSFORM",
                    "mode": "DOWNGRADE",
                    "type": "JSONATA",
                    "expr": "$sift($, function($v, $k) {$k != 'cost'})",
                },
            ]
        },
    }
    (repo / "avro" / "ToolResult" / "v2.contract.json").write_text(json.dumps(migrations))
    assert run(repo, "lock").returncode == EXIT_OK
    with profiled_registry(karapace_with_dek_registry()) as (registry, url):
        assert refused(repo, url, *KEKS) == (
            f"somacontracts register: schema registry {url}: subject tool.results-value did "
            'not keep compatibilityGroup "application.major.version" (it reads back as None): '
            "the major versions of ToolResult need Confluent's compatibility groups; nothing "
            "registered"
        )
        assert subjects_of(registry) == []
    with LocalRegistry() as local:  # which keeps them: the major goes in
        done = run(repo, "register", "--registry", local.url, *KEKS)
        assert done.returncode == EXIT_OK, done.stderr
        config = raw(local.url, "GET", "/config/tool.results-value")[1]
        assert config == {
            "compatibilityLevel": "FULL_TRANSITIVE",
            "compatibilityGroup": "application.major.version",
        }

"""``register``, ``status`` and ``check --registry`` against the local registry over real HTTP."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry._sync.serde import (
    FALLBACK_TYPE,
    KAFKA_CLUSTER_ID,
    AssociatedNameStrategy,
)
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.tooling.check.lock import read_lock, registry_ids
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS
from somacontracts.tooling.registry import LocalRegistry
from tests.scratch import add_version, make_repo, run

SUBJECTS = 6  # five contracts, ConversationEvent on two topics
KEKS = ("--create-keks", "local-kms://tests")  # ConversationEvent v2's ENCRYPT rule needs one


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(host="127.0.0.1", port=0, db_path=tmp_path / "registry.db") as started:
        yield started


@pytest.fixture
def client(registry: LocalRegistry) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry.url, "max.retries": 0}) as opened:
        yield opened


def add_locked_version(repo: Path, contract: str, change: Any) -> None:
    add_version(repo, contract, change)
    assert run(repo, "lock").returncode == EXIT_OK


def test_register_is_idempotent_and_records_ids(
    repo: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    first = run(
        repo,
        "register",
        "--registry",
        registry.url,
        "--environment",
        "local",
        "--create-keks",
        "local-kms://tests",
    )
    assert first.returncode == EXIT_OK, first.stderr
    assert first.stdout.startswith("created KEK somastack_conversations in local-kms\n")
    assert f"registered 8 versions under {SUBJECTS} subjects" in first.stdout
    assert sorted(client.get_subjects()) == sorted(
        [
            "tool.requests-value",
            "tool.results-value",
            "conversation.inbound-value",
            "conversation.outbound-value",
            "config_updates-value",
            "task.delegated-value",
        ]
    )
    assert client.get_compatibility("tool.requests-value") == "FULL_TRANSITIVE"
    ids = registry_ids(read_lock(repo / "somacontracts.lock"), "local")
    inbound, outbound = ids["conversation.inbound-value"][1], ids["conversation.outbound-value"][1]
    assert inbound == outbound  # one schema, one global id, under both subjects
    assert client.get_version("tool.results-value", 1).schema_id == ids["tool.results-value"][1]

    second = run(
        repo,
        "register",
        "--registry",
        registry.url,
        "--environment",
        "local",
        "--create-keks",
        "local-kms://tests",
    )
    assert second.returncode == EXIT_OK
    assert second.stdout.startswith(
        f"KEK somastack_conversations: present\nnothing to register: {registry.url} holds all 8"
    )
    typo = run(repo, "register", "--registry", registry.url, "--create-keks", "aws-ksm://k")
    assert typo.returncode == 2
    assert "'aws-ksm' is no KMS confluent-kafka has a driver for" in typo.stderr
    status = run(repo, "status", "--registry", registry.url, "--format", "json")
    assert status.returncode == EXIT_OK
    rows = json.loads(status.stdout)
    assert all(r["drift"] == [] and r["unregistered"] == [] and r["level_set"] for r in rows)


def test_evolution_dry_run_then_register(
    repo: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    assert run(repo, "register", "--registry", registry.url, *KEKS).returncode == EXIT_OK
    add_locked_version(
        repo,
        "ToolResult",
        lambda s: s["fields"].append(
            {"name": "cost", "type": ["null", "double"], "default": None, "doc": "d"}
        ),
    )
    dry = run(repo, "register", "--registry", registry.url, "--dry-run")
    assert dry.returncode == EXIT_OK
    assert dry.stdout == "tool.results-value (ToolResult): would register v2\n"
    assert client.get_versions("tool.results-value") == [1]
    status = run(repo, "status", "--registry", registry.url)
    assert status.returncode == EXIT_VIOLATIONS
    assert "not registered: v2" in status.stdout
    checked = run(repo, "check", "--registry", registry.url)
    assert checked.returncode == 0, checked.stdout
    assert "no problems found" in checked.stdout.splitlines()[-1]
    done = run(repo, "register", "--registry", registry.url)
    assert done.returncode == EXIT_OK, done.stderr
    assert client.get_versions("tool.results-value") == [1, 2]


def test_drift_stops_before_writing(
    repo: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    assert run(repo, "register", "--registry", registry.url, *KEKS).returncode == EXIT_OK
    stranger = json.loads((repo / "avro" / "ToolInvocation" / "v1.avsc").read_text())
    stranger["fields"].append({"name": "surprise", "type": "string", "default": "", "doc": "d"})
    client.register_schema("tool.requests-value", Schema(json.dumps(stranger), "AVRO"))
    add_locked_version(
        repo,
        "ToolResult",
        lambda s: s["fields"].append(
            {"name": "cost", "type": ["null", "double"], "default": None, "doc": "d"}
        ),
    )
    result = run(repo, "register", "--registry", registry.url)
    assert result.returncode == EXIT_VIOLATIONS
    assert "tool.requests-value: registry version 2" in result.stderr
    assert "(drift)" in result.stderr
    assert client.get_versions("tool.results-value") == [1]  # nothing was written
    assert "version 2 (id" in run(repo, "status", "--registry", registry.url).stdout


def test_a_lock_that_leads_out_of_its_folder_stops_before_the_registry_changes(
    repo: Path,
    tmp_path_factory: pytest.TempPathFactory,
    registry: LocalRegistry,
    client: SchemaRegistryClient,
) -> None:
    shared = tmp_path_factory.mktemp("shared")
    (repo / "somacontracts.lock").rename(shared / "somacontracts.lock")
    (repo / "somacontracts.lock").symlink_to(shared / "somacontracts.lock")
    before = (shared / "somacontracts.lock").read_text()
    result = run(repo, "register", "--registry", registry.url)
    assert result.returncode == EXIT_USAGE
    assert result.stderr == (
        f"somacontracts register: error: cannot write somacontracts.lock: leads through a "
        f"symbolic link to {shared / 'somacontracts.lock'}, outside {repo}; remove the link, "
        "or write elsewhere\n"
    )
    assert client.get_subjects() == []
    assert (shared / "somacontracts.lock").read_text() == before
    # Naming the file itself is the way to keep a lock elsewhere.
    config = (repo / "pyproject.toml").read_text()
    (repo / "pyproject.toml").write_text(
        config.replace('"somacontracts.lock"', f'"{shared / "somacontracts.lock"}"')
    )
    assert run(repo, "register", "--registry", registry.url, *KEKS).returncode == EXIT_OK
    assert len(client.get_subjects()) == SUBJECTS
    assert registry.url in (shared / "somacontracts.lock").read_text()


def test_a_registry_version_that_differs_only_in_a_doc_is_drift(
    repo: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    """The canonical form drops docs; the registry's text does not, and neither does drift."""
    edited = json.loads((repo / "avro" / "DelegatedTask" / "v1.avsc").read_text())
    edited["doc"] = "Another doc, same canonical form."
    client.register_schema("task.delegated-value", Schema(json.dumps(edited), "AVRO"))
    status = run(repo, "status", "--registry", registry.url, "--format", "json")
    assert status.returncode == EXIT_VIOLATIONS
    row = next(r for r in json.loads(status.stdout) if r["subject"] == "task.delegated-value")
    assert row["drift"] == [
        {
            "version": 1,
            "id": row["drift"][0]["id"],
            "reason": "a schema that differs from v1's at /doc",
        }
    ]
    result = run(repo, "register", "--registry", registry.url)
    assert result.returncode == EXIT_VIOLATIONS
    assert (
        "task.delegated-value: registry version 1 (id 1) is no version of DelegatedTask in this "
        "repository (drift): it holds a schema that differs from v1's at /doc"
    ) in result.stderr


def test_incompatible_version_is_refused(
    repo: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    assert run(repo, "register", "--registry", registry.url, *KEKS).returncode == EXIT_OK
    add_locked_version(
        repo,
        "ToolResult",
        lambda s: s["fields"].append({"name": "cost", "type": "double", "doc": "d"}),
    )
    checked = run(repo, "check", "--registry", registry.url, "--format", "json")
    found = json.loads(checked.stdout)["findings"]
    refusals = [f["message"] for f in found if f["rule"] == "REGISTRY_INCOMPATIBLE"]
    assert len(refusals) == 1, refusals  # one error: one finding, its context joined
    assert "errorType" in refusals[0]
    assert "compatibility: 'FULL_TRANSITIVE'" in refusals[0]
    assert "oldSchema:" not in refusals[0]
    # At another level than the contract's, the registry is not asked: register sets it.
    client.set_compatibility("tool.results-value", "NONE")
    checked = run(repo, "check", "--registry", registry.url, "--format", "json")
    found = json.loads(checked.stdout)["findings"]
    assert not [f for f in found if f["rule"] == "REGISTRY_INCOMPATIBLE"]
    (level,) = [f for f in found if f["rule"] == "REGISTRY_LEVEL"]
    assert level["severity"] == "warning"
    assert 'subject "tool.results-value" is at NONE' in level["message"]
    client.set_compatibility("tool.results-value", "FULL_TRANSITIVE")
    result = run(repo, "register", "--registry", registry.url)
    assert result.returncode == EXIT_VIOLATIONS
    assert "refused v2 of ToolResult under subject tool.results-value" in result.stderr
    assert client.get_versions("tool.results-value") == [1]


def test_unreachable_registry_is_one_line(repo: Path) -> None:
    for command in ("register", "status"):
        result = run(repo, command, "--registry", "http://127.0.0.1:9")
        assert result.returncode == EXIT_USAGE
        lines = result.stderr.splitlines()
        assert len(lines) == 1
        assert "schema registry http://127.0.0.1:9: cannot be reached" in lines[0]
    assert "registries" not in (repo / "somacontracts.lock").read_text()


def test_wrong_credentials(repo: Path, tmp_path: Path) -> None:
    with LocalRegistry(host="127.0.0.1", port=0, basic_auth=("admin", "s3cret")) as secured:
        import os

        env = {**os.environ, "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": "admin:wrong"}
        denied = run(repo, "status", "--registry", secured.url, env=env)
        assert denied.returncode == EXIT_USAGE
        assert "HTTP 401" in denied.stderr
        env["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"] = "admin:s3cret"
        assert (
            run(repo, "register", "--registry", secured.url, *KEKS, env=env).returncode == EXIT_OK
        )


def test_server_errors_are_one_line(repo: Path) -> None:
    import http.server
    import threading

    class Failing(http.server.BaseHTTPRequestHandler):
        def _fail(self) -> None:
            body = b'{"error_code": 50001, "message": "store unavailable"}'
            self.send_response(503)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _fail  # noqa: N815 (http.server dispatches on these names)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = run(repo, "register", "--registry", url)
        assert result.returncode == EXIT_USAGE
        (line,) = result.stderr.splitlines()
        assert line == (
            f"somacontracts register: error: schema registry {url}: "
            "HTTP 503: store unavailable (error 50001)"
        )
        assert "registries" not in (repo / "somacontracts.lock").read_text()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_interrupted_run_resumes(
    repo: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    # A read-only subject stops the run part way, as a crash or a refusal would.
    client.update_mode("tool.results-value", "READONLY")
    stopped = run(repo, "register", "--registry", registry.url, "--environment", "ci", *KEKS)
    assert stopped.returncode == EXIT_VIOLATIONS
    assert "tool.results-value" in stopped.stderr
    recorded = registry_ids(read_lock(repo / "somacontracts.lock"), "ci")
    assert "tool.results-value" not in recorded
    assert recorded  # the subjects registered before the stop are kept
    client.update_mode("tool.results-value", "READWRITE")
    resumed = run(repo, "register", "--registry", registry.url, "--environment", "ci", *KEKS)
    assert resumed.returncode == EXIT_OK, resumed.stderr
    assert "tool.results-value (ToolResult): registering v1" in resumed.stdout
    assert "tool.requests-value" not in resumed.stdout
    final = registry_ids(read_lock(repo / "somacontracts.lock"), "ci")
    assert len(final) == SUBJECTS
    assert all(
        sorted(versions) == [1, 2] if s.startswith("conversation") else [1]
        for s, versions in final.items()
    )


def test_register_associates_the_catalog_s_topics_with_their_subjects(
    repo: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    """confluent-kafka's AssociatedNameStrategy, with no fallback, finds each catalog
    topic's subject through the associations `register` made."""
    cluster = "lkc-local1"
    first = run(repo, "register", "--registry", registry.url, "--kafka-cluster-id", cluster, *KEKS)
    assert first.returncode == EXIT_OK, first.stderr
    assert f"associated {SUBJECTS} topics with their subjects in cluster {cluster}\n" in (
        first.stdout
    )
    conf = {KAFKA_CLUSTER_ID: cluster, FALLBACK_TYPE: "NONE"}
    for subject in client.get_subjects():
        topic = subject.removesuffix("-value")
        ctx = SerializationContext(topic, MessageField.VALUE)
        assert AssociatedNameStrategy()(ctx, None, client, conf) == subject
        assert AssociatedNameStrategy()(ctx, None, client, {FALLBACK_TYPE: "NONE"}) == subject
    again = run(repo, "register", "--registry", registry.url, "--kafka-cluster-id", cluster)
    assert again.returncode == EXIT_OK, again.stderr
    assert "associated" not in again.stdout
    found = client.get_associations_by_resource_name("tool.requests", "-")
    assert [(a.subject, a.resource_namespace, a.resource_id) for a in found] == [
        ("tool.requests-value", cluster, f"{cluster}:tool.requests")
    ]


def test_register_without_a_cluster_leaves_associations_out_and_says_so(
    repo: Path, registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{unused.getsockname()[1]}"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": address}
    result = run(repo, "register", "--registry", registry.url, *KEKS, env=env)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr == (
        "somacontracts register: topics not associated with their subjects: no Kafka "
        f"cluster answers at {address}; give --kafka-cluster-id\n"
    )
    assert len(client.get_subjects()) == SUBJECTS
    assert client.get_associations_by_resource_name("tool.requests", "-") == []

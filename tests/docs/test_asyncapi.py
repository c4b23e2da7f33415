"""``somacontracts asyncapi``: a document the official AsyncAPI 3.0 JSON Schema accepts
and AsyncAPI's own parser reads without error or warning."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import yaml
from referencing.jsonschema import DRAFT7

from somacontracts.catalog.environment import load_settings
from somacontracts.catalog.platform import TOPICS
from somacontracts.kafka.topics import DLQ_RETENTION_MS
from somacontracts.tooling import sources
from somacontracts.tooling.cli import main
from somacontracts.tooling.docs.asyncapi import AVRO_FORMAT, asyncapi_document

SECURE = {
    "TOOL_REQUESTS_TOPIC": "somastack.tools",
    "KAFKA_BOOTSTRAP_SERVERS": "broker-1:9093,broker-2:9093",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "svc",
    "KAFKA_SASL_PASSWORD": "kafka-hunter2",
    "SCHEMA_REGISTRY_URL": (
        "https://reg:registry-hunter2@registry.internal:8081/sr?apikey=hunter2#frag,"
        "https://registry-b.internal:8081"
    ),
}
OAUTH = {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "OAUTHBEARER"}


def _validator(tools: Path) -> Any:
    spec = json.loads((tools / "node_modules/@asyncapi/specs/schemas/3.0.0.json").read_text())
    registry = (
        referencing.Registry().with_resource(spec["$id"], DRAFT7.create_resource(spec)).crawl()
    )
    return jsonschema.validators.validator_for(spec)(spec, registry=registry)


def _errors(tools: Path, document: Any) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message[:200]}"
        for e in _validator(tools).iter_errors(document)
    ]


def _generate(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    *args: str,
) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["asyncapi", *args]) == 0
    return capsys.readouterr().out


def _parse(tools: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(tools / "parse.mjs"), str(path)],
        cwd=tools,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env", [{}, SECURE, OAUTH], ids=["defaults", "sasl-ssl-overrides", "oauthbearer"]
)
def test_the_document_is_valid_asyncapi_3(
    env: dict[str, str],
    asyncapi_tools: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _generate(capsys, monkeypatch, env)
    document = yaml.safe_load(text)
    assert _errors(asyncapi_tools, document) == []
    path = tmp_path / "asyncapi.yaml"
    path.write_text(text)
    parsed = _parse(asyncapi_tools, path)
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    assert "hunter2" not in text


def test_the_validators_refuse_a_broken_document(asyncapi_tools: Path, tmp_path: Path) -> None:
    """The checks above could fail: a wrong action and a negative partition count."""
    document = asyncapi_document(
        sources.bundled(), load_settings({}), registry_url="http://localhost:8081", version="1"
    )
    first = next(iter(document["operations"]))
    document["operations"][first]["action"] = "publish"
    document["channels"]["toolRequests"]["bindings"]["kafka"]["partitions"] = -3
    assert len(_errors(asyncapi_tools, document)) == 2
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    assert _parse(asyncapi_tools, path).returncode != 0


def test_channels_messages_and_operations_follow_the_catalog() -> None:
    settings = load_settings(SECURE)
    document = asyncapi_document(
        sources.bundled(), settings, registry_url="https://registry.internal:8081", version="1"
    )
    servers = document["servers"]
    assert [s["host"] for s in servers.values()] == ["broker-1:9093", "broker-2:9093"]
    assert {s["protocol"] for s in servers.values()} == {"kafka-secure"}
    assert document["components"]["securitySchemes"] == {"sasl": {"type": "scramSha512"}}
    channels = document["channels"]
    assert channels["toolRequests"]["address"] == "somastack.tools"
    dead = channels["toolRequestsDeadLetters"]
    assert dead["address"] == "somastack.tools.dlq"
    assert "Dead-letter topic of somastack.tools" in dead["description"]
    assert dead["bindings"]["kafka"]["topicConfiguration"]["retention.ms"] == DLQ_RETENTION_MS
    assert list(dead["messages"]) == ["DeadLetter"]
    headers = document["components"]["messages"]["DeadLetter"]["headers"]
    assert set(headers["required"]) == {
        "dlq.topic",
        "dlq.partition",
        "dlq.offset",
        "dlq.error",
        "dlq.attempts",
    }
    assert len(channels) == 2 * len(TOPICS)
    kafka = channels["conversationInbound"]["bindings"]["kafka"]
    assert kafka["topicConfiguration"] == {"cleanup.policy": ["delete"], "retention.ms": 259200000}
    assert list(channels["conversationInbound"]["messages"]) == [
        "ConversationEvent_v1",
        "ConversationEvent_v2",
    ]
    message = document["components"]["messages"]["ConversationEvent_v2"]
    assert message["payload"]["schemaFormat"] == AVRO_FORMAT
    assert message["payload"]["schema"] == sources.bundled()["ConversationEvent"].version(2).schema
    assert message["bindings"]["kafka"]["schemaIdPayloadEncoding"] == "confluent"
    assert message["bindings"]["kafka"]["schemaLookupStrategy"] == "TopicNameStrategy"
    every_instance = operations_of(document)["gatewayReceivesConfigUpdates"]
    assert "bindings" not in every_instance  # each gateway instance reads every message
    assert "no shared consumer group" in every_instance["summary"]
    operations = document["operations"]
    receive = operations["toolExecutorReceivesToolRequests"]
    assert receive["action"] == "receive"
    assert receive["bindings"]["kafka"]["groupId"] == {"type": "string", "enum": ["tool-executor"]}
    send = operations["gatewaySendsConversationInbound"]
    assert send["messages"] == [
        {"$ref": "#/channels/conversationInbound/messages/ConversationEvent_v2"}
    ]
    producers = {(p, t.key) for t in TOPICS.values() for p in t.producers}
    sends = [k for k, o in operations.items() if o["action"] == "send" and "DeadLetters" not in k]
    assert len(sends) == len(producers)


def operations_of(document: dict[str, Any]) -> dict[str, Any]:
    operations: dict[str, Any] = document["operations"]
    return operations


def test_the_registry_url_keeps_no_credential_query_or_fragment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = yaml.safe_load(_generate(capsys, monkeypatch, SECURE))
    server = document["servers"]["kafka1"]
    assert server["bindings"]["kafka"]["schemaRegistryUrl"] == "https://registry.internal:8081/sr"
    assert "https://registry-b.internal:8081" in server["description"]


def test_json_and_yaml_hold_the_same_document_and_files_are_written_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    as_yaml = yaml.safe_load(_generate(capsys, monkeypatch, {}))
    as_json = json.loads(_generate(capsys, monkeypatch, {}, "--format", "json"))
    assert as_yaml == as_json
    out = tmp_path / "asyncapi.json"
    assert main(["asyncapi", "--format", "json", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == as_json
    assert _generate(capsys, monkeypatch, {}) == _generate(capsys, monkeypatch, {})


def test_a_bad_registry_url_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", "ftp://u:hunter2@x")
    assert main(["asyncapi"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "SCHEMA_REGISTRY_URL" in err
    assert "hunter2" not in err

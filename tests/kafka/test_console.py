"""The console commands against the local broker and registry: plain-JSON lines produced
and consumed back equal, undecodable and dead-lettered messages shown, bad lines refused."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from somacontracts.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, main
from somacontracts.kafka import ContractProducer, dlq_name
from somacontracts.kafka.samples import sample_invocation
from somacontracts.models import ToolInvocation
from somacontracts.plainjson import to_plain_json
from somacontracts.settings import load_settings
from tests.kafka.conftest import create_topics


@pytest.fixture
def topic(
    monkeypatch: pytest.MonkeyPatch, admin: AdminClient, registry: str, bootstrap: str
) -> str:
    name = f"tool.requests.{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TOOL_REQUESTS_TOPIC", name)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", registry)
    create_topics(admin, name, partitions=2)
    with SchemaRegistryClient({"url": registry}) as client:
        client.register_schema(f"{name}-value", Schema(json.dumps(ToolInvocation.SCHEMA), "AVRO"))
    return name


def plain(call: ToolInvocation) -> dict[str, object]:
    return dict(to_plain_json(ToolInvocation.SCHEMA, call.to_avro()))


def test_produced_lines_come_back_equal(
    topic: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = [sample_invocation(tenant_id=f"t{i}") for i in range(4)]
    lines = tmp_path / "calls.jsonl"
    lines.write_text("\n".join(json.dumps(plain(c)) for c in calls) + "\n\n")
    assert main(["produce", topic, str(lines)]) == EXIT_OK
    assert capsys.readouterr().out.startswith(f"delivered 4 messages to {topic}")
    assert main(["consume", topic, "--from-beginning"]) == EXIT_OK
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["value"]["task_id"] for r in records) == sorted(str(c.task_id) for c in calls)
    by_id = {r["value"]["task_id"]: r for r in records}
    for call in calls:
        record = by_id[str(call.task_id)]
        assert record["value"] == plain(call)
        assert record["key"] == call.tenant_id
        assert record["schema_version"] == 1
        assert record["timestamp"].endswith("Z")
    assert main(["consume", topic, "--from-beginning", "--key", "t2", "--max", "1"]) == EXIT_OK
    (only,) = capsys.readouterr().out.splitlines()
    assert json.loads(only)["key"] == "t2"
    # a record as consume prints it is a line produce takes
    (tmp_path / "again.jsonl").write_text(only + "\n")
    assert main(["produce", topic, str(tmp_path / "again.jsonl")]) == EXIT_OK


def test_a_bad_line_names_itself_and_nothing_is_sent(
    topic: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = json.dumps(plain(sample_invocation()))
    bad = dict(plain(sample_invocation()))
    bad["task_id"] = "not-a-uuid"
    (tmp_path / "in.jsonl").write_text(f"{good}\n{json.dumps(bad)}\n{{oops\n")
    assert main(["produce", topic, str(tmp_path / "in.jsonl")]) == EXIT_VIOLATIONS
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("somacontracts produce: line 2: ")
    assert "task_id" in err[0]
    assert err[1].startswith("somacontracts produce: line 3: not JSON")
    assert err[2] == "nothing sent: 2 bad lines of 3"
    assert main(["consume", topic, "--from-beginning"]) == EXIT_OK
    assert capsys.readouterr().out == ""
    assert main(["produce", topic, str(tmp_path / "in.jsonl"), "--skip-bad"]) == EXIT_VIOLATIONS
    assert "delivered 1 message to" in capsys.readouterr().out


def test_undecodable_and_dead_lettered_messages_are_shown(
    topic: str, bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = Producer({"bootstrap.servers": bootstrap})
    raw.produce(topic, b"\x00\x00\x00\x7f\xffjunk", b"t", partition=0)
    raw.produce(
        dlq_name(topic),
        b"\x01garbage",
        b"t",
        headers=[("dlq.topic", topic.encode()), ("dlq.error", b"DeserializationError: x")],
    )
    raw.flush(10)
    assert main(["consume", topic, "--from-beginning", "--partition", "0"]) == EXIT_OK
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["error"]["schema_id"] == 0x7FFF
    assert record["error"]["length"] == 9
    assert "not in the registry" in record["error"]["reason"]
    assert main(["consume", dlq_name(topic), "--from-beginning", "--format", "table"]) == EXIT_OK
    table = capsys.readouterr().out
    assert "undecodable: unknown magic byte 1" in table


def test_an_unknown_topic_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consume", "no.such.topic"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'no.such.topic' carries no contract" in err
    for option in (["--offset", "-7"], ["--max", "0"]):
        assert main(["consume", "tool.requests", *option]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert f"{option[0]}: must be" in err


def test_lag_grows_while_the_group_stops_and_the_exit_code_flips(
    topic: str, registry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    group = f"lag-{uuid.uuid4().hex[:6]}"
    settings = load_settings(dict(os.environ))
    with ContractProducer(ToolInvocation, registry, settings=settings, topic=topic) as out:
        for _ in range(6):
            # one message a batch: the local broker gives a partition's end offset by
            # batch (a batch's first offset + 1), so only then is it the record count
            out.send(sample_invocation(tenant_id="t")).result(10)
    # the group never committed: it lags by every message, above a threshold of 5
    code = main(["lag", "--group", group, "--topic", topic, "--threshold", "5"])
    text = capsys.readouterr().out
    assert code == 1, text
    assert "total lag 6; 1 of 2 partitions over threshold" in text
    assert "ALERT" in text
    # it consumes four and commits: the lag falls below the threshold
    argv = ["consume", topic, "--from-beginning", "--group", group, "--max", "4"]
    assert main(argv) == EXIT_OK
    capsys.readouterr()
    argv = ["lag", "--group", group, "--topic", topic, "--threshold", "5", "--format", "json"]
    assert main(argv) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert sum(r["lag"] for r in rows) == 2
    assert not any(r["alerting"] for r in rows)

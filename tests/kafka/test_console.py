"""The console commands against the local broker and registry: plain-JSON lines produced
and consumed back equal, undecodable and dead-lettered messages shown, bad lines refused."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from somacontracts.catalog.environment import load_settings
from somacontracts.kafka import ContractProducer, dlq_name
from somacontracts.models import ToolInvocation
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, main
from somacontracts.tooling.dev.samples import sample_invocation
from somacontracts.tooling.plainjson import to_plain_json
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
    said = capsys.readouterr().out
    assert re.fullmatch(
        rf"delivered 4 messages to {re.escape(topic)} in "
        r"(partition \d|partitions (\d, )*\d and \d)\n",
        said,
    ), said
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
    assert main(["produce", topic, str(tmp_path / "in.jsonl")]) == EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("somacontracts produce: line 2: ")
    assert "task_id" in err[0]
    assert err[1].startswith("somacontracts produce: line 3: not JSON")
    assert err[2] == "nothing sent: 2 bad lines of 3"
    assert main(["consume", topic, "--from-beginning"]) == EXIT_OK
    assert capsys.readouterr().out == ""
    # bad input is exit 2, as the README's exit codes say, also when the good lines went
    assert main(["produce", topic, str(tmp_path / "in.jsonl"), "--skip-bad"]) == EXIT_USAGE
    assert re.search(
        rf"delivered 1 message to {re.escape(topic)} in partition \d\n$", capsys.readouterr().out
    )


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
    assert "undecodable: 8 bytes are too few for Confluent's framing" in table


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


def test_an_unreachable_registry_stops_reading_and_commits_nothing(
    topic: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], bootstrap: str
) -> None:
    lines = tmp_path / "calls.jsonl"
    lines.write_text("\n".join(json.dumps(plain(sample_invocation())) for _ in range(3)))
    assert main(["produce", topic, str(lines)]) == EXIT_OK
    capsys.readouterr()
    group = f"oncall-{uuid.uuid4().hex[:6]}"
    down = "http://127.0.0.1:1"
    assert (
        main(["consume", topic, "--from-beginning", "--group", group, "--registry", down])
        == EXIT_USAGE
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot be reached" in err
    # Nothing was committed: the group still reads all three.
    assert main(["consume", topic, "--from-beginning", "--group", group]) == EXIT_OK
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_a_bad_magic_byte_shows_no_schema_id_and_table_cells_are_inert(
    topic: str, bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = Producer({"bootstrap.servers": bootstrap})
    hostile_key = b"\x1b]0;pwned\x07\x1b[2J\r\nfake-row"
    raw.produce(topic, b"ordinary text", hostile_key, partition=0)
    raw.flush(10)
    assert main(["consume", topic, "--from-beginning", "--partition", "0"]) == EXIT_OK
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["error"]["schema_id"] is None
    assert main(["consume", topic, "--from-beginning", "--format", "table"]) == EXIT_OK
    table = capsys.readouterr().out
    assert "\x1b" not in table
    assert "\r" not in table
    assert len(table.splitlines()) == 2  # the header and one row, however the key looks
    assert "\\x1b]0;pwned" in table


def test_hostile_lines_are_problems_not_tracebacks(
    topic: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = dict(plain(sample_invocation()))
    late["metadata"] = {**late["metadata"], "timestamp": "0001-01-01T00:00:00+01:00"}  # type: ignore[dict-item]
    lines = tmp_path / "hostile.jsonl"
    lines.write_bytes(
        b"\xff\xfe\n" + b'{"a":' * 100_000 + b"\n" + json.dumps(late).encode() + b"\n"
    )
    assert main(["produce", topic, str(lines)]) == EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "somacontracts produce: line 1: is not UTF-8 text (byte 1)"
    assert err[1] == "somacontracts produce: line 2: nests JSON values too deeply"
    assert err[2].startswith("somacontracts produce: line 3: ")
    assert err[3] == "nothing sent: 3 bad lines of 3"
    assert main(["consume", topic, "--offset", str(2**64)]) == EXIT_USAGE
    assert "--offset" in capsys.readouterr().err


def test_an_unreachable_cluster_is_an_error_not_lag(capsys: pytest.CaptureFixture[str]) -> None:
    from somacontracts.kafka import BrokerUnavailableError
    from somacontracts.tooling.console.display import read
    from somacontracts.tooling.console.offsets import group_lag

    down = load_settings({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    with pytest.raises(BrokerUnavailableError, match=r"127\.0\.0\.1:1"):
        group_lag(down, "g", ["tool.requests"], timeout=1)
    with pytest.raises(BrokerUnavailableError, match=r"127\.0\.0\.1:1"):
        next(read(down, "tool.requests", timeout=1))
    for args, option in (
        (["lag", "--group", " "], "--group"),
        (["lag", "--threshold", "-1"], "--threshold"),
        (["lag", "--bootstrap", ""], "--bootstrap"),
    ):
        assert main(args) == EXIT_USAGE, args
        assert option in capsys.readouterr().err

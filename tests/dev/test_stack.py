"""``somacontracts dev``: a service's local stack, run as a developer runs it, in a tree of
its own (its pyproject, its avro/ folder): up, env, produce, consume, down, up again,
reset. Every process the stack starts is stopped at the end, and checked to be gone."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from confluent_kafka import Consumer, TopicPartition

from somacontracts.kafka.readers import register_reader
from somacontracts.serde.registry_client import connect
from somacontracts.tooling import sources
from somacontracts.tooling.dev.processes import Started

PAYMENT = {
    "type": "record",
    "name": "PaymentCaptured",
    "namespace": "payments.contracts",
    "doc": "A payment the gateway captured.",
    "fields": [
        {"name": "payment_id", "type": "string", "doc": "The payment."},
        {"name": "tenant_id", "type": "string", "doc": "Its tenant."},
        {"name": "amount_cents", "type": "long", "doc": "What was captured."},
    ],
}
CALL = {
    "task_id": "7c0a4b1e-3f0e-4a53-9d5e-2f1f1c7d2b10",
    "tenant_id": "default",
    "persona": "agent0",
    "tool_name": "shell",
    "payload": {"command": "ls"},
    "metadata": {"requested_by": "gateway", "timestamp": "2025-10-09T16:59:00Z"},
}

Run = Callable[..., subprocess.CompletedProcess[str]]


def _service(root: Path) -> None:
    """A payments service: its own contract and topic, and the platform's ToolInvocation
    it sends, both in its catalog."""
    (root / "pyproject.toml").write_text(
        '[project]\nname = "payments"\nversion = "0.1.0"\n\n'
        '[tool.somacontracts]\nschemas = "avro"\n\n'
        '[tool.somacontracts.topics."payments.captured"]\n'
        'contract = "PaymentCaptured"\nkey = "tenant_id"\n\n'
        '[tool.somacontracts.topics."tool.requests"]\n'
        'contract = "ToolInvocation"\nkey = "tenant_id"\n'
    )
    (root / "avro" / "PaymentCaptured").mkdir(parents=True)
    (root / "avro" / "PaymentCaptured" / "v1.avsc").write_text(json.dumps(PAYMENT, indent=2))
    shutil.copytree(sources.bundled_root() / "ToolInvocation", root / "avro" / "ToolInvocation")


def _environment() -> dict[str, str]:
    """This environment, less what would point the commands elsewhere than the stack."""
    names = ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL", "LOCAL_SECRET")
    return {k: v for k, v in os.environ.items() if k not in names}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, Run, list[int]]]:
    """A service tree, a runner of ``somacontracts`` in it, and the pids its stack had;
    ``dev down`` always runs at the end, and none of those pids may still run."""
    root = tmp_path / "payments"
    root.mkdir()
    _service(root)
    seen: list[int] = []

    def run(*words: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "somacontracts", *words],
            cwd=root,
            env=env or _environment(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
        )
        state = root / ".somacontracts" / "dev" / "state.json"
        if state.exists():
            for service in json.loads(state.read_text()).values():
                if service["process"] and service["process"]["pid"] not in seen:
                    seen.append(service["process"]["pid"])
        return done

    try:
        yield root, run, seen
    finally:
        down = run("dev", "down")
        assert down.returncode == 0, down.stderr
        assert [pid for pid in seen if psutil.pid_exists(pid) and _is_stack(pid)] == []


def _is_stack(pid: int) -> bool:
    try:
        command = " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False
    return "tansu" in command or "registry serve" in command


def _exports(text: str) -> dict[str, str]:
    """The variables of ``export NAME=value`` lines, as a shell reads them."""
    found = {}
    for line in text.splitlines():
        word, _, assignment = line.partition(" ")
        assert word == "export", line
        name, _, value = assignment.partition("=")
        found[name] = shlex.split(value)[0]
    return found


def _consumed(run: Run, env: dict[str, str], *options: str) -> list[dict[str, Any]]:
    done = run("consume", "tool.requests", "--format", "jsonl", *options, env=env)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_up_env_produce_consume_down_up_reset(project: tuple[Path, Run, list[int]]) -> None:
    root, run, seen = project
    up = run("dev", "up", "--broker-port", "0", "--registry-port", "0")
    assert up.returncode == 0, up.stderr
    assert "registered 2 versions under 2 subjects" in up.stdout
    folder = root / ".somacontracts" / "dev"
    assert {p.name for p in folder.iterdir()} >= {"state.json", "registry.db", "local-secret"}
    assert (folder / "local-secret").stat().st_mode & 0o077 == 0
    exports = run("dev", "env")
    assert exports.returncode == 0, exports.stderr
    variables = _exports(exports.stdout)
    assert set(variables) == {"KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL", "LOCAL_SECRET"}
    assert variables["KAFKA_BOOTSTRAP_SERVERS"].startswith("127.0.0.1:")
    assert variables["LOCAL_SECRET"] not in up.stdout + up.stderr
    env = {**_environment(), **variables}
    with connect(url=variables["SCHEMA_REGISTRY_URL"]) as client:
        assert sorted(client.get_subjects()) == ["payments.captured-value", "tool.requests-value"]

    sent = run("produce", "tool.requests", env=env, stdin=json.dumps(CALL) + "\n")
    assert sent.returncode == 0, sent.stderr
    # What a shell does with the lines: eval them, then run any command.
    script = 'eval "$("$0" -m somacontracts dev env)" && "$0" -m somacontracts status'
    status = subprocess.run(
        ["bash", "-c", script, sys.executable],
        cwd=root,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"local stack ({Path('.somacontracts/dev')}): up\n")
    assert f"pid {seen[0]}" in status.stdout
    assert f"pid {seen[1]}" in status.stdout
    first = _consumed(run, env, "--group", "payments-audit", "--from-beginning")
    assert [m["value"]["task_id"] for m in first] == [CALL["task_id"]]

    # A live reader of PaymentCaptured v1; a v2 the level accepts (BACKWARD: a field
    # dropped) that the reader cannot read: `dev up` refuses it as `register` does.
    captured = "payments.captured"
    with connect(url=variables["SCHEMA_REGISTRY_URL"]) as client:
        register_reader(client, topic=captured, group="ledger", reader_schema=PAYMENT, version=1)
    ledger = Consumer(
        {"bootstrap.servers": variables["KAFKA_BOOTSTRAP_SERVERS"], "group.id": "ledger"}
    )
    try:
        ledger.commit(offsets=[TopicPartition(captured, 0, 0)], asynchronous=False)
    finally:
        ledger.close()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.somacontracts.levels]\nPaymentCaptured = "BACKWARD"\n'
    )
    dropped = {**PAYMENT, "fields": PAYMENT["fields"][:2]}
    v2 = root / "avro" / "PaymentCaptured" / "v2.avsc"
    v2.write_text(json.dumps(dropped, indent=2))
    refused = run("dev", "up")
    assert refused.returncode == 1, refused.stderr
    assert 'READER_BROKEN: v2 cannot be read by live reader group "ledger"' in refused.stderr
    assert "nothing registered" in refused.stderr
    with connect(url=variables["SCHEMA_REGISTRY_URL"]) as client:
        assert client.get_versions(f"{captured}-value") == [1]
    v2.unlink()

    again = run("dev", "up")
    assert again.returncode == 0, again.stderr
    assert "already up" in again.stdout
    assert "registered 0 versions" in again.stdout

    down = run("dev", "down")
    assert down.returncode == 0, down.stderr
    assert "saved 1 message" in down.stdout
    assert "2 consumer groups" in down.stdout  # payments-audit and ledger
    assert not any(psutil.pid_exists(pid) and _is_stack(pid) for pid in seen)
    assert run("dev", "env").returncode == 2

    back = run("dev", "up")
    assert back.returncode == 0, back.stderr
    assert "replayed 1 message" in back.stdout
    assert "registered 0 versions" in back.stdout
    assert _exports(run("dev", "env").stdout) == variables  # same ports, same secret
    assert [m["value"]["task_id"] for m in _consumed(run, env, "--from-beginning")] == [
        CALL["task_id"]
    ]
    later = {**CALL, "task_id": "0d9ae3a4-5c0e-4c57-8f54-3f1c2a9b7e21"}
    assert run("produce", "tool.requests", env=env, stdin=json.dumps(later) + "\n").returncode == 0
    # The group resumes where it committed before `dev down`: only the new message.
    resumed = _consumed(run, env, "--group", "payments-audit", "--from-beginning")
    assert [m["value"]["task_id"] for m in resumed] == [later["task_id"]]

    reset = run("dev", "reset")
    assert reset.returncode == 0, reset.stderr
    assert not folder.exists()
    fresh = run("dev", "up", "--broker-port", "0", "--registry-port", "0")
    assert fresh.returncode == 0, fresh.stderr
    assert "replayed" not in fresh.stdout
    assert "registered 2 versions under 2 subjects" in fresh.stdout
    env = {**_environment(), **_exports(run("dev", "env").stdout)}
    assert _consumed(run, env, "--from-beginning") == []


def test_env_of_a_stack_that_is_not_up_is_one_line_and_exit_2(
    project: tuple[Path, Run, list[int]],
) -> None:
    _, run, _ = project
    done = run("dev", "env")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "somacontracts dev env: error: dev stack: the local stack of "
        f"{Path('.somacontracts/dev')} is not up; `somacontracts dev up` starts it"
    ]


def test_down_never_signals_a_process_that_took_over_a_recorded_pid(
    project: tuple[Path, Run, list[int]],
) -> None:
    root, run, _ = project
    command = (sys.executable, "-c", "import time; time.sleep(60)")
    process = subprocess.Popen(command)
    stranger = Started(process.pid, command, psutil.Process(process.pid).create_time())
    try:
        folder = root / ".somacontracts" / "dev"
        folder.mkdir(parents=True)
        recorded = {
            # the stranger's pid, recorded with the broker's command line
            "broker": Started(stranger.pid, ("tansu", "broker"), stranger.started),
            # the stranger's pid and command line, but another start time
            "registry": Started(stranger.pid, stranger.command, stranger.started - 5),
        }
        state = {n: {"port": 1, "process": p.to_json()} for n, p in recorded.items()}
        (folder / "state.json").write_text(json.dumps(state))
        done = run("dev", "down")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            f"the broker (pid {stranger.pid}) was not running; left alone",
            f"the registry (pid {stranger.pid}) was not running; left alone",
        ]
        assert psutil.Process(stranger.pid).status() != psutil.STATUS_ZOMBIE
        assert json.loads((folder / "state.json").read_text())["broker"]["process"] is None
    finally:
        process.kill()
        process.wait(5)


def test_a_project_whose_contracts_cannot_be_read_starts_nothing(
    project: tuple[Path, Run, list[int]],
) -> None:
    root, run, seen = project
    (root / "avro" / "PaymentCaptured" / "v1.avsc").write_text("{not json")
    done = run("dev", "up", "--broker-port", "0", "--registry-port", "0")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert "PaymentCaptured" in done.stderr
    assert not (root / ".somacontracts").exists()
    assert seen == []

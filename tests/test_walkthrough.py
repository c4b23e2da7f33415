"""The README's "Use it in your service", executed as written in a new project: its
contract files (one with an encrypted PII field), configuration, commands, test file and
deployment command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from somacontracts.serde.registry_client import connect
from somacontracts.tooling.dev import LocalBroker
from somacontracts.tooling.registry import LocalRegistry

REPOSITORY = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"<!-- walkthrough: (?P<name>[^>]+) -->\n```\w*\n(?P<text>.*?)\n```", re.S)


def blocks() -> dict[str, str]:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    return {m["name"].strip(): m["text"] + "\n" for m in _BLOCK.finditer(readme)}


def shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _second_version(project: Path) -> None:
    """``PaymentCaptured`` v2: v1 and an optional field with a default, the same rules."""
    folder = project / "avro" / "PaymentCaptured"
    schema = json.loads((folder / "v1.avsc").read_text())
    schema["fields"].append(
        {"name": "reference", "type": ["null", "string"], "default": None, "doc": "Its reference."}
    )
    (folder / "v2.avsc").write_text(json.dumps(schema, indent=2))
    shutil.copy(folder / "v1.contract.json", folder / "v2.contract.json")


@pytest.mark.slow
def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = blocks()
    assert set(steps) == {
        "avro/PaymentCaptured/v1.avsc",
        "avro/PaymentCaptured/v1.contract.json",
        "avro/RefundIssued/v1.avsc",
        "configuration",
        "commands",
        "tests/test_contracts.py",
        "deploy",
    }
    project = tmp_path / "payments"
    for name in (
        "avro/PaymentCaptured/v1.avsc",
        "avro/PaymentCaptured/v1.contract.json",
        "avro/RefundIssued/v1.avsc",
    ):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(steps[name])
    (project / "src" / "payments").mkdir(parents=True)
    (project / "src" / "payments" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "payments"\nversion = "0.1.0"\n\n' + steps["configuration"]
    )
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    for name in ("PYTEST_ADDOPTS", "LOCAL_SECRET", "KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)
    commands = shell(steps["commands"], project, env)
    assert commands.returncode == 0, commands.stdout + commands.stderr
    # No warning either: card's personal data is in card.last4, tagged and encrypted
    assert commands.stdout.endswith("2 contracts checked: no problems found\n")
    # "A new version is a new file": v2, then the same commands
    _second_version(project)
    again = shell(steps["commands"], project, env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "locked 1 new version" in again.stdout
    (project / "tests").mkdir()
    (project / "tests" / "test_contracts.py").write_text(steps["tests/test_contracts.py"])
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert "5 passed" in tested.stdout  # four tests, and v1 and v2 read each other
    with LocalRegistry() as registry, LocalBroker() as broker:
        deployed = shell(
            steps["deploy"],
            project,
            {
                **env,
                "SCHEMA_REGISTRY_URL": registry.url,
                "LOCAL_SECRET": "payments-secret",
                "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            },
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert (
            "payments.captured: create with 3 partitions, cleanup.policy=delete, "
            "retention.ms=2592000000 (from retention in the catalog)"
        ) in deployed.stdout
        assert "payments.refunds: create with 3 partitions" in deployed.stdout
        admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        topics = admin.list_topics(timeout=10).topics
        assert len(topics["payments.captured"].partitions) == 3
        assert {"payments.captured.dlq", "payments.refunds", "payments.refunds.dlq"} <= set(topics)
        with connect(url=registry.url) as client:
            assert client.get_versions("payments.captured-value") == [1, 2]
            # the shared type under its own subject, named in the refund's references
            assert client.get_versions("payments.contracts.LineItem") == [1]
            (reference,) = client.get_latest_version("payments.refunds-value").schema.references
            assert (reference.name, reference.subject) == (
                "payments.contracts.LineItem",
                "payments.contracts.LineItem",
            )
        with urllib.request.urlopen(f"{registry.url}/dek-registry/v1/keks", timeout=10) as got:
            keks = json.loads(got.read())
        assert keks == ["payments_pii"]

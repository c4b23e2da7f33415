"""The demo command against the test servers, and the local broker's failure modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from somacontracts.kafka import BrokerStartError
from somacontracts.tooling.cli import EXIT_OK, main
from somacontracts.tooling.dev.broker import LocalBroker


def test_demo_sends_every_contract_and_reads_it_back(
    bootstrap: str, registry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--bootstrap", bootstrap, "--registry", registry]) == EXIT_OK
    out = capsys.readouterr().out
    assert "5 of 5 contracts went through Kafka and back" in out
    for name in ("ToolInvocation", "ToolResult", "ConversationEvent", "DelegatedTask"):
        assert name in out


def test_local_broker_that_cannot_run_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-broker"
    with pytest.raises(BrokerStartError, match="local Kafka broker: cannot run"):
        LocalBroker(binary=missing).start()


def test_local_broker_that_exits_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "broker"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrokerStartError, match="exited with code 3"):
        LocalBroker(binary=fake, start_timeout=1).start()

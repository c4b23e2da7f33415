"""A second service's topic pages list the readers its registry holds (``docs --registry``),
live or not when a cluster is given, and are the same bytes as before without
``--registry``."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest

from somacontracts.kafka.readers import register_reader
from somacontracts.tooling.cli import EXIT_OK, main
from somacontracts.tooling.registry import LocalRegistry
from tests.groups import commit_offset

SERVICE = Path(__file__).resolve().parents[1] / "payments_service"


class _Rows(HTMLParser):
    """The text of each cell of each row of a page's tables after the heading ``Readers``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.headings: list[str] = []
        self.paragraphs: list[str] = []
        self._in: list[str] = []
        self._readers = False
        self.feed(text)
        self.rows = [row for row in self.rows if row]  # the header's cells are th

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._in.append(tag)
        if tag == "tr" and self._readers:
            self.rows.append([])
        if tag == "td" and self._readers:
            self.rows[-1].append("")
        if tag == "p" and self._readers:
            self.paragraphs.append("")

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._in[-1:] == ["h2"]:
            self.headings.append(data)
            self._readers = data == "Readers"
        elif self._readers and "td" in self._in:
            self.rows[-1][-1] += data
        elif self._readers and "p" in self._in:
            self.paragraphs[-1] += data


def _site(project: Path, out: str, *args: str) -> dict[str, str]:
    assert main(["docs", "--out", str(project / out), *args]) == EXIT_OK
    return {
        str(p.relative_to(project / out)): p.read_text(encoding="utf-8")
        for p in sorted((project / out).rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "payments"
    shutil.copytree(SERVICE, folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PAYMENTS_CAPTURED_TOPIC", f"payments.captured.{uuid.uuid4().hex[:6]}")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("SOMACONTRACTS_CATALOG", raising=False)
    return folder


def test_topic_pages_list_the_registered_readers(
    project: Path,
    somacontracts_bootstrap: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    captured = json.loads((project / "avro" / "PaymentCaptured" / "v1.avsc").read_text())
    captured_topic = os.environ["PAYMENTS_CAPTURED_TOPIC"]
    page = f"topics/{captured_topic}.html"
    before = _site(project, "plain")

    with LocalRegistry() as registry:
        ledger, audit = f"ledger-{uuid.uuid4().hex[:6]}", f"audit-{uuid.uuid4().hex[:6]}"
        for group, service, version in ((ledger, "ledger", 1), (audit, "audit", None)):
            register_reader(
                registry.url,
                topic=captured_topic,
                group=group,
                service=service,
                version=version,
                reader_schema=captured,
            )
        # A registry in the environment changes nothing without --registry.
        monkeypatch.setenv("SCHEMA_REGISTRY_URL", registry.url)
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", somacontracts_bootstrap)
        assert _site(project, "again") == before
        assert "Readers" not in before[page]

        monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
        unknown = _Rows(_site(project, "unknown", "--registry", registry.url)[page])
        assert sorted(unknown.rows) == sorted(
            [[ledger, "ledger", "v1", "unknown"], [audit, "audit", "unknown", "unknown"]]
        )
        assert "liveness unknown: no Kafka cluster given" in unknown.paragraphs[0]

        # The ledger group commits an offset on the topic: live; audit never read: not live.
        commit_offset(somacontracts_bootstrap, captured_topic, ledger)
        site = _site(
            project, "live", "--registry", registry.url, "--bootstrap", somacontracts_bootstrap
        )
        live = _Rows(site[page])
        assert sorted(live.rows) == sorted(
            [
                [ledger, "ledger", "v1", "yes"],
                [
                    audit,
                    "audit",
                    "unknown",
                    "no: no such group on the cluster and no committed offsets on the topic",
                ],
            ]
        )
        assert "liveness unknown" not in live.paragraphs[0]
        refunds = _Rows(site["topics/payments.refunds.html"])
        assert refunds.rows == []
        assert refunds.paragraphs == [
            "No consumer group is registered as a reader of payments.refunds-value."
        ]
        # Every other page is the same as without the registry.
        assert {k: v for k, v in site.items() if k.startswith("contracts/")} == {
            k: v for k, v in before.items() if k.startswith("contracts/")
        }
        # A ledger instance restarted on v2: the v1 it replaced is listed, and says so.
        newer = {**captured, "fields": [*captured["fields"], {"name": "note", "type": "string",
                 "default": ""}]}  # fmt: skip
        register_reader(
            registry.url, topic=captured_topic, group=ledger, service="ledger", version=2,
            reader_schema=newer,
        )  # fmt: skip
        site = _site(
            project, "rolling", "--registry", registry.url, "--bootstrap", somacontracts_bootstrap
        )
        rows = [row for row in _Rows(site[page]).rows if row[0] == ledger]
        assert rows[0] == [ledger, "ledger", "v2", "yes"]
        assert rows[1][2].startswith("v1 (replaced at ")
    capsys.readouterr()


def test_an_unanswering_cluster_leaves_liveness_unknown_with_a_warning(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    captured_topic = os.environ["PAYMENTS_CAPTURED_TOPIC"]
    with LocalRegistry() as registry:
        register_reader(
            registry.url,
            topic=captured_topic,
            group="ledger",
            reader_schema='{"type": "record", "name": "R", "fields": []}',
        )
        capsys.readouterr()
        site = _site(project, "site", "--registry", registry.url, "--bootstrap", "127.0.0.1:9")
    err = capsys.readouterr().err
    assert err.startswith("somacontracts docs: warning: liveness of the readers unknown")
    rows = _Rows(site[f"topics/{captured_topic}.html"])
    assert rows.rows == [["ledger", "ledger", "unknown", "unknown"]]
    assert "liveness unknown: the Kafka cluster did not answer" in rows.paragraphs[0]

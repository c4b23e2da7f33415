"""``diff --registry`` on a service tree of its own: each new version names the readers
registered for the contract's topics, whether each can read it (the field where it
cannot), and whether each is live when a cluster is given."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from somacontracts.kafka.readers import register_reader
from somacontracts.tooling.cli import EXIT_OK, main
from somacontracts.tooling.registry import LocalRegistry
from tests.groups import commit_offset
from tests.kafka.test_readers import DROPS_AMOUNT, PYPROJECT, V1, V2, schema, write_version


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(PYPROJECT)
    for number, fields in enumerate((V1, V2, DROPS_AMOUNT), 1):
        write_version(folder, number, fields)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("ORDERS_TOPIC", f"orders.{uuid.uuid4().hex[:8]}")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("SOMACONTRACTS_CATALOG", raising=False)
    return folder


def diff(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["diff", "Order", *args])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    return out


def test_diff_names_the_readers_of_each_new_version(
    project: Path,
    bootstrap: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders = os.environ["ORDERS_TOPIC"]
    plain_text, plain_json = diff(capsys), diff(capsys, "--format", "json")
    billing, shipping = f"billing-{uuid.uuid4().hex[:6]}", f"shipping-{uuid.uuid4().hex[:6]}"
    with LocalRegistry() as registry:
        for group, service, fields, version in (
            (billing, "billing", V1, 1),
            (shipping, "shipping", V2, 2),
        ):
            register_reader(
                registry.url,
                topic=orders,
                group=group,
                service=service,
                version=version,
                reader_schema=json.dumps(schema(fields)),
            )
        register_reader(  # a reader of another topic is no reader of Order's
            registry.url, topic="elsewhere", group="other", reader_schema=json.dumps(schema(V1))
        )
        url = registry.url
        with monkeypatch.context() as env:  # a registry there changes nothing without --registry
            env.setenv("SCHEMA_REGISTRY_URL", url)
            assert diff(capsys) == plain_text
            assert diff(capsys, "--format", "json") == plain_json

        text = diff(capsys, "--registry", url)
        lines = text.splitlines()
        assert "  readers (liveness unknown: no Kafka cluster given):" in lines
        (cannot,) = [line for line in lines if line.startswith(f"    {billing} ")]
        assert cannot.startswith(f"    {billing} (billing, v1) on {orders}: cannot read v3: ")
        assert '"amount"' in cannot
        assert cannot.endswith("(at v3:/fields); liveness unknown")
        assert f"    {shipping} (shipping, v2) on {orders}: reads v3; liveness unknown" in lines
        assert "other" not in text

        # billing commits an offset on the topic: live; shipping never read: not live.
        commit_offset(bootstrap, orders, billing)
        (report,) = json.loads(
            diff(capsys, "--registry", url, "--bootstrap", bootstrap, "--format", "json")
        )
        assert report["liveness_unknown"] is None
        rows = {r["group"]: r for r in report["readers"]}
        assert set(rows) == {billing, shipping}
        assert rows[billing]["live"] is True
        assert rows[billing]["reads"] is False
        assert rows[billing]["location"] == "/fields"
        assert "amount" in rows[billing]["problem"]
        assert (rows[billing]["service"], rows[billing]["reader_version"]) == ("billing", 1)
        assert rows[shipping] == {
            "group": shipping,
            "service": "shipping",
            "reader_version": 2,
            "topic": orders,
            "reads": True,
            "problem": None,
            "location": None,
            "live": False,
        }
        markdown = diff(capsys, "--registry", url, "--bootstrap", bootstrap, "--format", "markdown")
        assert f"| `{shipping}` | shipping | v2 | `{orders}` | reads v3 | not live |" in markdown
        assert f"| `{billing}` | billing | v1 | `{orders}` | cannot read v3: " in markdown

        # Two versions: each has its own verdicts (v2 is read by both).
        both = json.loads(diff(capsys, "v1", "v2", "--registry", url, "--format", "json"))
        assert all(r["reads"] for r in both[0]["readers"])
    assert "readers" not in plain_text
    assert all("readers" not in r for r in json.loads(plain_json))

"""A second service's catalog, end to end: a payments service (``tests/payments_service``:
its own contracts, its topics in its ``pyproject.toml``) registers, provisions, produces,
consumes, measures lag and documents its own topics with the same commands, and its typed
clients create their topics on a wiped broker (``ensure_topics``)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.catalog import load_settings, read_catalog_file
from somacontracts.kafka import ContractConsumer, ContractProducer
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE
from tests.generated import generated
from tests.scratch import run as cli

SERVICE = Path(__file__).resolve().parents[1] / "payments_service"


@pytest.fixture
def service(tmp_path: Path) -> Path:
    folder = tmp_path / "payments"
    shutil.copytree(SERVICE, folder)
    return folder


def retention_of(admin: AdminClient, topic: str) -> str:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(timeout=30)
    return str(entries["retention.ms"].value)


def payment(tenant: str) -> dict[str, Any]:
    return {
        "payment_id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "amount": "12.5000",
        "currency": "EUR",
        "items": [{"sku": "A-1", "quantity": 2}],
    }


def refund(tenant: str) -> dict[str, Any]:
    """A refund: its items are of the shared type ``LineItem`` PaymentCaptured defines."""
    return {
        "refund_id": str(uuid.uuid4()),
        "payment_id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "reason": None,
        "items": [{"sku": "A-1", "quantity": 1}],
    }


def test_a_service_runs_every_kafka_command_on_its_own_catalog(
    service: Path, env: dict[str, str], names: dict[str, str], admin: AdminClient, registry: str
) -> None:
    captured, refunds = names["PAYMENTS_CAPTURED_TOPIC"], names["PAYMENTS_REFUNDS_TOPIC"]
    assert cli(service, "lock", env=env).returncode == EXIT_OK
    registered = cli(service, "register", "--registry", registry, env=env)
    assert registered.returncode == EXIT_OK, registered.stderr
    assert f"{captured}-value (PaymentCaptured): registering v1" in registered.stdout

    # retention: pinned by the catalog, else KAFKA_CFG_LOG_RETENTION_HOURS, else its default
    dry = cli(service, "topics", "apply", "--dry-run", env=env)
    assert dry.returncode == EXIT_OK, dry.stderr
    assert (
        f"{captured}: create with 2 partitions, cleanup.policy=delete, "
        "retention.ms=1209600000 (from retention in the catalog)"
    ) in dry.stdout
    assert "retention.ms=604800000 (from default-retention in the catalog)" in dry.stdout
    assert "tool.requests" not in dry.stdout
    hours = {**env, "KAFKA_CFG_LOG_RETENTION_HOURS": "48"}
    dry = cli(service, "topics", "apply", "--dry-run", env=hours)
    assert (
        f"{refunds}: create with 3 partitions, cleanup.policy=delete, "
        "retention.ms=172800000 (from KAFKA_CFG_LOG_RETENTION_HOURS)"
    ) in dry.stdout
    assert "retention.ms=1209600000 (from retention in the catalog)" in dry.stdout
    applied = cli(service, "topics", "apply", env=hours)
    assert applied.returncode == EXIT_OK, applied.stderr
    assert retention_of(admin, refunds) == "172800000"
    assert retention_of(admin, captured) == "1209600000"
    again = cli(service, "topics", "apply", "--dry-run", env=hours)
    assert f"{refunds}: up to date (retention.ms from KAFKA_CFG_LOG_RETENTION_HOURS)" in (
        again.stdout
    )

    payments = [payment("t1"), payment("t2")]
    lines = "".join(json.dumps(p) + "\n" for p in payments)
    produced = cli(service, "produce", captured, env=env, stdin=lines)
    assert produced.returncode == EXIT_OK, produced.stderr
    assert produced.stdout.startswith(f"delivered 2 messages to {captured}")
    consumed = cli(service, "consume", captured, "--from-beginning", env=env)
    assert consumed.returncode == EXIT_OK, consumed.stderr
    records = [json.loads(line) for line in consumed.stdout.splitlines()]
    assert sorted(r["value"]["payment_id"] for r in records) == sorted(
        p["payment_id"] for p in payments
    )
    assert {r["key"] for r in records} == {"t1", "t2"}
    assert all(Decimal(r["value"]["amount"]) == Decimal("12.5") for r in records)
    # No metadata.schema_version in the service's contracts: the registry's version.
    assert {r["schema_version"] for r in records} == {1}
    given = refund("t3")
    produced = cli(service, "produce", refunds, env=env, stdin=json.dumps(given) + "\n")
    assert produced.returncode == EXIT_OK, produced.stderr
    consumed = cli(service, "consume", refunds, "--from-beginning", env=env)
    assert [json.loads(line)["value"] for line in consumed.stdout.splitlines()] == [given]

    lag = cli(service, "lag", "--group", "ledger", env=env)  # the topics with a lag alert
    assert lag.returncode == EXIT_OK, lag.stderr
    assert refunds in lag.stdout
    assert captured not in lag.stdout
    # A catalog without lag alerts: the topics the group reads; a group reading none of
    # them is told to name one.
    pyproject = service / "pyproject.toml"
    kept = pyproject.read_text()
    pyproject.write_text(kept.replace("lag-alert = 100\n", ""))
    lag = cli(service, "lag", "--group", "ledger", env=env)
    assert lag.returncode == EXIT_OK, lag.stderr
    assert refunds in lag.stdout
    assert captured in lag.stdout
    nobody = cli(service, "lag", "--group", "nobody", env=env)
    assert nobody.returncode == EXIT_USAGE
    assert nobody.stderr.count("\n") == 1
    assert "no catalog topic has a lag alert or is read by group nobody" in nobody.stderr
    # the hint names the groups the catalog's consumers read in
    assert nobody.stderr.endswith(
        ": name one, or a group with --group (the catalog's: ledger, notifier)\n"
    )
    unnamed = cli(service, "lag", env=env)  # the default group, TOOL_EXECUTOR_GROUP's
    assert unnamed.returncode == EXIT_USAGE
    assert "or a group with --group (the catalog's: ledger, notifier)" in unnamed.stderr
    pyproject.write_text(kept)

    site = service / "site"
    assert cli(service, "docs", "--out", str(site), env=env).returncode == EXIT_OK
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert {f"topics/{captured}.html", f"topics/{refunds}.html"} <= pages
    assert not any("tool." in page for page in pages)
    refund_page = (site / "topics" / f"{refunds}.html").read_text()
    assert "7 days" in refund_page
    asyncapi = cli(service, "asyncapi", "--format", "json", env=env)
    assert asyncapi.returncode == EXIT_OK, asyncapi.stderr
    addresses = {c["address"] for c in json.loads(asyncapi.stdout)["channels"].values()}
    assert {captured, refunds, f"{captured}.dlq", f"{refunds}.dlq"} == addresses
    alerts = cli(service, "alerts", env=env)
    assert f'topic="{refunds}"' in alerts.stdout
    assert "> 100" in alerts.stdout
    assert "tool.requests" not in alerts.stdout


@pytest.fixture
def model(service: Path, tmp_path: Path) -> Iterator[type[Any]]:
    package = tmp_path / f"payments_models_{uuid.uuid4().hex[:6]}"
    with generated(service / "avro", package, "payment_captured") as module:
        yield module.PaymentCaptured


def test_clients_create_their_topics_on_a_wiped_broker(
    service: Path,
    env: dict[str, str],
    names: dict[str, str],
    admin: AdminClient,
    registry: str,
    model: type[Any],
) -> None:
    captured = names["PAYMENTS_CAPTURED_TOPIC"]
    assert cli(service, "register", "--registry", registry, env=env).returncode == EXIT_OK
    catalog = read_catalog_file(service / "pyproject.toml")
    settings = load_settings(env, catalog=catalog)
    assert captured not in admin.list_topics(timeout=10).topics
    obj = model.from_avro(
        {
            "payment_id": uuid.uuid4(),
            "tenant_id": "t1",
            "amount": Decimal("3.2500"),
            "currency": "EUR",
            "items": [],
        }
    )
    with ContractProducer(model, registry, settings=settings, ensure_topics=True) as producer:
        assert producer.topic == captured
        delivered = producer.send(obj).result(timeout=30)
    assert delivered.key == b"t1"
    topics = admin.list_topics(timeout=10).topics
    assert len(topics[captured].partitions) == 2
    assert f"{captured}.dlq" in topics
    # the broker is wiped: a service that boots again recovers by itself
    for future in admin.delete_topics([captured, f"{captured}.dlq"]).values():
        future.result(timeout=30)
    with ContractConsumer(
        model, registry, settings=settings, group_id=f"ledger-{uuid.uuid4().hex[:6]}",
        ensure_topics=True,
    ) as consumer:  # fmt: skip
        with ContractProducer(model, registry, settings=settings) as producer:
            producer.send(obj).result(timeout=30)
        received = consumer.poll(timeout=30)
    assert received is not None
    assert received.value == obj
    assert retention_of(admin, captured) == "1209600000"


@pytest.mark.slow
def test_the_service_s_own_stack_and_confluent_kafka_read_its_refunds(
    service: Path, tmp_path: Path
) -> None:
    """`dev up` gives the service its broker and registry with its topics and subjects
    (the shared type under its own); a refund produced on its catalog topic, items of the
    shared type, is read by confluent-kafka's AvroDeserializer through the registry."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL", "LOCAL_SECRET")
    }
    up = cli(service, "dev", "up", "--broker-port", "0", "--registry-port", "0", env=base)
    try:
        assert up.returncode == EXIT_OK, up.stderr
        exports = cli(service, "dev", "env", env=base).stdout.splitlines()
        variables = dict(line.removeprefix("export ").split("=", 1) for line in exports)
        env = {**base, **{k: v.strip("'") for k, v in variables.items()}}
        registry = env["SCHEMA_REGISTRY_URL"]
        client = SchemaRegistryClient({"url": registry})
        assert {"payments.captured-value", "payments.refunds-value"} <= set(client.get_subjects())
        assert "payments.contracts.LineItem" in client.get_subjects()
        package = tmp_path / f"refund_models_{uuid.uuid4().hex[:6]}"
        with generated(service / "avro", package, "refund_issued") as module:
            given = module.RefundIssued.from_avro(
                {
                    "refund_id": uuid.uuid4(),
                    "payment_id": uuid.uuid4(),
                    "tenant_id": "t9",
                    "reason": "damaged",
                    "items": [{"sku": "A-1", "quantity": 1}],
                }
            )
            settings = load_settings(env, catalog=read_catalog_file(service / "pyproject.toml"))
            with ContractProducer(module.RefundIssued, client, settings=settings) as producer:
                delivered = producer.send(given).result(timeout=30)
        assert delivered.topic == "payments.refunds"
        consumer = Consumer(
            {
                "bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"],
                "group.id": f"theirs-{uuid.uuid4().hex[:6]}",
                "auto.offset.reset": "earliest",
            }
        )
        try:
            consumer.assign([TopicPartition("payments.refunds", delivered.partition, 0)])
            message = consumer.poll(30)
        finally:
            consumer.close()
        assert message is not None
        assert message.error() is None
        theirs = AvroDeserializer(client)(
            message.value(), SerializationContext("payments.refunds", MessageField.VALUE)
        )
        assert theirs["items"] == [{"sku": "A-1", "quantity": 1}]
        assert theirs["reason"] == "damaged"
        assert str(theirs["refund_id"]) == str(given.refund_id)
        client.close()
    finally:
        down = cli(service, "dev", "down", env=base)
        assert down.returncode == EXIT_OK, down.stderr

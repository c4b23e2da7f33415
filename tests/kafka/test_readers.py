"""Consumer-driven contracts on a service tree of its own, with the local registry and
broker: readers register themselves (typed consumers, and confluent-kafka's
``DeserializingConsumer`` with the one-call registration), the cluster says which are
live, and ``check --readers`` and ``register`` prove each new version against them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import DeserializingConsumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer

from somacontracts.catalog import load_settings
from somacontracts.kafka import ContractConsumer, ContractProducer
from somacontracts.kafka.errors import ReaderBrokenError
from somacontracts.kafka.liveness import group_liveness
from somacontracts.kafka.readers import list_readers, register_reader
from somacontracts.kafka.writer_check import check_writer
from somacontracts.tooling.check.readers import writer_location
from somacontracts.tooling.cli import EXIT_OK, EXIT_VIOLATIONS, main
from somacontracts.tooling.configuration import read_config
from tests.generated import generated
from tests.groups import commit_offset

PYPROJECT = """\
[tool.somacontracts]
schemas = "avro"
lock = "somacontracts.lock"

[tool.somacontracts.levels]
Order = "BACKWARD"

[tool.somacontracts.lint]
disable = ["FIELD_ADDED_WITH_DEFAULT"]  # a decision by readers covers the level, not lint

[tool.somacontracts.topics."orders"]
contract = "Order"
key = "tenant_id"
partitions = 1
name-env = "ORDERS_TOPIC"
producers = ["shop"]
consumers = ["billing", "shipping"]
"""


def field(name: str, type_: Any, **more: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "doc": f"The {name}.", **more}


ORDER_ID, TENANT = field("order_id", "string"), field("tenant_id", "string")
V1 = [ORDER_ID, TENANT, field("amount", "long")]
V2 = [ORDER_ID, TENANT, field("amount", "long", default=0), field("note", "string", default="")]
ADDS_CURRENCY = [*V2, field("currency", "string")]
"""v3: a field without a default: BACKWARD refuses it (v3 cannot read v2's data), and
every reader reads v3's data (an extra field is skipped)."""
DROPS_AMOUNT = [ORDER_ID, TENANT, field("note", "string", default=""), field("currency", "string")]
"""v4: ``amount`` dropped: BACKWARD accepts it; a v1 reader, whose ``amount`` has no
default, cannot read it; a v2 reader can."""


def schema(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "record", "name": "Order", "namespace": "shop", "doc": "An order.",
            "fields": fields}  # fmt: skip


def write_version(project: Path, number: int, fields: list[dict[str, Any]]) -> None:
    folder = project / "avro" / "Order"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"v{number}.avsc").write_text(json.dumps(schema(fields), indent=2) + "\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bootstrap: str) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(PYPROJECT)
    write_version(folder, 1, V1)
    write_version(folder, 2, V2)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("ORDERS_TOPIC", f"orders.{uuid.uuid4().hex[:8]}")
    monkeypatch.delenv("SOMACONTRACTS_CATALOG", raising=False)
    return folder


@pytest.fixture
def client(registry: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry}) as opened:
        yield opened


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def read_one(consumer: ContractConsumer[Any]) -> None:
    stats = consumer.run(lambda _: None, max_messages=1, idle_timeout=10)
    assert stats.handled == 1


def test_proofs_against_live_readers(
    monkeypatch: pytest.MonkeyPatch,
    project: Path,
    registry: str,
    client: SchemaRegistryClient,
    admin: AdminClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = read_config(project / "pyproject.toml")
    settings = config.settings()
    orders = settings.topic_name("orders")
    assert cli(capsys, "lock")[0] == EXIT_OK
    code, out, err = cli(capsys, "register", "--registry", registry)
    assert code == EXIT_OK, err
    billing, shipping, legacy = (
        f"{n}-{uuid.uuid4().hex[:6]}" for n in ("billing", "shipping", "legacy")
    )

    with generated(project / "avro", project / "shop_models", "order") as models:
        with ContractProducer(
            models.OrderV2, registry, settings=settings, ensure_topics=True
        ) as producer:
            producer.send(models.OrderV2(order_id="o1", tenant_id="t1", amount=5, note="")).result(
                10
            )
        # Two typed consumers on different reader versions; manual assignment commits
        # offsets without a group join.
        for model, group, service in (
            (models.OrderV1, billing, "billing"),
            (models.OrderV2, shipping, None),
        ):
            with ContractConsumer(
                model,
                registry,
                settings=settings,
                group_id=group,
                partitions=[(orders, 0)],
                service=service,
            ) as consumer:
                read_one(consumer)
        # A service without the typed clients: confluent-kafka's own consumer and the
        # documented one-call registration.
        v1_text = json.dumps(schema(V1))
        register_reader(
            client, topic=orders, group=legacy, reader_schema=v1_text, service="audit", version=1
        )
        plain = DeserializingConsumer({
            "bootstrap.servers": settings.bootstrap_servers, "group.id": legacy,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "value.deserializer": AvroDeserializer(client, v1_text),
        })  # fmt: skip
        try:
            plain.assign([TopicPartition(orders, 0, 0)])
            message = None
            while message is None:
                message = plain.poll(1)
            value: Any = message.value()  # the deserializer's dict
            assert value["amount"] == 5
            plain.commit(message=message, asynchronous=False)
        finally:
            plain.close()

    readers = {r.group: r for r in list_readers(client, [f"{orders}-value"])}
    assert {g: (r.service, r.version) for g, r in readers.items()} == {
        billing: ("billing", 1),
        shipping: (shipping, 2),
        legacy: ("audit", 1),
    }  # no catalog consumer reads in the shipping group: its name stands for the service
    code, out, _ = cli(capsys, "status", "--registry", registry, "--format", "json")
    assert code == EXIT_OK, out
    (row,) = [r for r in json.loads(out) if r["subject"] == f"{orders}-value"]
    assert sorted((r["group"], r["version"]) for r in row["readers"]) == sorted(
        [(billing, 1), (shipping, 2), (legacy, 1)]
    )
    code, out, _ = cli(capsys, "status", "--registry", registry)
    assert f"readers of {orders}-value: " in out
    assert f"{legacy} (audit, v1)" in out
    again = register_reader(
        client, topic=orders, group=legacy, reader_schema=v1_text, service="audit", version=1
    )
    assert client.get_versions(again.registry_subject) == [1]  # the same reader again: a no-op

    # The level refuses v3, every live reader reads it: refused, unless --by-readers.
    write_version(project, 3, ADDS_CURRENCY)
    assert cli(capsys, "lock")[0] == EXIT_OK
    code, out, _ = cli(capsys, "check", "--readers", "--registry", registry)
    assert code == EXIT_VIOLATIONS
    assert "READERS_ACCEPT (warning)" in out
    assert "--by-readers allows it" in out
    assert "READER_BROKEN" not in out
    code, _, err = cli(capsys, "register", "--registry", registry)
    assert code == EXIT_VIOLATIONS, err  # the registry's level refuses it
    code, out, err = cli(capsys, "register", "--registry", registry, "--by-readers")
    assert code == EXIT_OK, err
    lock = json.loads((project / "somacontracts.lock").read_text())
    decision = lock["by_readers"]["Order"]["3"]
    assert decision["level"] == "BACKWARD"
    assert {r["group"] for r in decision["readers"]} == {billing, shipping, legacy}
    assert client.get_compatibility(f"{orders}-value") == "BACKWARD"  # level back in place
    code, out, _ = cli(capsys, "check")
    assert code == EXIT_OK, out  # the decision recorded: the level's findings are warnings
    assert "allowed by readers" in out

    # The level accepts v4, live v1 readers cannot read it: refused, naming them.
    write_version(project, 4, DROPS_AMOUNT)
    assert cli(capsys, "lock")[0] == EXIT_OK
    code, out, _ = cli(capsys, "check", "--readers", "--registry", registry)
    assert code == EXIT_VIOLATIONS
    broken = [line for line in out.splitlines() if "READER_BROKEN" in line]
    assert len(broken) == 2, out
    assert any(f'group "{billing}" (service "billing", reader v1)' in line for line in broken)
    assert any(f'group "{legacy}" (service "audit", reader v1)' in line for line in broken)
    assert all("v4.avsc:/fields" in line for line in broken)  # located in the new file
    assert all('"amount"' in line for line in broken)
    assert all(".;" not in line for line in broken)  # the problem's sentence, then the advice
    assert any(line.endswith(f'; upgrade group "{billing}" first') for line in broken)
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", registry)  # the registry the environment names
    assert cli(capsys, "check", "--readers") == (EXIT_VIOLATIONS, out, "")
    monkeypatch.delenv("SCHEMA_REGISTRY_URL")
    code, _, err = cli(capsys, "register", "--registry", registry)
    assert code == EXIT_VIOLATIONS
    assert "READER_BROKEN" in err
    assert "nothing registered" in err
    assert 4 not in client.get_versions(f"{orders}-value")
    # A producer of v4 finds the same at its start-up: a warning, or an error when asked.
    with generated(project / "avro", project / "shop_models_v4", "order") as models:
        found = check_writer(
            client, settings, models.OrderV4, topic=orders, subject=f"{orders}-value",
            label="Order v4", mode="warn",
        )  # fmt: skip
        assert sorted(line.split(" ")[0] for line in found) == sorted([billing, legacy])
        with pytest.raises(ReaderBrokenError, match=f"Order v4 on {orders} cannot be read"):
            check_writer(
                client, settings, models.OrderV4, topic=orders, subject=f"{orders}-value",
                label="Order v4", mode="error",
            )  # fmt: skip

    # A group gone from the cluster is not live; a retired group no longer constrains.
    for future in admin.delete_consumer_groups([legacy], request_timeout=10).values():
        future.result()
    assert not group_liveness(settings, orders, [legacy])[legacy].live
    code, out, _ = cli(capsys, "readers", orders, "--registry", registry, "--format", "json")
    rows = {r["group"]: r for r in json.loads(out)}
    assert rows[legacy]["live"] is False
    assert rows[shipping]["live"] is True
    assert rows[shipping]["lag"] == 0
    code, out, _ = cli(capsys, "readers", "retire", billing, "--registry", registry)
    assert code == EXIT_OK
    assert f"retired {billing}" in out
    code, out, err = cli(capsys, "readers", "retire", billing, "--registry", registry)
    assert (code, out) == (EXIT_VIOLATIONS, "")
    assert err == f"somacontracts readers: no reader of group {billing} is registered\n"
    code, out, _ = cli(capsys, "check", "--readers", "--registry", registry)
    assert "READER_BROKEN" not in out
    code, out, err = cli(capsys, "register", "--registry", registry)
    assert code == EXIT_OK, err
    assert 4 in client.get_versions(f"{orders}-value")
    with (
        generated(project / "avro", project / "shop_models_v4b", "order") as models,
        ContractProducer(models.OrderV4, registry, settings=settings, check_readers="error") as v4,
    ):
        assert v4.unread_by == []  # every live reader reads v4 now


def test_a_registered_reader_whose_group_never_read_is_not_live(
    bootstrap: str, registry: str, admin: AdminClient
) -> None:
    settings = load_settings({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    group = f"never-{uuid.uuid4().hex[:6]}"
    state = group_liveness(settings, "tool.requests", [group])[group]
    assert (state.live, state.listed, state.committed) == (False, False, False)


@pytest.mark.parametrize("registration", ["warn", "require"])
def test_a_read_only_registry_warns_or_refuses_as_asked(
    settings: Any, registry: str, caplog: pytest.LogCaptureFixture, registration: str
) -> None:
    from somacontracts import ToolInvocation
    from somacontracts.errors import RegistryError
    from somacontracts.kafka.readers import readers_subject

    topic = settings.topic_name("tool_requests")
    group = f"readonly-{uuid.uuid4().hex[:6]}"
    subject = readers_subject("tool.requests-value", group)
    with SchemaRegistryClient({"url": registry}) as client:
        client._rest_client.put(f"mode/{subject}", body={"mode": "READONLY"})
    options: dict[str, Any] = {
        "settings": settings, "topics": [topic], "partitions": [(topic, 0)],
        "group_id": group, "register_reader": registration, "subject": "tool.requests-value",
    }  # fmt: skip
    if registration == "require":
        with pytest.raises(RegistryError, match="42205"):
            ContractConsumer(ToolInvocation, registry, **options)
        return
    with (
        caplog.at_level("WARNING", "somacontracts.readers"),
        ContractConsumer(ToolInvocation, registry, **options) as consumer,
    ):
        assert consumer.poll(0.1) is None  # it started and reads
    assert f"reader of group {group} on {topic} not registered" in caplog.text
    with SchemaRegistryClient({"url": registry}) as client:
        assert subject not in client.get_subjects()


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("/fields/2", "/fields"),  # a reader field the writer dropped: the writer's fields
        ("/fields/1/type", "/fields/0/type"),  # followed by name, wherever it moved
        ("", ""),
    ],
)
def test_reader_locations_land_in_the_writer_file(pointer: str, expected: str) -> None:
    reader = schema([ORDER_ID, TENANT, field("amount", "long")])
    writer = schema([TENANT, ORDER_ID])
    assert writer_location(reader, writer, pointer) == expected


def test_a_reader_replaced_during_a_rolling_deploy_still_counts_for_a_while(
    monkeypatch: pytest.MonkeyPatch,
    project: Path,
    registry: str,
    client: SchemaRegistryClient,
    bootstrap: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A group's first instances read with v1; one restarted on v2 registers v2. Until the
    # grace ends, the v1 instances not yet replaced still constrain the producers.
    orders = read_config(project / "pyproject.toml").settings().topic_name("orders")
    assert cli(capsys, "lock")[0] == EXIT_OK
    assert cli(capsys, "register", "--registry", registry)[0] == EXIT_OK
    fleet = f"fleet-{uuid.uuid4().hex[:6]}"
    for fields, version in ((V1, 1), (V2, 2)):
        register_reader(
            client, topic=orders, group=fleet, reader_schema=json.dumps(schema(fields)),
            service="fleet", version=version,
        )  # fmt: skip
    commit_offset(bootstrap, orders, fleet)
    drops_amount = [ORDER_ID, TENANT, field("note", "string", default="")]
    write_version(project, 3, drops_amount)  # BACKWARD accepts it; v1 cannot read it
    assert cli(capsys, "lock")[0] == EXIT_OK
    code, out, _ = cli(capsys, "check", "--readers", "--registry", registry)
    assert code == EXIT_VIOLATIONS
    (broken,) = [line for line in out.splitlines() if "READER_BROKEN" in line]
    assert f'group "{fleet}" (service "fleet", reader v1, replaced at ' in broken
    monkeypatch.setenv("SOMACONTRACTS_READERS_GRACE", "0")  # the deploy is over
    code, out, _ = cli(capsys, "check", "--readers", "--registry", registry)
    assert "READER_BROKEN" not in out
    assert code == EXIT_OK, out

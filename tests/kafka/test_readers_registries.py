"""Readers on a registry that keeps metadata (the local registry, as Confluent's) and on
one that drops it (the Karapace 5 stand-in): service, reader version and topic survive on
both, inside the reader schema's own property, and registering the same reader again is
one read and no write on both."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fastavro
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from hypothesis import given, settings
from hypothesis import strategies as st

from somacontracts.compat.engine import check_reader_writer
from somacontracts.kafka import readers as readers_module
from somacontracts.kafka.readers import list_readers, register_reader
from somacontracts.kafka.writer_check import unreadable_by
from somacontracts.schema import parse
from somacontracts.tooling.cli import EXIT_OK, main
from somacontracts.tooling.registry import LocalRegistry
from tests.registries import KARAPACE_5, profiled_registry

READER_V1 = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [{"name": "order_id", "type": "string"}, {"name": "amount", "type": "long"}],
}
WRITER_WITHOUT_AMOUNT = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [{"name": "order_id", "type": "string"}],
}


@contextmanager
def _registry(kind: str) -> Iterator[str]:
    if kind == "confluent":
        with LocalRegistry() as registry:
            yield registry.url
    else:
        with profiled_registry(KARAPACE_5) as (_, url):
            yield url


@pytest.fixture(params=["confluent", "karapace"])
def registry_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with _registry(request.param) as url:
        yield url


@contextmanager
def _requests(client: SchemaRegistryClient) -> Iterator[list[tuple[str, str]]]:
    """The HTTP requests ``client`` sends meanwhile, as (method, path)."""
    sent: list[tuple[str, str]] = []
    rest: Any = client._rest_client
    original = rest.send_request

    def recorded(url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        sent.append((method, url))
        return original(url, method, *args, **kwargs)

    rest.send_request = recorded
    try:
        yield sent
    finally:
        rest.send_request = original


def test_service_and_version_survive_a_registry_that_drops_metadata(
    registry_url: str,
    bootstrap: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = f"orders.eu.{uuid.uuid4().hex[:6]}"  # dots in the topic and in the group
    group = "billing.v1-readers"
    text = json.dumps(READER_V1)
    with SchemaRegistryClient({"url": registry_url}) as client:
        register_reader(
            client, topic=topic, group=group, reader_schema=text, service="billing", version=1
        )
        with _requests(client) as sent:
            register_reader(
                client, topic=topic, group=group, reader_schema=text, service="billing", version=1
            )
        assert [method for method, _ in sent] == ["GET"]  # the same reader again: one read
        (reader,) = list_readers(client, [f"{topic}-value"])
        assert (reader.subject, reader.topic, reader.group) == (f"{topic}-value", topic, group)
        assert (reader.service, reader.version) == ("billing", 1)
        assert json.loads(reader.schema) == READER_V1  # without the property

        stored = client.get_latest_version(reader.registry_subject).schema.schema_str
        decoded = json.loads(stored)
        assert decoded["somacontracts.reader"]["service"] == "billing"
        assert decoded["somacontracts.reader"]["version"] == 1
        fastavro.parse_schema(decoded)  # still a schema other tools read
        writer = parse(WRITER_WITHOUT_AMOUNT, source="writer")
        with_property, without = (
            check_reader_writer(stored, writer),
            check_reader_writer(text, writer),
        )
        assert [p.message for p in with_property.problems] == [p.message for p in without.problems]
        assert [r.group for r, _ in unreadable_by(WRITER_WITHOUT_AMOUNT, [reader])] == [group]

        # Another service name is another reader version, on either registry.
        register_reader(
            client, topic=topic, group=group, reader_schema=text, service="ledger", version=1
        )
        (moved,) = list_readers(client, [f"{topic}-value"])
        assert moved.service == "ledger"
        assert client.get_versions(reader.registry_subject) == [1, 2]

    listing = ["readers", topic, "--registry", registry_url, "--bootstrap", bootstrap]
    code = main(listing)
    out = capsys.readouterr().out
    assert code == EXIT_OK
    current, replaced = [line.split() for line in out.splitlines() if line.startswith(topic)]
    assert current[:4] == [topic, group, "ledger", "v1"]
    # The reader it replaced a moment ago still counts: a rolling deploy's older instances.
    assert replaced[:6] == [topic, group, "billing", "v1", "(replaced", "at"]
    monkeypatch.setenv("SOMACONTRACTS_READERS_GRACE", "0s")
    assert main(listing) == EXIT_OK
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [row[2] for row in rows if row[0] == topic] == ["ledger"]


@settings(max_examples=80, deadline=None)
@given(
    service=st.text(min_size=1),
    group=st.text(min_size=1),
    version=st.none() | st.integers(min_value=1, max_value=2**31),
    schema=st.sampled_from([READER_V1, "string", {"type": "map", "values": "long"}]),
)
def test_the_embedded_property_reads_back_as_written(
    service: str, group: str, version: int | None, schema: Any
) -> None:
    text = json.dumps(schema)
    properties = {"somacontracts.service": service, "somacontracts.group": group}
    if version is not None:
        properties["somacontracts.version"] = str(version)
    carried = readers_module._with_embedded(text, properties)
    parse(carried, source="reader")  # still a schema
    back, found = readers_module._without_embedded(carried)
    assert json.loads(back) == schema
    assert found == properties


def test_a_union_reader_schema_carries_no_property() -> None:
    text = json.dumps(["null", "string"])
    assert readers_module._with_embedded(text, {"somacontracts.service": "s"}) == text

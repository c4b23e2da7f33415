"""Prometheus metrics of the typed clients: scraped over HTTP after a real run on a broker."""

from __future__ import annotations

import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from somacontracts.catalog.environment import MetricsSettings, Settings, load_settings
from somacontracts.errors import (
    ConfigurationError,
    DeserializationError,
    SchemaNotFoundError,
    SerializationError,
)
from somacontracts.kafka import ContractConsumer, ContractProducer, Received
from somacontracts.kafka.lag import partition_lag, starts_from_earliest
from somacontracts.kafka.metrics import (
    DURATION_BUCKETS,
    ClientMetrics,
    default_metrics,
    metrics_for,
)
from somacontracts.models import ToolInvocation
from somacontracts.tooling.dev.broker import free_port
from somacontracts.tooling.dev.samples import sample_invocation
from tests.kafka.conftest import create_topics

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(port: int) -> Samples:
    """Every sample served at ``port``, keyed by (name, labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
def metrics() -> Iterator[ClientMetrics]:
    found = ClientMetrics(CollectorRegistry(), lag_interval=0.1)
    yield found
    found.close()


def test_metrics_settings_come_from_the_environment() -> None:
    assert load_settings({}).metrics == MetricsSettings()
    assert load_settings({"SOMACONTRACTS_METRICS": "on"}).metrics.enabled
    served = load_settings({"SOMACONTRACTS_METRICS_PORT": "9464"}).metrics
    assert (served.enabled, served.port, served.address) == (True, 9464, "127.0.0.1")
    off = load_settings({"SOMACONTRACTS_METRICS": "0", "SOMACONTRACTS_METRICS_PORT": "9464"})
    assert off.metrics == MetricsSettings(enabled=False, port=None)
    for variable, value in (
        ("SOMACONTRACTS_METRICS", "maybe"),
        ("SOMACONTRACTS_METRICS_PORT", "70000"),
        ("SOMACONTRACTS_METRICS_PORT", "http"),
        ("SOMACONTRACTS_METRICS_ADDRESS", "a b"),
    ):
        with pytest.raises(ConfigurationError, match=variable):
            load_settings({variable: value})


def test_the_collector_reports_tallies_as_prometheus_families(metrics: ClientMetrics) -> None:
    producer = metrics.producer("tool.requests", "ToolInvocation")
    producer.produced += 3
    producer.serialize_error(SerializationError("bad"))
    consumer = metrics.consumer("tool.requests", "ToolInvocation", "g")
    for seconds in (0.00005, 0.003, 0.003, 20.0):
        consumer.observe(seconds)
    consumer.deserialize_error(SchemaNotFoundError("http://127.0.0.1:1", "no schema of id 7"))
    consumer.dead_letter_failures += 2
    value = metrics.registry.get_sample_value
    labels = {"topic": "tool.requests", "contract": "ToolInvocation"}
    assert value("somacontracts_messages_produced_total", labels) == 3
    serde = "somacontracts_serde_errors_total"
    # A producer's serde errors have an empty group: no group label, to Prometheus.
    serialize = {**labels, "group": "", "operation": "serialize"}
    assert value(serde, {**serialize, "error": "SerializationError"}) == 1
    group = {**labels, "group": "g"}
    assert value(serde, {**group, "operation": "deserialize", "error": "SchemaNotFoundError"}) == 1
    assert value("somacontracts_dead_letter_failures_total", group) == 2
    assert value("somacontracts_handler_duration_seconds_count", group) == 4
    assert value("somacontracts_handler_duration_seconds_sum", group) == pytest.approx(20.00605)
    assert value("somacontracts_handler_duration_seconds_bucket", {**group, "le": "0.0001"}) == 1
    assert value("somacontracts_handler_duration_seconds_bucket", {**group, "le": "0.005"}) == 3
    assert value("somacontracts_handler_duration_seconds_bucket", {**group, "le": "10.0"}) == 3
    assert value("somacontracts_handler_duration_seconds_bucket", {**group, "le": "+Inf"}) == 4
    assert len(DURATION_BUCKETS) + 1 == len(consumer.buckets)


def test_a_registry_holds_one_client_metrics(metrics: ClientMetrics) -> None:
    with pytest.raises(ConfigurationError, match="already reports somacontracts' metrics"):
        ClientMetrics(metrics.registry)
    assert default_metrics() is default_metrics()


def test_the_topic_names_cannot_collide_with_dead_letter_topics() -> None:
    with pytest.raises(ConfigurationError, match=r"TOOL_RESULTS_TOPIC: 'tool\.requests\.dlq' is"):
        load_settings({"TOOL_RESULTS_TOPIC": "tool.requests.dlq"})
    assert load_settings({"SOMACONTRACTS_METRICS_ADDRESS": "[::1]"}).metrics.address == "::1"
    for address in ("127.0.0.1:80", "999.1.1.1", "a b"):
        with pytest.raises(ConfigurationError, match="SOMACONTRACTS_METRICS_ADDRESS"):
            load_settings({"SOMACONTRACTS_METRICS_ADDRESS": address})


def test_metrics_are_off_unless_asked_for(settings: Settings) -> None:
    assert metrics_for(None, settings) is None
    assert metrics_for(False, load_settings({"SOMACONTRACTS_METRICS": "1"})) is None
    mine = ClientMetrics(CollectorRegistry())
    assert metrics_for(mine, settings) is mine


def test_the_metrics_port_serves_the_default_registry() -> None:
    port = free_port()
    found = metrics_for(None, load_settings({"SOMACONTRACTS_METRICS_PORT": str(port)}))
    assert found is not None
    try:
        assert found is default_metrics()
        found.producer("t", "ToolInvocation").produced += 2
        samples = _scrape(port)
        produced = _value(
            samples, "somacontracts_messages_produced_total", topic="t", contract="ToolInvocation"
        )
        assert produced == 2
        assert found.serve(port) == port
    finally:
        found.close()


def test_a_run_shows_the_right_counts_when_scraped(
    settings: Settings,
    registry: str,
    admin: AdminClient,
    bootstrap: str,
    metrics: ClientMetrics,
) -> None:
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic, partitions=1)
    port = metrics.serve(0)
    good = [sample_invocation(tenant_id="t") for _ in range(6)]
    with ContractProducer(
        ToolInvocation,
        registry,
        settings=settings,
        topic=topic,
        subject=ToolInvocation.SUBJECT,
        metrics=metrics,
    ) as producer:
        # One message per broker batch: the local broker's end offset counts batches.
        for call in good:
            producer.send(call).result(10)
        broken = sample_invocation(tenant_id="t")
        broken.task_id = "not-a-uuid"  # type: ignore[assignment]
        with pytest.raises(SerializationError):
            producer.produce(broken)
        raw = Producer({"bootstrap.servers": bootstrap})
        raw.produce(topic, b"\x01garbage", b"t")
        raw.flush(10)
        for _ in range(3):
            producer.send(sample_invocation(tenant_id="t")).result(10)
    unlucky = good[2].task_id

    def handle(received: Received[ToolInvocation]) -> None:
        if received.value.task_id == unlucky:
            raise RuntimeError("refused")

    group = f"metrics-{uuid.uuid4().hex[:6]}"
    consumer = ContractConsumer(
        ToolInvocation,
        registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        subject=ToolInvocation.SUBJECT,
        group_id=group,
        max_attempts=2,
        metrics=metrics,
    )
    try:
        stats = consumer.run(handle, max_messages=7, idle_timeout=10, batch_size=1)
        consumer.commit()
        assert (stats.handled, stats.dead_lettered, stats.retries) == (5, 2, 1)
        samples = _scrape(port)
        produced = {"topic": topic, "contract": "ToolInvocation"}
        taken = {**produced, "group": group}
        assert _value(samples, "somacontracts_messages_produced_total", **produced) == 9
        assert _value(samples, "somacontracts_delivery_failures_total", **produced) == 0
        serde = {
            (labels["operation"], labels["error"]): value
            for (name, pairs), value in samples.items()
            if name == "somacontracts_serde_errors_total"
            and (labels := dict(pairs))["topic"] == topic
        }
        assert serde == {  # the usual classes are reported from 0 on, so a rise shows
            ("serialize", "SerializationError"): 1,
            ("serialize", "WriteRuleError"): 0,
            ("deserialize", "DeserializationError"): 1,
            ("deserialize", "SchemaNotFoundError"): 0,
            ("deserialize", "ReadRuleError"): 0,
        }
        assert _value(samples, "somacontracts_messages_consumed_total", **taken) == 7
        dead = "somacontracts_dead_lettered_total"
        assert _value(samples, dead, **taken, reason="undecodable") == 1
        assert _value(samples, dead, **taken, reason="handler_failed") == 1
        assert _value(samples, "somacontracts_handler_retries_total", **taken) == 1
        # Six good messages taken: five handled once, the unlucky one twice.
        assert _value(samples, "somacontracts_handler_duration_seconds_count", **taken) == 7
        produced_bytes = _value(samples, "somacontracts_produced_bytes_total", **produced)
        consumed_bytes = _value(samples, "somacontracts_consumed_bytes_total", **taken)
        assert produced_bytes is not None
        assert consumed_bytes is not None
        assert 0 < consumed_bytes < produced_bytes + len(b"\x01garbage")
        # Ten messages, seven committed: a lag of three.
        lag = _wait_for_lag(port, topic, group, expected=3.0)
        assert lag == 3.0
    finally:
        consumer.close()
    gone = _value(
        _scrape(port), "somacontracts_consumer_lag", topic=topic, partition="0", group=group
    )
    assert gone is None  # a closed consumer's lag is not reported on


def _wait_for_lag(port: int, topic: str, group: str, *, expected: float) -> float | None:
    """The lag gauge of partition 0 once it shows ``expected``, or its last value."""
    deadline = time.monotonic() + 15
    lag = None
    while time.monotonic() < deadline:
        lag = _value(
            _scrape(port), "somacontracts_consumer_lag", topic=topic, partition="0", group=group
        )
        if lag == expected:
            break
        time.sleep(0.05)
    return lag


NAMES = st.sampled_from(["tool.requests", "tool.results", "a"])


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    producers=st.lists(st.tuples(NAMES, NAMES)),
    consumers=st.lists(st.tuples(NAMES, NAMES, st.sampled_from(["g", "h", "tool-executor"]))),
    lags=st.dictionaries(st.tuples(NAMES, st.sampled_from(["0", "1"]), NAMES), st.integers(0)),
)
def test_no_two_samples_are_one_series_to_prometheus(
    producers: list[tuple[str, str]],
    consumers: list[tuple[str, str, str]],
    lags: dict[tuple[str, str, str], int],
) -> None:
    """Prometheus keeps one of two samples of the same name and labels (an empty label is
    no label): every client's series must differ from every other's."""
    metrics = ClientMetrics(CollectorRegistry())
    for topic, contract in producers:
        metrics.producer(topic, contract).serialize_error(SerializationError("bad"))
    for topic, contract, group in consumers:
        metrics.consumer(topic, contract, group).deserialize_error(DeserializationError("bad"))
    metrics._replace_lags(set(), lags)
    series = [
        (sample.name, frozenset((k, v) for k, v in sample.labels.items() if v))
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for sample in family.samples
    ]
    assert len(series) == len(set(series))
    expected = len({(t, c) for t, c in producers}) * 2 + len({*consumers}) * 3
    assert sum(name == "somacontracts_serde_errors_total" for name, _ in series) == expected


@given(end=st.integers(0, 10**12), committed=st.integers(-1001, 10**12), start=st.integers(0))
def test_a_partition_s_lag_counts_from_where_the_group_resumes(
    end: int, committed: int, start: int
) -> None:
    lag = partition_lag(end, committed, start)
    assert lag >= 0
    resume = committed if committed >= 0 else start
    assert lag == max(end - resume, 0)
    assert partition_lag(end, None, start) == partition_lag(end, -1001, start)


def test_the_lag_interval_must_be_positive() -> None:
    for wrong in (0.0, -1.0, float("nan")):
        with pytest.raises(ConfigurationError, match="lag_interval"):
            ClientMetrics(CollectorRegistry(), lag_interval=wrong)
    assert starts_from_earliest("earliest")
    assert starts_from_earliest("smallest")
    assert not starts_from_earliest("latest")
    assert not starts_from_earliest(None)

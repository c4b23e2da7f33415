"""End to end: a real Prometheus server (Debian's) scrapes a typed producer and consumer on
the local broker every second and evaluates ``somacontracts alerts``' rules every second;
with the clients' series alone, the lag alert goes pending then fires and the dead-letter
alert fires."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from prometheus_client import CollectorRegistry

from somacontracts.catalog.environment import Settings, load_settings
from somacontracts.catalog.platform import TOPICS
from somacontracts.kafka import ContractConsumer, ContractProducer, Received
from somacontracts.kafka.metrics import ClientMetrics
from somacontracts.models import ToolInvocation
from somacontracts.tooling.dev.broker import free_port, wait_for_port
from somacontracts.tooling.dev.samples import sample_invocation
from somacontracts.tooling.monitoring import AlertTimes, render_rules
from tests.kafka.conftest import FAST_GROUP, create_topics

FAST = AlertTimes(lag_for="3s", stalled_window="1m", stalled_for="1m")
"""Rule durations short enough for a test: the lag alert fires 3 s after it is pending."""


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def server(prometheus: str, tmp_path: Path) -> Iterator[Callable[[int, str], str]]:
    """``start(port, rules)``: a Prometheus server scraping ``127.0.0.1:port`` and
    evaluating the ``rules`` text, each every second; its base URL once it is ready."""
    started: list[subprocess.Popen[bytes]] = []
    log_path = tmp_path / "prometheus.log"

    def start(target: int, rules: str) -> str:
        (tmp_path / "rules.yml").write_text(rules)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["rules.yml"],
            "scrape_configs": [
                {"job_name": "clients", "static_configs": [{"targets": [f"127.0.0.1:{target}"]}]}
            ],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        with log_path.open("wb") as log:
            started.append(
                subprocess.Popen(
                    [
                        prometheus,
                        f"--config.file={tmp_path / 'prometheus.yml'}",
                        f"--storage.tsdb.path={tmp_path / 'data'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            )
        assert wait_for_port("127.0.0.1", port, timeout=30), log_path.read_text()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=5) as response:
                    if response.status == 200:
                        return url
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail("prometheus did not become ready: " + log_path.read_text())

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def _alerts(url: str) -> list[dict[str, Any]]:
    return list(_get(f"{url}/api/v1/alerts")["data"]["alerts"])


def test_prometheus_sees_the_lag_alert_go_pending_and_fire_and_the_dead_letter_alert_fire(
    server: Callable[[int, str], str],
    somacontracts_bootstrap: str,
    somacontracts_registry: str,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    settings: Settings = load_settings(
        {
            "KAFKA_BOOTSTRAP_SERVERS": somacontracts_bootstrap,
            "TOOL_REQUESTS_TOPIC": f"tool.requests.{suffix}",
            "TOOL_RESULTS_TOPIC": f"tool.results.{suffix}",
        }
    )
    topic = settings.topic_name("tool_requests")
    threshold = TOPICS["tool_requests"].lag_alert
    assert threshold is not None
    create_topics(AdminClient({"bootstrap.servers": somacontracts_bootstrap}), topic, partitions=1)
    metrics = ClientMetrics(CollectorRegistry(), lag_interval=0.5)
    url = server(metrics.serve(0), render_rules(settings, times=FAST))
    raw = Producer({"bootstrap.servers": somacontracts_bootstrap})
    raw.produce(topic, b"\x00\x00\x00\x00\x01not avro", b"t")
    raw.flush(10)
    count = threshold + 100
    # One message per broker batch: the local broker's end offset counts batches.
    with ContractProducer(
        ToolInvocation,
        somacontracts_registry,
        settings=settings,
        topic=topic,
        subject=ToolInvocation.SUBJECT,
        config={"batch.num.messages": 1, "linger.ms": 0},
        metrics=metrics,
    ) as producer:
        for _ in range(count):
            producer.produce(sample_invocation(tenant_id="t"))
        producer.flush(30)

    group = f"e2e-{suffix}"
    release = threading.Event()

    def stuck(_received: Received[ToolInvocation]) -> None:
        release.wait(120)

    consumer = ContractConsumer(
        ToolInvocation,
        somacontracts_registry,
        settings=settings,
        topics=[topic],
        partitions=[(topic, 0)],
        group_id=group,
        subject=ToolInvocation.SUBJECT,
        config=FAST_GROUP,
        metrics=metrics,
    )
    running = threading.Thread(
        target=consumer.run, args=(stuck,), kwargs={"max_messages": 2, "idle_timeout": 30}
    )
    running.start()
    try:
        states: dict[str, set[str]] = {}
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for alert in _alerts(url):
                states.setdefault(alert["labels"]["alertname"], set()).add(alert["state"])
                found[alert["labels"]["alertname"]] = alert
            if "firing" in states.get("ContractConsumerLagHigh", ()) and "firing" in states.get(
                "ContractDeadLetters", ()
            ):
                break
            time.sleep(0.2)
        assert states.get("ContractConsumerLagHigh") == {"pending", "firing"}, states
        assert "firing" in states.get("ContractDeadLetters", set()), states
        lag = found["ContractConsumerLagHigh"]
        assert lag["labels"] | {"alertname": ""} == {
            "alertname": "",
            "group": group,
            "topic": topic,
            "partition": "0",
            "severity": "warning",
        }
        # The garbage was dead-lettered and committed; the next message is in hand.
        assert float(lag["value"]) == count
        dead = found["ContractDeadLetters"]["labels"]
        assert (dead["group"], dead["topic"], dead["reason"]) == (group, topic, "undecodable")
        produced = _get(f"{url}/api/v1/query?query=somacontracts_messages_produced_total")["data"][
            "result"
        ]
        assert [float(r["value"][1]) for r in produced] == [count]
        assert not {"KafkaConsumerLagHigh", "KafkaDeadLetterMessages"} & states.keys()
    finally:
        release.set()
        running.join(30)
        consumer.close()
        metrics.close()

"""The catalog's static facts and the environment overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from somacontracts import catalog
from somacontracts.catalog.environment import KAFKA_LOG, load_settings
from somacontracts.catalog.platform import CONTRACTS, TOPICS
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import ConfigurationError, ContractError, UnknownContractError

DAY_MS = 86_400_000


def test_the_documented_topics_and_retention() -> None:
    documented = {
        t.default_name: (t.default_retention_ms or 0) // DAY_MS
        for t in TOPICS.values()
        if t.in_source_document
    }
    assert documented == {
        "tool.requests": 7,
        "tool.results": 7,
        "conversation.inbound": 3,
        "conversation.outbound": 3,
        "config_updates": 1,
    }
    assert all(t.partitions == 3 and t.cleanup_policy == "delete" for t in TOPICS.values())
    # the document: "adjust via KAFKA_CFG_LOG_RETENTION_HOURS", so no topic pins its own
    assert all(t.retention_ms is None for t in TOPICS.values())


def test_every_topic_carries_a_catalogued_contract_and_back() -> None:
    for topic in TOPICS.values():
        assert topic.key in CONTRACTS[topic.contract].topics
    for contract in CONTRACTS.values():
        for key in contract.topics:
            assert TOPICS[key].contract == contract.name
    # The platform's catalog pins its contracts' level (a service's may leave it to
    # default-level).
    assert {c.compatibility for c in CONTRACTS.values()} == {CompatibilityLevel.FULL_TRANSITIVE}


def test_delegated_task_topic_is_marked_as_an_addition() -> None:
    (topic,) = [TOPICS[k] for k in CONTRACTS["DelegatedTask"].topics]
    assert topic.in_source_document is False
    assert topic.env_var is None


def test_legacy_monitoring_name_points_at_a_topic_with_the_alert() -> None:
    key = catalog.LEGACY_TOPIC_NAMES["somastack.tools"]
    assert TOPICS[key].lag_alert == 500


def test_defaults_without_environment() -> None:
    settings = load_settings({})
    assert settings.topic_name("tool_requests") == "tool.requests"
    assert settings.subjects_of("ConversationEvent") == (
        "conversation.inbound-value",
        "conversation.outbound-value",
    )
    assert settings.consumer_config() == {
        "bootstrap.servers": "localhost:9092",
        "security.protocol": "PLAINTEXT",
        "group.id": "tool-executor",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "logger": KAFKA_LOG,
    }
    assert settings.producer_config()["enable.idempotence"] is True
    assert settings.admin_config() == settings.kafka_config()


def test_overrides_are_applied() -> None:
    settings = load_settings(
        {
            "TOOL_REQUESTS_TOPIC": "prod.tool.requests",
            "TOOL_RESULTS_TOPIC": "prod.tool.results",
            "TOOL_EXECUTOR_GROUP": "executors-eu",
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9093, localhost:9094",
        }
    )
    assert settings.topics_of("ToolInvocation") == ("prod.tool.requests",)
    assert settings.subjects_of("ToolResult") == ("prod.tool.results-value",)
    config = settings.consumer_config()
    assert config["group.id"] == "executors-eu"
    assert config["bootstrap.servers"] == "127.0.0.1:9093,localhost:9094"
    assert settings.consumer_config("other")["group.id"] == "other"


def test_sasl_ssl_configuration(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = load_settings(
        {
            "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "KAFKA_SASL_MECHANISM": "scram-sha-512",
            "KAFKA_SASL_USERNAME": "svc",
            "KAFKA_SASL_PASSWORD": "secret",
            "KAFKA_SSL_CAFILE": str(ca),
        }
    )
    assert settings.kafka_config() == {
        "bootstrap.servers": "localhost:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "svc",
        "sasl.password": "secret",
        "ssl.ca.location": str(ca),
        "logger": KAFKA_LOG,
    }
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"TOOL_REQUESTS_TOPIC": ""}, "TOOL_REQUESTS_TOPIC", "empty"),
        ({"TOOL_RESULTS_TOPIC": "   "}, "TOOL_RESULTS_TOPIC", "empty"),
        (
            {"TOOL_REQUESTS_TOPIC": "tool requests"},
            "TOOL_REQUESTS_TOPIC",
            "not a legal Kafka topic name",
        ),
        ({"TOOL_REQUESTS_TOPIC": ".."}, "TOOL_REQUESTS_TOPIC", "not a legal Kafka topic name"),
        ({"TOOL_REQUESTS_TOPIC": "x" * 250}, "TOOL_REQUESTS_TOPIC", "1-249"),
        ({"TOOL_REQUESTS_TOPIC": "tool.results"}, "TOOL_REQUESTS_TOPIC", "share the name"),
        ({"TOOL_EXECUTOR_GROUP": ""}, "TOOL_EXECUTOR_GROUP", "empty"),
        ({"KAFKA_BOOTSTRAP_SERVERS": ""}, "KAFKA_BOOTSTRAP_SERVERS", "empty"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "localhost"}, "KAFKA_BOOTSTRAP_SERVERS", "host:port"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "a:1,b:99999"}, "KAFKA_BOOTSTRAP_SERVERS", "'b:99999'"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "TLS"},
            "KAFKA_SECURITY_PROTOCOL",
            "is not a security protocol (its value is not shown",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "MD5"},
            "KAFKA_SASL_MECHANISM",
            "is not a SASL mechanism (its value is not shown",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u"},
            "KAFKA_SASL_PASSWORD",
            "required",
        ),
        (
            {"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"},
            "KAFKA_SASL_USERNAME",
            "PLAINTEXT",
        ),
        ({"KAFKA_SSL_CAFILE": "/etc/hosts"}, "KAFKA_SSL_CAFILE", "uses no TLS"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"},
            "KAFKA_SSL_CAFILE",
            "not a readable file",
        ),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env)
    assert caught.value.variable.startswith(variable)
    assert words in str(caught.value)
    assert str(caught.value).startswith(variable)
    assert isinstance(caught.value, ContractError)


def test_unknown_contract_is_a_contract_error() -> None:
    with pytest.raises(
        UnknownContractError,
        match=re.escape(
            "unknown contract 'Nope' in the catalog of somacontracts/catalog/platform.toml; "
            "known contracts: ToolInvocation"
        ),
    ):
        catalog.contract("Nope")
    with pytest.raises(UnknownContractError):
        load_settings({}).subjects_of("Nope")


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOL_RESULTS_TOPIC", "from.environ")
    assert load_settings().topic_name("tool_results") == "from.environ"

"""A run with a password prints it nowhere: CLI output, errors, log lines, dead-letter headers.

Every output path of a run whose registry URL, basic-auth variable and SASL variables hold
the same password is searched for it: the command line's stdout and stderr (unreachable
registry, refused credentials, bad variables), the library's errors, the log records of
the run, and the headers of a message the consumer dead-lettered.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from somacontracts import models
from somacontracts.catalog.environment import Settings
from somacontracts.errors import ContractError, redact
from somacontracts.kafka import ContractConsumer, dlq_name
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.tooling.cli import EXIT_OK, main
from somacontracts.tooling.registry import LocalRegistry
from tests.kafka.conftest import FAST_GROUP, create_topics
from tests.scratch import run

PASSWORD = "S3cretPW-7f1d"
USER_INFO = f"admin:{PASSWORD}"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """A local registry that wants the password, holding every contract."""
    lock = Path(tmp_path_factory.mktemp("lock")) / "somacontracts.lock"
    with LocalRegistry(host="127.0.0.1", port=0, basic_auth=("admin", PASSWORD)) as started:
        url = started.url.replace("://", f"://{USER_INFO}@")
        command = ["register", "--registry", url, "--lock", str(lock)]
        assert main([*command, "--create-keks", "local-kms://tests"]) == EXIT_OK
        yield started


def with_password(registry: LocalRegistry) -> str:
    return registry.url.replace("://", f"://{USER_INFO}@")


@pytest.mark.parametrize(
    "url",
    [
        f"http://{USER_INFO}@127.0.0.1:1",
        f"http://admin:wrong-{PASSWORD}@127.0.0.1:1",
        f"http://admin:{PASSWORD}/x@127.0.0.1:1",
        f"http://admin:{PASSWORD}#1@127.0.0.1:1",
        f"http://admin:{PASSWORD}?x@127.0.0.1:1",
        f"http://127.0.0.1:1/?password={PASSWORD}",
    ],
    ids=["unreachable", "other-password", "slash", "hash", "question", "query"],
)
@pytest.mark.parametrize("command", ["status", "register", "check"])
def test_commands_never_print_the_registry_password(tmp_path: Path, command: str, url: str) -> None:
    result = run(tmp_path, command, "--registry", url)
    assert result.returncode != 0
    assert "http://127.0.0.1:1" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert result.stderr.count("\n") == 1


def test_refused_credentials_print_no_password(tmp_path: Path, guarded: LocalRegistry) -> None:
    wrong = guarded.url.replace("://", f"://admin:not-{PASSWORD}@")
    result = run(tmp_path, "status", "--registry", wrong)
    assert result.returncode != 0
    assert "401" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"SCHEMA_REGISTRY_URL": f"{USER_INFO}@localhost:8081"}, "SCHEMA_REGISTRY_URL"),
        ({"SCHEMA_REGISTRY_URL": PASSWORD}, "SCHEMA_REGISTRY_URL"),
        ({"SCHEMA_REGISTRY_URL": f"http://ok:1,{PASSWORD}"}, "SCHEMA_REGISTRY_URL"),
        ({"SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": PASSWORD}, "SCHEMA_REGISTRY_BASIC_AUTH"),
    ],
)
def test_bad_registry_variables_are_named_not_echoed(
    tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    result = run(tmp_path, "status", env={**os.environ, **variables})
    assert result.returncode == 2
    assert result.stderr.startswith(f"somacontracts status: error: {named}")
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "variables",
    [
        {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": PASSWORD},
        {"KAFKA_SASL_PASSWORD": PASSWORD},
        {"KAFKA_SASL_USERNAME": PASSWORD},
        {"KAFKA_BOOTSTRAP_SERVERS": f"{USER_INFO}@localhost"},
        {"KAFKA_BOOTSTRAP_SERVERS": f"SASL_SSL://u:S3c/{PASSWORD}@b:9092"},
        {"KAFKA_BOOTSTRAP_SERVERS": f'ok:1,admin:S3c"{PASSWORD}@broker:9092'},
        {"KAFKA_SECURITY_PROTOCOL": PASSWORD},
    ],
    ids=["mechanism", "password", "username", "bootstrap", "scheme", "quote", "protocol"],
)
def test_bad_kafka_variables_are_named_not_echoed(
    tmp_path: Path, variables: dict[str, str]
) -> None:
    result = run(tmp_path, "contracts", env={**os.environ, **variables})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert PASSWORD not in result.stdout + result.stderr


def test_errors_and_log_lines_of_the_library_print_no_password(
    guarded: LocalRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = with_password(guarded)
    messages = []
    with ContractDeserializer(models.ToolInvocation, url) as deserializer:
        for data in (b"\x00" + (424242).to_bytes(4, "big") + b"\x02", b"\x07"):
            with pytest.raises(ContractError) as caught:
                deserializer(data)
            messages += [str(caught.value), repr(caught.value)]
    for bad in (f"http://{USER_INFO}@127.0.0.1:1", f"http://{USER_INFO}@[::1"):
        with pytest.raises(ContractError) as caught:
            ContractSerializer(models.ToolInvocation, bad)
        messages += [str(caught.value), repr(caught.value)]
    assert all(message and "\n" not in message for message in messages)
    logged = [record.getMessage() for record in caplog.records]
    assert not [line for line in messages + logged if PASSWORD in line]


def test_a_dead_lettered_message_carries_no_password(
    guarded: LocalRegistry, settings: Settings, admin: AdminClient, bootstrap: str
) -> None:
    topic = settings.topic_name("tool_requests")
    create_topics(admin, topic)
    unknown_id = b"\x00" + (424242).to_bytes(4, "big") + b"\x02"
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, unknown_id, b"tenant")
    assert producer.flush(10) == 0
    group = f"secrets-{uuid.uuid4().hex[:8]}"
    with ContractConsumer(
        models.ToolInvocation,
        with_password(guarded),
        settings=settings,
        subject=models.ToolInvocation.SUBJECT,
        group_id=group,
        config={**FAST_GROUP, "auto.offset.reset": "earliest"},
    ) as consumer:
        stats = consumer.run(lambda received: None, max_messages=1, idle_timeout=20)
    assert stats.dead_lettered == 1
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group + "-dlq"})
    try:
        reader.assign([TopicPartition(dlq_name(topic), p, 0) for p in range(3)])
        copied = None
        for _ in range(40):
            copied = reader.poll(0.5)
            if copied is not None and copied.error() is None:
                break
        assert copied is not None
        assert copied.error() is None
    finally:
        reader.close()
    pairs = cast("list[tuple[str, bytes]]", copied.headers() or [])
    headers = dict(pairs)
    assert b"schema id 424242" in headers["dlq.error"]
    assert not [name for name, value in headers.items() if PASSWORD.encode() in value]


def test_redact_hides_passwords_and_tokens_wherever_they_appear() -> None:
    assert redact(f"at http://{USER_INFO}@h:1/x, then") == "at http://admin:***@h:1/x, then"
    assert redact(f"{USER_INFO}@h:9092") == "admin:***@h:9092"
    assert redact(f"https://{PASSWORD}@h") == "https://***@h"
    assert redact(f"http://admin:p@ss/{PASSWORD}@h") == "http://admin:***@h"
    assert redact("mail admin@example.com or see http://h/a") == (
        "mail admin@example.com or see http://h/a"
    )
    assert redact(f'"http://admin:S3c"{PASSWORD}@b:9092"') == '"http://admin:***@b:9092"'
    assert redact(f"SASL_SSL://u:S3c/{PASSWORD}@b:9092") == "SASL_SSL://u:***@b:9092"
    assert redact(f"http://h/?a=1&Password={PASSWORD}#x") == "http://h/?a=1&Password=***#x"

"""A second service's catalog ``key``, checked: a payments service whose PaymentCaptured
carries its payer (an account id, an email tagged PII and encrypted) keys its topic by a
path that cannot key (personal data, a field it lacks, a decimal): ``check`` reports it,
``validate`` refuses it, its producer refuses to start (from the catalog, and with
``key_field=``) and so does ``produce``; keyed by the payer's account id, or an int, its
messages carry that text as their key while the email travels encrypted."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from somacontracts.catalog import load_settings, read_catalog_file
from somacontracts.catalog.environment import Settings
from somacontracts.errors import ConfigurationError
from somacontracts.kafka import ContractProducer
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS
from tests.generated import generated
from tests.scratch import run as cli

SERVICE = Path(__file__).resolve().parents[1] / "payments_service"
PAYER = {
    "name": "payer",
    "doc": "Who paid.",
    "default": {"account_id": "", "email": "", "seat": 0},
    "type": {
        "type": "record",
        "name": "Payer",
        "doc": "A paying customer.",
        "fields": [
            {"name": "account_id", "type": "string", "doc": "Opaque id of the account."},
            {"name": "email", "type": "string", "doc": "d", "confluent:tags": ["PII"]},
            {"name": "seat", "type": "int", "doc": "The till the payment was taken at."},
        ],
    },
}
ENCRYPT = {
    "ruleSet": {
        "domainRules": [
            {"name": "encryptPII", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT"}
            | {"tags": ["PII"], "params": {"encrypt.kek.name": "payments_keys_pii"}}
        ]
    }
}


def keyed(service: Path, key: str) -> None:
    """Key the service's payments.captured topic by ``key``."""
    pyproject = service / "pyproject.toml"
    text = pyproject.read_text()
    captured = text.index('[tool.somacontracts.topics."payments.captured"]')
    start = text.index("\nkey = ", captured) + 1
    end = text.index("\n", start)
    pyproject.write_text(f'{text[:start]}key = "{key}"{text[end:]}')


@pytest.fixture
def service(tmp_path: Path) -> Path:
    folder = tmp_path / "payments"
    shutil.copytree(SERVICE, folder)
    contract = folder / "avro" / "PaymentCaptured"
    schema = json.loads((contract / "v1.avsc").read_text())
    schema["fields"].append(PAYER)
    (contract / "v1.avsc").write_text(json.dumps(schema, indent=2))
    (contract / "v1.contract.json").write_text(json.dumps(ENCRYPT))
    assert cli(folder, "lock").returncode == EXIT_OK
    return folder


@pytest.mark.parametrize(
    ("key", "rule", "why"),
    [
        ("payer.email", "KEY_PII", '"payer.email" is tagged PII: the key would carry it'),
        ("payer.nope", "CATALOG_KEY", 'record "payments.contracts.Payer" has no field "nope"'),
        ("amount", "CATALOG_KEY", '"amount" is a bytes (decimal): its value has no one text'),
    ],
)
def test_check_reports_and_validate_refuses_a_key_that_cannot_key(
    service: Path, key: str, rule: str, why: str
) -> None:
    assert cli(service, "check").returncode == EXIT_OK  # keyed by tenant_id
    keyed(service, key)
    checked = cli(service, "check", "--format", "json")
    assert checked.returncode == EXIT_VIOLATIONS, checked.stderr
    (finding,) = json.loads(checked.stdout)["findings"]
    assert (finding["rule"], finding["category"], finding["contract"]) == (
        rule,
        "catalog",
        "PaymentCaptured",
    )
    assert finding["path"].endswith("PaymentCaptured/v1.avsc")
    assert f'The key "{key}" of topic "payments.captured"' in finding["message"]
    assert why in finding["message"]
    refused = cli(service, "validate")
    assert refused.returncode == EXIT_USAGE
    assert len(refused.stderr.splitlines()) == 1
    assert refused.stderr.startswith("somacontracts validate: error: ")
    assert why in refused.stderr


@pytest.fixture
def model(service: Path, tmp_path: Path) -> Iterator[type[Any]]:
    package = tmp_path / f"keyed_models_{uuid.uuid4().hex[:6]}"
    with generated(service / "avro", package, "payment_captured") as module:
        yield module.PaymentCaptured


def settings_of(service: Path, env: dict[str, str]) -> Settings:
    return load_settings(env, catalog=read_catalog_file(service / "pyproject.toml"))


PAYMENT = {
    "tenant_id": "t1",
    "currency": "EUR",
    "items": [],
    "payer": {"account_id": "acct-7", "email": "ada@example.com", "seat": 42},
}


def payment(model: type[Any]) -> Any:
    return model.from_avro({**PAYMENT, "payment_id": uuid.uuid4(), "amount": Decimal("3.25")})


def test_the_producer_refuses_at_start_up_a_key_of_personal_data(
    service: Path, env: dict[str, str], names: dict[str, str], registry: str, model: type[Any]
) -> None:
    keyed(service, "payer.email")
    with pytest.raises(ConfigurationError) as refused:
        ContractProducer(model, registry, settings=settings_of(service, env))
    text = str(refused.value)
    assert "\n" not in text
    assert text.startswith(
        f"key: topic '{names['PAYMENTS_CAPTURED_TOPIC']}' cannot be keyed by 'payer.email' "
        f"(the catalog's, {service / 'pyproject.toml'}) of PaymentCaptured v1: "
        '"payer.email" is tagged PII'
    )
    # the same for a key given in code, through a field the record lacks
    keyed(service, "payer.account_id")
    with pytest.raises(ConfigurationError, match=r"^key_field: .* 'payer\.nope' \(key_field=\)"):
        ContractProducer(
            model, registry, settings=settings_of(service, env), key_field="payer.nope"
        )
    # and produce, which makes one, stops with one line before it sends anything
    keyed(service, "payer.email")
    line = json.dumps({**PAYMENT, "payment_id": str(uuid.uuid4()), "amount": "3.2500"})
    topic = names["PAYMENTS_CAPTURED_TOPIC"]
    produced = cli(service, "produce", topic, env=env, stdin=line)
    assert produced.returncode == EXIT_USAGE, produced.stderr
    assert produced.stderr.count("\n") == 1
    assert "cannot be keyed by 'payer.email'" in produced.stderr


def test_a_nested_or_int_key_travels_as_its_text_beside_the_encrypted_email(
    service: Path, env: dict[str, str], names: dict[str, str], registry: str, model: type[Any]
) -> None:
    keyed(service, "payer.account_id")
    registered = cli(
        service, "register", "--registry", registry, "--create-keks", "local-kms://tests", env=env
    )
    assert registered.returncode == EXIT_OK, registered.stderr
    settings = settings_of(service, env)
    obj = payment(model)
    with ContractProducer(model, registry, settings=settings, ensure_topics=True) as producer:
        first = producer.send(obj).result(timeout=30)
    with ContractProducer(model, registry, settings=settings, key_field="payer.seat") as producer:
        second = producer.send(obj).result(timeout=30)
    assert (first.key, second.key) == (b"acct-7", b"42")
    consumer = Consumer({"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"], "group.id": "k"})
    try:
        topic = names["PAYMENTS_CAPTURED_TOPIC"]
        consumer.assign([TopicPartition(topic, first.partition, first.offset)])
        message = consumer.poll(30)
        assert message is not None
        assert message.error() is None
        assert message.key() == b"acct-7"
        assert b"ada@example.com" not in (message.value() or b"")  # encrypted in the value
    finally:
        consumer.close()

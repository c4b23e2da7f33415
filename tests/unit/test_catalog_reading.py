"""Catalogs as data: the tables a project declares, the one-line error for each bad entry,
which catalog a process and a command take, and the retention's precedence."""

from __future__ import annotations

import decimal
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from somacontracts.catalog import (
    PLATFORM,
    load_settings,
    read_catalog_file,
)
from somacontracts.catalog.reading import (
    CATALOG_VARIABLE,
    catalog_of_table,
    find_catalog,
    parse_duration,
)
from somacontracts.errors import ConfigurationError
from somacontracts.tooling.cli import EXIT_USAGE
from somacontracts.tooling.configuration import read_config
from somacontracts.tooling.plainjson import from_plain_json, to_plain_json

SERVICE = Path(__file__).resolve().parents[1] / "payments_service"
GOOD = {"contract": "PaymentCaptured", "key": "tenant_id"}


def topics(**entries: dict[str, Any]) -> dict[str, Any]:
    return {"topics": entries}


def test_a_service_s_tables_become_its_catalog() -> None:
    catalog = read_catalog_file(SERVICE / "pyproject.toml")
    assert catalog.source == str(SERVICE / "pyproject.toml")
    captured = catalog.topics["payments_captured"]
    assert (captured.default_name, captured.partitions, captured.retention_ms) == (
        "payments.captured",
        2,
        14 * 86_400_000,
    )
    refunds = catalog.topics["payments_refunds"]
    assert (refunds.default_retention_ms, refunds.lag_alert, refunds.consumers) == (
        7 * 86_400_000,
        100,
        ("ledger", "notifier"),
    )
    assert (
        catalog.contract("RefundIssued").description == "Money given back for a captured payment."
    )
    assert catalog.contract("PaymentCaptured").topics == ("payments_captured",)


@pytest.mark.parametrize(
    ("entries", "key", "reason"),
    [
        ({"bad name!": GOOD}, '[topics."bad name!"]', "not a legal Kafka topic name"),
        ({"p": {"key": "tenant_id"}}, '[topics."p"] contract', "is missing"),
        ({"p": {"contract": "P"}}, '[topics."p"] key', "is missing"),
        ({"p": {**GOOD, "partitions": 0}}, '[topics."p"] partitions', "from 1 to"),
        ({"p": {**GOOD, "partitions": True}}, '[topics."p"] partitions', "whole number"),
        ({"p": {**GOOD, "retention": "7 days"}}, '[topics."p"] retention', "not a duration"),
        ({"p": {**GOOD, "retention": "0d"}}, '[topics."p"] retention', "not a duration"),
        (
            {"p": {**GOOD, "retention": "999999999999999d"}},
            '[topics."p"] retention',
            "at most Kafka's longest",
        ),
        ({"p": {**GOOD, "cleanup-policy": "keep"}}, '[topics."p"] cleanup-policy', "one of"),
        ({"p": {**GOOD, "partition": 3}}, '[topics."p"] partition', "not a topic key"),
        ({"p": {**GOOD, "key": "a..b"}}, '[topics."p"] key', "not a valid key"),
        ({"p": {**GOOD, "producers": "api"}}, '[topics."p"] producers', "list of service"),
        ({"p": {**GOOD, "every-instance": "yes"}}, '[topics."p"] every-instance', "true or"),
        ({"p": {**GOOD, "name-env": "a-b"}}, '[topics."p"] name-env', "not a valid"),
        (
            {"p": GOOD, "q": {**GOOD, "key": "other"}},
            '[topics."q"] key',
            "differs from the key of 'p'",
        ),
        ({"p": GOOD, "q": {**GOOD, "id": "p"}}, '[topics."q"] id', "also the id of topic"),
        ({"p": "PaymentCaptured"}, '[topics."p"]', "must be a table"),
    ],
)
def test_each_bad_entry_is_one_line_naming_file_and_key(
    entries: dict[str, Any], key: str, reason: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        catalog_of_table(topics(**entries), source="svc/catalog.toml")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"svc/catalog.toml: {key}"), message
    assert reason in message


def test_a_contract_table_must_name_a_carried_contract() -> None:
    table = {**topics(p=GOOD), "contracts": {"Other": {"description": "x"}}}
    with pytest.raises(ConfigurationError, match=r"\[contracts\.Other\]: no topic"):
        catalog_of_table(table, source="c.toml")


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["ms", "s", "m", "h", "d"]))
def test_durations_are_their_milliseconds(number: int, unit: str) -> None:
    factor = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[unit]
    assert parse_duration(f"{number}{unit}", "k") == number * factor


def test_which_catalog_a_process_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = tmp_path / "svc" / "src" / "pkg"
    nested.mkdir(parents=True)
    (tmp_path / "svc" / "pyproject.toml").write_text((SERVICE / "pyproject.toml").read_text())
    assert "payments_captured" in find_catalog({}, start=nested).topics
    # a configuration that declares no topics, and none at all: the package's own
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "pyproject.toml").write_text('[tool.somacontracts]\nschemas = "a"\n')
    assert find_catalog({}, start=tmp_path / "bare") is PLATFORM
    # SOMACONTRACTS_CATALOG wins, and names a catalog file or a pyproject.toml
    file = tmp_path / "catalog.toml"
    file.write_text('[topics."orders.placed"]\ncontract = "Order"\nkey = "shop_id"\n')
    chosen = find_catalog({CATALOG_VARIABLE: str(file)}, start=nested)
    assert list(chosen.topics) == ["orders_placed"]
    monkeypatch.chdir(nested)
    settings = load_settings({"ORDERS": "x"})
    assert settings.catalog.source == str(tmp_path / "svc" / "pyproject.toml")
    assert settings.topics_of("RefundIssued") == ("payments.refunds",)


def test_retention_precedence() -> None:
    catalog = read_catalog_file(SERVICE / "pyproject.toml")
    plain = load_settings({}, catalog=catalog)
    assert plain.retention_of("payments_captured") == (14 * 86_400_000, "retention in the catalog")
    assert plain.retention_of("payments_refunds") == (
        7 * 86_400_000,
        "default-retention in the catalog",
    )
    hours = load_settings({"KAFKA_CFG_LOG_RETENTION_HOURS": "36"}, catalog=catalog)
    assert hours.retention_of("payments_refunds") == (
        36 * 3_600_000,
        "KAFKA_CFG_LOG_RETENTION_HOURS",
    )
    assert hours.retention_of("payments_captured")[1] == "retention in the catalog"
    bare = catalog_of_table(topics(p=GOOD), source="c.toml")
    assert load_settings({}, catalog=bare).retention_of("p") == (None, "the broker's")
    forever = load_settings({"KAFKA_CFG_LOG_RETENTION_HOURS": "-1"}, catalog=bare)
    assert forever.retention_of("p") == (-1, "KAFKA_CFG_LOG_RETENTION_HOURS")
    for bad in ("0", "two", "1.5", ""):
        with pytest.raises(ConfigurationError, match="KAFKA_CFG_LOG_RETENTION_HOURS"):
            load_settings({"KAFKA_CFG_LOG_RETENTION_HOURS": bad}, catalog=bare)


def test_a_bad_catalog_stops_a_command_with_one_line(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.somacontracts]\n[tool.somacontracts.topics."p"]\ncontract = "P"\n'
        'key = "id"\npartitions = -2\n'
    )
    for command in (["contracts"], ["topics", "apply", "--dry-run"], ["alerts"]):
        done = subprocess.run(
            [sys.executable, "-m", "somacontracts", *command],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == EXIT_USAGE, done.stderr
        assert done.stderr.count("\n") == 1
        assert '[tool.somacontracts.topics."p"] partitions' in done.stderr


DECIMAL = {
    "type": "record",
    "name": "R",
    "fields": [
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        }
    ],
}


@given(st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False))
def test_decimals_round_trip_through_plain_json_as_exact_text(value: decimal.Decimal) -> None:
    text = str(value.quantize(decimal.Decimal("0.01")))
    datum = from_plain_json(DECIMAL, {"amount": text})
    assert datum["amount"] == value
    assert to_plain_json(DECIMAL, datum) == {"amount": text}
    assert json.loads(json.dumps(to_plain_json(DECIMAL, datum))) == {"amount": text}


def test_a_consumer_s_default_group_is_its_service_s_never_a_shared_one() -> None:
    service = read_config(SERVICE / "pyproject.toml").settings()
    # One consuming service: its group.
    assert service.group_for(["payments.captured"]) == "ledger"
    # Two: which one reads is for the caller to say.
    with pytest.raises(ConfigurationError, match=r'"payments.refunds" has 2 consuming services'):
        service.group_for(["payments.refunds"])
    assert service.group_for(["payments.refunds"], "notifier") == "notifier"
    assert service.group_for(["payments.captured", "payments.refunds"], "ledger") == "ledger"
    assert service.group_for(["elsewhere"]) is None  # outside the catalog: the default group
    platform = load_settings({"TOOL_EXECUTOR_GROUP": "executors"})
    assert platform.group_for(["tool.requests"]) == "executors"
    with pytest.raises(ConfigurationError, match="every instance reads"):
        platform.group_for(["config_updates"])


def test_a_service_s_default_level_applies_to_its_catalog_s_contracts(tmp_path: Path) -> None:
    text = (SERVICE / "pyproject.toml").read_text()
    assert "default-level" not in text
    (tmp_path / "pyproject.toml").write_text(
        text.replace("[tool.somacontracts]\n", '[tool.somacontracts]\ndefault-level = "BACKWARD"\n')
    )
    config = read_config(tmp_path / "pyproject.toml")
    assert config.level_of("PaymentCaptured").value == "BACKWARD"
    assert read_config(SERVICE / "pyproject.toml").level_of("PaymentCaptured").value == (
        "FULL_TRANSITIVE"
    )


def test_a_catalog_may_pin_a_contract_s_level_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    text = (SERVICE / "pyproject.toml").read_text()
    pinned = text.replace(
        "[tool.somacontracts.contracts.RefundIssued]\n",
        '[tool.somacontracts.contracts.RefundIssued]\ncompatibility = "FORWARD"\n',
    )
    (tmp_path / "pyproject.toml").write_text(
        pinned.replace(
            "[tool.somacontracts]\n", '[tool.somacontracts]\ndefault-level = "BACKWARD"\n'
        )
    )
    config = read_config(tmp_path / "pyproject.toml")
    assert config.level_of("RefundIssued").value == "FORWARD"  # the catalog's pin
    assert config.level_of("PaymentCaptured").value == "BACKWARD"  # the default
    (tmp_path / "pyproject.toml").write_text(pinned.replace('"FORWARD"', '"SOMETIMES"'))
    with pytest.raises(ConfigurationError, match=r"compatibility: 'SOMETIMES' is not a level"):
        read_config(tmp_path / "pyproject.toml").level_of("RefundIssued")

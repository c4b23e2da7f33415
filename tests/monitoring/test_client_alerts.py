"""The rules of the ``somacontracts-clients`` group, on series named and labelled as the
typed clients expose them (``tests/kafka/test_metrics*.py`` scrapes those): they need no
exporter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from somacontracts.catalog.environment import load_settings
from somacontracts.tooling.monitoring import AlertTimes, alert_rules
from tests.monitoring.test_alerts import DOCUMENT, _unit_tests

TOPIC = 'topic="somastack.tools"'
CONTRACT = f'{TOPIC},contract="ToolInvocation"'
GROUP = f'{CONTRACT},group="tool-executor",instance="w1"'
CONSUMER = {"topic": "somastack.tools", "contract": "ToolInvocation", "group": "tool-executor"}


def _series(name: str, labels: str, values: str) -> dict[str, str]:
    return {"series": f"{name}{{{labels}}}", "values": values}


def _lag(values: str, *, partition: str = "0", topic: str = "somastack.tools") -> dict[str, str]:
    labels = f'topic="{topic}",partition="{partition}",group="tool-executor",instance="w1"'
    return _series("somacontracts_consumer_lag", labels, values)


def _consumed(values: str) -> dict[str, str]:
    return _series("somacontracts_messages_consumed_total", GROUP, values)


RUNBOOK = "somacontracts lag --group tool-executor --topic somastack.tools"

STALLED = {
    "exp_labels": {
        "severity": "warning",
        "group": "tool-executor",
        "topic": "somastack.tools",
        "instance": "w1",
    },
    "exp_annotations": {
        "summary": (
            "Consumer group tool-executor on w1 took no message of somastack.tools for 15m "
            "while its lag grew"
        ),
        "description": (
            "Messages wait but the consumer takes none: its handler or its loop is stuck."
        ),
        "runbook": RUNBOOK,
    },
}

CLIENT_TESTS: list[dict[str, Any]] = [
    {
        # Lag grows by 100 a minute: above 500 from minute 5, firing once 5 minutes above.
        "interval": "1m",
        "input_series": [_lag("100+100x15"), _lag("900x15", topic="somastack.tools.other")],
        "alert_rule_test": [
            {"eval_time": "9m", "alertname": "ContractConsumerLagHigh", "exp_alerts": []},
            {
                "eval_time": "10m",
                "alertname": "ContractConsumerLagHigh",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            "group": "tool-executor",
                            "topic": "somastack.tools",
                            "partition": "0",
                        },
                        "exp_annotations": {
                            "summary": (
                                "Consumer group tool-executor lags 1100 messages on "
                                "somastack.tools partition 0"
                            ),
                            "description": (
                                "The lag stayed above the catalog's threshold of 500 for 5m: "
                                "the tool-executor consumers fall behind what is produced."
                            ),
                            "runbook": RUNBOOK,
                        },
                    }
                ],
            },
        ],
    },
    {
        # Two handler failures from minute 3; the undecodable series stays at 0.
        "interval": "1m",
        "input_series": [
            _series(
                "somacontracts_dead_lettered_total",
                f'{GROUP},reason="handler_failed"',
                "0 0 0 1 2",
            ),
            _series("somacontracts_dead_lettered_total", f'{GROUP},reason="undecodable"', "0x4"),
        ],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "ContractDeadLetters", "exp_alerts": []},
            {
                "eval_time": "4m",
                "alertname": "ContractDeadLetters",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            **CONSUMER,
                            "reason": "handler_failed",
                        },
                        "exp_annotations": {
                            "summary": (
                                "Consumer group tool-executor dead-lettered 2 ToolInvocation "
                                "messages of somastack.tools (handler_failed)"
                            ),
                            "description": (
                                "A typed consumer copied messages it could not decode "
                                "(undecodable) or handle (handler_failed) to the topic's .dlq; "
                                "the dlq.* headers say why."
                            ),
                            "runbook": "somacontracts consume somastack.tools.dlq --from-beginning",
                        },
                    }
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            _series("somacontracts_dead_letter_failures_total", GROUP, "0 0 1"),
            _series("somacontracts_delivery_failures_total", f'{CONTRACT},instance="p1"', "0 4"),
        ],
        "alert_rule_test": [
            {
                "eval_time": "2m",
                "alertname": "ContractDeadLetterFailures",
                "exp_alerts": [
                    {
                        "exp_labels": {"severity": "critical", **CONSUMER},
                        "exp_annotations": {
                            "summary": (
                                "Consumer group tool-executor could not dead-letter 1 "
                                "ToolInvocation messages of somastack.tools"
                            ),
                            "description": (
                                "The dead-letter topic did not take a copy: the consumer "
                                "stopped at that message, uncommitted, and stops there again "
                                "until the copy goes through."
                            ),
                            "runbook": RUNBOOK,
                        },
                    }
                ],
            },
            {
                "eval_time": "1m",
                "alertname": "ContractDeliveryFailures",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "critical",
                            "topic": "somastack.tools",
                            "contract": "ToolInvocation",
                        },
                        "exp_annotations": {
                            "summary": (
                                "4 ToolInvocation messages to somastack.tools were not acknowledged"
                            ),
                            "description": (
                                "The broker did not acknowledge produced messages: they are lost."
                            ),
                        },
                    }
                ],
            },
        ],
    },
    {
        # Two groups' deserialize errors and a producer's (no group label): three alerts.
        "interval": "1m",
        "input_series": [
            _series(
                "somacontracts_serde_errors_total",
                f'{CONTRACT},group="{group}",operation="deserialize",error="DeserializationError"',
                values,
            )
            for group, values in (("tool-executor", "0 1"), ("audit", "0 2"))
        ]
        + [
            _series(
                "somacontracts_serde_errors_total",
                f'{CONTRACT},operation="serialize",error="SerializationError"',
                "0 3",
            )
        ],
        "alert_rule_test": [
            {
                "eval_time": "1m",
                "alertname": "ContractSerdeErrors",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            "topic": "somastack.tools",
                            "contract": "ToolInvocation",
                            **({"group": group} if group else {}),
                            "operation": operation,
                            "error": error,
                        },
                        "exp_annotations": {
                            "summary": (
                                f"{operation} of ToolInvocation on somastack.tools failed "
                                f"{count} times ({error})"
                            ),
                            "description": (
                                "A typed client met data its contract refuses: a producer's "
                                "object or a message that is not on the contract."
                            ),
                        },
                    }
                    for group, operation, error, count in (
                        ("tool-executor", "deserialize", "DeserializationError", 1),
                        ("audit", "deserialize", "DeserializationError", 2),
                        ("", "serialize", "SerializationError", 3),
                    )
                ],
            }
        ],
    },
    {
        # Takes messages until minute 5, then none while the lag grows: stalled.
        "interval": "1m",
        "input_series": [_lag("10+5x30"), _consumed("100+10x5 150x25")],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "ContractConsumerStalled", "exp_alerts": []},
            {"eval_time": "21m", "alertname": "ContractConsumerStalled", "exp_alerts": []},
            {"eval_time": "26m", "alertname": "ContractConsumerStalled", "exp_alerts": [STALLED]},
        ],
    },
]

CLIENT_EDGE_CASES: list[dict[str, Any]] = [
    {
        # Idle with a lag that stays (a transaction marker): nothing taken, nothing grows.
        "interval": "1m",
        "input_series": [_lag("1x40"), _consumed("100x40")],
        "alert_rule_test": [
            {"eval_time": "35m", "alertname": "ContractConsumerStalled", "exp_alerts": []}
        ],
    },
    {
        # Slow but moving: the lag grows while messages are still taken.
        "interval": "1m",
        "input_series": [_lag("10+5x40"), _consumed("0+1x40")],
        "alert_rule_test": [
            {"eval_time": "35m", "alertname": "ContractConsumerStalled", "exp_alerts": []}
        ],
    },
    {
        # A consumer started at minute 10: not running 15 minutes ago, not stalled yet.
        "interval": "1m",
        "input_series": [_lag("_x9 10+5x20"), _consumed("_x9 0x20")],
        "alert_rule_test": [
            {"eval_time": "23m", "alertname": "ContractConsumerStalled", "exp_alerts": []}
        ],
    },
    {
        # One partition's lag grows, the other's shrinks more: the consumer's total lag
        # does not grow, so it is not stalled (its lag shrinks: it is reading).
        "interval": "1m",
        "input_series": [
            _lag("10+5x40"),
            _lag("400-10x40", partition="1"),
            _consumed("100x40"),
        ],
        "alert_rule_test": [
            {"eval_time": "35m", "alertname": "ContractConsumerStalled", "exp_alerts": []}
        ],
    },
]


@pytest.mark.parametrize(
    "tests", [CLIENT_TESTS, CLIENT_EDGE_CASES], ids=["fire", "idle-slow-new-draining"]
)
def test_the_clients_rules_from_the_clients_series_alone(
    promtool: str, tmp_path: Path, tests: list[dict[str, Any]]
) -> None:
    _unit_tests(promtool, tmp_path, tests)


def test_each_group_reads_one_source_and_times_are_configurable() -> None:
    groups = alert_rules(load_settings(DOCUMENT))["groups"]
    sources = {"somacontracts-kafka-exporter": "kafka_", "somacontracts-jmx-exporter": "kafka_"}
    for group in groups:
        prefix = sources.get(group["name"], "somacontracts_")
        for rule in group["rules"]:
            names = _metric_names(rule["expr"])
            assert names, rule["alert"]
            assert all(name.startswith(prefix) for name in names), rule["alert"]
    fast = AlertTimes(lag_for="2s", stalled_window="30s", stalled_for="1s")
    clients = alert_rules(load_settings(DOCUMENT), times=fast)["groups"][2]["rules"]
    by_name = {rule["alert"]: rule for rule in clients}
    assert by_name["ContractConsumerLagHigh"]["for"] == "2s"
    assert "offset 30s" in by_name["ContractConsumerStalled"]["expr"]
    assert by_name["ContractConsumerStalled"]["for"] == "1s"


def _metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression."""
    return set(re.findall(r"\b((?:kafka|somacontracts)_[a-z_]+)\b", expr))

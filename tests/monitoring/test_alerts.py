"""``somacontracts alerts``: rules Prometheus accepts, and that fire when they should.

``promtool check rules`` validates the generated file; ``promtool test rules`` feeds
series through it and checks which alerts fire when, with which labels and text.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from somacontracts.catalog.environment import load_settings
from somacontracts.catalog.platform import TOPICS
from somacontracts.tooling.cli import main
from somacontracts.tooling.monitoring import alert_rules, render_rules

DOCUMENT = {"TOOL_REQUESTS_TOPIC": "somastack.tools"}
"""The platform document's name of the tool requests topic."""


def _rules_file(tmp_path: Path, env: dict[str, str]) -> Path:
    path = tmp_path / "rules.yml"
    path.write_text(render_rules(load_settings(env)))
    return path


def _promtool(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )


def test_promtool_accepts_the_rules(promtool: str, tmp_path: Path) -> None:
    rules = _rules_file(tmp_path, DOCUMENT)
    done = _promtool(promtool, "check", "rules", str(rules), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    count = sum(len(group["rules"]) for group in alert_rules(load_settings(DOCUMENT))["groups"])
    assert f"SUCCESS: {count} rules found" in done.stdout


def test_promtool_refuses_a_broken_rule(promtool: str, tmp_path: Path) -> None:
    """The check above could fail: promtool refuses what is not PromQL."""
    document = alert_rules(load_settings(DOCUMENT))
    document["groups"][0]["rules"][0]["expr"] = "max by (topic (kafka_consumergroup_lag"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(document))
    done = _promtool(promtool, "check", "rules", str(path), cwd=tmp_path)
    assert done.returncode != 0


def _lag_series(value: str, *, topic: str = "somastack.tools") -> dict[str, str]:
    labels = f'consumergroup="tool-executor",topic="{topic}",partition="0"'
    return {"series": f"kafka_consumergroup_lag{{{labels}}}", "values": value}


def _lag_alert(value: int) -> dict[str, Any]:
    return {
        "exp_labels": {
            "severity": "warning",
            "consumergroup": "tool-executor",
            "topic": "somastack.tools",
            "partition": "0",
        },
        "exp_annotations": {
            "summary": (
                f"Consumer group tool-executor lags {value} messages on somastack.tools partition 0"
            ),
            "description": (
                "The lag stayed above the catalog's threshold of 500 for 5m: the tool-executor "
                "consumers fall behind what is produced."
            ),
            "runbook": "somacontracts lag --group tool-executor --topic somastack.tools",
        },
    }


UNIT_TESTS: list[dict[str, Any]] = [
    {
        # Lag grows by 100 a minute: above 500 from minute 5, firing once 5 minutes above.
        "interval": "1m",
        "input_series": [
            _lag_series("100+100x15"),
            _lag_series("900x15", topic="somastack.tools.other"),
        ],
        "alert_rule_test": [
            {"eval_time": "4m", "alertname": "KafkaConsumerLagHigh", "exp_alerts": []},
            {"eval_time": "9m", "alertname": "KafkaConsumerLagHigh", "exp_alerts": []},
            {
                "eval_time": "10m",
                "alertname": "KafkaConsumerLagHigh",
                "exp_alerts": [_lag_alert(1100)],
            },
        ],
    },
    {
        # At the threshold, not above it: nothing fires (the lag command agrees).
        "interval": "1m",
        "input_series": [_lag_series("500x20")],
        "alert_rule_test": [
            {"eval_time": "15m", "alertname": "KafkaConsumerLagHigh", "exp_alerts": []}
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {
                "series": 'kafka_controller_kafkacontroller_offlinepartitionscount{instance="b1"}',
                "values": "0 0 1 1 1",
            }
        ],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "KafkaOfflinePartitions", "exp_alerts": []},
            {
                "eval_time": "3m",
                "alertname": "KafkaOfflinePartitions",
                "exp_alerts": [
                    {
                        "exp_labels": {"severity": "critical"},
                        "exp_annotations": {
                            "summary": "1 Kafka partitions have no leader",
                            "description": (
                                "Producers and consumers of an offline partition stop; the "
                                "platform's document alerts on any."
                            ),
                        },
                    }
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {
                "series": 'kafka_topic_partition_current_offset{topic="somastack.tools.dlq",'
                'partition="0"}',
                "values": "0 0 0 1 2",
            },
            {
                "series": 'kafka_topic_partition_current_offset{topic="somastack.tools",'
                'partition="0"}',
                "values": "0+50x4",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "4m",
                "alertname": "KafkaDeadLetterMessages",
                "exp_alerts": [
                    {
                        "exp_labels": {"severity": "warning", "topic": "somastack.tools.dlq"},
                        "exp_annotations": {
                            "summary": "somastack.tools.dlq received 2 dead-lettered messages",
                            "description": (
                                "Consumers copied messages they could not decode or handle; "
                                "the dlq.* headers say why."
                            ),
                            "runbook": "somacontracts consume somastack.tools.dlq --from-beginning",
                        },
                    }
                ],
            }
        ],
    },
    {
        # Lag of 50 that never shrinks while the committed offset stands still.
        "interval": "1m",
        "input_series": [
            _lag_series("50x30"),
            {
                "series": 'kafka_consumergroup_current_offset{consumergroup="tool-executor",'
                'topic="somastack.tools",partition="0"}',
                "values": "1000+10x5 1050x25",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "KafkaConsumerGroupStalled", "exp_alerts": []},
            {
                "eval_time": "25m",
                "alertname": "KafkaConsumerGroupStalled",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            "consumergroup": "tool-executor",
                            "topic": "somastack.tools",
                        },
                        "exp_annotations": {
                            "summary": (
                                "Consumer group tool-executor made no progress on "
                                "somastack.tools for 15m"
                            ),
                            "description": (
                                "Messages wait but the group's committed offsets do not move."
                            ),
                            "runbook": (
                                "somacontracts lag --group tool-executor --topic somastack.tools"
                            ),
                        },
                    }
                ],
            },
        ],
    },
    {
        "interval": "1m",
        "input_series": [
            {
                "series": 'somacontracts_serde_errors_total{topic="somastack.tools",'
                'contract="ToolInvocation",operation="deserialize",'
                'error="DeserializationError",instance="w1"}',
                "values": "0 0 3",
            }
        ],
        "alert_rule_test": [
            {
                "eval_time": "2m",
                "alertname": "ContractSerdeErrors",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            "topic": "somastack.tools",
                            "contract": "ToolInvocation",
                            "operation": "deserialize",
                            "error": "DeserializationError",
                        },
                        "exp_annotations": {
                            "summary": (
                                "deserialize of ToolInvocation on somastack.tools failed 3 "
                                "times (DeserializationError)"
                            ),
                            "description": (
                                "A typed client met data its contract refuses: a producer's "
                                "object or a message that is not on the contract."
                            ),
                        },
                    }
                ],
            }
        ],
    },
]


def _stalled(lag: str, offset: str, *, partition: str = "0") -> list[dict[str, str]]:
    labels = f'consumergroup="tool-executor",topic="somastack.tools",partition="{partition}"'
    return [
        {"series": f"kafka_consumergroup_lag{{{labels}}}", "values": lag},
        {"series": f"kafka_consumergroup_current_offset{{{labels}}}", "values": offset},
    ]


STALLED = {
    "exp_labels": {
        "severity": "warning",
        "consumergroup": "tool-executor",
        "topic": "somastack.tools",
    },
    "exp_annotations": UNIT_TESTS[4]["alert_rule_test"][1]["exp_alerts"][0]["exp_annotations"],
}
"""The stalled-group alert as the unit test above expects it."""

EDGE_CASES: list[dict[str, Any]] = [
    {
        # A counter that appears already at 1 (its first error) fires.
        "interval": "1m",
        "input_series": [
            {
                "series": 'somacontracts_serde_errors_total{topic="somastack.tools",'
                'contract="ToolInvocation",operation="deserialize",error="ReadRuleError"}',
                "values": "_ _ _ 1 1 1 1",
            }
        ],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "ContractSerdeErrors", "exp_alerts": []},
            {
                "eval_time": "4m",
                "alertname": "ContractSerdeErrors",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "severity": "warning",
                            "topic": "somastack.tools",
                            "contract": "ToolInvocation",
                            "operation": "deserialize",
                            "error": "ReadRuleError",
                        },
                        "exp_annotations": {
                            "summary": (
                                "deserialize of ToolInvocation on somastack.tools failed 1 "
                                "times (ReadRuleError)"
                            ),
                            "description": UNIT_TESTS[5]["alert_rule_test"][0]["exp_alerts"][0][
                                "exp_annotations"
                            ]["description"],
                        },
                    }
                ],
            },
            {"eval_time": "12m", "alertname": "ContractSerdeErrors", "exp_alerts": []},
        ],
    },
    {
        # A dead-letter topic created by its first message: the series starts at 3.
        "interval": "1m",
        "input_series": [
            {
                "series": 'kafka_topic_partition_current_offset{topic="somastack.tools.dlq",'
                'partition="0"}',
                "values": "_ _ 3 3 3",
            }
        ],
        "alert_rule_test": [
            {
                "eval_time": "3m",
                "alertname": "KafkaDeadLetterMessages",
                "exp_alerts": [
                    {
                        "exp_labels": {"severity": "warning", "topic": "somastack.tools.dlq"},
                        "exp_annotations": {
                            **UNIT_TESTS[3]["alert_rule_test"][0]["exp_alerts"][0][
                                "exp_annotations"
                            ],
                            "summary": "somastack.tools.dlq received 3 dead-lettered messages",
                        },
                    }
                ],
            }
        ],
    },
    {
        # An idle topic gets one message, handled within three minutes: no alert.
        "interval": "1m",
        "input_series": _stalled("0x20 1 1 1 0x10", "500x20 500 500 500 501x10"),
        "alert_rule_test": [
            {"eval_time": "23m", "alertname": "KafkaConsumerGroupStalled", "exp_alerts": []},
            {"eval_time": "26m", "alertname": "KafkaConsumerGroupStalled", "exp_alerts": []},
        ],
    },
    {
        # The exporter restarted at minute 10: its series are new, nothing stalled.
        "interval": "1m",
        "input_series": _stalled("_x9 3x20", "_x9 700+1x20"),
        "alert_rule_test": [
            {"eval_time": "18m", "alertname": "KafkaConsumerGroupStalled", "exp_alerts": []}
        ],
    },
    {
        # Partition 0 is stuck with lag 1; partition 1 was never committed (-1).
        "interval": "1m",
        "input_series": [
            *_stalled("1x40", "900x40"),
            *_stalled("-1x40", "-1x40", partition="1"),
        ],
        "alert_rule_test": [
            {"eval_time": "30m", "alertname": "KafkaConsumerGroupStalled", "exp_alerts": [STALLED]}
        ],
    },
]


def _unit_tests(promtool: str, tmp_path: Path, tests: list[dict[str, Any]]) -> None:
    """Run ``tests`` with ``promtool test rules`` on the rules of the document's names."""
    _rules_file(tmp_path, DOCUMENT)
    path = tmp_path / "tests.yml"
    path.write_text(
        yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests})
    )
    done = _promtool(promtool, "test", "rules", "tests.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_edge_cases_new_series_idle_topics_restarts_and_uncommitted_partitions(
    promtool: str, tmp_path: Path
) -> None:
    _unit_tests(promtool, tmp_path, EDGE_CASES)


def test_promtool_unit_tests_fire_the_alerts_when_they_should(
    promtool: str, tmp_path: Path
) -> None:
    _unit_tests(promtool, tmp_path, UNIT_TESTS)


def test_a_wrong_expectation_fails_the_unit_test(promtool: str, tmp_path: Path) -> None:
    """The unit test above could fail: expecting the lag alert a minute early does."""
    _rules_file(tmp_path, DOCUMENT)
    early = {**UNIT_TESTS[0], "alert_rule_test": [{**UNIT_TESTS[0]["alert_rule_test"][2]}]}
    early["alert_rule_test"][0]["eval_time"] = "9m"
    tests = tmp_path / "tests.yml"
    tests.write_text(yaml.safe_dump({"rule_files": ["rules.yml"], "tests": [early]}))
    done = _promtool(promtool, "test", "rules", "tests.yml", cwd=tmp_path)
    assert done.returncode != 0
    assert "KafkaConsumerLagHigh" in done.stdout + done.stderr


def test_rules_follow_the_catalog_and_the_environment() -> None:
    default = alert_rules(load_settings({}))
    kafka = default["groups"][0]["rules"]
    lag_rules = [r for r in kafka if r["alert"] == "KafkaConsumerLagHigh"]
    thresholds = [t for t in TOPICS.values() if t.lag_alert is not None]
    assert len(lag_rules) == len(thresholds)
    assert 'kafka_consumergroup_lag{topic="tool.requests"}) > 500' in lag_rules[0]["expr"]
    dlq = next(r for r in kafka if r["alert"] == "KafkaDeadLetterMessages")
    for topic in TOPICS.values():
        assert topic.default_name.replace(".", "\\\\.") + "\\\\.dlq" in dlq["expr"]
    renamed = render_rules(load_settings(DOCUMENT))
    assert "somastack.tools" in renamed
    assert '"tool.requests"' not in renamed


def test_the_command_prints_or_writes_the_same_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_REQUESTS_TOPIC", "somastack.tools")
    assert main(["alerts"]) == 0
    printed = capsys.readouterr().out
    assert printed == render_rules(load_settings(DOCUMENT))
    assert printed.startswith("# Prometheus alerting rules")
    out = tmp_path / "rules.yml"
    assert main(["alerts", "--format", "prometheus", "-o", str(out)]) == 0
    assert out.read_text() == printed
    assert yaml.safe_load(printed) == alert_rules(load_settings(DOCUMENT))


def test_an_unwritable_output_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "-o", str(tmp_path / "missing" / "rules.yml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot write" in err
    assert "No such file or directory" in err
    assert not list(tmp_path.iterdir())

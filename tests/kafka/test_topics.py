"""Topic provisioning: idempotent apply, dry run, config repair, compaction, no shrinking."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource

from somacontracts.catalog.environment import Settings
from somacontracts.catalog.platform import TOPICS
from somacontracts.kafka import (
    PartitionShrinkError,
    apply_plans,
    catalog_topics,
    dlq_name,
    plan_topics,
    scale_topic,
)
from somacontracts.tooling.cli import EXIT_OK, EXIT_USAGE, main


def test_catalog_topics_follow_env_names_and_add_dead_letter_topics(settings: Settings) -> None:
    specs = {s.name: s for s in catalog_topics(settings)}
    requests = settings.topic_name("tool_requests")
    assert specs[requests].partitions == TOPICS["tool_requests"].partitions
    assert specs[requests].config["retention.ms"] == str(
        TOPICS["tool_requests"].default_retention_ms
    )
    assert specs[requests].origin("retention.ms") == " (from default-retention in the catalog)"
    assert specs[requests].config["cleanup.policy"] == "delete"
    assert dlq_name(requests) in specs
    assert len(specs) == 2 * len(TOPICS)


def test_compact_option_sets_compact_delete(settings: Settings) -> None:
    specs = {s.name: s for s in catalog_topics(settings, compact=["task_delegated"], dlq=False)}
    assert specs["task.delegated"].config["cleanup.policy"] == "compact,delete"
    assert specs[settings.topic_name("tool_results")].config["cleanup.policy"] == "delete"


def test_apply_twice_changes_nothing_the_second_time(
    settings: Settings, admin: AdminClient
) -> None:
    names = {settings.topic_name("tool_requests"), settings.topic_name("tool_results")}
    specs = [s for s in catalog_topics(settings) if s.name.removesuffix(".dlq") in names]
    first = plan_topics(admin, specs)
    assert all(not p.exists for p in first)
    assert apply_plans(admin, first) == len(specs)
    second = plan_topics(admin, specs)
    assert [p.changed for p in second] == [False] * len(specs)
    assert apply_plans(admin, second) == 0
    assert all(
        p.describe()
        == [f"{p.spec.name}: up to date (retention.ms from default-retention in the catalog)"]
        for p in second
        if not p.spec.name.endswith(".dlq")
    )


def test_apply_repairs_a_changed_setting(settings: Settings, admin: AdminClient) -> None:
    name = settings.topic_name("tool_results")
    specs = [s for s in catalog_topics(settings, dlq=False) if s.name == name]
    apply_plans(admin, plan_topics(admin, specs))
    entry = ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=[entry])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(10)
    (plan,) = plan_topics(admin, specs)
    retention = TOPICS["tool_results"].default_retention_ms
    assert dict(plan.config_changes) == {"retention.ms": ("1000", str(retention))}
    assert plan.describe() == [
        f"{name}: retention.ms 1000 -> {retention} (from default-retention in the catalog)"
    ]
    assert apply_plans(admin, [plan]) == 1
    assert not plan_topics(admin, specs)[0].changed


def test_scale_refuses_to_shrink(settings: Settings, admin: AdminClient) -> None:
    name = settings.topic_name("tool_requests")
    specs = [s for s in catalog_topics(settings, dlq=False) if s.name == name]
    apply_plans(admin, plan_topics(admin, specs))
    with pytest.raises(PartitionShrinkError) as caught:
        scale_topic(admin, name, 1)
    assert str(caught.value) == (
        f'topic "{name}" has 3 partitions; Kafka cannot reduce them to 1 '
        "(create a new topic and migrate instead)"
    )
    assert scale_topic(admin, name, 3) is False


def test_cli_apply_dry_run_then_apply_twice(
    bootstrap: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setenv("TOOL_REQUESTS_TOPIC", f"cli.requests.{suffix}")
    monkeypatch.setenv("TOOL_RESULTS_TOPIC", f"cli.results.{suffix}")
    argv = ["topics", "apply", "--bootstrap", bootstrap]
    assert main([*argv, "--dry-run"]) == EXIT_OK
    dry = capsys.readouterr().out
    assert f"cli.requests.{suffix}: create with 3 partitions" in dry
    assert "would change (dry run)" in dry
    assert main(argv) == EXIT_OK
    assert "changed" in capsys.readouterr().out
    assert main(argv) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("nothing to change: 12 topics")


def test_cli_scale_shrink_is_one_clear_line(
    settings: Settings, admin: AdminClient, bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = settings.topic_name("tool_requests")
    apply_plans(admin, plan_topics(admin, [s for s in catalog_topics(settings) if s.name == name]))
    assert main(["topics", "scale", name, "2", "--bootstrap", bootstrap]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot reduce them to 2" in err

"""Breaking changes without a new topic: a new major version (Confluent's compatibility
groups) whose migration rules translate data between majors on read, end to end: check,
register, diff, and both directions through the typed serdes and confluent-kafka's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.rule_registry import RuleRegistry
from confluent_kafka.schema_registry.rules.jsonata.jsonata_executor import JsonataExecutor
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.compat.changes import diff_versions
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import IncompatibleWriterError, ReadRuleError
from somacontracts.serde import ContractDeserializer, ContractSerializer
from somacontracts.tooling import sources
from somacontracts.tooling.check.checks import check_tree
from somacontracts.tooling.registration import register_tree
from somacontracts.tooling.registry import LocalRegistry
from tests.generated import generated

PACKAGE = "generated_migration_models"
SUBJECT = "shop.orders-value"
CONTEXT = SerializationContext("shop.orders", MessageField.VALUE)
LEVEL = CompatibilityLevel.FULL_TRANSITIVE


def order(*amount_field: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "doc": "An order.",
        "fields": [{"name": "order_id", "type": "string", "doc": "Its id."}, *amount_field],
    }


V1 = order({"name": "amount", "type": "int", "doc": "Total in cents."})
V2 = order({"name": "total_cents", "type": "long", "doc": "Total in cents."})
UPGRADE = "$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total_cents': amount}])"
DOWNGRADE = "$merge([$sift($, function($v, $k) {$k != 'total_cents'}), {'amount': total_cents}])"


def contract(major: str, *migrations: dict[str, Any]) -> dict[str, Any]:
    parts: dict[str, Any] = {"metadata": {"properties": {"application.major.version": major}}}
    if migrations:
        parts["ruleSet"] = {"migrationRules": list(migrations)}
    return parts


def migration(mode: str, expr: str) -> dict[str, Any]:
    return {
        "name": f"{mode.lower()}Total",
        "kind": "TRANSFORM",
        "mode": mode,
        "type": "JSONATA",
        "expr": expr,
    }


def write_tree(root: Path, *, migrated: bool = True) -> Path:
    folder = root / "Order"
    folder.mkdir(parents=True)
    (folder / "v1.avsc").write_text(json.dumps(V1))
    (folder / "v1.contract.json").write_text(json.dumps(contract("1")))
    (folder / "v2.avsc").write_text(json.dumps(V2))
    rules = (migration("UPGRADE", UPGRADE), migration("DOWNGRADE", DOWNGRADE)) if migrated else ()
    (folder / "v2.contract.json").write_text(json.dumps(contract("2", *rules)))
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, sources.ContractSchemas]:
    return sources.load_tree(write_tree(tmp_path_factory.mktemp("migration-tree")))


@pytest.fixture(scope="module")
def models(
    tree: dict[str, sources.ContractSchemas], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    root = tree["Order"].versions[0].path.parent.parent
    with generated(root, tmp_path_factory.mktemp("migration-codegen") / PACKAGE, "order") as module:
        yield module


@pytest.fixture(scope="module")
def registry(tree: dict[str, sources.ContractSchemas]) -> Iterator[str]:
    with LocalRegistry() as started, SchemaRegistryClient({"url": started.url}) as client:
        register_tree(client, tree, lambda _: [SUBJECT], lambda _: LEVEL)
        yield started.url


def test_check_reads_each_major_version_apart(tmp_path: Path) -> None:
    found = check_tree(sources.load_tree(write_tree(tmp_path / "ok")), {"Order": LEVEL})
    assert found == []
    bare = check_tree(
        sources.load_tree(write_tree(tmp_path / "bare", migrated=False)), {"Order": LEVEL}
    )
    assert [(f.rule, f.version) for f in bare] == [("MAJOR_VERSION_MIGRATED", 2)]
    assert "no UPGRADE or DOWNGRADE migration rule" in bare[0].message


def test_diff_tells_a_new_major_version_and_when_one_is_needed(
    tree: dict[str, sources.ContractSchemas],
) -> None:
    old, new = tree["Order"].versions
    report = diff_versions(
        old.schema,
        new.schema,
        old_version=1,
        new_version=2,
        level=LEVEL,
        old_contract=(old.metadata, old.rule_set),
        new_contract=(new.metadata, new.rule_set),
    )
    assert report.allowed
    assert report.rollout.startswith("New major version 2: upgrade consumers first")
    same_major = diff_versions(old.schema, new.schema, old_version=1, new_version=2, level=LEVEL)
    assert not same_major.allowed
    assert "make it a new major version instead" in same_major.rollout
    unmigrated = diff_versions(
        old.schema,
        new.schema,
        old_version=1,
        new_version=2,
        level=LEVEL,
        old_contract=(old.metadata, old.rule_set),
        new_contract=(new.metadata, None),
    )
    assert not unmigrated.allowed
    assert "without UPGRADE and DOWNGRADE migration rules" in unmigrated.rollout
    (metadata,) = [c for c in report.changes if c.kind.value == "METADATA_CHANGED"]
    assert "property application.major.version '1' -> '2'" in metadata.message


def test_register_sets_the_group_and_the_registry_accepts_the_break(registry: str) -> None:
    with SchemaRegistryClient({"url": registry}) as client:
        assert client.get_versions(SUBJECT) == [1, 2]
        assert client.get_config(SUBJECT).compatibility_group == "application.major.version"


def test_each_major_reads_the_other_through_the_migration_rules(registry: str, models: Any) -> None:
    with (
        ContractSerializer(models.OrderV1, registry, subject=SUBJECT) as write_v1,
        ContractSerializer(models.OrderV2, registry, subject=SUBJECT) as write_v2,
        ContractDeserializer(models.OrderV1, registry, subjects=[SUBJECT]) as read_v1,
        ContractDeserializer(models.OrderV2, registry, subjects=[SUBJECT]) as read_v2,
    ):
        old = write_v1(models.OrderV1(order_id="o-1", amount=1250), CONTEXT)
        new = write_v2(models.OrderV2(order_id="o-2", total_cents=990), CONTEXT)
        assert read_v2(old, CONTEXT) == models.OrderV2(order_id="o-1", total_cents=1250)
        assert read_v1(new, CONTEXT) == models.OrderV1(order_id="o-2", amount=990)
        assert read_v1(old, CONTEXT) == models.OrderV1(order_id="o-1", amount=1250)


def test_confluent_s_reader_of_major_2_upgrades_our_major_1(registry: str, models: Any) -> None:
    rules = RuleRegistry()  # type: ignore[no-untyped-call]
    rules.register_executor(JsonataExecutor())  # type: ignore[no-untyped-call]
    with (
        ContractSerializer(models.OrderV1, registry, subject=SUBJECT) as write_v1,
        SchemaRegistryClient({"url": registry}) as client,
    ):
        theirs = AvroDeserializer(
            client,
            conf={"use.latest.with.metadata": {"application.major.version": "2"}},
            rule_registry=rules,
        )
        old = write_v1(models.OrderV1(order_id="o-1", amount=1250), CONTEXT)
        assert theirs(old, CONTEXT) == {"order_id": "o-1", "total_cents": 1250}


def test_without_migration_rules_another_major_is_refused(tmp_path: Path, models: Any) -> None:
    tree = sources.load_tree(write_tree(tmp_path, migrated=False))
    with LocalRegistry() as started, SchemaRegistryClient({"url": started.url}) as client:
        register_tree(client, tree, lambda _: [SUBJECT], lambda _: LEVEL)
        with ContractSerializer(models.OrderV1, client, subject=SUBJECT) as write_v1:
            old = write_v1(models.OrderV1(order_id="o-1", amount=1), CONTEXT)
        with (
            ContractDeserializer(models.OrderV2, client, subjects=[SUBJECT]) as read_v2,
            pytest.raises(IncompatibleWriterError, match="no migration rules from version 1"),
        ):
            read_v2(old, CONTEXT)


@pytest.mark.parametrize(
    ("upgrade", "expected"),
    [
        (
            "{'order_id': order_id, 'total_cents': 'abc'}",
            "Order.total_cents: expected int for an Avro long, got str",
        ),
        ("{'order_id': order_id, 'total_cents': amount + 0.5}", "got float 7.5"),
        ("{'order_id': order_id}", "lacks field 'total_cents'"),
        ("42", "gave int, not a record"),
        ("($f := function($x){$f($x)}; $f(1))", 'migration rule "upgradeTotal" failed'),
    ],
    ids=["string", "float", "missing", "not-a-record", "endless"],
)
def test_a_migration_that_gives_what_the_model_cannot_hold_is_refused(
    tmp_path: Path, models: Any, upgrade: str, expected: str
) -> None:
    tree = sources.load_tree(write_tree(tmp_path))
    rules_file = tmp_path / "Order" / "v2.contract.json"
    parts = json.loads(rules_file.read_text())
    parts["ruleSet"]["migrationRules"][0]["expr"] = upgrade
    rules_file.write_text(json.dumps(parts))
    tree = sources.load_tree(tmp_path)
    with LocalRegistry() as started, SchemaRegistryClient({"url": started.url}) as client:
        register_tree(client, tree, lambda _: [SUBJECT], lambda _: LEVEL)
        with ContractSerializer(models.OrderV1, client, subject=SUBJECT) as write_v1:
            old = write_v1(models.OrderV1(order_id="o-1", amount=7), CONTEXT)
        with (
            ContractDeserializer(models.OrderV2, client, subjects=[SUBJECT]) as read_v2,
            pytest.raises(ReadRuleError) as refused,
        ):
            read_v2(old, CONTEXT)
    text = str(refused.value)
    assert "\n" not in text
    assert expected in text

"""Data Contracts in the local registry: metadata and rule sets registered with a schema,
part of its identity, returned by every read, checked, persisted."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.common.schema_registry_client import (
    ConfigCompatibilityLevel,
    Metadata,
    MetadataProperties,
    MetadataTags,
    Rule,
    RuleKind,
    RuleMode,
    RuleParams,
    RuleSet,
    ServerConfig,
)
from confluent_kafka.schema_registry.error import SchemaRegistryError

from somacontracts.tooling.registry import LocalRegistry
from tests.server.conftest import PII_EVENT_SCHEMA, connect, raw

SCHEMA = PII_EVENT_SCHEMA
ENCRYPT = Rule(
    "encryptPII",
    "encrypt what is PII",
    RuleKind.TRANSFORM,
    RuleMode.WRITEREAD,
    "ENCRYPT",
    ["PII"],
    RuleParams({"encrypt.kek.name": "kek1", "encrypt.kms.type": "local-kms"}),
    None,
    None,
    "ERROR,NONE",
    False,
)
TENANT = Rule(
    "tenantSet",
    None,
    RuleKind.CONDITION,
    RuleMode.WRITE,
    "CEL",
    None,
    None,
    'message.tenant_id != ""',
    None,
    "DLQ",
    False,
)
RULE = {"name": "r", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "true"}
METADATA = Metadata(
    MetadataTags({"test.Event.content": ["PII"]}),
    MetadataProperties({"owner": "conversations", "application.major.version": "1"}),
    ["owner"],
)


def contract(*rules: Rule, metadata: Metadata | None = METADATA) -> Schema:
    return Schema(SCHEMA, "AVRO", [], metadata, RuleSet(None, list(rules)))


def test_metadata_and_rules_come_back_from_every_read(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    schema_id = client.register_schema("events-value", contract(ENCRYPT, TENANT))
    latest = client.get_latest_version("events-value").schema
    with connect(registry.url) as fresh:  # no cache: from the registry
        by_id = fresh.get_schema(schema_id)
    looked_up = client.lookup_schema("events-value", contract(ENCRYPT, TENANT))
    found: Any
    for found in (latest, by_id, looked_up.schema):
        assert found.rule_set is not None
        assert [r.name for r in found.rule_set.domain_rules or []] == ["encryptPII", "tenantSet"]
        assert found.rule_set.domain_rules[0].params.params["encrypt.kek.name"] == "kek1"
        assert found.metadata is not None
        assert found.metadata.properties.properties["owner"] == "conversations"
        assert found.metadata.tags.tags == {"test.Event.content": ["PII"]}
    _, body = raw(registry.url, "GET", "/subjects/events-value/versions/1")
    assert body["ruleSet"]["domainRules"][1]["expr"] == 'message.tenant_id != ""'
    assert body["metadata"]["sensitive"] == ["owner"]


def test_rules_are_part_of_the_schema_s_identity(client: SchemaRegistryClient) -> None:
    first = client.register_schema("events-value", contract(ENCRYPT))
    assert client.register_schema("events-value", contract(ENCRYPT)) == first
    second = client.register_schema("events-value", contract(ENCRYPT, TENANT))
    assert second != first
    assert client.get_versions("events-value") == [1, 2]
    # a bare schema takes the subject's latest rules and metadata, as in Confluent's
    assert client.register_schema("events-value", Schema(SCHEMA, "AVRO")) == second
    assert client.get_versions("events-value") == [1, 2]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            {"ruleSet": {"domainRules": [{**RULE, "tags": ["A", "B"]}]}},
            {"ruleSet": {"domainRules": [{**RULE, "tags": ["B", "A", "A"]}]}},
        ),
        (
            {"ruleSet": {"domainRules": [{**RULE, "disabled": False}]}},
            {"ruleSet": {"domainRules": [RULE]}},
        ),
        ({"metadata": {"sensitive": ["a", "b"]}}, {"metadata": {"sensitive": ["b", "a", "a"]}}),
        (
            {"metadata": {}, "ruleSet": {}},
            {"metadata": {"properties": {}}, "ruleSet": {"domainRules": []}},
        ),
    ],
)
def test_contracts_that_differ_only_in_form_are_one_schema(
    registry: LocalRegistry, one: dict[str, Any], other: dict[str, Any]
) -> None:
    url = registry.url
    first = raw(url, "POST", "/subjects/s-value/versions", {"schema": SCHEMA, **one})[1]
    again = raw(url, "POST", "/subjects/s-value/versions", {"schema": SCHEMA, **other})[1]
    assert first == again
    assert raw(url, "GET", "/subjects/s-value/versions")[1] == [1]


def test_a_property_s_empty_value_is_a_value(registry: LocalRegistry) -> None:
    url = registry.url
    plain = raw(url, "POST", "/subjects/a-value/versions", {"schema": SCHEMA})[1]
    empty = {"schema": SCHEMA, "metadata": {"properties": {"owner": ""}}}
    assert raw(url, "POST", "/subjects/b-value/versions", empty)[1] != plain


@pytest.mark.parametrize(
    ("part", "value", "said"),
    [
        (
            "ruleSet",
            {"domainRules": [{"name": "r", "kind": "MOVE", "mode": "WRITE", "type": "X"}]},
            "kind",
        ),
        (
            "ruleSet",
            {"domainRules": [{"name": "r", "kind": "TRANSFORM", "mode": "UPGRADE", "type": "X"}]},
            "mode",
        ),
        (
            "ruleSet",
            {"migrationRules": [{"name": "r", "kind": "TRANSFORM", "mode": "WRITE", "type": "X"}]},
            "mode",
        ),
        ("ruleSet", {"domainRules": [{"kind": "TRANSFORM", "mode": "WRITE", "type": "X"}]}, "name"),
        ("ruleSet", {"domainRules": [{"name": "r", "kind": "TRANSFORM", "mode": "WRITE"}]}, "type"),
        (
            "ruleSet",
            {
                "domainRules": [{"name": "r", "kind": "CONDITION", "mode": "WRITE", "type": "CEL"}]
                * 2
            },
            "twice",
        ),
        (
            "ruleSet",
            {
                "domainRules": [
                    {
                        "name": "r",
                        "kind": "CONDITION",
                        "mode": "WRITE",
                        "type": "CEL",
                        "params": {"a": 1},
                    }
                ]
            },
            "params",
        ),
        ("ruleSet", {"rules": []}, "unknown key"),
        ("ruleSet", [], "object"),
        ("metadata", {"properties": {"a": 1}}, "properties"),
        ("metadata", {"tags": {"a": "PII"}}, "tags"),
        ("metadata", {"owner": "x"}, "unknown key"),
    ],
)
def test_a_malformed_contract_is_refused(
    registry: LocalRegistry, part: str, value: Any, said: str
) -> None:
    status, body = raw(
        registry.url, "POST", "/subjects/events-value/versions", {"schema": SCHEMA, part: value}
    )
    assert (status, body["error_code"]) == (422, 42201)
    assert said in body["message"]


def test_contracts_survive_a_restart_and_older_databases_gain_them(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    with LocalRegistry(db_path=db) as registry, connect(registry.url) as client:
        schema_id = client.register_schema("events-value", contract(ENCRYPT))
    with LocalRegistry(db_path=db) as registry, connect(registry.url) as client:
        found = client.get_schema(schema_id)
        assert found.rule_set is not None
        assert found.rule_set.domain_rules[0].name == "encryptPII"
    # a database made before the columns existed
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('format', '1');"
            "CREATE TABLE schemas (id INTEGER PRIMARY KEY, schema_type TEXT NOT NULL,"
            " schema TEXT NOT NULL, refs TEXT NOT NULL, expanded TEXT NOT NULL,"
            " hash TEXT NOT NULL UNIQUE, normal_hash TEXT NOT NULL);"
        )
    with LocalRegistry(db_path=old) as registry, connect(registry.url) as client:
        schema_id = client.register_schema("events-value", contract(ENCRYPT))
        assert client.get_schema(schema_id).rule_set is not None


def test_the_latest_version_with_metadata(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    """What a serializer configured with ``use.latest.with.metadata`` asks for: the newest
    version of a compatibility group (``application.major.version``)."""

    def major(version: str, doc: str) -> Schema:
        properties = MetadataProperties({"application.major.version": version})
        text = json.loads(SCHEMA)
        text["doc"] = doc
        return Schema(json.dumps(text), "AVRO", [], Metadata(None, properties, None), None)

    client.register_schema("events-value", major("1", "first"))
    client.register_schema("events-value", major("2", "second"))
    client.register_schema("events-value", major("1", "first, again"))
    with connect(registry.url) as fresh:
        found = fresh.get_latest_with_metadata("events-value", {"application.major.version": "2"})
        assert found.version == 2
        found = fresh.get_latest_with_metadata("events-value", {"application.major.version": "1"})
        assert found.version == 3
    status, body = raw(
        registry.url, "GET", "/subjects/events-value/metadata?key=application.major.version&value=9"
    )
    assert (status, body["error_code"]) == (404, 40403)
    status, body = raw(registry.url, "GET", "/subjects/events-value/metadata?key=a")
    assert status == 422
    assert (
        raw(registry.url, "GET", "/subjects/nope/metadata?key=a&value=b")[1]["error_code"] == 40401
    )


def test_config_defaults_and_overrides_merge_into_every_registration(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    """``defaultMetadata`` / ``defaultRuleSet`` go under what a registration brings (or
    inherits), ``overrideMetadata`` / ``overrideRuleSet`` over it, as in Confluent's
    registry: platform owners enforce encryption on a subject whatever producers send."""
    client.set_config(
        "events-value",
        ServerConfig(
            default_metadata=Metadata(None, MetadataProperties({"owner": "platform"}), None),
            override_rule_set=RuleSet(None, [ENCRYPT]),
        ),
    )
    config = client.get_config("events-value")
    assert config.override_rule_set is not None
    assert [r.name for r in config.override_rule_set.domain_rules or []] == ["encryptPII"]
    client.register_schema("events-value", Schema(SCHEMA, "AVRO"))  # bare: no rules sent
    first: Any = client.get_latest_version("events-value").schema
    assert [r.name for r in first.rule_set.domain_rules or []] == ["encryptPII"]
    assert first.metadata.properties.properties == {"owner": "platform"}
    # a version's own metadata goes over the default; the override replaces a rule by name
    weaker = Rule(
        "encryptPII",
        None,
        RuleKind.TRANSFORM,
        RuleMode.WRITE,
        "ENCRYPT",
        ["X"],
        None,
        None,
        None,
        None,
        True,
    )
    own = Metadata(None, MetadataProperties({"owner": "conversations", "team": "c"}), None)
    text = json.loads(SCHEMA)
    text["doc"] = "second"
    client.register_schema(
        "events-value", Schema(json.dumps(text), "AVRO", [], own, RuleSet(None, [weaker, TENANT]))
    )
    stored: Any = client.get_version("events-value", 2).schema
    assert stored.metadata.properties.properties == {"owner": "conversations", "team": "c"}
    rules = stored.rule_set.domain_rules or []
    assert [(r.name, r.disabled) for r in rules] == [("tenantSet", False), ("encryptPII", False)]
    # a setting given as null is removed; the level stays apart
    assert raw(registry.url, "PUT", "/config/events-value", {"overrideRuleSet": None})[0] == 200
    assert "overrideRuleSet" not in raw(registry.url, "GET", "/config/events-value")[1]
    status, body = raw(registry.url, "PUT", "/config/events-value", {"defaultRuleSet": []})
    assert (status, body["error_code"]) == (422, 42203)
    for bad in (
        {"compatibilityGroup": 7},
        {"compatibilityGroup": "\u0000"},
        {},
        {"a": 1},
        {"compatibilityGroup": "g" * 256},
    ):
        status, body = raw(registry.url, "PUT", "/config/events-value", bad)
        assert (status, body["error_code"]) == (422, 42203), bad


def test_a_compatibility_group_checks_each_major_version_apart(
    registry: LocalRegistry, client: SchemaRegistryClient
) -> None:
    """With ``compatibilityGroup`` set, a version is checked only against the versions of
    its group: a breaking change is a new major version, not a new topic."""
    client.set_config(
        "orders-value",
        ServerConfig(
            compatibility=ConfigCompatibilityLevel.BACKWARD,
            compatibility_group="application.major.version",
        ),
    )

    def major(number: str, *fields: dict[str, Any]) -> Schema:
        schema = {"type": "record", "name": "Order", "namespace": "test", "fields": list(fields)}
        properties = MetadataProperties({"application.major.version": number})
        return Schema(json.dumps(schema), "AVRO", [], Metadata(None, properties, None), None)

    client.register_schema("orders-value", major("1", {"name": "amount", "type": "int"}))
    breaking = major("2", {"name": "total", "type": "string"})  # no default: breaking
    assert client.test_compatibility("orders-value", breaking)
    client.register_schema("orders-value", breaking)
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(
            "orders-value",
            major("1", {"name": "amount", "type": "int"}, {"name": "x", "type": "string"}),
        )
    assert refused.value.error_code == 409

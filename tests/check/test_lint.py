"""Each lint rule: one failing fixture, and the bundled contracts pass them all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from somacontracts.errors import SchemaLoadError
from somacontracts.tooling import sources
from somacontracts.tooling.check.findings import WARNING
from somacontracts.tooling.check.lint import RULES, lint


def doc_record(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "record",
        "name": "Thing",
        "namespace": "t",
        "doc": "d",
        "fields": [
            {"name": "a", "type": "int", "doc": "d"},
            {
                "name": "e",
                "doc": "d",
                "type": {
                    "type": "enum",
                    "name": "E",
                    "doc": "d",
                    "symbols": ["X", "U"],
                    "default": "U",
                },
            },
        ],
    }
    base.update(extra)
    return base


def versions_of(tmp_path: Path, *docs: dict[str, Any]) -> list[sources.SchemaVersion]:
    folder = tmp_path / "Thing"
    folder.mkdir()
    for number, doc in enumerate(docs, start=1):
        (folder / f"v{number}.avsc").write_text(json.dumps(doc))
    return list(sources.load_contract(folder).versions)


def test_rule_ids_are_unique_and_described() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.purpose.startswith("Checks that ") for rule in RULES)


def test_clean_contract_has_no_findings(tmp_path: Path) -> None:
    assert lint(versions_of(tmp_path, doc_record())) == []


def test_bundled_contracts_pass_every_rule() -> None:
    """Not even a warning: ConversationEvent v1 carries message text untagged, but v2,
    the newest, tags and encrypts it."""
    assert [f for c in sources.bundled().values() for f in lint(c.versions)] == []


def test_pii_rules_judge_the_newest_version_only(tmp_path: Path) -> None:
    untagged = field_record({"name": "email", "type": "string"})
    tagged = field_record({"name": "email", "type": "string", "confluent:tags": ["PII"]})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert [f.rule for f in lint(versions_of(tmp_path / "a", untagged, untagged))] == [
        "PII_UNTAGGED"
    ]
    found = lint(versions_of(tmp_path / "b", untagged, tagged))
    assert [(f.rule, f.version) for f in found] == [("PII_UNENCRYPTED", 2)]


def field_record(*fields: dict[str, Any]) -> dict[str, Any]:
    return doc_record(fields=[{**f, "doc": f.get("doc", "d")} for f in fields])


@pytest.mark.parametrize(
    "field",
    [
        {"name": "email", "type": "string"},
        {"name": "contactEmail", "type": "string"},
        {"name": "phone_number", "type": "string"},
        {"name": "first_name", "type": "string"},
        {"name": "displayName", "type": "string"},
        {"name": "home_address", "type": "string"},
        {"name": "client_ip", "type": "string"},
        {"name": "date_of_birth", "type": "string"},
        {"name": "body", "type": "string", "doc": "Text of the message the user wrote."},
        {"name": "x", "type": "string", "doc": "The customer's e-mail, for receipts."},
    ],
)
def test_personal_data_without_a_pii_tag_is_a_warning(
    tmp_path: Path, field: dict[str, Any]
) -> None:
    versions = versions_of(tmp_path, field_record(field))
    (finding,) = lint(versions)
    assert (finding.rule, finding.severity, finding.location) == (
        "PII_UNTAGGED",
        WARNING,
        "/fields/0",
    )
    assert f'Field "{field["name"]}"' in finding.message
    strict = lint(versions, severities={"PII_UNTAGGED": "error"})
    assert [f.severity for f in strict] == ["error"]


@pytest.mark.parametrize(
    "field",
    [
        {"name": "tool_name", "type": "string"},
        {"name": "user_id", "type": "string", "doc": "Opaque id; never a name or address."},
        {"name": "tenant_id", "type": "string"},
    ],
)
def test_other_fields_are_not(tmp_path: Path, field: dict[str, Any]) -> None:
    assert lint(versions_of(tmp_path, field_record(field))) == []


ENCRYPT_PII = {
    "name": "encryptPII",
    "kind": "TRANSFORM",
    "mode": "WRITEREAD",
    "type": "ENCRYPT",
    "tags": ["PII"],
    "params": {"encrypt.kek.name": "kek1"},
    "onFailure": "ERROR,NONE",
}


def with_contract(
    tmp_path: Path, record: dict[str, Any], contract: Any
) -> list[sources.SchemaVersion]:
    folder = tmp_path / "Thing"
    folder.mkdir()
    (folder / "v1.avsc").write_text(json.dumps(record))
    if contract is not None:
        (folder / "v1.contract.json").write_text(json.dumps(contract))
    return list(sources.load_contract(folder).versions)


@pytest.mark.parametrize(
    ("field", "contract"),
    [
        ({"name": "email", "type": "string", "confluent:tags": ["PII"]}, None),
        ({"name": "note", "type": ["null", "string"], "confluent:tags": ["pii", "X"]}, None),
        ({"name": "email", "type": "string"}, {"metadata": {"tags": {"t.Thing.email": ["PII"]}}}),
        (
            {"name": "email", "type": "string", "confluent:tags": ["PII"]},
            {"ruleSet": {"domainRules": [{**ENCRYPT_PII, "disabled": True}]}},
        ),
        (
            {"name": "email", "type": "string", "confluent:tags": ["PII"]},
            {"ruleSet": {"domainRules": [{**ENCRYPT_PII, "mode": "WRITE"}]}},
        ),
        (
            {"name": "email", "type": "string", "confluent:tags": ["PII"]},
            {"ruleSet": {"domainRules": [{**ENCRYPT_PII, "tags": ["SECRET"]}]}},
        ),
    ],
)
def test_a_pii_field_no_encrypt_rule_covers_is_an_error(
    tmp_path: Path, field: dict[str, Any], contract: Any
) -> None:
    found = lint(with_contract(tmp_path, field_record(field), contract))
    (finding,) = [f for f in found if f.rule == "PII_UNENCRYPTED"]
    assert (finding.rule, finding.severity, finding.location) == (
        "PII_UNENCRYPTED",
        "error",
        "/fields/0",
    )
    assert "v1.contract.json" in finding.message


@pytest.mark.parametrize(
    "contract",
    [
        {"ruleSet": {"domainRules": [ENCRYPT_PII]}},
        {
            "metadata": {"tags": {"t.Thing.email": ["PII"]}, "properties": {"owner": "x"}},
            "ruleSet": {"domainRules": [ENCRYPT_PII]},
        },
    ],
)
def test_an_encrypt_rule_covers_the_pii_fields(tmp_path: Path, contract: Any) -> None:
    field = {"name": "email", "type": "string", "confluent:tags": ["PII"]}
    versions = with_contract(tmp_path, field_record(field), contract)
    assert lint(versions) == []
    assert versions[0].rule_set == {"domainRules": [ENCRYPT_PII]}


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("v1.contract.json", '{"ruleSet": {"domainRules": [{"name": "r"}]}}', "kind"),
        ("v1.contract.json", '{"rules": []}', "unknown key"),
        ("v1.contract.json", "[", "not valid JSON"),
        ("v2.contract.json", "{}", "belongs to no schema"),
    ],
)
def test_a_bad_contract_file_is_one_error_naming_it(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    folder = tmp_path / "Thing"
    folder.mkdir()
    (folder / "v1.avsc").write_text(json.dumps(doc_record()))
    (folder / name).write_text(text)
    with pytest.raises(SchemaLoadError, match=said) as refused:
        sources.load_contract(folder)
    assert refused.value.source == str(folder / name)


def _enum_without(key: str) -> dict[str, Any]:
    record = doc_record()
    del record["fields"][1]["type"][key]
    return record


def _enum_named(name: str) -> dict[str, Any]:
    record = doc_record()
    record["fields"][1]["type"]["name"] = name
    return record


def _micros(logical: str) -> dict[str, Any]:
    return {"type": "long", "logicalType": logical}


def _decimal(scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": scale}


def _field_without_doc() -> dict[str, Any]:
    record = doc_record()
    del record["fields"][0]["doc"]
    return record


CASES = [
    ("RECORD_DOC", [doc_record(doc="")], "", 'Record "t.Thing" has no doc.'),
    ("FIELD_DOC", [_field_without_doc()], "/fields/0", 'Field "a" of record "t.Thing" has no doc.'),
    ("ENUM_DOC", [_enum_without("doc")], "/fields/1/type", 'Enum "t.E" has no doc.'),
    (
        "RECORD_NAMESPACE",
        [{**doc_record(), "namespace": ""}],
        "/namespace",
        'Record "Thing" has no namespace.',
    ),
    (
        "TYPE_NAME_KEYWORD",
        [_enum_named("record")],
        "/fields/1/type/name",
        'Enum "t.record" is named like the Avro type "record"',
    ),
    (
        "ENUM_DEFAULT",
        [_enum_without("default")],
        "/fields/1/type",
        'Enum "t.E" has no default symbol',
    ),
    (
        "FIELD_ADDED_WITH_DEFAULT",
        [
            doc_record(),
            doc_record(fields=[*doc_record()["fields"], {"name": "b", "type": "int", "doc": "d"}]),
        ],
        "/fields/2",
        'Field "b" of record "t.Thing" was added after v1 without a default.',
    ),
    (
        "LOGICAL_TYPE_UNCHANGED",
        [
            doc_record(fields=[{"name": "at", "type": _micros("timestamp-micros"), "doc": "d"}]),
            doc_record(fields=[{"name": "at", "type": _micros("timestamp-millis"), "doc": "d"}]),
        ],
        "/fields/0/type",
        'Field "at" of record "t.Thing" was timestamp-micros in v1 and is timestamp-millis in v2',
    ),
    (
        "LOGICAL_TYPE_UNCHANGED",
        [
            doc_record(fields=[{"name": "d", "type": ["null", _decimal(2)], "doc": "d"}]),
            doc_record(fields=[{"name": "d", "type": ["null", _decimal(3)], "doc": "d"}]),
        ],
        "/fields/0/type/1",
        'Field "d" of record "t.Thing" was decimal (precision 9, scale 2) in v1 and is decimal '
        "(precision 9, scale 3) in v2",
    ),
]


@pytest.mark.parametrize(
    ("rule", "docs", "location", "message"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES]
)
def test_each_rule_reports_and_can_be_disabled(
    tmp_path: Path, rule: str, docs: list[dict[str, Any]], location: str, message: str
) -> None:
    versions = versions_of(tmp_path, *docs)
    findings = [f for f in lint(versions) if f.rule == rule]
    assert len(findings) == 1
    (finding,) = findings
    assert finding.location == location
    assert finding.message.startswith(message)
    assert finding.version == len(docs)
    assert not [f for f in lint(versions, disabled=frozenset({rule})) if f.rule == rule]


def test_added_field_with_default_or_renamed_by_alias_passes(tmp_path: Path) -> None:
    fields = doc_record()["fields"]
    v2 = doc_record(fields=[*fields, {"name": "b", "type": "int", "doc": "d", "default": 0}])
    renamed = [{"name": "a2", "aliases": ["a"], "type": "int", "doc": "d"}, fields[1]]
    v3 = doc_record(fields=[*renamed, {"name": "b", "type": "int", "doc": "d", "default": 0}])
    assert lint(versions_of(tmp_path, doc_record(), v2, v3)) == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"type": "CEL", "mode": "WRITE", "expr": "((("}, "its CEL expression does not parse"),
        ({"type": "JSONATA", "mode": "UPGRADE", "expr": "$merge(["}, "JSONata expression does"),
        ({"type": "CEL", "mode": "WRITE", "expr": "true", "onFailure": "EXPLODE"}, '"EXPLODE"'),
        (
            {"type": "CEL", "mode": "WRITE", "expr": "true", "onFailure": "ERROR,NONE"},
            "only a WRITEREAD or UPDOWN rule",
        ),
        ({"type": "NOPE", "mode": "WRITE"}, 'type "NOPE" is none the serdes run'),
        (
            {
                "type": "ENCRYPT",
                "mode": "WRITEREAD",
                "tags": ["PII"],
                "params": {"encrypt.kek.name": "k", "encrypt.dek.algorithm": "FOO"},
            },
            '"FOO" is not',
        ),
        (
            {
                "type": "ENCRYPT",
                "mode": "WRITEREAD",
                "tags": ["PII"],
                "params": {"encrypt.kek.name": "k", "encrypt.dek.expiry.days": "x"},
            },
            '"x" is not a',
        ),
        ({"type": "ENCRYPT", "mode": "WRITEREAD", "tags": ["PII"]}, "names no KEK"),
    ],
    ids=["cel", "jsonata", "action", "two-actions", "type", "algorithm", "expiry", "kek"],
)
def test_a_rule_that_cannot_run_is_an_error(
    tmp_path: Path, rule: dict[str, Any], expected: str
) -> None:
    folder = tmp_path / "Thing"
    folder.mkdir()
    (folder / "v1.avsc").write_text(json.dumps(doc_record()))
    kind = "migrationRules" if rule["mode"] == "UPGRADE" else "domainRules"
    full = {"name": "r", "kind": "CONDITION" if rule["type"] == "CEL" else "TRANSFORM", **rule}
    (folder / "v1.contract.json").write_text(json.dumps({"ruleSet": {kind: [full]}}))
    found = [f for f in lint(sources.load_contract(folder).versions) if f.rule == "RULES_RUNNABLE"]
    assert len(found) == 1
    assert found[0].severity == "error"
    assert found[0].location == f"/ruleSet/{kind}/0"
    assert expected in found[0].message


def _card(last4: dict[str, Any]) -> dict[str, Any]:
    card = {"type": "record", "name": "Card", "doc": "A card.", "fields": [last4]}
    return {"name": "card", "type": ["null", card], "default": None, "doc": "The card used."}


def test_a_record_field_whose_personal_data_is_tagged_inside_is_not_flagged(
    tmp_path: Path,
) -> None:
    """``card`` looks personal, and keeps its personal data in ``card.last4``, tagged and
    encrypted: the container is covered by its fields' rules."""
    tagged = {"name": "last4", "type": "string", "doc": "d", "confluent:tags": ["PII"]}
    covered = {"ruleSet": {"domainRules": [ENCRYPT_PII]}}
    assert lint(with_contract(tmp_path, field_record(_card(tagged)), covered)) == []
    in_a_map = {"name": "cards", "type": {"type": "map", "values": _card(tagged)["type"][1]}}
    (tmp_path / "m").mkdir()
    assert lint(with_contract(tmp_path / "m", field_record(in_a_map), covered)) == []
    # Nothing inside is tagged: the container still looks like personal data.
    untagged = {"name": "last4", "type": "string", "doc": "d"}
    (tmp_path / "u").mkdir()
    found = lint(with_contract(tmp_path / "u", field_record(_card(untagged)), None))
    assert [(f.rule, f.location) for f in found] == [("PII_UNTAGGED", "/fields/0")]

"""Which dotted paths can key a contract's messages (the catalog's ``key``): every type a
field may have, paths through records, unions, arrays and maps, PII tags and encryption
rules; and, as a property, that every path accepted reads from any object of the
generated model a value whose text keys it (what the producer sends)."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from somacontracts.schema import RecordNode, parse
from somacontracts.schema.keys import KEY_PII, UNKNOWN_KEY, key_problem
from somacontracts.tooling.testing import models
from tests.generated import generated

PERSON = {
    "type": "record",
    "name": "Person",
    "doc": "d",
    "fields": [
        {"name": "account_id", "type": "string", "doc": "d"},
        {"name": "email", "type": "string", "doc": "d", "confluent:tags": ["pii"]},
        {"name": "card", "type": "string", "doc": "d"},
        {"name": "phone", "type": "string", "doc": "d"},
        {"name": "seat", "type": "int", "doc": "d"},
    ],
}
LEAVES: dict[str, Any] = {
    "text": "string",
    "ident": {"type": "string", "logicalType": "uuid"},
    "small": "int",
    "big": "long",
    "kind": {"type": "enum", "name": "Kind", "symbols": ["A", "B"], "default": "A", "doc": "d"},
    "flag": "boolean",
    "ratio": "float",
    "share": "double",
    "blob": "bytes",
    "digest": {"type": "fixed", "name": "Digest", "size": 4},
    "money": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
    "day": {"type": "int", "logicalType": "date"},
    "at": {"type": "long", "logicalType": "timestamp-millis"},
    "maybe": ["null", "string"],
    "either": ["string", "long"],
    "tags": {"type": "array", "items": "string"},
    "labels": {"type": "map", "values": "string"},
}
SCHEMA = {
    "type": "record",
    "name": "Order",
    "namespace": "shop.contracts",
    "doc": "d",
    "fields": [
        *({"name": name, "type": kind, "doc": "d"} for name, kind in LEAVES.items()),
        {"name": "buyer", "type": PERSON, "doc": "d"},
        {
            "name": "meta",
            "doc": "d",
            "type": {
                "type": "record",
                "name": "Meta",
                "doc": "d",
                "fields": [{"name": "owner", "type": "Person", "doc": "d"}],
            },
        },
        {"name": "payer", "type": ["null", "Person"], "default": None, "doc": "d"},
        {"name": "people", "type": {"type": "array", "items": "Person"}, "doc": "d"},
    ],
}
METADATA = {"tags": {"shop.contracts.Person.card": ["PCI"], "**.phone": ["PII"]}}
RULES = {
    "domainRules": [
        {"name": "encryptCards", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT"}
        | {"tags": ["PCI"], "params": {"encrypt.kek.name": "k"}}
    ]
}
FIT = {"text", "ident", "small", "big", "kind", "buyer.account_id", "buyer.seat"}


def problem_of(path: str, rule_set: Any = RULES) -> Any:
    return key_problem(parse(SCHEMA).root, path, metadata=METADATA, rule_set=rule_set)


@pytest.mark.parametrize("path", sorted(FIT | {"meta.owner.account_id", "meta.owner.seat"}))
def test_a_string_enum_int_or_long_field_keys(path: str) -> None:
    assert problem_of(path) is None


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("flag", '"flag" is a boolean: its value has no one text'),
        ("ratio", '"ratio" is a float:'),
        ("share", '"share" is a double:'),
        ("blob", '"blob" is a bytes:'),
        ("digest", '"digest" is a fixed "shop.contracts.Digest":'),
        ("money", '"money" is a bytes (decimal):'),
        ("day", '"day" is an int (date):'),
        ("at", '"at" is a long (timestamp-millis):'),
        ("maybe", '"maybe" is a union [null, string]: a message whose value is null would'),
        ("either", '"either" is a union [string, long]:'),
        ("tags", '"tags" is an array:'),
        ("labels", '"labels" is a map:'),
        ("buyer", '"buyer" is a record "shop.contracts.Person":'),
        ("payer.account_id", '"payer" is a union [null, record "shop.contracts.Person"]: a'),
        ("people.account_id", '"people" is an array, not a record with fields'),
        ("text.length", '"text" is a string, not a record with fields'),
        ("nope", 'record "shop.contracts.Order" has no field "nope" (its fields: text, '),
        ("meta.owner.nope", 'record "shop.contracts.Person" has no field "nope" (its fields: '),
    ],
)
def test_any_other_path_is_refused_naming_why(path: str, words: str) -> None:
    problem = problem_of(path)
    assert problem is not None
    assert problem.rule == UNKNOWN_KEY
    assert problem.reason.startswith(words), problem.reason
    assert "\n" not in problem.reason


def test_the_pointer_is_that_of_the_field_or_the_record_at_fault() -> None:
    assert problem_of("flag").pointer == "/fields/5"
    assert problem_of("buyer.nope").pointer == "/fields/17/type"
    assert problem_of("payer.email").pointer == "/fields/19/type"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("buyer.email", '"buyer.email" is tagged PII: the key would carry it in plain text'),
        ("meta.owner.phone", '"meta.owner.phone" is tagged PII:'),  # by a metadata wildcard
        ("buyer.card", '"buyer.card" is encrypted by rule "encryptCards": the key would'),
    ],
)
def test_personal_or_encrypted_data_is_refused(path: str, words: str) -> None:
    problem = problem_of(path)
    assert problem is not None
    assert (problem.rule, problem.reason[: len(words)]) == (KEY_PII, words)


def rule(**changes: Any) -> dict[str, Any]:
    base = {"name": "r", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT"}
    return {"domainRules": [{**base, "tags": ["PCI"], **changes}]}


@pytest.mark.parametrize(
    ("rule_set", "encrypted"),
    [
        (rule(), True),
        (rule(mode="WRITE"), True),
        (rule(tags=[]), True),  # a rule without tags encrypts every field
        (rule(disabled=True), False),
        (rule(mode="READ"), False),
        (rule(type="CEL"), False),
        (rule(tags=["OTHER"]), False),
        (None, False),
    ],
)
def test_only_an_enabled_encrypt_rule_that_writes_the_field_encrypts_it(
    rule_set: Any, encrypted: bool
) -> None:
    problem = problem_of("buyer.card", rule_set)
    assert (problem is not None and problem.rule == KEY_PII) is encrypted


def paths(node: RecordNode, prefix: str = "") -> Iterator[str]:
    """Every dotted path through the fields of ``node``, nested records included."""
    for field in node.fields:
        path = f"{prefix}{field.name}"
        yield path
        if isinstance(field.node, RecordNode):
            yield from paths(field.node, f"{path}.")


def test_the_accepted_paths_are_those_expected() -> None:
    root = parse(SCHEMA).root
    assert isinstance(root, RecordNode)
    accepted = {
        path
        for path in paths(root)
        if key_problem(root, path, metadata=METADATA, rule_set=RULES) is None
    }
    assert accepted == FIT | {"meta.owner.account_id", "meta.owner.seat"}


@pytest.fixture(scope="module")
def order_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    tree = tmp_path_factory.mktemp("keys") / "avro"
    (tree / "Order").mkdir(parents=True)
    (tree / "Order" / "v1.avsc").write_text(json.dumps(SCHEMA))
    package = Path(tree.parent / f"key_models_{uuid.uuid4().hex[:6]}")
    with generated(tree, package, "order") as module:
        yield module


@given(data=st.data())
def test_every_accepted_path_reads_a_value_with_one_text(
    order_module: ModuleType, data: st.DataObject
) -> None:
    # What the producer sends as the key is str(value): for an accepted path it is never
    # None, a bool, a float, bytes or a date, on any object the model can hold.
    root = parse(SCHEMA).root
    assert isinstance(root, RecordNode)
    obj = data.draw(models(order_module.Order))
    for path in paths(root):
        if key_problem(root, path) is not None:
            continue
        value = attrgetter(path)(obj)
        assert isinstance(value, str | int | uuid.UUID), path
        assert not isinstance(value, bool), path
        if isinstance(value, enum.Enum):
            assert str(value) == value.value
        elif isinstance(value, uuid.UUID):
            assert uuid.UUID(str(value)) == value

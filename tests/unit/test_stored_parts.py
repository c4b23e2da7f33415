"""What a registry stored compared with what was sent: Data Contract parts dropped or changed
(``dropped_parts``), schemas compared as values (``schema_value``), and the 404 of an
endpoint a registry does not serve told apart from the 404 of a thing not there."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from somacontracts.errors import RegistryError
from somacontracts.schema.datacontract import describe_dropped, dropped_parts
from somacontracts.serde.registry_client import endpoint_missing
from somacontracts.tooling import sources
from somacontracts.tooling.registration import schema_text
from somacontracts.tooling.stored import schema_value

NAMES = st.text("abcdefgh", min_size=1, max_size=6)


def _rule(name: str, kind: str = "ENCRYPT") -> dict[str, Any]:
    return {
        "name": name,
        "kind": "TRANSFORM",
        "mode": "WRITEREAD",
        "type": kind,
        "tags": ["PII", "SECRET"],
        "params": {"encrypt.kek.name": f"kek-{name}"},
    }


@given(names=st.lists(NAMES, min_size=1, max_size=6, unique=True), data=st.data())
def test_the_rules_a_registry_lacks_are_named_and_nothing_else(
    names: list[str], data: st.DataObject
) -> None:
    sent = {"domainRules": [_rule(n) for n in names]}
    kept = data.draw(st.lists(st.sampled_from(names), unique=True))
    extra = [
        _rule(f"{n}-default", "CEL") for n in data.draw(st.lists(NAMES, max_size=2, unique=True))
    ]
    # The registry's own form: other key order, tags reordered, defaults written out,
    # rules of its own added (a subject's defaultRuleSet).
    stored_rules = [
        {**dict(reversed(list(_rule(n).items()))), "tags": ["SECRET", "PII"], "disabled": False}
        for n in kept
    ]
    stored = {"domainRules": [*extra, *stored_rules], "migrationRules": []}
    missing = [f'rule "{n}"' for n in names if n not in kept]
    whole = not kept and not extra  # no rule at all: the rule set is what was dropped
    assert dropped_parts((None, sent), (None, stored)) == (["rule set"] if whole else missing)


def test_a_rule_set_or_metadata_dropped_whole_or_changed_in_part() -> None:
    metadata = {"properties": {"owner": "team", "application.major.version": "2"}}
    rules = {"domainRules": [_rule("encryptPII")]}
    assert dropped_parts((metadata, rules), (None, None)) == ["metadata", "rule set"]
    changed = {"domainRules": [{**_rule("encryptPII"), "onFailure": "NONE"}]}
    kept_metadata = {"properties": {"owner": "team", "confluent:version": "3"}}
    assert dropped_parts((metadata, rules), (kept_metadata, changed)) == [
        'metadata property "application.major.version"',
        'rule "encryptPII" (changed)',
    ]
    assert describe_dropped(dropped_parts((metadata, rules), (kept_metadata, changed))) == (
        'without its metadata property "application.major.version", '
        'with its rule "encryptPII" changed'
    )
    tags = {"tags": {"**.content": ["PII"]}, "sensitive": ["password"]}
    assert dropped_parts((tags, None), ({"tags": {"**.content": ["PII", "X"]}}, None)) == [
        'sensitive property "password"'
    ]
    assert dropped_parts((None, None), (None, rules)) == []  # nothing was sent
    unreadable = {"domainRules": [{"name": "encryptPII"}]}  # no kind, mode or type
    assert dropped_parts((None, rules), (None, unreadable)) == ["rule set"]


def _shuffled(node: Any, rng: random.Random) -> Any:
    if isinstance(node, dict):
        items = [(k, _shuffled(v, rng)) for k, v in node.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(node, list):
        return [_shuffled(item, rng) for item in node]
    return node


VERSIONS = [v for c in sources.bundled().values() for v in c.versions]


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v.contract}-v{v.version}")
@given(seed=st.integers(0, 2**32))
def test_key_order_never_makes_a_schema_another(version: Any, seed: int) -> None:
    text = schema_text(version)
    shuffled = json.dumps(_shuffled(json.loads(text), random.Random(seed)))
    karapace = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert schema_value(shuffled) == schema_value(text) == schema_value(karapace)


@given(data=st.data())
def test_any_other_change_of_a_default_or_doc_does(data: st.DataObject) -> None:
    delegated = sources.bundled()["DelegatedTask"].version(1)
    schema = json.loads(schema_text(delegated))
    field = data.draw(st.sampled_from(schema["fields"]))
    key = data.draw(st.sampled_from([k for k in ("default", "doc") if k in field]))
    value = field[key]
    if isinstance(value, dict):
        inner = data.draw(st.sampled_from(sorted(value)))
        other: Any = {**value, inner: [value[inner]]}
    elif isinstance(value, bool) or value is None:
        other = 1 if value is None else int(value)  # true and 1, false and 0 differ
    else:
        other = [value]
    changed = {
        **schema,
        "fields": [{**f, key: other} if f is field else f for f in schema["fields"]],
    }
    assert schema_value(json.dumps(changed)) != schema_value(json.dumps(schema))


@pytest.mark.parametrize(
    ("status", "code", "missing"),
    [
        (404, -1, True),  # Karapace: the body is "Not Found"
        (404, 404, True),  # Confluent: HTTP 404 Not Found
        (404, None, True),
        (404, 40401, False),  # subject not found
        (404, 40403, False),  # schema not found
        (404, 40408, False),  # no subject-level compatibility
        (404, 40470, False),  # KEK not found
        (422, 42201, False),
    ],
)
def test_a_missing_endpoint_is_told_from_a_missing_thing(
    status: int, code: int | None, missing: bool
) -> None:
    err = RegistryError("http://127.0.0.1:1", "no", status=status, error_code=code)
    assert endpoint_missing(err) is missing

"""The engine's API: inputs it takes, errors it raises, the problems it reports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from somacontracts.compat import (
    CompatibilityResult,
    IncompatibilityType,
    InvalidSchemaError,
    check_reader_writer,
)
from somacontracts.errors import ContractError, SchemaError
from somacontracts.schema import ParsedSchema, parse


def record(*fields: dict[str, Any], name: str = "Payment") -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "pay", "fields": list(fields)}


OLD = record({"name": "id", "type": "string"})
NEW = record({"name": "id", "type": "string"}, {"name": "amount", "type": "long"})


def test_message_names_the_field_and_record() -> None:
    (problem,) = check_reader_writer(NEW, OLD).problems
    assert problem.type is IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE
    assert problem.location == "/fields/1"
    assert problem.message == (
        'Field "amount" of record "pay.Payment" has no default, and the writer\'s schema lacks it.'
    )
    assert problem.detail == "amount"
    assert json.loads(problem.reader_fragment)["name"] == "Payment"
    assert str(problem).startswith("READER_FIELD_MISSING_DEFAULT_VALUE at /fields/1: Field")


def test_reverse_direction_is_compatible() -> None:
    result = check_reader_writer(OLD, NEW)
    assert result.compatible
    assert result.problems == ()
    assert str(result) == "compatible"


@pytest.mark.parametrize(
    ("reader", "writer", "words"),
    [
        ("int", "string", ["int", "string"]),
        (["null", "int"], "string", ["union [null, int]", "string"]),
        (
            {"type": "enum", "name": "S", "symbols": ["A"]},
            {"type": "enum", "name": "S", "symbols": ["A", "C", "B"]},
            ['"B", "C"', 'Enum "S"'],
        ),
        (
            {"type": "fixed", "name": "H", "size": 16},
            {"type": "fixed", "name": "H", "size": 32},
            ["16", "32", 'Fixed "H"'],
        ),
        (
            {"type": "fixed", "name": "a.H", "size": 1},
            {"type": "fixed", "name": "b.G", "size": 1},
            ['fixed "a.H"', '"b.G"'],
        ),
        (
            {"type": "long", "logicalType": "timestamp-millis"},
            "string",
            ["long (timestamp-millis)"],
        ),
    ],
)
def test_messages_quote_what_differs(reader: Any, writer: Any, words: list[str]) -> None:
    (problem,) = check_reader_writer(reader, writer).problems
    for word in words:
        assert word in problem.message


def test_schema_text_and_decoded_json_agree() -> None:
    as_text = check_reader_writer(json.dumps(NEW), json.dumps(OLD))
    assert as_text == check_reader_writer(NEW, OLD)
    assert check_reader_writer('"long"', "int").compatible
    assert check_reader_writer(' "long" ', '"int"').compatible


def test_parsed_schemas_are_reused_as_they_are() -> None:
    parsed = parse(NEW)
    assert isinstance(parsed, ParsedSchema)
    assert parse(parsed) is parsed
    assert parsed.schema == NEW
    assert check_reader_writer(parsed, parse(OLD)) == check_reader_writer(NEW, OLD)
    assert check_reader_writer(parsed, parsed).compatible


@pytest.mark.parametrize(
    ("schema", "location"),
    [
        ("{not json", ""),
        ("undefined.Type", ""),
        ({"type": "record", "name": "R"}, ""),
        (record({"name": "a", "type": "int", "default": "x"}), "/fields/0/default"),
        ({"type": {"type": "int"}}, "/type"),
        ({"type": "enum", "name": "E", "symbols": ["A"], "aliases": "Old"}, "/aliases"),
        (record({"name": "a", "type": "int", "aliases": [1]}), "/fields/0/aliases"),
        ({"type": "enum", "name": "E", "symbols": ["A"], "default": "B"}, "/default"),
        (42, ""),
    ],
)
def test_invalid_schemas_raise_one_documented_error(schema: Any, location: str) -> None:
    with pytest.raises(InvalidSchemaError) as caught:
        check_reader_writer(schema, "int")
    assert isinstance(caught.value, SchemaError)
    assert isinstance(caught.value, ContractError)
    assert caught.value.location == location
    assert caught.value.source == "reader schema"
    assert str(caught.value).startswith("reader schema")


def test_invalid_writer_is_named() -> None:
    with pytest.raises(InvalidSchemaError, match="writer schema"):
        check_reader_writer("int", {"type": "array"})


def test_results_merge_in_order() -> None:
    first = check_reader_writer("int", "string")
    second = check_reader_writer("boolean", "string")
    merged = first.merged_with(second)
    assert merged.problems == first.problems + second.problems
    assert merged.types == (IncompatibilityType.TYPE_MISMATCH,) * 2
    assert first.merged_with(CompatibilityResult()) is first
    assert CompatibilityResult().merged_with(first) is first
    assert str(merged).startswith("incompatible (2 problems):")


def test_deep_recursion_terminates() -> None:
    reader = {
        "type": "record",
        "name": "A",
        "fields": [
            {
                "name": "b",
                "type": {
                    "type": "record",
                    "name": "B",
                    "fields": [
                        {"name": "a", "type": ["null", "A"]},
                        {"name": "self", "type": ["null", "B"]},
                        {"name": "v", "type": "long"},
                    ],
                },
            },
        ],
    }
    writer = json.loads(json.dumps(reader).replace('"long"', '"int"'))
    assert check_reader_writer(reader, writer).compatible
    (problem,) = check_reader_writer(writer, reader).problems
    assert problem.location == "/fields/0/type/fields/2/type"


def test_ambiguous_field_stops_the_check_even_inside_a_union_trial() -> None:
    inner_reader = record({"name": "a", "type": "int", "aliases": ["b"]}, name="Inner")
    inner_writer = record({"name": "a", "type": "int"}, {"name": "b", "type": "int"}, name="Inner")
    reader = record({"name": "x", "type": [inner_reader, "string"]}, {"name": "y", "type": "int"})
    writer = record({"name": "x", "type": inner_writer}, {"name": "y", "type": "string"})
    (problem,) = check_reader_writer(reader, writer).problems
    assert problem.type is IncompatibilityType.READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS
    assert problem.location == "/fields/0/type/fields/0"
    assert '"a" and "b"' in problem.message

"""The schema parser: each rule rejects with the right JSON pointer, valid schemas pass."""

from __future__ import annotations

from typing import Any

import pytest

from somacontracts.errors import SchemaError
from somacontracts.schema import parse


def record(*fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": "R", "namespace": "t", "fields": list(fields), **extra}


VALID = [
    record({"name": "a", "type": "int", "default": 1}),
    record({"name": "a", "type": ["null", "string"], "default": None}),
    record({"name": "a", "type": ["string", "null"], "default": "x"}),
    record({"name": "a", "type": "long", "default": 2**63 - 1}),
    record({"name": "a", "type": "double", "default": 1}),
    record({"name": "a", "type": "bytes", "default": "\u00ff\u0000"}),
    record({"name": "a", "type": {"type": "fixed", "name": "F", "size": 2}, "default": "ab"}),
    record(
        {
            "name": "a",
            "type": {"type": "enum", "name": "E", "symbols": ["A", "B"], "default": "A"},
            "default": "B",
        }
    ),
    record({"name": "a", "type": {"type": "array", "items": "int"}, "default": [1, 2]}),
    record({"name": "a", "type": {"type": "map", "values": "string"}, "default": {"k": "v"}}),
    record(
        {"name": "a", "type": {"type": "string", "logicalType": "json"}, "default": '{"x": [1]}'}
    ),
    record(
        {"name": "a", "type": {"type": "long", "logicalType": "timestamp-micros"}, "default": 0}
    ),
    record({"name": "a", "type": {"type": "string", "logicalType": "uuid"}}),
    record(
        {
            "name": "a",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        }
    ),
    record({"name": "a", "type": {"type": "string", "logicalType": "not-a-known-one"}}),
    record(
        {
            "name": "inner",
            "type": record({"name": "q", "type": "int"}, name="Inner"),
            "default": {"q": 3},
        },
        {"name": "again", "type": "Inner"},
        {"name": "again_full", "type": ["null", "t.Inner"], "default": None},
    ),
    # Recursive: a linked list.
    {
        "type": "record",
        "name": "Node",
        "fields": [
            {"name": "value", "type": "int"},
            {"name": "next", "type": ["null", "Node"], "default": None},
        ],
    },
]


@pytest.mark.parametrize("schema", VALID)
def test_valid_schemas_pass(schema: dict[str, Any]) -> None:
    parse(schema, portable=True)


INVALID = [
    (record({"name": "a", "type": "int", "default": "x"}), "/fields/0/default", "whole number"),
    (record({"name": "a", "type": "int", "default": 2**31}), "/fields/0/default", "out of range"),
    (record({"name": "a", "type": "int", "default": True}), "/fields/0/default", "whole number"),
    (
        record({"name": "a", "type": ["null", "string"], "default": "x"}),
        "/fields/0/default",
        "first branch",
    ),
    (
        record({"name": "a", "type": "bytes", "default": "\u0100"}),
        "/fields/0/default",
        "code points",
    ),
    (
        record({"name": "a", "type": {"type": "fixed", "name": "F", "size": 2}, "default": "a"}),
        "/fields/0/default",
        "2 bytes",
    ),
    (
        record(
            {"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["A"]}, "default": "B"}
        ),
        "/fields/0/default",
        "symbols",
    ),
    (
        record(
            {"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["A"], "default": "Z"}}
        ),
        "/fields/0/type/default",
        "not one of its symbols",
    ),
    (
        record({"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["A", "A"]}}),
        "/fields/0/type/symbols/1",
        "twice",
    ),
    (
        record({"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["1A"]}}),
        "/fields/0/type/symbols/0",
        "valid Avro name",
    ),
    (
        record({"name": "a", "type": {"type": "map", "values": "int"}, "default": {"k": "v"}}),
        "/fields/0/default",
        "key 'k'",
    ),
    (
        record({"name": "a", "type": {"type": "array", "items": "int"}, "default": [1, None]}),
        "/fields/0/default",
        "item 1",
    ),
    (
        record(
            {"name": "a", "type": {"type": "string", "logicalType": "json"}, "default": "{oops"}
        ),
        "/fields/0/default",
        "not JSON",
    ),
    (
        record({"name": "a", "type": {"type": "int", "logicalType": "timestamp-micros"}}),
        "/fields/0/type/logicalType",
        "must annotate long",
    ),
    (
        record({"name": "a", "type": {"type": "int", "logicalType": "json"}}),
        "/fields/0/type/logicalType",
        "must annotate string",
    ),
    (
        record(
            {
                "name": "a",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 3},
            }
        ),
        "/fields/0/type/scale",
        "scale",
    ),
    (
        record(
            {
                "name": "a",
                "type": {
                    "type": "fixed",
                    "name": "D",
                    "size": 2,
                    "logicalType": "decimal",
                    "precision": 9,
                },
            }
        ),
        "/fields/0/type/precision",
        "at most 4 digits",
    ),
    (record({"name": "1a", "type": "int"}), "/fields/0/name", "valid Avro name"),
    (record({"name": "a", "type": "int"}, {"name": "a", "type": "int"}), "/fields/1/name", "twice"),
    (record({"name": "a", "type": "Missing"}), "/fields/0/type", "not defined"),
    (record({"name": "a", "type": ["null", "null"]}), "/fields/0/type/1", "each type once"),
    (record({"name": "a", "type": ["null", ["int"]]}), "/fields/0/type/1", "another union"),
    (record({"name": "a"}), "/fields/0", 'needs a "type"'),
    (record({"name": "a", "type": "int", "order": "up"}), "/fields/0/order", "ascending"),
    (
        record(
            {"name": "r", "type": record({"name": "q", "type": "int"}, name="In"), "default": {}}
        ),
        "/fields/0/default",
        "no default",
    ),
    (record({"name": "a", "type": "int"}, name="bad-name"), "/name", "valid Avro name"),
    (record({"name": "a", "type": "int"}, namespace="9x"), "/name", "valid Avro name"),
    (record({"name": "a", "type": record(name="R")}), "/fields/0/type/name", "defined twice"),
    ({"type": "record", "name": "R"}, "", "fields"),
    ({"type": {"type": "int"}}, "/type", "must be a type name"),
    (record({"name": "a", "type": "int"}, aliases="Old"), "/aliases", "array of names"),
    (
        record({"name": "a", "type": "int", "aliases": ["x.y"]}),
        "/fields/0/aliases",
        "array of names",
    ),
    ({"type": "fixed", "name": "F", "size": -1}, "/size", "size"),
    ({"type": "array"}, "", "items"),
    ({"type": "record", "name": "int", "fields": []}, "/name", "primitive"),
    (3, "", "not an integer"),
]


@pytest.mark.parametrize(("schema", "location", "words"), INVALID)
def test_invalid_schemas_name_the_location(schema: Any, location: str, words: str) -> None:
    with pytest.raises(SchemaError) as caught:
        parse(schema, source="x.avsc", portable=True)
    assert caught.value.location == location
    assert words in caught.value.reason
    line = str(caught.value)
    assert line.startswith("x.avsc")
    assert "\n" not in line

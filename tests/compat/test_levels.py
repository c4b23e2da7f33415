"""Schema Registry levels: which old versions are read, which way, and how problems are tagged."""

from __future__ import annotations

from typing import Any

import pytest

from somacontracts.compat import (
    Direction,
    IncompatibilityType,
    InvalidSchemaError,
    check_level,
    directions,
)
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.schema import parse


def payment(*extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Payment",
        "fields": [{"name": "id", "type": "string"}, *extra],
    }


V1 = payment({"name": "legacy", "type": "int"})
V2 = payment()
# v3 drops nothing of v2 but needs "amount" without a default.
V3 = payment({"name": "amount", "type": "long"})
ADD_WITH_DEFAULT = payment({"name": "note", "type": ["null", "string"], "default": None})

Level = CompatibilityLevel


@pytest.mark.parametrize(
    ("level", "compatible"),
    [
        (Level.NONE, True),
        (Level.BACKWARD, False),
        (Level.BACKWARD_TRANSITIVE, False),
        (Level.FORWARD, True),
        (Level.FORWARD_TRANSITIVE, False),
        (Level.FULL, False),
        (Level.FULL_TRANSITIVE, False),
    ],
)
def test_new_field_without_default(level: Level, compatible: bool) -> None:
    assert check_level(level, V3, [V1, V2]).compatible is compatible


def test_backward_reads_only_the_latest() -> None:
    # "legacy" is back as a string: v2 lacks it (the default fills it), v1 wrote an int.
    new = payment({"name": "legacy", "type": "string", "default": ""})
    assert check_level(Level.BACKWARD, new, [V1, V2]).compatible
    result = check_level(Level.BACKWARD_TRANSITIVE, new, [V1, V2])
    (problem,) = result.problems
    assert problem.type is IncompatibilityType.TYPE_MISMATCH
    assert (problem.version, problem.direction) == (1, Direction.BACKWARD)
    assert str(problem).startswith("v1 (backward): TYPE_MISMATCH at /fields/1/type")


def test_forward_is_the_old_schema_reading_the_new() -> None:
    (problem,) = check_level(Level.FORWARD_TRANSITIVE, V2, [V1]).problems
    assert problem.type is IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE
    assert (problem.version, problem.direction) == (1, Direction.FORWARD)
    assert 'Field "legacy"' in problem.message


def test_full_transitive_tags_every_version_and_direction_newest_first() -> None:
    new = payment({"name": "legacy", "type": "boolean"})
    result = check_level("FULL_TRANSITIVE", new, [V1, V2, V1])
    tags = [(p.version, p.direction) for p in result.problems]
    assert tags == [
        (3, Direction.BACKWARD),
        (3, Direction.FORWARD),
        (2, Direction.BACKWARD),
        (1, Direction.BACKWARD),
        (1, Direction.FORWARD),
    ]


@pytest.mark.parametrize("level", list(Level))
def test_adding_a_field_with_a_default_passes_every_level(level: Level) -> None:
    assert check_level(level, ADD_WITH_DEFAULT, [V2, V2]).compatible


def test_no_previous_versions_is_compatible() -> None:
    assert check_level(Level.FULL_TRANSITIVE, V3, []).compatible


def test_none_reads_nothing_not_even_invalid_schemas() -> None:
    assert check_level(Level.NONE, "not a schema", ["neither"]).compatible


def test_only_the_versions_a_level_reads_are_parsed() -> None:
    assert check_level(Level.BACKWARD, V2, ["not a schema", V1]).compatible
    with pytest.raises(InvalidSchemaError, match="previous schema v1"):
        check_level(Level.BACKWARD_TRANSITIVE, V2, ["not a schema", V1])


def test_parsed_schemas_are_accepted() -> None:
    parsed = [parse(V1), parse(V2)]
    assert check_level(Level.FULL_TRANSITIVE, parse(V2), parsed) == check_level(
        Level.FULL_TRANSITIVE, V2, [V1, V2]
    )


def test_directions() -> None:
    assert directions("FULL") == (Direction.BACKWARD, Direction.FORWARD)
    assert directions(Level.FORWARD_TRANSITIVE) == (Direction.FORWARD,)
    assert directions(Level.NONE) == ()
    with pytest.raises(ValueError, match="SIDEWAYS"):
        directions("SIDEWAYS")

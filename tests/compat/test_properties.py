"""Properties of the engine and the levels on drawn schemas and versions."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from somacontracts.compat import (
    IncompatibilityType,
    InvalidSchemaError,
    check_level,
    check_reader_writer,
)
from somacontracts.compat.engine import checked_in_full
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.schema import parse
from tests.compat.strategies import (
    NO_DEFAULT,
    default_for,
    definitions,
    mutants,
    record_schemas,
    schema_pairs,
)

Level = CompatibilityLevel


@given(record_schemas())
def test_drawn_schemas_are_valid(schema: dict[str, Any]) -> None:
    assert parse(schema).schema is schema


@given(record_schemas())
def test_a_schema_reads_itself(schema: dict[str, Any]) -> None:
    assert check_reader_writer(schema, schema).problems == ()
    assert check_reader_writer(schema, copy.deepcopy(schema)).problems == ()


@given(record_schemas(), st.data())
def test_adding_a_field_with_a_default_keeps_backward_and_forward(
    schema: dict[str, Any], data: st.DataObject
) -> None:
    new = copy.deepcopy(schema)
    type_ = data.draw(
        st.sampled_from(["int", "string", ["null", "long"], {"type": "map", "values": "int"}])
    )
    position = data.draw(st.integers(0, len(new["fields"])))
    new["fields"].insert(
        position, {"name": "added", "type": type_, "default": default_for(type_, {})}
    )
    assert check_level(Level.BACKWARD, new, [schema]).compatible
    assert check_level(Level.FORWARD, new, [schema]).compatible
    assert check_level(Level.FULL_TRANSITIVE, new, [schema, schema]).compatible


@given(record_schemas(), st.data())
def test_removing_a_field_breaks_forward_only_without_a_default(
    schema: dict[str, Any], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(schema["fields"]) - 1))
    new = copy.deepcopy(schema)
    removed = new["fields"].pop(index)
    # A field may define a named type that later fields refer to.
    assume(_is_valid(new))
    assert check_level(Level.BACKWARD, new, [schema]).compatible
    forward = check_level(Level.FORWARD, new, [schema])
    if "default" in removed:
        assert forward.compatible
        return
    (problem,) = forward.problems
    named = definitions(schema)
    field_type = (
        named.get(removed["type"], removed["type"])
        if isinstance(removed["type"], str)
        else removed["type"]
    )
    enum_with_default = (
        isinstance(field_type, dict) and field_type["type"] == "enum" and "default" in field_type
    )
    # Java's rule: a missing enum field with an enum default is a TYPE_MISMATCH.
    expected = (
        IncompatibilityType.TYPE_MISMATCH
        if enum_with_default
        else IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE
    )
    assert problem.type is expected
    assert problem.location.startswith(f"/fields/{index}")


@given(schema_pairs())
def test_full_is_backward_and_forward(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    old, new = pair
    backward = check_level(Level.BACKWARD, new, [old])
    forward = check_level(Level.FORWARD, new, [old])
    full = check_level(Level.FULL, new, [old])
    assert full.compatible == (backward.compatible and forward.compatible)
    assert full.problems == backward.problems + forward.problems
    plain = check_reader_writer(new, old)
    assert [(p.type, p.location, p.message) for p in backward.problems] == [
        (p.type, p.location, p.message) for p in plain.problems
    ]


@given(record_schemas(), st.data())
def test_transitive_levels_cover_every_version(schema: dict[str, Any], data: st.DataObject) -> None:
    second = data.draw(mutants(schema))
    third = data.draw(mutants(second))
    history = [schema, second]
    for plain, transitive in [
        (Level.BACKWARD, Level.BACKWARD_TRANSITIVE),
        (Level.FORWARD, Level.FORWARD_TRANSITIVE),
        (Level.FULL, Level.FULL_TRANSITIVE),
    ]:
        everything = check_level(transitive, third, history)
        latest = check_level(plain, third, history)
        oldest = check_level(plain, third, history[:1])
        assert everything.compatible == (latest.compatible and oldest.compatible)
        assert {p.version for p in everything.problems} <= {1, 2}


@given(schema_pairs())
def test_problems_are_well_formed(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    reader, writer = pair
    result = check_reader_writer(reader, writer)
    assert result.compatible is (not result.problems)
    for problem in result.problems:
        assert problem.location.startswith("/")
        assert problem.message.endswith(".")
        assert problem.detail


def _is_valid(schema: dict[str, Any]) -> bool:
    try:
        parse(schema)
    except InvalidSchemaError:
        return False
    return True


def test_no_default_marker_is_distinct() -> None:
    assert default_for("Undefined", {}) is NO_DEFAULT
    assert default_for(["null", "int"], {}) is None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema_pairs())
def test_the_shortcut_gives_the_full_checker_s_answer(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """Pairs the engine proves compatible from structural keys get the full check's result."""
    reader, writer = parse(pair[0]), parse(pair[1])
    assert check_reader_writer(reader, writer) == checked_in_full(reader.root, writer.root)
    assert check_reader_writer(writer, reader) == checked_in_full(writer.root, reader.root)
    # Identical, but parsed apart: the key decides, not the nodes' identity.
    again = parse(pair[0])
    assert check_reader_writer(reader, again) == checked_in_full(reader.root, again.root)

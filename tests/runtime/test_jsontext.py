"""The JSON codec of free-form fields: the compiled codecs agree with the standard library."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import math
import re
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from somacontracts.runtime import dump_json, load_json
from somacontracts.runtime import jsontext as runtime
from somacontracts.tooling.testing import json_values


@given(value=json_values)
def test_round_trip_is_exact(value: Any) -> None:
    text = dump_json(value)
    back = load_json(text)
    assert back == value
    assert json.dumps(back) == json.dumps(value)  # int stays int, float stays float, key order kept
    assert json.loads(text) == value


@pytest.mark.parametrize(
    "value",
    [2**64, -(2**63) - 1, 10**30, {"big": [2**100, 1.5]}, 12345678901234567890],
)
def test_integers_beyond_64_bits_stay_exact(value: Any) -> None:
    back = load_json(dump_json(value))
    assert back == value
    assert json.dumps(back) == json.dumps(value)


def test_long_digit_runs_in_foreign_text_decode_exactly() -> None:
    assert load_json('{"id": 123456789012345678901234567890}') == {
        "id": 123456789012345678901234567890
    }
    assert load_json('"1234567890123456789012"') == "1234567890123456789012"


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), [None, float("-inf")], {"a": float("nan")}]
)
def test_nan_and_infinity_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"(nan|inf) is not a JSON number$"):
        dump_json(value)


def test_nulls_still_encode() -> None:
    assert dump_json(None) == "null"
    assert dump_json({"a": None, "nullable": "null"}) == '{"a":null,"nullable":"null"}'
    assert dump_json({}) == "{}"
    assert dump_json("é") == '"é"'


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "[1, Infinity]",
        "[1, 2",
        "",
        "{'a': 1}",
        '{"a": 12345678901234567890',
        "[12345678901234567890, NaN]",
        "[1e400]",
        "[-1e400]",
        '"\\ud800"',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_bad_text_is_a_value_error(text: str) -> None:
    reasons = r"malformed|truncated|out of range|too deeply|\(line \d+, column \d+\)"
    with pytest.raises(ValueError, match=reasons):
        load_json(text)


_JSON_NUMBERS = st.from_regex(r"\A-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][-+]?[0-9]{1,3})?\Z")


@given(number=_JSON_NUMBERS)
def test_numbers_read_as_the_standard_library_reads_them(number: str) -> None:
    expected = json.loads(number)
    if isinstance(expected, float) and not math.isfinite(expected):
        with pytest.raises(ValueError, match="out of range"):
            load_json(number)
        return
    back = load_json(f"[{number}]")
    assert back == [expected]
    assert type(back[0]) is type(expected)


class _Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"when": dt.datetime(2025, 1, 1)}, '["when"]: datetime.datetime is not a JSON value'),
        ({"args": [1, 2, uuid.UUID(int=7)]}, '["args"][2]: uuid.UUID is not a JSON value'),
        ({"a": (1, 2)}, '["a"]: tuple is not a JSON value; JSON arrays are lists'),
        ([_Color.RED], "[0]: tests.runtime.test_jsontext._Color is not a JSON value"),
        ({1: "one"}, "key 1 (int) is not a string"),
        ({"a": {None: 1}}, '["a"]: key None (NoneType) is not a string'),
        ({"s": "\ud800"}, "[\"s\"]: '\\ud800' holds a lone surrogate, which UTF-8 cannot encode"),
        ({"\udfff": 1}, "key '\\udfff' holds a lone surrogate, which UTF-8 cannot encode"),
        ({"big": [2**70, float("inf")]}, '["big"][1]: inf is not a JSON number'),
        (decimal.Decimal("1.5"), "decimal.Decimal is not a JSON value"),
        ({"b": b"x"}, '["b"]: bytes is not a JSON value'),
    ],
)
def test_values_that_would_not_read_back_are_refused_with_their_path(
    value: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        dump_json(value)


def test_a_cycle_is_refused_where_it_closes() -> None:
    loop: dict[str, Any] = {"a": [1]}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r'^\["a"\]\[1\]: holds itself \(a cycle\)'):
        dump_json(loop)


def _nested(depth: int, innermost: Any) -> list[Any]:
    top: list[Any] = []
    inner = top
    for _ in range(depth - 1):
        inner.append([])
        inner = inner[0]
    inner.append(innermost)
    return top


def test_nesting_is_refused_past_254_levels_in_one_line() -> None:
    assert load_json(dump_json(_nested(254, 1))) == _nested(254, 1)
    for depth in (255, 3000, 100_000):
        with pytest.raises(ValueError, match=r"is nested deeper than 254 levels") as caught:
            dump_json(_nested(depth, 1))
        assert len(str(caught.value)) < 200


def test_an_integer_with_more_digits_than_text_holds_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^\[1\]: an integer of \d+ bits has too many digits"):
        dump_json([1, 10**5000])
    assert load_json(dump_json([10**1000])) == [10**1000]


def test_subclasses_of_json_types_are_written_as_their_plain_values() -> None:
    class Level(enum.IntEnum):
        HIGH = 3

    class Kind(enum.StrEnum):
        TOOL = "tool"

    assert dump_json({"level": Level.HIGH, Kind.TOOL: Kind.TOOL}) == '{"level":3,"tool":"tool"}'


_FLOATS = st.floats(allow_nan=True, allow_infinity=True)
_ODD = st.sampled_from(
    [
        (1, 2),
        uuid.UUID(int=1),
        _Color.RED,
        decimal.Decimal("2"),
        b"x",
        dt.date(2020, 1, 1),
        "\ud800",
    ]
)
_NESTED = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | _FLOATS | st.text() | _ODD,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text() | st.integers(0, 3), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(value=_NESTED)
def test_text_is_written_only_if_it_reads_back_equal(value: Any) -> None:
    problem = runtime.json_problem(value)
    if problem is not None:
        assert "\n" not in problem
        with pytest.raises(ValueError, match=f"^{re.escape(problem)}$"):
            dump_json(value)
        return
    back = load_json(dump_json(value))
    assert back == value
    assert json.dumps(back) == json.dumps(value)  # same types all the way down


_JSONISH = st.lists(st.sampled_from([b"[", b"]", b"{", b"}", b'"', b":", b",", b"1", b"-", b"e"]))


@given(data=st.binary() | _JSONISH.map(b"".join))
def test_any_bytes_decode_or_raise_value_error(data: bytes) -> None:
    try:
        value = runtime.load_json_bytes(data)
    except ValueError:
        return
    assert value == json.loads(data)

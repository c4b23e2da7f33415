"""The JSON codec of free-form fields: the compiled codecs agree with the standard library."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from somacontracts.runtime import dump_json, load_json
from somacontracts.runtime import jsontext as runtime
from tests.strategies import json_values


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
    with pytest.raises(ValueError, match=r"JSON compliant|Out of range"):
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
    reasons = r"malformed|truncated|out of range|too deeply"
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


def test_values_that_are_not_json_are_refused() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    with pytest.raises(TypeError):
        dump_json(Point(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dump_json({"when": dt.datetime(2025, 1, 1)})  # type: ignore[dict-item]


_FLOATS = st.floats(allow_nan=True, allow_infinity=True)
_NESTED = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | _FLOATS | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(value=_NESTED)
def test_the_cheap_non_finite_screen_never_misses_one(value: Any) -> None:
    if runtime._has_non_finite(value):
        assert runtime._may_hold_non_finite(value)


def test_the_cheap_non_finite_screen_passes_usual_values() -> None:
    usual: dict[str, runtime.JsonValue] = {
        "cpu": 1.5,
        "tiny": -1e-300,
        "huge": 1e300,
        "n": [-1, 127, 2**64 - 1],
        "é": None,
    }
    assert not runtime._may_hold_non_finite(usual)
    for bad in (float("nan"), -float("nan"), float("inf"), float("-inf")):
        assert runtime._may_hold_non_finite({**usual, "bad": [bad]})


_JSONISH = st.lists(st.sampled_from([b"[", b"]", b"{", b"}", b'"', b":", b",", b"1", b"-", b"e"]))


@given(data=st.binary() | _JSONISH.map(b"".join))
def test_any_bytes_decode_or_raise_value_error(data: bytes) -> None:
    try:
        value = runtime.load_json_bytes(data)
    except ValueError:
        return
    assert value == json.loads(data)

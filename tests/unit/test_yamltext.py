"""The YAML writer: whatever plain data it writes, a YAML reader reads back the same."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from somacontracts.tooling.yamltext import dump

# Lone surrogates cannot be encoded in any YAML stream (or UTF-8 file).
TEXT = st.text(st.characters(exclude_categories=["Cs"])) | st.text("\"'\\ :#-\n\t{}[]&*!|>%@`")
DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=1500, deadline=None)
@given(DATA)
def test_what_is_written_reads_back_the_same(data: object) -> None:
    text = dump(data)  # type: ignore[arg-type]
    assert text.endswith("\n")
    assert yaml.safe_load(text) == data


@pytest.mark.parametrize(
    ("key", "written"),
    [("groups", "groups:"), ("on", '"on":'), ("No", '"No":'), ("a b", '"a b":'), ("1x", '"1x":')],
)
def test_keys_are_plain_only_when_no_reader_could_take_them_for_something_else(
    key: str, written: str
) -> None:
    assert dump({key: 1}) == f"{written} 1\n"


def test_strings_with_quotes_are_single_quoted_for_people_to_read() -> None:
    assert dump({"expr": 'x{topic="a"} > 1'}) == "expr: 'x{topic=\"a\"} > 1'\n"
    assert dump({"s": "it's"}) == 'expr: "it\'s"\n'.replace("expr", "s")


def test_special_floats_and_unwritable_values() -> None:
    assert yaml.safe_load(dump([math.inf, -math.inf, 1e-05])) == [math.inf, -math.inf, 1e-05]
    assert math.isnan(yaml.safe_load(dump(math.nan)))
    with pytest.raises(TypeError, match="set"):
        dump({"x": {1, 2}})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="int key"):
        dump({1: "x"})  # type: ignore[dict-item]

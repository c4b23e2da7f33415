"""Where a JSON pointer's value starts in a file as written (check's line and column)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from somacontracts.tooling.check.findings import Category, Finding
from somacontracts.tooling.check.positions import locate, position
from somacontracts.tooling.check.report import render_github

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)
LAYOUTS = st.sampled_from(
    [
        {"indent": 2},
        {"separators": (",", ":")},
        {"indent": "\t", "ensure_ascii": False},
        {"indent": 0, "separators": (" ,  ", " :\n ")},
    ]
)


def pointers(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    yield prefix, value
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, inner in items:
        token = str(key).replace("~", "~0").replace("/", "~1")
        yield from pointers(inner, f"{prefix}/{token}")


def offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(lines[i]) + 1 for i in range(line - 1)) + column - 1


@given(document=JSON, layout=LAYOUTS)
def test_every_pointer_lands_where_its_value_starts(document: Any, layout: dict[str, Any]) -> None:
    text = json.dumps(document, **layout)
    for pointer, value in pointers(document):
        found = position(text, pointer)
        assert found is not None, pointer
        decoded, _ = json.JSONDecoder().raw_decode(text, offset(text, *found))
        assert json.dumps(decoded) == json.dumps(value)


def test_pointers_that_name_nothing_have_no_position() -> None:
    text = '{"a": [1, {"b": 2}], "c": "x"}'
    for pointer in ("/z", "/a/2", "/a/-", "/a/01", "/c/0", "a", "/a/1/b/c"):
        assert position(text, pointer) is None, pointer
    assert position("not json", "/a") is None
    assert position('{"a": ', "/a") is None


def test_a_key_written_twice_is_the_last_as_json_loads_reads_it() -> None:
    assert position('{"a": 1,\n "a": 2}', "/a") == (2, 7)


def test_github_annotations_carry_line_and_column_of_pretty_and_one_line_files() -> None:
    schema = {"type": "record", "name": "P", "fields": [{"name": "a", "type": "int"}]}
    files = {"pretty.avsc": json.dumps(schema, indent=2), "flat.avsc": json.dumps(schema)}
    findings = [
        Finding("RULE", Category.LINT, "P", 1, path, "/fields/0/type", "m") for path in files
    ]
    lines = render_github(locate(findings, files.get), ["P"]).splitlines()
    assert lines == [
        "::error file=pretty.avsc,line=7,col=15,title=P RULE::m at /fields/0/type",
        "::error file=flat.avsc,line=1,col=66,title=P RULE::m at /fields/0/type",
    ]
    unread = locate(findings, lambda path: None)
    assert render_github(unread, ["P"]).startswith("::error file=pretty.avsc,title=P RULE::")

"""Fixture pairs, one folder per rule and hard corner: ``cases/<NAME>/{reader,writer}.avsc``.

``expected.json`` holds the verdict and problems (type, location, Java's message) that
Apache Avro Java 1.12 gives; where it gives something else on purpose, its answer is
kept under ``"java"`` and the case's description says why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from somacontracts.compat import IncompatibilityType, check_reader_writer

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def load(name: str) -> tuple[Any, Any, dict[str, Any]]:
    folder = CASES / name
    return (
        json.loads((folder / "reader.avsc").read_text()),
        json.loads((folder / "writer.avsc").read_text()),
        json.loads((folder / "expected.json").read_text()),
    )


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str) -> None:
    reader, writer, expected = load(name)
    result = check_reader_writer(reader, writer)
    assert result.compatible is expected["compatible"]
    got = [{"type": p.type, "location": p.location, "detail": p.detail} for p in result.problems]
    assert got == expected["problems"]


def test_every_incompatibility_type_has_a_case() -> None:
    seen = {p["type"] for name in NAMES for p in load(name)[2]["problems"]}
    assert seen == {t.value for t in IncompatibilityType}


def test_cases_differ_from_java_only_where_documented() -> None:
    differing = {name for name in NAMES if "java" in load(name)[2]}
    assert differing == {"NAMED_TYPE_MET_TWICE", "READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS"}

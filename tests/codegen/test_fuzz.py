"""Codegen fuzzed: drawn schemas of every kind, each generated, imported and checked
against fastavro, then every generated module linted and type-checked.

A bounded run for CI; ``tools/fuzz_codegen.py`` runs the same property over thousands of
schemas and prints its figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastavro import parse_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.codegen.fuzz import Batch, check_object, contract_schemas, tools

SCHEMAS = 30
"""Drawn schemas per run: enough to meet every kind of type and union most runs, few
enough for the suite (a few seconds of checks, then one ruff and one mypy run)."""


@pytest.mark.slow
def test_classes_of_drawn_schemas_round_trip_byte_for_byte_and_lint_clean(
    tmp_path: Path,
) -> None:
    batch = Batch(tmp_path, objects=3, datums=3)

    @settings(
        max_examples=SCHEMAS,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(schema=contract_schemas(), data=st.data())
    def check(schema: dict[str, object], data: st.DataObject) -> None:
        found = batch.check(schema, data)
        assert not found, "\n".join(map(str, found))

    try:
        check()
    finally:
        batch.unload()
    assert batch.schemas >= SCHEMAS
    assert batch.checked >= SCHEMAS * 3  # objects, at least, on every schema
    ruff, mypy = tools()
    found = batch.lint(ruff, mypy)
    assert not found, "\n".join(map(str, found[:20]))


def test_the_property_finds_bytes_fastavro_would_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = {"type": "record", "name": "Pair", "fields": [{"name": "n", "type": ["int", "long"]}]}
    batch = Batch(tmp_path)

    @settings(max_examples=1, database=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        assert batch.check(schema, data) == []

    try:
        check()
        cls = batch.load("fuzzed_0", "pair").Pair
        written = cls.write_avro

        def long_always(self: object, out: bytearray) -> None:  # the long branch, always
            start = len(out)
            written(self, out)
            out[start] = 2

        monkeypatch.setattr(cls, "write_avro", long_always)
        with pytest.raises(AssertionError, match="write_avro 0202 != fastavro's 0002"):
            check_object(cls(n=1), cls, parse_schema(cls.SCHEMA))
    finally:
        batch.unload()

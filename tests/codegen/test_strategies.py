"""``somacontracts.tooling.testing.models`` draws valid objects of every generated class of the
corpus (logical types, free-form JSON, unions, recursion, enums): each encodes as
fastavro encodes its datum, and reads back equal."""

from __future__ import annotations

import dataclasses
import io
from types import ModuleType
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts import runtime
from somacontracts.tooling.testing import models


def record_classes(package: ModuleType) -> list[type[Any]]:
    """Every record class the package exports or its modules define."""
    spaces = [vars(package)] + [
        vars(module) for module in vars(package).values() if isinstance(module, ModuleType)
    ]
    found = {
        id(value): value
        for space in spaces
        for value in space.values()
        if isinstance(value, type) and dataclasses.is_dataclass(value) and hasattr(value, "SCHEMA")
    }
    return sorted(found.values(), key=lambda cls: (cls.__module__, cls.__qualname__))


@pytest.mark.slow
def test_every_corpus_class_is_drawn_and_survives_both_codecs(
    corpus_package: ModuleType,
) -> None:
    classes = record_classes(corpus_package)
    assert len(classes) >= 6  # every version of every corpus contract

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def round_trip(cls: type[Any], data: st.DataObject) -> None:
        obj = data.draw(models(cls))
        assert isinstance(obj, cls)
        out = bytearray()
        obj.write_avro(out)
        buffer = io.BytesIO()
        parsed = parse_schema(cls.SCHEMA)
        schemaless_writer(buffer, parsed, obj.to_avro())
        assert bytes(out) == buffer.getvalue()
        assert cls.read_avro(runtime.Reader(bytes(out))) == obj
        buffer.seek(0)
        datum = schemaless_reader(buffer, parsed, None, return_named_type=True)
        assert cls.from_avro(datum) == obj

    for cls in classes:
        round_trip(cls)


def test_a_class_that_is_not_generated_is_refused() -> None:
    with pytest.raises(TypeError, match="not a generated model class"):
        models(int)

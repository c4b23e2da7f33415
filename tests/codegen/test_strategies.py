"""``somacontracts.tooling.testing.models`` draws valid objects of every generated class of the
corpus (logical types, free-form JSON, unions, recursion, enums): each encodes as
fastavro encodes its datum, and reads back equal."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts import runtime
from somacontracts.schema import parse, standalone
from somacontracts.serde.references import reference_nodes
from somacontracts.tooling.testing import models
from tests.generated import generated


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

    for cls in classes:
        _drawn_objects_survive_both_codecs(cls)


def _drawn_objects_survive_both_codecs(cls: type[Any]) -> None:
    """Objects ``models(cls)`` draws are instances that write as fastavro writes their
    datum (the schema with its shared types written out) and read back equal."""
    shared = reference_nodes(getattr(cls, "REFERENCES", None) or {})
    parsed = parse_schema(standalone(parse(cls.SCHEMA, shared=shared)))

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def round_trip(data: st.DataObject) -> None:
        obj = data.draw(models(cls))
        assert isinstance(obj, cls)
        out = bytearray()
        obj.write_avro(out)
        buffer = io.BytesIO()
        schemaless_writer(buffer, parsed, obj.to_avro())
        assert bytes(out) == buffer.getvalue()
        assert cls.read_avro(runtime.Reader(bytes(out))) == obj
        buffer.seek(0)
        datum = schemaless_reader(buffer, parsed, None, return_named_type=True)
        assert cls.from_avro(datum) == obj

    round_trip()


def test_a_class_using_a_shared_type_of_another_contract_is_drawn(tmp_path: Path) -> None:
    tree = Path(__file__).parents[1] / "payments_service" / "avro"
    with generated(tree, tmp_path / "payments_models", "refund_issued") as module:
        refund = module.RefundIssued
        assert set(refund.REFERENCES) == {"payments.contracts.LineItem"}
        _drawn_objects_survive_both_codecs(refund)


def test_a_class_that_is_not_generated_is_refused() -> None:
    with pytest.raises(TypeError, match="not a generated model class"):
        models(int)

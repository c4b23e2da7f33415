"""Generated ``write_avro``/``read_avro`` agree byte for byte with fastavro on every shape."""

from __future__ import annotations

import importlib
import io
from types import ModuleType
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts import runtime as rt
from somacontracts.tooling import sources
from somacontracts.tooling.codegen import names
from somacontracts.tooling.codegen.declarations import build_version
from tests.codegen.objects import instances, same

BUNDLED = [v for c in sources.bundled().values() for v in c.versions]


def _corpus_versions() -> list[sources.SchemaVersion]:
    from tests.codegen.conftest import CORPUS

    return [v for c in sources.load_tree(CORPUS).values() for v in c.versions]


def _fastavro_bytes(obj: Any, version: sources.SchemaVersion) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, version.fastavro, obj.to_avro())
    return buffer.getvalue()


def _check(obj: Any, cls: Any, version: sources.SchemaVersion) -> None:
    out = bytearray()
    obj.write_avro(out)
    assert bytes(out) == _fastavro_bytes(obj, version)
    reader = rt.Reader(bytes(out))
    back = cls.read_avro(reader)
    assert reader.pos == len(out)
    assert same(back, obj), (back, obj)
    # And the same object as fastavro's reader and from_avro make of those bytes.
    datum = schemaless_reader(io.BytesIO(out), version.fastavro, None, return_named_type=True)
    assert same(back, cls.from_avro(datum))


def _class(module: ModuleType, version: sources.SchemaVersion) -> Any:
    return getattr(module, f"{names.class_base_name(version.contract)}V{version.version}")


@pytest.mark.parametrize("version", BUNDLED, ids=lambda v: f"{v.contract}-v{v.version}")
def test_bundled_codec_matches_fastavro(version: sources.SchemaVersion) -> None:
    module = importlib.import_module(f"somacontracts.models.{names.module_name(version.contract)}")
    cls = _class(module, version)

    @given(instances(build_version(version), module))
    @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    def check(obj: Any) -> None:
        _check(obj, cls, version)

    check()


@pytest.mark.parametrize("version", _corpus_versions(), ids=lambda v: f"{v.contract}-v{v.version}")
def test_corpus_codec_matches_fastavro(
    version: sources.SchemaVersion, corpus_package: ModuleType
) -> None:
    module = importlib.import_module(
        f"{corpus_package.__name__}.{names.module_name(version.contract)}"
    )
    cls = _class(module, version)
    assert hasattr(cls, "write_avro"), "every corpus shape has a codec"

    @given(st.data())
    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    def check(data: st.DataObject) -> None:
        _check(data.draw(instances(build_version(version), module)), cls, version)

    check()


@pytest.mark.parametrize("version", BUNDLED, ids=lambda v: f"{v.contract}-v{v.version}")
def test_random_bytes_raise_only_decoding_errors(version: sources.SchemaVersion) -> None:
    module = importlib.import_module(f"somacontracts.models.{names.module_name(version.contract)}")
    cls = _class(module, version)

    @given(st.binary(max_size=200))
    @settings(max_examples=300)
    def check(data: bytes) -> None:
        reader = rt.Reader(data)
        try:
            cls.read_avro(reader)
        except (ValueError, IndexError, OverflowError):  # UnicodeDecodeError is a ValueError
            return
        assert reader.pos <= len(data)

    check()

"""Generated ``write_avro``/``read_avro`` agree byte for byte with fastavro on every shape."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import importlib
import io
import pickle
import uuid
from types import ModuleType
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somacontracts import schemas
from somacontracts.codegen import avrobinary, names
from somacontracts.codegen import runtime as rt
from somacontracts.codegen.model import build_version
from tests.codegen.objects import instances, same

BUNDLED = [v for c in schemas.bundled().values() for v in c.versions]


def _corpus_versions() -> list[schemas.SchemaVersion]:
    from tests.codegen.conftest import CORPUS

    return [v for c in schemas.load_tree(CORPUS).values() for v in c.versions]


def _fastavro_bytes(obj: Any, version: schemas.SchemaVersion) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, version.parsed, obj.to_avro())
    return buffer.getvalue()


def _check(obj: Any, cls: Any, version: schemas.SchemaVersion) -> None:
    out = bytearray()
    obj.write_avro(out)
    assert bytes(out) == _fastavro_bytes(obj, version)
    reader = rt.Reader(bytes(out))
    back = cls.read_avro(reader)
    assert reader.pos == len(out)
    assert same(back, obj), (back, obj)
    # And the same object as fastavro's reader and from_avro make of those bytes.
    datum = schemaless_reader(io.BytesIO(out), version.parsed, None, return_named_type=True)
    assert same(back, cls.from_avro(datum))


def _class(module: ModuleType, version: schemas.SchemaVersion) -> Any:
    return getattr(module, f"{names.class_base_name(version.contract)}V{version.version}")


@pytest.mark.parametrize("version", BUNDLED, ids=lambda v: f"{v.contract}-v{v.version}")
def test_bundled_codec_matches_fastavro(version: schemas.SchemaVersion) -> None:
    module = importlib.import_module(f"somacontracts.models.{names.module_name(version.contract)}")
    cls = _class(module, version)

    @given(instances(build_version(version), module))
    @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    def check(obj: Any) -> None:
        _check(obj, cls, version)

    check()


@pytest.mark.parametrize("version", _corpus_versions(), ids=lambda v: f"{v.contract}-v{v.version}")
def test_corpus_codec_matches_fastavro(
    version: schemas.SchemaVersion, corpus_package: ModuleType
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
def test_random_bytes_raise_only_decoding_errors(version: schemas.SchemaVersion) -> None:
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


# -- the primitives ----------------------------------------------------------------------


def _fastavro_encoding(schema: Any, value: Any) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, schema, value)
    return buffer.getvalue()


@given(st.integers(-(2**63), 2**63 - 1))
def test_long_encoding_is_fastavro_s_and_reads_back(value: int) -> None:
    out = bytearray()
    avrobinary.write_long(out, value)
    assert bytes(out) == _fastavro_encoding("long", value)
    reader = avrobinary.Reader(bytes(out))
    assert reader.read_long() == value
    assert reader.pos == len(out)


@given(st.text())
def test_string_encoding_is_fastavro_s_and_reads_back(value: str) -> None:
    out = bytearray()
    avrobinary.write_string(out, value)
    assert bytes(out) == _fastavro_encoding("string", value)
    assert avrobinary.Reader(bytes(out)).read_string() == value


@given(st.decimals(min_value=-(10**8), max_value=10**8, places=3))
def test_decimal_encoding_is_fastavro_s(value: decimal.Decimal) -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3}
    data = avrobinary.decimal_bytes(value, 12, 3)
    assert _fastavro_encoding(schema, value)[1:] == data
    assert avrobinary.bytes_decimal(data, 12, 3) == value


@pytest.mark.parametrize(
    ("write", "value", "message"),
    [
        (avrobinary.write_long, 2**63, "range of an Avro long"),
        (avrobinary.write_long, -(2**63) - 1, "range of an Avro long"),
        (avrobinary.write_int, 2**31, "range of an Avro int"),
        (avrobinary.write_int, -(2**31) - 1, "range of an Avro int"),
    ],
)
def test_numbers_out_of_range_are_refused(write: Any, value: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write(bytearray(), value)


def test_values_no_reader_could_read_back_are_refused() -> None:
    with pytest.raises(TypeError, match="True or False"):
        avrobinary.write_boolean(bytearray(), 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fixed of 4"):
        avrobinary.write_fixed(bytearray(), b"abc", 4)
    with pytest.raises(ValueError, match="digits after the point"):
        avrobinary.decimal_bytes(decimal.Decimal("1.234"), 9, 2)
    with pytest.raises(ValueError, match="not a finite decimal"):
        avrobinary.decimal_bytes(decimal.Decimal("NaN"), 9, 2)


@pytest.mark.parametrize(
    ("data", "read", "message"),
    [
        (b"\xff" * 11, "read_long", "longer than 10 bytes"),
        (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", "read_long", "range of a long"),
        (b"\x80\x80\x80\x80\x10", "read_int", "range of an int"),
        (b"\x04", "read_boolean", "not a boolean"),
        (b"\x03", "read_bytes", "runs past"),  # length -2
        (b"\x0aabc", "read_string", "runs past"),  # length 5, 3 bytes left
        (b"\x06", "read_index", "not below 3"),
        (b"\x01", "read_index", "not below 3"),  # -1
        (b"\x14ab", "read_count", "runs past"),  # 10 items, 2 bytes
    ],
)
def test_reader_refuses_what_corrupt_data_claims(data: bytes, read: str, message: str) -> None:
    reader = avrobinary.Reader(data)
    arguments = (3,) if read == "read_index" else ()
    with pytest.raises(ValueError, match=message):
        getattr(reader, read)(*arguments)


@pytest.mark.parametrize(
    ("data", "read", "expected"),
    [
        (b"\x06", "read_int", 3),
        (b"\x01", "read_boolean", True),
        (b"\x00", "read_boolean", False),
        (b"\x04", "read_index", 2),  # the last of 3
        (b"\x04ab", "read_count", 2),  # 2 items, 2 bytes left
    ],
)
def test_reader_accepts_the_edges_of_what_is_valid(
    data: bytes, read: str, expected: object
) -> None:
    reader = avrobinary.Reader(data)
    arguments = (3,) if read == "read_index" else ()
    assert getattr(reader, read)(*arguments) == expected
    assert reader.pos == 1


def test_reader_reads_blocks_that_give_their_size() -> None:
    # An array of two longs in one block of count -2 and byte size 2, then the end.
    reader = avrobinary.Reader(b"\x03\x04\x02\x04\x00")
    assert reader.read_count() == 2
    assert [reader.read_long(), reader.read_long()] == [1, 2]
    assert reader.read_count() == 0


def test_reader_caps_blocks_of_items_that_take_no_bytes() -> None:
    avrobinary.Reader(b"\x80\x80\x80\x10").read_count(0)  # 2**24 nulls: allowed
    with pytest.raises(ValueError, match="too many"):
        avrobinary.Reader(b"\x80\x80\x80\x20").read_count(0)  # 2**25 nulls


def test_naive_timestamps_are_local_time_as_fastavro_writes_them() -> None:
    moment = dt.datetime(2025, 3, 4, 5, 6, 7, 890123)
    schema = {"type": "long", "logicalType": "timestamp-micros"}
    out = bytearray()
    avrobinary.write_long(out, avrobinary.timestamp_micros(moment))
    assert bytes(out) == _fastavro_encoding(schema, moment)


def _uuid_or_error(make: Any, text: str) -> object:
    try:
        made = make(text)
    except ValueError as err:
        return type(err)
    return (made, made.int, made.version, made.is_safe, hash(made), str(made))


_UUID_LIKE = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.text(alphabet="0123456789abcdefABCDEF-_+ {}xurn:", min_size=30, max_size=40),
    st.text(min_size=36, max_size=36),
    st.builds(  # 32 characters and 4 hyphens anywhere: the form string_uuid parses itself
        lambda chars, cuts: "-".join(
            chars[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), 32], strict=True)
        ),
        st.text(alphabet="0123456789abcdefABCDEF_+ {}xg:é", min_size=32, max_size=32),
        st.lists(st.integers(0, 32), min_size=4, max_size=4),
    ),
)


@given(_UUID_LIKE)
def test_string_uuid_accepts_and_refuses_what_uuid_does(text: str) -> None:
    assert _uuid_or_error(avrobinary.string_uuid, text) == _uuid_or_error(uuid.UUID, text)


def test_string_uuid_makes_a_full_uuid() -> None:
    text = "12345678-1234-5678-9abc-def012345678"
    made = avrobinary.string_uuid(text)
    assert type(made) is uuid.UUID
    assert made == uuid.UUID(text)
    assert pickle.loads(pickle.dumps(made)) == made
    assert copy.deepcopy(made) == made
    assert repr(made) == f"UUID('{text}')"
    with pytest.raises(TypeError):
        made.int = 1  # type: ignore[misc]

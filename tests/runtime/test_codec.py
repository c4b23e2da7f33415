"""The codec primitives generated code calls: fastavro's bytes, and refusals of bad input."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import enum
import io
import pickle
import re
import uuid
from typing import Any

import pytest
from fastavro import schemaless_writer
from hypothesis import given
from hypothesis import strategies as st

from somacontracts import runtime as codec


def _fastavro_encoding(schema: Any, value: Any) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, schema, value)
    return buffer.getvalue()


@given(st.integers(-(2**63), 2**63 - 1))
def test_long_encoding_is_fastavro_s_and_reads_back(value: int) -> None:
    out = bytearray()
    codec.write_long(out, value)
    assert bytes(out) == _fastavro_encoding("long", value)
    reader = codec.Reader(bytes(out))
    assert reader.read_long() == value
    assert reader.pos == len(out)


@given(st.text())
def test_string_encoding_is_fastavro_s_and_reads_back(value: str) -> None:
    out = bytearray()
    codec.write_string(out, value)
    assert bytes(out) == _fastavro_encoding("string", value)
    assert codec.Reader(bytes(out)).read_string() == value


@given(st.decimals(min_value=-(10**8), max_value=10**8, places=3))
def test_decimal_encoding_is_fastavro_s(value: decimal.Decimal) -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3}
    data = codec.decimal_bytes(value, 12, 3)
    assert _fastavro_encoding(schema, value)[1:] == data
    assert codec.bytes_decimal(data, 12, 3) == value


@pytest.mark.parametrize(
    ("write", "value", "message"),
    [
        (codec.write_long, 2**63, "range of an Avro long"),
        (codec.write_long, -(2**63) - 1, "range of an Avro long"),
        (codec.write_int, 2**31, "range of an Avro int"),
        (codec.write_int, -(2**31) - 1, "range of an Avro int"),
    ],
)
def test_numbers_out_of_range_are_refused(write: Any, value: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write(bytearray(), value)


def test_values_no_reader_could_read_back_are_refused() -> None:
    with pytest.raises(TypeError, match="True or False"):
        codec.write_boolean(bytearray(), 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fixed of 4"):
        codec.write_fixed(bytearray(), b"abc", 4)
    with pytest.raises(ValueError, match="digits after the point"):
        codec.decimal_bytes(decimal.Decimal("1.234"), 9, 2)
    with pytest.raises(ValueError, match="not a finite decimal"):
        codec.decimal_bytes(decimal.Decimal("NaN"), 9, 2)


@pytest.mark.parametrize(
    ("value", "precision", "scale"),
    [("1e20", 12, 2), ("-1E+10", 12, 2), ("99999999999", 12, 2), ("1e1", 1, 0)],
)
def test_a_decimal_beyond_its_precision_is_refused(value: str, precision: int, scale: int) -> None:
    """Its digits are few, but counted from the point: 1e20 takes 21 before it."""
    with pytest.raises(ValueError, match=f"more than the schema's {precision} digits"):
        codec.decimal_bytes(decimal.Decimal(value), precision, scale)
    with pytest.raises(ValueError, match=f"more than the schema's {precision} digits"):
        codec.decimal_fixed(decimal.Decimal(value), precision, scale, 16)


def test_a_decimal_too_large_for_its_fixed_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit the schema's fixed of 2 bytes"):
        codec.decimal_fixed(decimal.Decimal("400.00"), 6, 2, 2)
    assert codec.decimal_fixed(decimal.Decimal("327.67"), 6, 2, 2) == b"\x7f\xff"


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
    reader = codec.Reader(data)
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
    reader = codec.Reader(data)
    arguments = (3,) if read == "read_index" else ()
    assert getattr(reader, read)(*arguments) == expected
    assert reader.pos == 1


def test_reader_reads_blocks_that_give_their_size() -> None:
    # An array of two longs in one block of count -2 and byte size 2, then the end.
    reader = codec.Reader(b"\x03\x04\x02\x04\x00")
    assert reader.read_count() == 2
    assert [reader.read_long(), reader.read_long()] == [1, 2]
    assert reader.read_count() == 0


def test_reader_caps_blocks_of_items_that_take_no_bytes() -> None:
    codec.Reader(b"\x80\x80\x80\x10").read_count(0)  # 2**24 nulls: allowed
    with pytest.raises(ValueError, match="too many"):
        codec.Reader(b"\x80\x80\x80\x20").read_count(0)  # 2**25 nulls


class _Level(enum.IntEnum):
    HIGH = 3


_NAIVE = dt.datetime(2025, 3, 4, 5, 6, 7, 890123)
_AWARE = _NAIVE.replace(tzinfo=dt.UTC)


def _write(function: Any, value: Any) -> Any:
    """``function`` applied to ``value`` as generated code calls it; what it wrote or returned."""
    out = bytearray()
    if function is codec.write_fixed:
        function(out, value, 16)
    elif function is codec.decimal_bytes:
        return function(value, 9, 2)
    elif function.__name__.startswith("write_") and function is not codec.write_null:
        function(out, value)
    else:
        return function(value)
    return bytes(out)


@pytest.mark.parametrize(
    ("function", "value", "message"),
    [
        (codec.write_long, True, "expected int for an Avro long, got bool True"),
        (codec.write_int, False, "expected int for an Avro int, got bool False"),
        (codec.write_long, 1.0, "expected int for an Avro long, got float 1.0"),
        (codec.write_int, "1", "expected int for an Avro int, got str '1'"),
        (codec.write_double, True, "expected float for an Avro double, got bool True"),
        (codec.write_float, "1.5", "expected float for an Avro float, got str '1.5'"),
        (codec.write_double, decimal.Decimal("0.1"), "got decimal.Decimal Decimal('0.1')"),
        (codec.write_double, 2**60 + 1, "would be read back as 1.152921504606847e+18"),
        (codec.write_float, 1e39, "1e+39 is out of the range of an Avro float (32 bits)"),
        (codec.write_boolean, 1, "expected True or False for an Avro boolean, got int 1"),
        (codec.write_string, b"x", "expected str, got bytes b'x'"),
        (codec.write_string, "\ud800", "surrogates not allowed"),
        (codec.write_bytes, "x", "expected bytes, got str 'x'"),
        (codec.write_bytes, memoryview(b"x").cast("B"), "expected bytes, got memoryview"),
        (codec.write_fixed, b"abc", "3 bytes given for a fixed of 16"),
        (codec.write_uuid, "7c0a4b1e-3f0e-4a53-9d5e-2f1f1c7d2b10", "expected uuid.UUID, got str"),
        (codec.write_uuid, 123, "expected uuid.UUID, got int 123"),
        (codec.write_uuid, None, "expected uuid.UUID, got NoneType None"),
        (codec.write_fixed_uuid, b"0" * 16, "expected uuid.UUID, got bytes"),
        (codec.write_null, 0, "expected None for an Avro null, got int 0"),
        (codec.timestamp_micros, _NAIVE, "a naive datetime (2025-03-04T05:06:07.890123)"),
        (codec.timestamp_millis, _NAIVE, "has no time zone; timestamp-millis is UTC"),
        (codec.timestamp_micros, dt.date(2025, 1, 1), "expected datetime.datetime"),
        (codec.local_timestamp_micros, _AWARE, "an aware datetime (2025-03-04T05:06:07"),
        (codec.date_days, _AWARE, "expected datetime.date (not a datetime) for date"),
        (codec.time_micros, _AWARE, "expected datetime.time for time-micros"),
        (codec.time_millis, dt.time(1, tzinfo=dt.UTC), "an aware time (01:00:00+00:00)"),
        (codec.decimal_bytes, 1.5, "expected decimal.Decimal, got float 1.5"),
        (
            codec.timestamp_micros,
            dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "0001-01-01T00:00:00+01:00 is outside the years 1 to 9999 in UTC",
        ),
        (
            codec.timestamp_millis,
            dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-1))),
            "is outside the years 1 to 9999 in UTC",
        ),
    ],
)
def test_values_a_reader_would_refuse_or_misread_are_refused(
    function: Any, value: Any, message: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=re.escape(message)):
        _write(function, value)


@pytest.mark.parametrize(
    ("function", "value", "same_as"),
    [
        (codec.write_long, _Level.HIGH, 3),
        (codec.write_double, 3, 3.0),
        (codec.write_float, 2**24, float(2**24)),
        (codec.write_bytes, bytearray(b"ab"), b"ab"),
        (codec.write_fixed, bytearray(b"0123456789abcdef"), b"0123456789abcdef"),
    ],
)
def test_values_that_read_back_equal_are_written_as_their_plain_form(
    function: Any, value: Any, same_as: Any
) -> None:
    assert value == same_as
    assert _write(function, value) == _write(function, same_as)


def test_aware_timestamps_are_written_as_the_instant() -> None:
    schema = {"type": "long", "logicalType": "timestamp-micros"}
    eastern = _AWARE.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    for moment in (_AWARE, eastern):
        out = bytearray()
        codec.write_long(out, codec.timestamp_micros(moment))
        assert bytes(out) == _fastavro_encoding(schema, _AWARE)
        assert codec.micros_timestamp(codec.timestamp_micros(moment)) == moment
    assert codec.timestamp_millis(_AWARE) * 1000 == codec.timestamp_micros(_AWARE) - 123


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
    assert _uuid_or_error(codec.string_uuid, text) == _uuid_or_error(uuid.UUID, text)


def test_string_uuid_makes_a_full_uuid() -> None:
    text = "12345678-1234-5678-9abc-def012345678"
    made = codec.string_uuid(text)
    assert type(made) is uuid.UUID
    assert made == uuid.UUID(text)
    assert pickle.loads(pickle.dumps(made)) == made
    assert copy.deepcopy(made) == made
    assert repr(made) == f"UUID('{text}')"
    with pytest.raises(TypeError):
        made.int = 1  # type: ignore[misc]

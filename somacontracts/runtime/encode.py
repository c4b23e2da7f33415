"""Avro's binary encoding, one value at a time: what generated ``write_avro`` calls.

Generated models encode and decode their own records in straight-line code, as Avro
Java's generated ``SpecificRecord`` classes do, instead of building a dict for a
generic writer to walk. That code calls the small functions here for each value, so
they are written for speed: no dispatch on schemas, a table for the one-byte lengths
and counts that most values have, and ``struct`` for floats.

Encoding follows the Avro specification and produces the same bytes as fastavro for
every value it accepts. It accepts only values that every reader reads back equal to
what was written (``TypeError`` for a value of the wrong type, ``ValueError`` for a
value of the right type that the schema cannot carry); fastavro writes many of these
without complaint and its readers then refuse them, or read something else:

* ``int`` and ``long`` take an ``int`` (not a ``bool``) within 32 or 64 bits;
  ``float`` and ``double`` take a ``float``, or an ``int`` that a double holds exactly
  (not a ``bool``); a ``float`` keeps 32 bits, as the schema says;
* ``boolean`` takes ``True`` or ``False`` only; ``string`` a ``str`` that UTF-8 can
  encode (no lone surrogates); ``bytes`` and ``fixed`` take ``bytes`` or ``bytearray``,
  a ``fixed`` exactly its size;
* ``uuid`` takes a :class:`uuid.UUID`, not its text;
* ``timestamp-*`` takes an aware ``datetime`` (a naive one would be read as the host's
  local time); ``local-timestamp-*`` a naive one; ``date`` a ``date`` that is not a
  ``datetime``; ``time-*`` a naive ``time``; a ``*-millis`` value keeps whole
  milliseconds, as Avro Java's conversions keep them;
* ``decimal`` takes a finite :class:`decimal.Decimal` within the schema's precision and
  scale.

Decoding is :mod:`somacontracts.runtime.decode`.

Standard library only: models generated for other services need nothing else.
"""

from __future__ import annotations

import datetime
import decimal
import struct
import uuid
from collections.abc import Iterable
from typing import Final

__all__ = [
    "date_days",
    "decimal_bytes",
    "decimal_fits",
    "decimal_fixed",
    "enum_index",
    "local_timestamp_micros",
    "local_timestamp_millis",
    "no_branch",
    "time_micros",
    "time_millis",
    "timestamp_micros",
    "timestamp_millis",
    "type_name",
    "unknown_branch",
    "write_boolean",
    "write_bytes",
    "write_date",
    "write_double",
    "write_fixed",
    "write_fixed_uuid",
    "write_float",
    "write_int",
    "write_local_timestamp_micros",
    "write_local_timestamp_millis",
    "write_long",
    "write_null",
    "write_string",
    "write_time_micros",
    "write_time_millis",
    "write_timestamp_micros",
    "write_timestamp_millis",
    "write_uuid",
    "wrong_type",
]

_INT_MIN: Final = -(1 << 31)
_INT_MAX: Final = (1 << 31) - 1
_LONG_MIN: Final = -(1 << 63)
_LONG_MAX: Final = (1 << 63) - 1
_SMALL: Final = tuple(bytes([n << 1]) for n in range(64))
"""The encoding of 0..63, each a single byte: most lengths, counts and indexes."""
_FLOAT: Final = struct.Struct("<f")
_DOUBLE: Final = struct.Struct("<d")
_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_EPOCH_NAIVE: Final = datetime.datetime(1970, 1, 1)
_EPOCH_ORDINAL: Final = _EPOCH_NAIVE.toordinal()
_FIRST_INSTANT: Final = datetime.datetime.min.replace(tzinfo=datetime.UTC) - _EPOCH
_LAST_INSTANT: Final = datetime.datetime.max.replace(tzinfo=datetime.UTC) - _EPOCH
_UTC: Final = datetime.UTC
_DATETIME: Final = datetime.datetime
_DATE: Final = datetime.date
_TIME: Final = datetime.time
_DECIMAL: Final = decimal.Decimal
_UUID: Final = uuid.UUID


# -- writing -------------------------------------------------------------------------


def type_name(value: object) -> str:
    """How messages name the type of ``value``: ``int``, ``uuid.UUID``, ``datetime.datetime``."""
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def wrong_type(expected: str, value: object) -> TypeError:
    """The error for ``value`` where a value of the type ``expected`` names belongs."""
    return TypeError(f"expected {expected}, got {type_name(value)} {_short(value)}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _integer(value: object, avro_type: str) -> int:
    """``value`` as a plain ``int``: an int subclass (an ``IntEnum``) but never a ``bool``."""
    if isinstance(value, int) and value.__class__ is not bool:
        return int(value)
    raise wrong_type(f"int for an Avro {avro_type}", value)


def _real(value: object, avro_type: str) -> float:
    """``value`` as a ``float``: a float, or an int a double holds exactly; never a ``bool``."""
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int) and value.__class__ is not bool:
        number = float(value) if -(2**1023) < value < 2**1023 else None
        if number is None or number != value:
            raise ValueError(f"{value} would be read back as {number}: a double cannot hold it")
        return number
    raise wrong_type(f"float for an Avro {avro_type}", value)


def _binary(value: object, expected: str) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise wrong_type(expected, value)


def write_long(out: bytearray, value: int) -> None:
    """Append ``value`` as an Avro ``long``: zig-zag, then base-128 varint."""
    if value.__class__ is int:
        if 0 <= value < 64:
            out += _SMALL[value]
            return
    else:
        value = _integer(value, "long")
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError(f"{value} is out of the range of an Avro long (64 bits)")
    n = (value << 1) ^ (value >> 63)
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def write_int(out: bytearray, value: int) -> None:
    """Append ``value`` as an Avro ``int``, which must fit 32 bits."""
    if value.__class__ is int:
        if 0 <= value < 64:  # most ints of a message (versions, counts): one byte, no call
            out += _SMALL[value]
            return
    else:
        value = _integer(value, "int")
    if not _INT_MIN <= value <= _INT_MAX:
        raise ValueError(f"{value} is out of the range of an Avro int (32 bits)")
    write_long(out, value)


def write_string(out: bytearray, value: str) -> None:
    """Append ``value`` as an Avro ``string``: its UTF-8 length, then its UTF-8 bytes."""
    if value.__class__ is not str and not isinstance(value, str):
        raise wrong_type("str", value)
    # write_bytes's body, inline: a call less on the most frequent value of a message.
    data = value.encode()
    size = len(data)
    if size < 64:
        out += _SMALL[size]
    else:
        write_long(out, size)
    out += data


def write_bytes(out: bytearray, value: bytes) -> None:
    """Append ``value`` as Avro ``bytes``: its length, then the bytes."""
    if value.__class__ is not bytes:
        value = _binary(value, "bytes")
    size = len(value)
    if size < 64:
        out += _SMALL[size]
    else:
        write_long(out, size)
    out += value


def write_fixed(out: bytearray, value: bytes, size: int) -> None:
    """Append ``value`` as an Avro ``fixed`` of ``size`` bytes: the bytes alone."""
    if value.__class__ is not bytes:
        value = _binary(value, f"bytes for a fixed of {size}")
    if len(value) != size:
        raise ValueError(f"{len(value)} bytes given for a fixed of {size}")
    out += value


def write_boolean(out: bytearray, value: bool) -> None:
    """Append ``value`` as an Avro ``boolean``: one byte, 1 or 0."""
    if value is True:
        out.append(1)
    elif value is False:
        out.append(0)
    else:
        raise wrong_type("True or False for an Avro boolean", value)


def write_null(value: None) -> None:
    """Check ``value`` for an Avro ``null``, which writes nothing: it must be None."""
    if value is not None:
        raise wrong_type("None for an Avro null", value)


def write_float(out: bytearray, value: float) -> None:
    """Append ``value`` as an Avro ``float``: 4 bytes, IEEE 754, little-endian, rounded."""
    if value.__class__ is not float:
        value = _real(value, "float")
    try:
        out += _FLOAT.pack(value)
    except OverflowError:  # beyond the largest float, where rounding would give infinity
        raise ValueError(f"{value} is out of the range of an Avro float (32 bits)") from None


def write_double(out: bytearray, value: float) -> None:
    """Append ``value`` as an Avro ``double``: 8 bytes, IEEE 754, little-endian."""
    if value.__class__ is not float:
        value = _real(value, "double")
    out += _DOUBLE.pack(value)


def write_uuid(out: bytearray, value: uuid.UUID) -> None:
    """Append ``value`` as an Avro ``string`` with logical type ``uuid``: its 36-character text."""
    if value.__class__ is not _UUID and not isinstance(value, _UUID):
        raise wrong_type("uuid.UUID", value)
    # str(value).encode(), in a quarter less time: the text straight from the integer.
    h = b"%032x" % value.int
    out += b"H%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])  # H: length 36


def write_fixed_uuid(out: bytearray, value: uuid.UUID) -> None:
    """Append ``value`` as an Avro ``fixed`` of 16 bytes with logical type ``uuid``."""
    if value.__class__ is not _UUID and not isinstance(value, _UUID):
        raise wrong_type("uuid.UUID", value)
    out += value.bytes


def _aware(value: datetime.datetime, logical: str) -> datetime.timedelta:
    """The time from the epoch to ``value``, which must be an aware datetime."""
    if value.__class__ is not _DATETIME and not isinstance(value, _DATETIME):
        raise wrong_type(f"datetime.datetime for {logical}", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"a naive datetime ({value.isoformat()}) has no time zone; {logical} is UTC: "
            "give it a tzinfo (datetime.UTC)"
        )
    delta = value - _EPOCH
    if not _FIRST_INSTANT <= delta <= _LAST_INSTANT:
        # Its zone takes it out of the years 1 to 9999 in UTC, where readers read it.
        raise ValueError(
            f"{value.isoformat()} is outside the years 1 to 9999 in UTC, which readers cannot read"
        )
    return delta


def _naive(value: datetime.datetime, logical: str) -> datetime.timedelta:
    """The time from the epoch to ``value`` read as a wall-clock time: a naive datetime."""
    if value.__class__ is not _DATETIME and not isinstance(value, _DATETIME):
        raise wrong_type(f"datetime.datetime for {logical}", value)
    if value.tzinfo is not None:
        raise ValueError(
            f"an aware datetime ({value.isoformat()}) in {logical}, a wall-clock time "
            "without zone, would lose its zone: give a naive datetime"
        )
    return value - _EPOCH_NAIVE


def timestamp_micros(value: datetime.datetime) -> int:
    """Microseconds since the epoch of an aware ``value``."""
    if value.__class__ is _DATETIME and value.tzinfo is _UTC:
        delta = value - _EPOCH
    else:
        delta = _aware(value, "timestamp-micros")
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def timestamp_millis(value: datetime.datetime) -> int:
    """Milliseconds since the epoch of an aware ``value``, truncated."""
    delta = _aware(value, "timestamp-millis")
    return (delta.days * 86_400 + delta.seconds) * 1_000 + delta.microseconds // 1000


def write_timestamp_micros(out: bytearray, value: datetime.datetime) -> None:
    """Append an aware ``value`` as a ``long`` with logical type ``timestamp-micros``."""
    if value.__class__ is _DATETIME and value.tzinfo is _UTC:
        delta = value - _EPOCH
    else:
        delta = _aware(value, "timestamp-micros")
    # write_long's body, inline: every message has a timestamp, and it takes the loop.
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    n = (micros << 1) ^ (micros >> 63)
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def write_timestamp_millis(out: bytearray, value: datetime.datetime) -> None:
    """Append an aware ``value`` as a ``long`` with logical type ``timestamp-millis``."""
    write_long(out, timestamp_millis(value))


def write_local_timestamp_micros(out: bytearray, value: datetime.datetime) -> None:
    """Append a naive ``value`` as a ``long`` with logical type ``local-timestamp-micros``."""
    write_long(out, local_timestamp_micros(value))


def write_local_timestamp_millis(out: bytearray, value: datetime.datetime) -> None:
    """Append a naive ``value`` as a ``long`` with logical type ``local-timestamp-millis``."""
    write_long(out, local_timestamp_millis(value))


def write_date(out: bytearray, value: datetime.date) -> None:
    """Append ``value`` as an ``int`` with logical type ``date``."""
    write_int(out, date_days(value))


def write_time_millis(out: bytearray, value: datetime.time) -> None:
    """Append ``value`` as an ``int`` with logical type ``time-millis``."""
    write_int(out, time_millis(value))


def write_time_micros(out: bytearray, value: datetime.time) -> None:
    """Append ``value`` as a ``long`` with logical type ``time-micros``."""
    write_long(out, time_micros(value))


def local_timestamp_micros(value: datetime.datetime) -> int:
    """Microseconds from the epoch to the naive ``value`` read as a wall-clock time."""
    delta = _naive(value, "local-timestamp-micros")
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def local_timestamp_millis(value: datetime.datetime) -> int:
    """Milliseconds from the epoch to the naive ``value`` read as a wall-clock time, truncated."""
    delta = _naive(value, "local-timestamp-millis")
    return (delta.days * 86_400 + delta.seconds) * 1_000 + delta.microseconds // 1000


def date_days(value: datetime.date) -> int:
    """Days from 1970-01-01 to ``value``, a date that is not a datetime."""
    if value.__class__ is not _DATE and (
        not isinstance(value, _DATE) or isinstance(value, _DATETIME)
    ):
        raise wrong_type("datetime.date (not a datetime) for date", value)
    return value.toordinal() - _EPOCH_ORDINAL


def _time_of_day(value: datetime.time, logical: str) -> int:
    """Seconds after midnight of ``value``, a naive time."""
    if value.__class__ is not _TIME and not isinstance(value, _TIME):
        raise wrong_type(f"datetime.time for {logical}", value)
    if value.tzinfo is not None:
        raise ValueError(f"an aware time ({value.isoformat()}) in {logical} would lose its zone")
    return value.hour * 3_600 + value.minute * 60 + value.second


def time_millis(value: datetime.time) -> int:
    """Milliseconds after midnight, truncated."""
    return _time_of_day(value, "time-millis") * 1_000 + value.microsecond // 1000


def time_micros(value: datetime.time) -> int:
    """Microseconds after midnight."""
    return _time_of_day(value, "time-micros") * 1_000_000 + value.microsecond


def decimal_bytes(value: decimal.Decimal, precision: int, scale: int) -> bytes:
    """The unscaled value of ``value`` as big-endian two's complement, for ``bytes``."""
    unscaled = _unscaled(value, precision, scale)
    size = (abs(unscaled).bit_length() + 8) // 8
    return unscaled.to_bytes(size, "big", signed=True)


def decimal_fixed(value: decimal.Decimal, precision: int, scale: int, size: int) -> bytes:
    """The unscaled value of ``value`` as big-endian two's complement of ``size`` bytes."""
    unscaled = _unscaled(value, precision, scale)
    if not -(1 << (8 * size - 1)) <= unscaled < 1 << (8 * size - 1):
        raise ValueError(f"{value} does not fit the schema's fixed of {size} bytes")
    return unscaled.to_bytes(size, "big", signed=True)


def decimal_fits(
    value: decimal.Decimal, precision: int, scale: int, size: int | None = None
) -> bool:
    """Whether a decimal of ``precision`` and ``scale`` (in a fixed of ``size`` bytes) holds
    ``value`` exactly: what a union of two decimals chooses its branch by."""
    try:
        if size is None:
            decimal_bytes(value, precision, scale)
        else:
            decimal_fixed(value, precision, scale, size)
    except ValueError:
        return False
    return True


def _unscaled(value: decimal.Decimal, precision: int, scale: int) -> int:
    if value.__class__ is not _DECIMAL and not isinstance(value, _DECIMAL):
        raise wrong_type("decimal.Decimal", value)
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{value} is not a finite decimal")
    if len(digits) > precision:
        raise ValueError(f"{value} has more than the schema's {precision} digits")
    shift = exponent + scale
    if shift < 0:
        raise ValueError(f"{value} has more than the schema's {scale} digits after the point")
    unscaled: int = int("".join(map(str, digits)) or "0") * 10**shift
    if unscaled >= 10**precision:  # 1e20 has one digit, but 21 before the point
        raise ValueError(f"{value} has more than the schema's {precision} digits")
    return -unscaled if sign else unscaled


# -- unions and enums -------------------------------------------------------------------


def unknown_branch(where: str, datum: object) -> ValueError:
    """The error for a datum that fits no branch of the union of ``where``."""
    if isinstance(datum, tuple) and len(datum) == 2:
        return ValueError(f"{where}: the union has no branch named {datum[0]!r}")
    return ValueError(
        f"{where}: cannot tell which branch of the union {type(datum).__name__} {datum!r:.60}"
        " belongs to; read with fastavro's return_named_type=True"
    )


def no_branch(where: str, value: object) -> TypeError:
    """The error for a value that is of no branch of the union of ``where``."""
    return TypeError(f"{where}: {type(value).__name__} {value!r:.60} is of no branch of the union")


def enum_index(members: Iterable[str]) -> dict[str, int]:
    """Each symbol's index in its enum, which Avro writes in its place."""
    return {member: index for index, member in enumerate(members)}

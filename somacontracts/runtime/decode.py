"""Avro's binary decoding, one value at a time: what generated ``read_avro`` calls.

:class:`Reader` decodes from ``bytes`` and checks what corrupt input could get wrong:
a varint longer than ten bytes, a negative length, a length past the end, a union
branch or enum symbol index out of range, a collection block claiming more items than
the remaining bytes could hold. It raises ``ValueError`` (or ``IndexError`` at the
end of the data, ``UnicodeDecodeError`` for bad text); the serdes turn these into
their own errors. The functions convert what was read into the Python values of
logical types, as fastavro converts them.

Standard library only: models generated for other services need nothing else.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import struct
import uuid
from typing import Final

__all__ = [
    "Reader",
    "bytes_decimal",
    "days_date",
    "micros_local_timestamp",
    "micros_time",
    "micros_timestamp",
    "millis_local_timestamp",
    "millis_time",
    "millis_timestamp",
    "string_uuid",
]

_INT_MIN: Final = -(1 << 31)
_INT_MAX: Final = (1 << 31) - 1
_LONG_MIN: Final = -(1 << 63)
_LONG_MAX: Final = (1 << 63) - 1
_FLOAT: Final = struct.Struct("<f")
_DOUBLE: Final = struct.Struct("<d")
_MAX_ZERO_WIDTH_ITEMS: Final = 1 << 24
"""Items one block of an array or map may claim when its items can take no bytes (null)."""
_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_EPOCH_NAIVE: Final = datetime.datetime(1970, 1, 1)
_EPOCH_ORDINAL: Final = _EPOCH_NAIVE.toordinal()
_UUID: Final = uuid.UUID
_new_uuid: Final = object.__new__
_set_uuid_int: Final = _UUID.__dict__["int"].__set__
_set_uuid_safety: Final = _UUID.__dict__["is_safe"].__set__
_UNKNOWN_SAFETY: Final = uuid.SafeUUID.unknown


# -- reading -------------------------------------------------------------------------


@functools.cache
def _decimal_context(precision: int) -> decimal.Context:
    return decimal.Context(prec=precision)


def bytes_decimal(value: bytes, precision: int, scale: int) -> decimal.Decimal:
    """The decimal whose unscaled value ``value`` holds (big-endian two's complement)."""
    context = _decimal_context(precision)
    unscaled = int.from_bytes(value, "big", signed=True)
    return context.create_decimal(unscaled).scaleb(-scale, context)


def micros_timestamp(value: int) -> datetime.datetime:
    """The UTC datetime ``value`` microseconds after the epoch."""
    return _EPOCH + datetime.timedelta(0, 0, value)  # positional: faster than keywords


def millis_timestamp(value: int) -> datetime.datetime:
    """The UTC datetime ``value`` milliseconds after the epoch."""
    return _EPOCH + datetime.timedelta(0, 0, value * 1000)


def micros_local_timestamp(value: int) -> datetime.datetime:
    """The naive datetime ``value`` microseconds after the epoch."""
    return _EPOCH_NAIVE + datetime.timedelta(0, 0, value)


def millis_local_timestamp(value: int) -> datetime.datetime:
    """The naive datetime ``value`` milliseconds after the epoch."""
    return _EPOCH_NAIVE + datetime.timedelta(0, 0, value * 1000)


def days_date(value: int) -> datetime.date:
    """The date ``value`` days after 1970-01-01."""
    return datetime.date.fromordinal(value + _EPOCH_ORDINAL)


def millis_time(value: int) -> datetime.time:
    """The time of day ``value`` milliseconds after midnight."""
    seconds, millis = divmod(value, 1_000)
    return datetime.time(seconds // 3_600, seconds // 60 % 60, seconds % 60, millis * 1_000)


def string_uuid(text: str) -> uuid.UUID:
    """``uuid.UUID(text)``, in half the time for the usual 36-character form.

    That form (32 hex digits and 4 hyphens) builds the UUID from its integer as
    ``UUID.__init__`` does, setting its two slots; any other text goes to ``UUID`` itself,
    so both accept and refuse the same texts.
    """
    if len(text) == 36:
        digits = text.replace("-", "")
        if len(digits) == 32:
            try:
                value = int(digits, 16)  # UUID's own parse; 32 digits are below 2**128
            except ValueError:
                return _UUID(text)
            made = _new_uuid(_UUID)
            _set_uuid_int(made, value)
            _set_uuid_safety(made, _UNKNOWN_SAFETY)
            return made
    return _UUID(text)


def micros_time(value: int) -> datetime.time:
    """The time of day ``value`` microseconds after midnight."""
    seconds, micros = divmod(value, 1_000_000)
    return datetime.time(seconds // 3_600, seconds // 60 % 60, seconds % 60, micros)


class Reader:
    """A position in Avro binary data; each method decodes one value there and moves on."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def read_long(self) -> int:
        """An Avro ``long``."""
        data = self.data
        pos = self.pos
        byte = data[pos]
        pos += 1
        if byte < 0x80:
            self.pos = pos
            return (byte >> 1) ^ -(byte & 1)
        n = byte & 0x7F
        shift = 7
        while byte & 0x80:
            if shift > 63:
                raise ValueError(f"varint longer than 10 bytes at byte {self.pos}")
            byte = data[pos]
            pos += 1
            n |= (byte & 0x7F) << shift
            shift += 7
        self.pos = pos
        value = (n >> 1) ^ -(n & 1)
        if not _LONG_MIN <= value <= _LONG_MAX:
            raise ValueError(f"varint at byte {pos} is out of the range of a long")
        return value

    def read_int(self) -> int:
        """An Avro ``int``: a long that must fit 32 bits."""
        value = self.read_long()
        if not _INT_MIN <= value <= _INT_MAX:
            raise ValueError(f"{value} before byte {self.pos} is out of the range of an int")
        return value

    def read_boolean(self) -> bool:
        """An Avro ``boolean``: one byte, 0 or 1."""
        byte = self.data[self.pos]
        if byte > 1:
            raise ValueError(f"byte {self.pos} is {byte}, not a boolean (0 or 1)")
        self.pos += 1
        return byte == 1

    def read_float(self) -> float:
        """An Avro ``float``."""
        pos = self.pos
        value: float = _FLOAT.unpack_from(self.data, pos)[0]
        self.pos = pos + 4
        return value

    def read_double(self) -> float:
        """An Avro ``double``."""
        pos = self.pos
        value: float = _DOUBLE.unpack_from(self.data, pos)[0]
        self.pos = pos + 8
        return value

    def read_bytes(self) -> bytes:
        """Avro ``bytes``."""
        data = self.data
        pos = self.pos
        size = data[pos]
        if size < 0x80:  # a length below 64: one byte
            size = (size >> 1) ^ -(size & 1)
            pos += 1
        else:
            size = self.read_long()
            pos = self.pos
        end = pos + size
        if size < 0 or end > len(data):
            raise ValueError(f"a length of {size} at byte {pos} runs past the data")
        self.pos = end
        return data[pos:end]

    def read_string(self) -> str:
        """An Avro ``string``."""
        return self.read_bytes().decode()

    def read_fixed(self, size: int) -> bytes:
        """An Avro ``fixed`` of ``size`` bytes."""
        pos = self.pos
        end = pos + size
        if end > len(self.data):
            raise ValueError(f"a fixed of {size} bytes at byte {pos} runs past the data")
        self.pos = end
        return self.data[pos:end]

    def read_index(self, count: int) -> int:
        """A union branch or enum symbol index, which must be below ``count``."""
        at = self.pos
        value = self.read_long()
        if not 0 <= value < count:
            raise ValueError(f"index {value} at byte {at} is not below {count}")
        return value

    def read_count(self, item_width: int = 1) -> int:
        """The item count of the next block of an array or map (0 after the last).

        ``item_width`` is the fewest bytes an item can take; a block claiming more items
        than the rest of the data could hold is corrupt.
        """
        at = self.pos
        count = self.read_long()
        if count < 0:  # a block that also gives its size in bytes, for skipping
            count = -count
            self.read_long()
        if item_width:
            if count * item_width > len(self.data) - self.pos:
                raise ValueError(f"a block of {count} items at byte {at} runs past the data")
        elif count > _MAX_ZERO_WIDTH_ITEMS:
            raise ValueError(f"a block of {count} empty items at byte {at} is too many")
        return count

"""What generated models import at run time: the free-form JSON type and its text codec,
and Avro's binary encoding (from :mod:`somacontracts.codegen.avrobinary`).

Generated modules import only this module and the standard library, so models
generated for another service's schemas need nothing else from somacontracts. It is
on the hot path of every message.

Free-form JSON travels as an Avro ``string`` holding its JSON text, marked
``"logicalType": "json"``; a model holds the decoded value, a :data:`JsonValue`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypeAlias

import msgspec
import orjson

from somacontracts.codegen.avrobinary import (
    Reader,
    bytes_decimal,
    date_days,
    days_date,
    decimal_bytes,
    decimal_fixed,
    local_timestamp_micros,
    local_timestamp_millis,
    micros_local_timestamp,
    micros_time,
    micros_timestamp,
    millis_local_timestamp,
    millis_time,
    millis_timestamp,
    string_uuid,
    time_micros,
    time_millis,
    timestamp_micros,
    timestamp_millis,
    write_boolean,
    write_bytes,
    write_double,
    write_fixed,
    write_float,
    write_int,
    write_long,
    write_string,
)

__all__ = [
    "JsonValue",
    "Reader",
    "bytes_decimal",
    "date_days",
    "days_date",
    "decimal_bytes",
    "decimal_fixed",
    "dump_json",
    "dump_json_bytes",
    "enum_index",
    "load_json",
    "load_json_bytes",
    "local_timestamp_micros",
    "local_timestamp_millis",
    "micros_local_timestamp",
    "micros_time",
    "micros_timestamp",
    "millis_local_timestamp",
    "millis_time",
    "millis_timestamp",
    "no_branch",
    "string_uuid",
    "time_micros",
    "time_millis",
    "timestamp_micros",
    "timestamp_millis",
    "unknown_branch",
    "write_boolean",
    "write_bytes",
    "write_double",
    "write_fixed",
    "write_float",
    "write_int",
    "write_json",
    "write_long",
    "write_string",
]

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
"""Any JSON value: null, true/false, a number, a string, an array or an object."""

# The JSON text of free-form fields is encoded and decoded on every message, so it goes
# through compiled codecs, several times faster than the standard library.
# Encoding uses orjson, which is not exact in two corners; each falls back to the
# standard library, which is:
# - it writes NaN and infinity as null: when the output holds "null", the value is
#   searched for them, and one found is refused as the standard library refuses it;
# - it refuses integers beyond 64 bits (and, passed through here, subclasses,
#   dataclasses and datetimes): TypeError, encoded again by the standard library.
# Decoding uses msgspec, which reads JSON as the standard library reads it, integers
# beyond 64 bits included, and refuses what the standard library would read but no
# encoder here would write back: NaN, infinity, numbers too large for a float and
# escaped lone surrogates.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_DUMP_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
_decode_json = msgspec.json.Decoder().decode
_pack = msgspec.msgpack.Encoder().encode


def dump_json(value: JsonValue) -> str:
    """The compact JSON text of ``value``; raise ``ValueError`` for NaN or infinity."""
    return dump_json_bytes(value).decode()


def dump_json_bytes(value: JsonValue) -> bytes:
    """:func:`dump_json` as UTF-8, the form Avro writes."""
    if value.__class__ is dict and not value:  # the usual free-form metadata: nothing
        return b"{}"
    try:
        data = orjson.dumps(value, option=_DUMP_OPTIONS)
    except TypeError:
        return _ENCODER.encode(value).encode()
    # find(), not "in": bytes' "in" first tries its operand as an int, and the TypeError
    # that raises and clears costs more than the search.
    if data.find(b"null") >= 0 and _may_hold_non_finite(value) and _has_non_finite(value):
        _ENCODER.encode(value)  # raises ValueError, naming the value
    return data


def _may_hold_non_finite(value: JsonValue) -> bool:
    """False when ``value`` certainly holds no NaN or infinity; cheaper than looking.

    MessagePack writes a float as 0xCB and its 8 IEEE-754 bytes, big-endian, and the
    first of those is 0x7F or 0xFF for a NaN or an infinity (sign and all-ones
    exponent). The pair appears nowhere else in UTF-8 text, and in the bytes of an
    integer rarely; one found there only costs the exact walk of :func:`_has_non_finite`.
    Called after orjson accepted ``value``: plain JSON types, integers within 64 bits.
    """
    encoded = _pack(value)
    return encoded.find(b"\xcb\x7f") >= 0 or encoded.find(b"\xcb\xff") >= 0


def write_json(out: bytearray, value: JsonValue) -> None:
    """Append ``value`` as an Avro ``string`` holding its JSON text."""
    write_bytes(out, dump_json_bytes(value))


def _has_non_finite(value: JsonValue) -> bool:
    """Whether ``value`` holds a float that JSON cannot carry (NaN or an infinity).

    Called only after orjson accepted ``value``, so every container is a plain dict or
    list and every float a plain float; ``x - x`` is NaN (true) for NaN and infinities
    and 0.0 (false) for every finite float.
    """
    pending: list[JsonValue] = [value]
    pop, extend = pending.pop, pending.extend
    while pending:
        item = pop()
        kind = item.__class__
        if kind is dict:
            extend(item.values())  # type: ignore[union-attr]
        elif kind is list:
            extend(item)  # type: ignore[arg-type]
        elif kind is float and item - item:  # type: ignore[operator]
            return True
    return False


def load_json(text: str) -> JsonValue:
    """The JSON value of ``text``; raise ``ValueError`` if it is not JSON."""
    return load_json_bytes(text.encode())


def load_json_bytes(data: bytes) -> JsonValue:
    """:func:`load_json` of UTF-8 ``data``, the form Avro reads."""
    if data == b"{}":  # the usual free-form metadata: nothing
        return {}
    try:
        value: JsonValue = _decode_json(data)
    except RecursionError:  # nesting deeper than the interpreter's stack allows
        raise ValueError("JSON text nested too deeply") from None
    return value


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

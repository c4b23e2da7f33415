"""The free-form JSON of generated models: its Python type and its text codec.

Free-form JSON travels as an Avro ``string`` holding its JSON text, marked
``"logicalType": "json"``; a model holds the decoded value, a :data:`JsonValue`.
"""

from __future__ import annotations

import json
from typing import TypeAlias

import msgspec
import orjson

from somacontracts.runtime.codec import write_bytes

__all__ = [
    "JsonValue",
    "dump_json",
    "dump_json_bytes",
    "load_json",
    "load_json_bytes",
    "write_json",
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

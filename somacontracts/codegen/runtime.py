"""What generated models import at run time: the free-form JSON type and its text codec.

Generated modules import only this module and the standard library, so models
generated for another service's schemas need nothing else from somacontracts. It is
on the hot path of every message: no reflection, one shared JSON encoder.

Free-form JSON travels as an Avro ``string`` holding its JSON text, marked
``"logicalType": "json"``; a model holds the decoded value, a :data:`JsonValue`.
"""

from __future__ import annotations

import json
import json.encoder
import json.scanner
from collections.abc import Callable
from typing import Any, TypeAlias

__all__ = ["JsonValue", "dump_json", "load_json", "unknown_branch"]

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
"""Any JSON value: null, true/false, a number, a string, an array or an object."""

# json.dumps with keyword arguments builds a new encoder on every call, and even a
# shared JSONEncoder builds a new C iterencoder per call; both are several times the
# cost of the encoding itself for the small values messages carry. So the C
# iterencoder is built once. It is built without a circular-reference check (a
# cyclic value raises RecursionError, not ValueError): a shared check would keep the
# ids of a value whose encoding failed and then reject good values.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_DECODER = json.JSONDecoder()
# The scanner the decoder uses, called directly: decode() adds two regex matches.
# (typeshed declares make_scanner's argument as a scanner; it is the decoder.)
_scan_once: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]


def _c_iterencode() -> Callable[[Any, int], list[str]] | None:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        iterencode: Callable[[Any, int], list[str]] = make(
            None,
            _ENCODER.default,
            json.encoder.encode_basestring,
            None,
            ":",
            ",",
            False,
            False,
            False,
        )
        probe = {"a": [1, 2.5, "\u00e9", None, True]}
        if "".join(iterencode(probe, 0)) != _ENCODER.encode(probe):
            return None
    except (TypeError, ValueError):  # another Python's encoder takes other arguments
        return None
    return iterencode


_iterencode = _c_iterencode()


def dump_json(value: JsonValue) -> str:
    """The compact JSON text of ``value``; raise ``ValueError`` for NaN or infinity."""
    if value.__class__ is dict and not value:  # the usual free-form metadata: nothing
        return "{}"
    if _iterencode is None:
        return _ENCODER.encode(value)
    return "".join(_iterencode(value, 0))


def load_json(text: str) -> JsonValue:
    """The JSON value of ``text``; raise ``ValueError`` if it is not JSON."""
    try:
        value: JsonValue
        value, end = _scan_once(text, 0)
    except StopIteration:  # not a value at position 0: let the decoder explain
        end = -1
    if end != len(text):  # whitespace around it, or something after it
        value = _DECODER.decode(text)
    return value


def unknown_branch(where: str, datum: object) -> ValueError:
    """The error for a datum that fits no branch of the union of ``where``."""
    if isinstance(datum, tuple) and len(datum) == 2:
        return ValueError(f"{where}: the union has no branch named {datum[0]!r}")
    return ValueError(
        f"{where}: cannot tell which branch of the union {type(datum).__name__} {datum!r:.60}"
        " belongs to; read with fastavro's return_named_type=True"
    )

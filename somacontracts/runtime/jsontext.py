"""The free-form JSON of generated models: its Python type and its text codec.

Free-form JSON travels as an Avro ``string`` holding its JSON text, marked
``"logicalType": "json"``; a model holds the decoded value, a :data:`JsonValue`.
"""

from __future__ import annotations

import json
from typing import TypeAlias

import msgspec
import orjson

from somacontracts.runtime.encode import write_long

__all__ = [
    "JsonValue",
    "dump_json",
    "dump_json_bytes",
    "json_problem",
    "load_json",
    "load_json_bytes",
    "write_json",
]

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
"""Any JSON value: null, true/false, a number, a string, an array or an object."""

# The JSON text of free-form fields is encoded and decoded on every message, so it goes
# through compiled codecs, several times faster than the standard library.
# Encoding uses orjson. It refuses integers beyond 64 bits (and, passed through here,
# subclasses, dataclasses and datetimes): those are encoded by the standard library,
# which is exact for integers of any size. Either way, text is written only if it reads
# back equal to the value: that refuses what either encoder writes as something else
# (NaN and infinity as null, a tuple as an array, a UUID or an enum as its value, keys
# that are not strings as strings), at the cost of one decode.
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
_INFINITIES = (float("inf"), float("-inf"))
_MAX_DEPTH = 254
"""How deep containers may nest: orjson's limit."""


def dump_json(value: JsonValue) -> str:
    """The compact JSON text of ``value``; ``ValueError`` for what JSON cannot carry.

    The message of the error names where in ``value`` the problem is, as a path such
    as ``["args"][2]``, and what it is: NaN or infinity, a key that is not a string, text
    with lone surrogates, or a value of a type that is not JSON (tuple, UUID, enum, ...).
    """
    return dump_json_bytes(value).decode()


def dump_json_bytes(value: JsonValue) -> bytes:
    """:func:`dump_json` as UTF-8, the form Avro writes."""
    if value.__class__ is dict and not value:  # the usual free-form metadata: nothing
        return b"{}"
    try:
        data = orjson.dumps(value, option=_DUMP_OPTIONS)
    except TypeError:
        # What orjson refuses: integers beyond 64 bits (exact in the standard library),
        # subclasses of the JSON types, nesting past its limit, and values that are not JSON.
        problem = json_problem(value)
        if problem is not None:
            raise ValueError(problem) from None
        try:
            data = _ENCODER.encode(value).encode()
        except (TypeError, ValueError, RecursionError) as err:
            raise ValueError(str(err)) from None
    try:
        same = _decode_json(data) == value
    except (ValueError, RecursionError):
        same = False
    if not same:
        raise ValueError(json_problem(value) or "would be read back as a different value")
    return data


def write_json(out: bytearray, value: JsonValue) -> None:
    """Append ``value`` as an Avro ``string`` holding its JSON text."""
    data = dump_json_bytes(value)
    size = len(data)  # write_bytes's body, inline: a call less per free-form field
    if size < 64:
        out.append(size << 1)
    else:
        write_long(out, size)
    out += data


def json_problem(value: object) -> str | None:
    """Why ``value`` is not a JSON value that reads back equal, or None if it is one.

    The reason starts with the path to the offending part (``["args"][2]: ...``), empty
    for ``value`` itself. Strings, numbers, lists and dicts may be subclasses (an
    ``IntEnum``, a ``StrEnum``): they are what the annotation ``JsonValue`` admits, and
    read back equal, as their plain values. Containers may nest 254 deep, as many as
    orjson writes; integers may have as many digits as ``int`` converts to text.
    """
    pending: list[tuple[str, object, int]] = [("", value, 0)]
    chain: list[int] = []  # ids of the containers from the top down to the item's parent
    while pending:
        path, item, depth = pending.pop()
        del chain[depth:]
        problem = _item_problem(item)
        if problem is None and isinstance(item, (dict, list)):
            if id(item) in chain:
                problem = "holds itself (a cycle), which JSON cannot carry"
            elif depth >= _MAX_DEPTH:
                problem = (
                    f"is nested deeper than {_MAX_DEPTH} levels, more than JSON text here holds"
                )
        if problem is None and isinstance(item, dict):
            problem = next(filter(None, map(_key_problem, item)), None)
        if problem is not None:
            if len(path) > 120:  # a message stays one readable line
                path = f"{path[:60]}...{path[-50:]}"
            return f"{path}: {problem}" if path else problem
        chain.append(id(item))
        if isinstance(item, dict):
            for key, child in reversed(item.items()):
                pending.append((f"{path}[{json.dumps(key, ensure_ascii=False)}]", child, depth + 1))
        elif isinstance(item, list):
            pending.extend(
                (f"{path}[{index}]", child, depth + 1)
                for index, child in reversed(list(enumerate(item)))
            )
    return None


def _item_problem(item: object) -> str | None:
    if item is None or isinstance(item, (bool, list, dict)):
        return None
    if isinstance(item, float):
        if item != item or item in _INFINITIES:
            return f"{item} is not a JSON number"
        return None
    if isinstance(item, str):
        if _has_surrogate(item):
            return f"{item!r:.40} holds a lone surrogate, which UTF-8 cannot encode"
        return None
    if isinstance(item, int):
        return _integer_problem(item)
    kind = type(item)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    hint = "; JSON arrays are lists" if isinstance(item, tuple) else ""
    return f"{name} is not a JSON value{hint}"


def _integer_problem(item: int) -> str | None:
    if item.bit_length() < 10_000:  # under about 3,000 digits: always converts to text
        return None
    try:
        str(item)
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        return f"an integer of {item.bit_length()} bits has too many digits for JSON text"
    return None


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"key {key!r} ({type(key).__name__}) is not a string"
    if _has_surrogate(key):
        return f"key {key!r} holds a lone surrogate, which UTF-8 cannot encode"
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
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
    except ValueError as err:
        raise ValueError(_decode_problem(data, err)) from None
    return value


def _decode_problem(data: bytes, err: ValueError) -> str:
    """Why ``data`` was refused, located by line and column where the text is malformed."""
    try:
        json.loads(data)
    except json.JSONDecodeError as malformed:
        return f"{malformed.msg} (line {malformed.lineno}, column {malformed.colno})"
    except (ValueError, RecursionError):
        pass
    return (
        "holds what JSON readers disagree on (NaN, infinity, a lone surrogate escape or a "
        f"number out of range): {err}"
    )

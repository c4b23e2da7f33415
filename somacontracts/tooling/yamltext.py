"""Block-style YAML for documents this library builds (alert rules, AsyncAPI).

Writing only, and only plain data: dicts with string keys, lists, strings, numbers,
booleans and None. Every string value, and every key but plain identifiers, is written
as a JSON string, which YAML reads as the same string (a double-quoted scalar), so no
value can turn into another type or break the structure; mappings and lists are
written in block style so that people can read and review them. PyYAML would serve,
but it is not a dependency of this package, and a reader is not needed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence

__all__ = ["dump"]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_RESERVED = frozenset(("y", "n", "yes", "no", "true", "false", "on", "off", "null"))
"""Words YAML 1.1 readers take as booleans or null: such keys are quoted."""
_NOT_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
"""Characters a YAML stream may not hold as they are, or reads as line breaks (JSON
escapes those below 0x20)."""
_NEEDS_ESCAPE = re.compile(_NOT_PRINTABLE.pattern[:-1] + "\x00-\x1f]")

Data = Mapping[str, "Data"] | Sequence["Data"] | str | int | float | bool | None


def dump(data: Data) -> str:
    """``data`` as a YAML document (ends with a newline)."""
    return "\n".join(_lines(data, 0)) + "\n"


def _scalar(value: Data) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        # YAML 1.1 readers take 1e-05 for a string: its floats have a dot.
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
    if isinstance(value, str):
        return _quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _empty(value: Data) -> str | None:
    """The flow form of an empty mapping or list, else None."""
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, list | tuple) and not value:
        return "[]"
    return None


def _lines(data: Data, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(data, Mapping):
        if not data:
            return [pad + "{}"]
        out: list[str] = []
        for key, value in data.items():
            if not isinstance(key, str):
                raise TypeError(f"cannot write a {type(key).__name__} key as YAML")
            name = key if _plain(key) else _quoted(key)
            if _nested(value):
                out.append(f"{pad}{name}:")
                out += _lines(value, indent + 2)
            else:
                out.append(f"{pad}{name}: {_empty(value) or _scalar(value)}")
        return out
    if isinstance(data, list | tuple):
        if not data:
            return [pad + "[]"]
        out = []
        for item in data:
            if _nested(item):
                inner = _lines(item, indent + 2)
                out.append(f"{pad}- {inner[0][indent + 2 :]}")
                out += inner[1:]
            else:
                out.append(f"{pad}- {_empty(item) or _scalar(item)}")
        return out
    return [pad + _scalar(data)]


def _quoted(text: str) -> str:
    """``text`` as a quoted scalar: single-quoted (no escapes but ``''``) when it holds
    ``"`` or ``\\`` and nothing that needs an escape, else double-quoted with JSON's
    escapes, plus YAML's for characters a YAML stream may not hold."""
    if ('"' in text or "\\" in text) and not _NEEDS_ESCAPE.search(text):
        return "'" + text.replace("'", "''") + "'"
    return _NOT_PRINTABLE.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False)
    )


def _plain(key: str) -> bool:
    return bool(_PLAIN_KEY.match(key)) and key.lower() not in _RESERVED


def _nested(value: Data) -> bool:
    return isinstance(value, Mapping | list | tuple) and bool(value)

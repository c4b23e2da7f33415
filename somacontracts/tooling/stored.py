"""Schema text compared as the JSON value it is: what a registry stores against what the
repository sends.

:func:`schema_value` is the value a schema is compared by (the registry's normalized
form, objects as sorted items), so the key order of a default object (Karapace sorts
them) makes no difference and every other difference does; :func:`first_difference`
names where two schemas differ, as a JSON pointer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from somacontracts.errors import InvalidSchemaError
from somacontracts.schema import NamedNode, parse, registry_text

__all__ = ["first_difference", "schema_value"]


def schema_value(text: str, shared: Mapping[str, NamedNode] | None = None) -> Any:
    """Schema text as the value it is compared by: the registry's normalized form read as
    JSON, every object as its sorted items, so the key order of a default object (which
    Karapace sorts) makes no difference and every other difference does. ``shared`` are
    the shared types the text may name (its references)."""
    try:
        parsed = parse(text, shared=shared)
        return _value(json.loads(registry_text(parsed, normalize=True)))
    except (InvalidSchemaError, ValueError):
        return ("text", text)


def _value(node: Any) -> Any:
    if isinstance(node, dict):
        return ("object", tuple(sorted((key, _value(item)) for key, item in node.items())))
    if isinstance(node, list):
        return ("array", tuple(_value(item) for item in node))
    if isinstance(node, bool):  # apart from 1 and 0, which equal True and False
        return ("boolean", node)
    return node


def first_difference(a: Any, b: Any, at: str = "") -> str:
    """The JSON pointer of the first place JSON values ``a`` and ``b`` differ (``""``: all)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in a or key not in b or _value(a[key]) != _value(b[key]):
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                if key in a and key in b:
                    return first_difference(a[key], b[key], f"{at}/{escaped}")
                return f"{at}/{escaped}"
        return at
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (left, right) in enumerate(zip(a, b, strict=True)):
            if _value(left) != _value(right):
                return first_difference(left, right, f"{at}/{index}")
    return at

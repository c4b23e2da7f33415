"""Avro names: validity, full names, and what a name written somewhere refers to.

The one place where names are resolved. Every walker of schemas (the parser, and
through it validation, the compatibility engine, the change report, lint, codegen and
the registry's text form) goes through :func:`full_name` and :func:`resolve`.

The rules are Apache Avro Java 1.12's (``Schema.Name``, ``Schema.Names``):

* a name containing a dot is a full name; otherwise it is qualified with the
  enclosing namespace (an empty namespace means the null namespace);
* a reference written inside a namespace means ``namespace.name`` if that type is
  defined, and otherwise, as Java's parser falls back, the type ``name`` of the null
  namespace. fastavro and the Avro specification do not fall back: such a reference
  is an error for them, so :func:`resolve` tells which rule found it, and contract
  validation refuses the fallback (a contract must read in every language);
* names and each dotted part of a full name match ``[A-Za-z_][A-Za-z0-9_]*``, and a
  named type may not be called after a primitive type.
"""

from __future__ import annotations

import re
from collections.abc import Container
from typing import NamedTuple

__all__ = [
    "JSON_LOGICAL_TYPE",
    "NAMED_TYPES",
    "PRIMITIVE_TYPES",
    "Resolution",
    "full_name",
    "is_valid_name",
    "json_pointer",
    "namespace_of",
    "resolve",
]

PRIMITIVE_TYPES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)
NAMED_TYPES = frozenset({"record", "error", "enum", "fixed"})
JSON_LOGICAL_TYPE = "json"
"""The logical type that marks a ``string`` holding free-form JSON text."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def json_pointer(base: str, *parts: str | int) -> str:
    """Extend a JSON pointer, escaping ``~`` and ``/`` as RFC 6901 requires."""
    pointer = base
    for part in parts:
        text = str(part)
        if "~" in text or "/" in text:  # rare: names cannot hold them, only map keys can
            text = text.replace("~", "~0").replace("/", "~1")
        pointer = f"{pointer}/{text}"
    return pointer


def full_name(name: str, namespace: str) -> str:
    """The full name of ``name`` written inside ``namespace``: itself if it has a dot."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def namespace_of(name: str) -> str:
    """The namespace of a full name (empty for the null namespace)."""
    return name.rpartition(".")[0]


def is_valid_name(name: str) -> bool:
    """Whether every dotted part of ``name`` is a valid Avro name."""
    return all(_NAME.match(part) for part in name.split("."))


class Resolution(NamedTuple):
    """What a reference refers to, and whether only Java's fallback found it."""

    full_name: str
    by_fallback: bool


def resolve(name: str, namespace: str, defined: Container[str]) -> Resolution | None:
    """The type the reference ``name``, written inside ``namespace``, refers to.

    ``defined`` holds the full names defined so far. None if no type matches.
    """
    qualified = full_name(name, namespace)
    if qualified in defined:
        return Resolution(qualified, by_fallback=False)
    if qualified != name and name in defined:
        return Resolution(name, by_fallback=True)
    return None

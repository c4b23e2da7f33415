"""Python names for Avro names: the one place where a name is made safe for generated code.

Avro names match ``[A-Za-z_][A-Za-z0-9_]*``, so every one is a valid Python identifier,
but not every one is safe where generated code puts it:

* **keywords** (``class``, ``from``, ``None``, ``True``) cannot be names at all: they get
  a trailing underscore, as PEP 8 advises (``class_``, ``None_``);
* **names the class body uses**: a dataclass field is a name in its class body, so a
  field called ``list``, ``str`` or ``datetime`` would shadow the builtin or module that
  a later annotation or default refers to, and one called like a class of the version
  (``ColourV1``) the class an enum default names; the generated methods and constants
  (``to_avro``, ``write_avro``, ``SCHEMA``) must not be overwritten either. These get a
  trailing underscore too (:data:`CLASS_BODY_NAMES`, and the class names the caller
  passes as taken). Builtins the class body never mentions (``id``, ``type``,
  ``input``) are safe as attribute names and are kept;
* **leading double underscores** trigger name mangling inside a class body (``__x``
  becomes ``_Cls__x``), and enum members starting with an underscore collide with the
  names :mod:`enum` reserves (``_missing_``, ``_ignore_``, sunder names): such names
  get the prefix ``avro_``;
* **enum members** named like a ``str`` method (``upper``, ``format``) would replace
  that method on every member of a ``StrEnum``; ``name``, ``value`` and ``mro`` clash
  with the enum machinery: they get a trailing underscore;
* ``l``, ``O`` and ``I`` are ambiguous in most fonts (pycodestyle E741): trailing
  underscore;
* **class names** follow CapWords (``my_record`` becomes ``MyRecord``) so generated
  modules pass pep8-naming, and carry the contract version (``ToolInvocationMetadataV1``).

* **module-level functions** the generator adds (:func:`function_name`) never start with
  two underscores, which a class body would mangle.

Every rule is a fixed list, not derived from the running interpreter, so the generated
code is the same under every Python version. The Avro name itself is never lost: the
generated methods read and write each field under its Avro name, and the attribute's
docstring names it.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = [
    "capwords",
    "class_base_name",
    "enum_member_name",
    "field_attribute_name",
    "function_name",
    "is_mixed_case",
    "module_name",
    "snake_case",
    "unique",
    "unique_alias",
]

# Names a generated class body refers to, or defines beside the fields: the builtins its
# annotations and default factories use, the modules it imports, the runtime alias, and
# the generated methods and constants. A field of one of these names would shadow it.
CLASS_BODY_NAMES = frozenset(
    {
        "bool",
        "bytearray",
        "bytes",
        "dict",
        "float",
        "int",
        "list",
        "str",
        "tuple",
        "collections",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "typing",
        "uuid",
        "_rt",
        "to_avro",
        "from_avro",
        "write_avro",
        "read_avro",
        "DATA_CONTRACT",
        "FINGERPRINT",
        "FULL_NAME",
        "REFERENCES",
        "SCHEMA",
        "SCHEMA_VERSION",
        "SUBJECT",
        "SUBJECTS",
    }
)

# Attributes of ``str`` that are not dunder names (as of Python 3.11, fixed here so the
# output does not depend on the interpreter), plus names the enum machinery uses.
ENUM_RESERVED_NAMES = frozenset(
    {
        "capitalize",
        "casefold",
        "center",
        "count",
        "encode",
        "endswith",
        "expandtabs",
        "find",
        "format",
        "format_map",
        "index",
        "isalnum",
        "isalpha",
        "isascii",
        "isdecimal",
        "isdigit",
        "isidentifier",
        "islower",
        "isnumeric",
        "isprintable",
        "isspace",
        "istitle",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "maketrans",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rjust",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "translate",
        "upper",
        "zfill",
        "mro",
        "name",
        "value",
    }
)

AMBIGUOUS_NAMES = frozenset({"l", "O", "I"})

# Keywords of Python 3.11, fixed for the same reason; soft keywords (match, case, _)
# are valid identifiers and need nothing.
KEYWORDS = frozenset(
    {
        "False",
        "None",
        "True",
        "and",
        "as",
        "assert",
        "async",
        "await",
        "break",
        "class",
        "continue",
        "def",
        "del",
        "elif",
        "else",
        "except",
        "finally",
        "for",
        "from",
        "global",
        "if",
        "import",
        "in",
        "is",
        "lambda",
        "nonlocal",
        "not",
        "or",
        "pass",
        "raise",
        "return",
        "try",
        "while",
        "with",
        "yield",
    }
)

MANGLED_PREFIX = "avro_"
"""Prefix of names that start with underscores Python or :mod:`enum` would treat specially."""

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def field_attribute_name(avro_name: str, taken: Collection[str] = ()) -> str:
    """The dataclass attribute for the record field ``avro_name``, unique among ``taken``."""
    name = avro_name
    if name.startswith("__"):
        name = MANGLED_PREFIX + name
    if name in KEYWORDS or name in CLASS_BODY_NAMES or name in AMBIGUOUS_NAMES:
        name += "_"
    return unique(name, taken)


def function_name(stem: str, purpose: str, taken: Collection[str] = ()) -> str:
    """A private module-level function name for ``purpose`` (``to_avro``, ``default``) of
    the field path ``stem``, numbered until it is not in ``taken``."""
    base = f"_{stem.lower().lstrip('_') or 'value'}_{purpose}"
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}_{counter}", counter + 1
    return name


def unique_alias(number: int, taken: Collection[str] = ()) -> str:
    """A private type alias name (``_Type1``), numbered from ``number`` until not taken."""
    name = f"_Type{number}"
    while name in taken:
        number += 1
        name = f"_Type{number}"
    return name


def enum_member_name(symbol: str, taken: Collection[str] = ()) -> str:
    """The enum member name for the Avro symbol ``symbol``, unique among ``taken``."""
    name = symbol
    if name.startswith("_"):
        name = MANGLED_PREFIX + name
    if name in KEYWORDS or name in ENUM_RESERVED_NAMES or name in AMBIGUOUS_NAMES:
        name += "_"
    return unique(name, taken)


def capwords(avro_name: str) -> str:
    """``avro_name`` in CapWords: underscores dropped, each part capitalised."""
    parts = [p for p in avro_name.split("_") if p]
    name = "".join(p[0].upper() + p[1:] for p in parts)
    if not name or name[0].isdigit():
        name = "Avro" + name
    return name


def class_base_name(avro_short_name: str) -> str:
    """The class name, before its version suffix, for a named type's short name."""
    name = capwords(avro_short_name)
    if name in KEYWORDS or name in AMBIGUOUS_NAMES:
        name = "Avro" + name
    return name


def snake_case(name: str) -> str:
    """``name`` in lower snake case (``ToolInvocation`` -> ``tool_invocation``)."""
    return _WORD_BOUNDARY.sub("_", name).lower()


def module_name(contract: str) -> str:
    """The generated module's name for the contract folder ``contract``."""
    name = snake_case(contract).strip("_") or "contract"
    if name[0].isdigit():
        name = "contract_" + name
    if name in KEYWORDS or name.startswith("_"):
        name += "_"
    return name


def is_mixed_case(name: str) -> bool:
    """Whether pep8-naming calls ``name`` mixedCase (lower first letter, an upper one later)."""
    stripped = name.lstrip("_")
    return bool(stripped) and stripped[0].islower() and any(c.isupper() for c in stripped)


def unique(name: str, taken: Collection[str]) -> str:
    """``name``, with underscores appended until it is not in ``taken``."""
    while name in taken:
        name += "_"
    return name

"""Python source text for values, calls and docstrings, already in ``ruff format`` layout.

Generated modules must pass ``ruff format --check`` without running the formatter (it
is not a runtime dependency), so everything here lays code out the way the formatter
would keep it: a construct that fits in :func:`line_length` stays on one line;
otherwise it is exploded one element per line with a trailing comma, which the
formatter keeps as it is (the "magic trailing comma"). A string too long for its line
becomes parenthesised implicit concatenation, split between words (or within one that
is longer than the line). A statement too long for its line splits at its last bracket
(:func:`statement_lines`). Names of ``__all__`` and of imports are sorted as ruff sorts
them (:func:`all_key`, :func:`import_key`).

Every literal is ASCII: other characters are written as escapes, so no generated line
holds a character that linters call ambiguous, and a module reads the same in any
encoding.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import re
import textwrap
import uuid
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

__all__ = [
    "DEFAULT_LINE_LENGTH",
    "all_key",
    "all_lines",
    "bytes_literal",
    "call_lines",
    "comment_lines",
    "def_lines",
    "docstring_lines",
    "expression_lines",
    "if_lines",
    "import_key",
    "laid_out_for",
    "line_length",
    "literal_lines",
    "long_name_lines",
    "return_lines",
    "signature_lines",
    "statement_lines",
    "string_literal",
    "value_literal",
]

DEFAULT_LINE_LENGTH = 88
"""ruff's default line length, for projects that set none."""
_LINE_LENGTH: ContextVar[int] = ContextVar("line_length", default=DEFAULT_LINE_LENGTH)


def line_length() -> int:
    """The line length generated code is laid out for (:func:`laid_out_for` sets it)."""
    return _LINE_LENGTH.get()


@contextlib.contextmanager
def laid_out_for(width: int) -> Iterator[None]:
    """Lay generated code out for lines of ``width`` characters within the block."""
    token = _LINE_LENGTH.set(width)
    try:
        yield
    finally:
        _LINE_LENGTH.reset(token)


_INDENT = "    "


def comment_lines(text: str) -> list[str]:
    """``text`` as ``#`` comment lines wrapped to the line length."""
    return [
        "# " + line
        for line in textwrap.wrap(
            text, width=line_length() - 2, break_long_words=False, break_on_hyphens=False
        )
    ]


def string_literal(value: str) -> str:
    """``value`` as a Python string literal, quoted the way ruff prefers."""
    return _quote("".join(_escape_ascii(c) for c in value), value)


def bytes_literal(value: bytes) -> str:
    """``value`` as a Python bytes literal, quoted the way ruff prefers."""
    body = "".join(
        "\\\\" if b == 0x5C else chr(b) if 0x20 <= b < 0x7F else _BYTE_ESCAPES.get(b, f"\\x{b:02x}")
        for b in value
    )
    text = value.decode("latin-1")
    return "b" + _quote(body, text)


def value_literal(value: Any) -> str:
    """A one-line Python expression for a scalar (not lists, dicts or records)."""
    call = _constructor(value)
    if call is not None:
        return f"{call[0]}({', '.join(call[1])})"
    if isinstance(value, float):
        return repr(value).replace("e+", "e")  # ruff's form of an exponent: 1e16, not 1e+16
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, bytes):
        return bytes_literal(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def _constructor(value: Any) -> tuple[str, list[str]] | None:
    """Callee and arguments building ``value``, for values that have no literal."""
    if isinstance(value, uuid.UUID):
        return "uuid.UUID", [string_literal(str(value))]
    if isinstance(value, decimal.Decimal):
        sign, _, exponent = value.as_tuple()
        if exponent == 0 and not (sign and not value):  # a whole number, not -0: an int
            return "decimal.Decimal", [str(value)]
        return "decimal.Decimal", [string_literal(str(value))]
    if isinstance(value, dt.datetime):
        parts = (value.year, value.month, value.day, value.hour, value.minute, value.second)
        arguments = [str(p) for p in (*parts, value.microsecond)]
        if value.tzinfo is not None:
            arguments.append("tzinfo=datetime.UTC")
        return "datetime.datetime", arguments
    if isinstance(value, dt.date):
        return "datetime.date", [str(value.year), str(value.month), str(value.day)]
    if isinstance(value, dt.time):
        clock = (value.hour, value.minute, value.second, value.microsecond)
        return "datetime.time", [str(p) for p in clock]
    return None


def literal_lines(value: Any, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines of ``prefix`` + ``value`` (JSON-like: dicts, lists, scalars) + ``suffix``."""
    pad = _INDENT * indent
    inline = _inline(value)
    if inline is not None and len(pad + prefix + inline + suffix) <= line_length():
        return [pad + prefix + inline + suffix]
    if isinstance(value, str):
        # Parenthesised on lines of their own, as ruff does when that makes them fit.
        parts = _split_string(value, len(pad) + len(_INDENT))
        alone = pad + _INDENT + string_literal(value)
        if len(parts) > 1 or len(alone) <= line_length():
            inner = [pad + _INDENT + string_literal(p) for p in parts]
            return [pad + prefix + "(", *inner, pad + ")" + suffix]
        return [pad + prefix + string_literal(value) + suffix]
    if isinstance(value, dict):
        lines = [pad + prefix + "{"]
        for key, item in value.items():
            entry = literal_lines(item, indent + 1, string_literal(str(key)) + ": ", ",")
            if len(entry[0]) > line_length():  # a key longer than the line: nothing splits it
                entry[0] += "  # noqa: E501"
            lines += entry
        return [*lines, pad + "}" + suffix]
    if isinstance(value, list):
        lines = [pad + prefix + "["]
        for item in value:
            lines += literal_lines(item, indent + 1, "", ",")
        return [*lines, pad + "]" + suffix]
    call = _constructor(value)
    if call is not None:
        return call_lines(call[0], call[1], indent, prefix, suffix)
    atom = value_literal(value)
    if len(pad + _INDENT + atom) <= line_length():  # parenthesised, as ruff does to make it fit
        return [pad + prefix + "(", pad + _INDENT + atom, pad + ")" + suffix]
    line = pad + prefix + atom + suffix
    return [line + "  # noqa: E501" if " " in line.strip() else line]  # E501 spares one word


def call_lines(
    callee: str, arguments: Sequence[str], indent: int, prefix: str = "", suffix: str = ""
) -> list[str]:
    """Lines of a call of ``callee`` with one-line ``arguments``, exploded if too long."""
    pad = _INDENT * indent
    inline = f"{prefix}{callee}({', '.join(arguments)}){suffix}"
    if len(pad + inline) <= line_length() or not arguments:
        return [pad + inline]
    inner = [f"{pad}{_INDENT}{argument}," for argument in arguments]
    return [f"{pad}{prefix}{callee}(", *inner, f"{pad}){suffix}"]


def if_lines(operands: Sequence[str], indent: int) -> list[str]:
    """``if`` with the ``and`` of ``operands``: on one line if it fits, else in
    parentheses with an operand a line, as ruff lays it out."""
    pad = _INDENT * indent
    inline = f"{pad}if {' and '.join(operands)}:"
    if len(inline) <= line_length() or len(operands) == 1:
        return [inline]
    inner = [f"{pad}{_INDENT}{'and ' if number else ''}{o}" for number, o in enumerate(operands)]
    return [f"{pad}if (", *inner, f"{pad}):"]


def docstring_lines(
    paragraphs: Sequence[str], indent: int, *, attribute: bool = False
) -> list[str]:
    """A docstring of ``paragraphs`` (plain text, whitespace collapsed), wrapped.

    ``attribute`` for the string after a field: the formatter leaves it as it is, while
    it joins the closing quotes of a module's, class's or function's one-line docstring
    back onto its line, so such a line must be broken in two instead.
    """
    pad = _INDENT * indent
    texts = [_escape_docstring(" ".join(p.split())) for p in paragraphs if p.split()]
    if not texts:
        return []
    if len(texts) == 1 and len(pad) + len(texts[0]) + 6 <= line_length():
        return [f'{pad}"""{texts[0]}"""']
    width = line_length() - len(pad)
    if not attribute and len(texts) == 1 and len(textwrap.wrap('"""' + texts[0], width=width)) == 1:
        width -= 3  # one line with its quotes is too long: ruff would join a lone closing
        # quote line back onto it, so break the text into two lines instead
    lines: list[str] = []
    for number, text in enumerate(texts):
        if number:
            lines.append("")
        wrapped = textwrap.wrap(
            text,
            width=width,
            initial_indent='"""' if number == 0 else "",
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines += wrapped
    return [pad + line if line else line for line in [*lines, '"""']]


def _inline(value: Any) -> str | None:
    if isinstance(value, dict):
        if value:
            return None
        return "{}"
    if isinstance(value, list):
        if value:
            return None
        return "[]"
    return value_literal(value)


def _split_string(value: str, width_used: int) -> list[str]:
    """``value`` cut into pieces whose literals fit beside ``width_used``: after a space
    where there is one, else where the line is full."""
    room = line_length() - width_used
    pieces: list[str] = []
    start = 0
    while start < len(value):
        end = _longest_fit(value, start, room)
        space = value.rfind(" ", start, end)
        if end < len(value) and space >= start:
            end = space + 1
        pieces.append(value[start:end])
        start = end
    return pieces or [value]


def _longest_fit(value: str, start: int, room: int) -> int:
    """The end of the longest piece of ``value`` from ``start`` whose literal fits ``room``
    (one character at least)."""
    low, high = start + 1, len(value)
    while low < high:
        middle = (low + high + 1) // 2
        if len(string_literal(value[start:middle])) <= room:
            low = middle
        else:
            high = middle - 1
    return low


_BYTE_ESCAPES = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape_ascii(char: str) -> str:
    code = ord(char)
    if char == "\\":
        return "\\\\"
    if code in _BYTE_ESCAPES:
        return _BYTE_ESCAPES[code]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if code < 0x80:
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _quote(body: str, text: str) -> str:
    """Quote ``body`` (escaped, quotes not yet) with the quote needing fewer escapes."""
    if text.count('"') > text.count("'"):
        return "'" + body.replace("'", "\\'") + "'"
    return '"' + body.replace('"', '\\"') + '"'


def _escape_docstring(text: str) -> str:
    body = "".join(_escape_ascii(c) for c in text)
    body = body.replace('"""', '""\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    if body.startswith('"'):  # four quotes in a row: ruff puts a space between, as here
        body = " " + body
    return body


def statement_lines(line: str) -> list[str]:
    """A statement ``line`` (indented) as ruff lays it out when it is too long: split at
    the last bracket, its contents an element a line, each laid out the same way (a call's
    with a trailing comma, a subscript's alone without one). What no split makes fit (a
    name longer than the line) keeps a ``# noqa: E501``."""
    if len(line) <= line_length():
        return [line]
    code = line.lstrip(" ")
    pad = line[: len(line) - len(code)]
    colon = ":" if code.endswith(":") else ""
    comma = "," if code.removesuffix(colon).endswith(",") else ""
    body = code.removesuffix(colon).removesuffix(comma)
    closing = body[-1:]
    opening = {")": "(", "]": "["}.get(closing)
    start = _opening(body) if opening else None
    inner = body[start + 1 : -1] if start is not None else ""
    if start is None or start == 0 or body[start - 1] == " " or not inner:
        return [line + "  # noqa: E501" if " " in code else line]  # E501 spares one word
    lines = [f"{pad}{body[: start + 1]}"]
    if opening == "[":
        lines += statement_lines(f"{pad}{_INDENT}{inner}")
    else:
        for part in _top_level_parts(inner, ", "):
            lines += statement_lines(f"{pad}{_INDENT}{part},")
    if len(lines[0]) > line_length():
        lines[0] += "  # noqa: E501"
    return [*lines, f"{pad}{closing}{comma}{colon}"]


def long_name_lines(lines: list[str]) -> list[str]:
    """``lines`` of a call, its first line marked when a long field name leaves no way to
    fit it (the field name appears twice: as the key and in the helper's name)."""
    first = lines[0]
    if len(first) <= line_length() or " " not in first.strip():  # E501 spares one-word lines
        return lines
    return [first + "  # noqa: E501", *lines[1:]]


def def_lines(template: tuple[str, str, str], **values: str) -> list[str]:
    """A module-level ``def`` line of ``template`` (opening, one parameter or none,
    closing): on one line if it fits, else the parameter on a line of its own, or, with
    none, the return annotation in parentheses, as ruff lays them out."""
    opening, parameter, closing = (part.format(**values) for part in template)
    inline = f"{opening}{parameter}{closing}"
    if len(inline) <= line_length():
        return [inline]
    if not parameter:
        returned = closing.removeprefix(") -> ").removesuffix(":")
        return [f"{opening}) -> (", f"{_INDENT}{returned}", "):"]
    return [opening, f"{_INDENT}{parameter},", closing]


def signature_lines(template: tuple[str, tuple[str, ...], str], indent: int) -> list[str]:
    """A ``def`` line of ``template`` (opening, parameters, closing) at ``indent``: on one
    line if it fits, else one parameter a line with a trailing comma, as ruff keeps it."""
    opening, parameters, closing = template
    pad = _INDENT * indent
    inline = f"{pad}{opening}{', '.join(parameters)}{closing}"
    if len(inline) <= line_length():
        return [inline]
    return [f"{pad}{opening}", *(f"{pad}{_INDENT}{p}," for p in parameters), f"{pad}{closing}"]


def return_lines(expression: str, indent: int = 1) -> list[str]:
    """``return expression`` at ``indent``, as ruff lays it out (:func:`expression_lines`)."""
    return expression_lines(expression, indent, prefix="return ")


def expression_lines(expression: str, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """``prefix`` + ``expression`` + ``suffix`` at ``indent``, as ruff lays it out: on one
    line if it fits; else a tuple opens its parentheses and puts an element a line, with a
    trailing comma, each laid out the same way; a comprehension opens its brackets, then
    puts its ``for`` clause on a line of its own if it still does not fit."""
    pad = _INDENT * indent
    inline = f"{pad}{prefix}{expression}{suffix}"
    opening, closing = expression[:1], expression[-1:]
    if (
        len(inline) <= line_length()
        or opening + closing not in ("()", "[]", "{}")
        or _closing(expression) != len(expression) - 1
    ):
        return [inline]
    inner, body = expression[1:-1], pad + _INDENT
    head, tail = f"{pad}{prefix}{opening}", f"{pad}{closing}{suffix}"
    if opening == "(":
        lines = [head]
        for element in _top_level_parts(inner, ", "):
            lines += expression_lines(element, indent + 1, suffix=",")
        return [*lines, tail]
    if len(body + inner) <= line_length():
        return [head, body + inner, tail]
    cut = _top_level(inner, " for ")
    if cut is None:
        return [inline]
    return [head, body + inner[:cut], body + inner[cut + 1 :], tail]


def _top_level_parts(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` where it is outside any brackets."""
    parts: list[str] = []
    while (cut := _top_level(text, separator)) is not None:
        parts.append(text[:cut])
        text = text[cut + len(separator) :]
    return [*parts, text]


def _closing(text: str) -> int | None:
    """Where the bracket that ``text`` opens with closes."""
    return _matching(text, range(len(text)), "([{", ")]}")


def _opening(text: str) -> int | None:
    """Where the bracket that ``text`` ends with opens."""
    return _matching(text, range(len(text) - 1, -1, -1), ")]}", "([{")


def _matching(text: str, order: range, deeper: str, shallower: str) -> int | None:
    """Where, walking ``text`` in ``order``, the first bracket met is matched."""
    depth = 0
    for index in order:
        if text[index] in deeper:
            depth += 1
        elif text[index] in shallower:
            depth -= 1
            if not depth:
                return index
    return None


def _top_level(text: str, needle: str) -> int | None:
    """Where ``needle`` first occurs in ``text`` outside any brackets."""
    depth = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(needle, index):
            return index
    return None


def all_lines(exported: Sequence[str]) -> list[str]:
    """``__all__ = [...]`` of ``exported``, exploded one name a line if it does not fit."""
    items = [f"    {string_literal(name)}," for name in exported]
    inline = "__all__ = [" + ", ".join(string_literal(n) for n in exported) + "]"
    if len(inline) <= line_length():
        return [inline]
    return ["__all__ = [", *items, "]"]


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def all_key(name: str) -> tuple[Any, ...]:
    """ruff's order of ``__all__`` (RUF022): CONSTANTS, Classes, the rest, each in natural
    order, case-sensitive."""
    if len(name) > 1 and name.isupper():
        category = 0
    elif name[:1].isupper():
        category = 1
    else:
        category = 2
    return (category, _natural(name))


def import_key(name: str) -> tuple[Any, ...]:
    """isort's order of imported names (ruff's I001): as :func:`all_key`, but not
    case-sensitive within a category."""
    category, _ = all_key(name)
    return (category, _natural(name.lower()), _natural(name))

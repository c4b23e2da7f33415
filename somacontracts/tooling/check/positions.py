"""Where a JSON pointer's value starts in a file as written: line and column, for
annotations that land on the line (GitHub's ``line=``/``col=``, editors' ``file:line:col``).

The standard library's decoder reads the keys and skips the values in between
(``raw_decode``), so the scan agrees with ``json.loads`` on what a value is. A key
written twice resolves to its last occurrence, the one ``json.loads`` keeps.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Sequence

from somacontracts.tooling.check.findings import Finding

__all__ = ["locate", "position"]

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _tokens(pointer: str) -> list[str] | None:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _past(text: str, at: int, mark: str) -> int | None:
    """Where the next token starts after ``mark``, the next token from ``at`` (spaces
    skipped); None if the next token is not ``mark``."""
    at = _skip(text, at)
    return _skip(text, at + 1) if text.startswith(mark, at) else None


def _end(text: str, at: int) -> int:
    """Where the value starting at ``at`` ends."""
    return int(_DECODER.raw_decode(text, at)[1])


def _member(text: str, at: int, token: str) -> int | None:
    """The offset of member ``token``'s value in the object starting at ``at``."""
    at = _skip(text, at + 1)
    if text.startswith("}", at):
        return None
    found = None
    while True:
        if not text.startswith('"', at):
            return None
        key, end = _DECODER.raw_decode(text, at)
        value = _past(text, end, ":")
        if value is None:
            return None
        if key == token:
            found = value
        following = _past(text, _end(text, value), ",")
        if following is None:
            return found
        at = following


def _item(text: str, at: int, token: str) -> int | None:
    """The offset of item ``token`` in the array starting at ``at``."""
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        return None
    at = _skip(text, at + 1)
    for _ in range(int(token)):
        following = None if text.startswith("]", at) else _past(text, _end(text, at), ",")
        if following is None:
            return None
        at = following
    return None if text.startswith("]", at) else at


def position(text: str, pointer: str) -> tuple[int, int] | None:
    """The 1-based (line, column) where ``pointer``'s value starts in the JSON ``text``;
    None when the text is not JSON or holds no such value."""
    tokens = _tokens(pointer)
    if tokens is None:
        return None
    try:
        at: int | None = _skip(text, 0)
        for token in tokens:
            assert at is not None
            if text.startswith("{", at):
                at = _member(text, at, token)
            elif text.startswith("[", at):
                at = _item(text, at, token)
            else:
                return None
            if at is None:
                return None
        assert at is not None
        _DECODER.raw_decode(text, at)  # a value starts there
    except (ValueError, IndexError):
        return None
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def locate(findings: Sequence[Finding], read: Callable[[str], str | None]) -> list[Finding]:
    """``findings`` with the line and column of their location in their file; ``read``
    gives a file's text (None if it cannot be read), called once per file."""
    texts: dict[str, str | None] = {}
    located = []
    for finding in findings:
        if finding.path and finding.location and finding.line is None:
            if finding.path not in texts:
                texts[finding.path] = read(finding.path)
            text = texts[finding.path]
            found = position(text, finding.location) if text is not None else None
            if found is not None:
                finding = dataclasses.replace(finding, line=found[0], column=found[1])
        located.append(finding)
    return located

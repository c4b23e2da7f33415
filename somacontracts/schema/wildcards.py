"""Confluent's wildcards over dotted field names, as Data Contract rules and tags use them.

Pure standard library: the serdes (rules) and the tooling (lint, docs) match the same way.
"""

from __future__ import annotations

import re

__all__ = ["wildcard_match"]


def wildcard_match(text: str, pattern: str) -> bool:
    """Whether ``text`` matches ``pattern``, a dotted name where ``*`` stands for part of a
    name, ``**`` for any number of names and ``?`` for one character (Confluent's rules)."""
    return _wildcard(pattern).fullmatch(text) is not None


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _wildcard(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        parts: list[str] = []
        source = pattern.replace("**.*", "**")
        i = 0
        while i < len(source):
            char = source[i]
            if source.startswith("**", i):
                parts.append(".*")
                i += 2
                continue
            parts.append({"*": r"[^.]*", "?": r"[^.]"}.get(char, re.escape(char)))
            i += 1
        compiled = _PATTERNS[pattern] = re.compile("".join(parts))
    return compiled

"""Counts in words, for every message of both halves of the package: ``1 contract``,
``5 contracts``. Pure and import-free, so the runtime may use it."""

from __future__ import annotations

__all__ = ["count"]


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun`` in agreement: ``1 contract``, ``5 contracts``, ``2 entries``."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"

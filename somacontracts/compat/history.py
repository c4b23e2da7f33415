"""A new schema against the versions before it, at a Schema Registry compatibility level.

:func:`check_level` applies Confluent's meaning of each
:class:`~somacontracts.compat.levels.CompatibilityLevel` with the reader/writer engine;
each problem says which previous version it came from and which way the data went.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from somacontracts.compat.engine import check_reader_writer
from somacontracts.compat.levels import TRANSITIVE, CompatibilityLevel, directions
from somacontracts.compat.results import CompatibilityResult, Direction
from somacontracts.schema.parse import parse

__all__ = ["check_level"]


def check_level(
    level: CompatibilityLevel | str, new: Any, previous: Sequence[Any]
) -> CompatibilityResult:
    """Whether ``new`` may follow ``previous`` (oldest first) under ``level``.

    Schemas are schema JSON or :class:`~somacontracts.compat.ParsedSchema`; each is
    parsed once. The problems are grouped by previous version, newest first, backward
    before forward; each carries its ``version`` (1-based position in ``previous``) and
    ``direction``. Raise :class:`InvalidSchemaError` if a schema the level reads is not
    valid, and ``ValueError`` if ``level`` is not a level.
    """
    level = CompatibilityLevel(level)
    ways = directions(level)
    if not ways or not previous:
        return CompatibilityResult()
    new_schema = parse(new, source="new schema")
    numbers = range(len(previous), 0, -1) if level in TRANSITIVE else (len(previous),)
    result = CompatibilityResult()
    for number in numbers:
        old = parse(previous[number - 1], source=f"previous schema v{number}")
        for way in ways:
            reader, writer = (new_schema, old) if way is Direction.BACKWARD else (old, new_schema)
            found = check_reader_writer(reader, writer)
            result = result.merged_with(
                CompatibilityResult(
                    tuple(
                        dataclasses.replace(problem, direction=way, version=number)
                        for problem in found.problems
                    )
                )
            )
    return result

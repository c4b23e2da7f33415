"""Schema Registry compatibility levels over a new schema and the versions before it.

:func:`check_level` applies Confluent's meaning of each
:class:`~somacontracts.catalog.CompatibilityLevel`:

* ``BACKWARD``: the new schema reads data written with the latest previous one;
  ``BACKWARD_TRANSITIVE``: with every previous one.
* ``FORWARD``: the latest previous schema reads data written with the new one;
  ``FORWARD_TRANSITIVE``: every previous one does.
* ``FULL``: both, against the latest; ``FULL_TRANSITIVE``: both, against every one.
* ``NONE``: always compatible.

Each problem says which previous version it came from and which way the data went.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from somacontracts.catalog import CompatibilityLevel
from somacontracts.compat.engine import check_reader_writer
from somacontracts.compat.results import CompatibilityResult, Direction
from somacontracts.schema.parse import parse

__all__ = ["check_level", "directions"]

_DIRECTIONS: dict[CompatibilityLevel, tuple[Direction, ...]] = {
    CompatibilityLevel.NONE: (),
    CompatibilityLevel.BACKWARD: (Direction.BACKWARD,),
    CompatibilityLevel.BACKWARD_TRANSITIVE: (Direction.BACKWARD,),
    CompatibilityLevel.FORWARD: (Direction.FORWARD,),
    CompatibilityLevel.FORWARD_TRANSITIVE: (Direction.FORWARD,),
    CompatibilityLevel.FULL: (Direction.BACKWARD, Direction.FORWARD),
    CompatibilityLevel.FULL_TRANSITIVE: (Direction.BACKWARD, Direction.FORWARD),
}
_TRANSITIVE = frozenset(
    {
        CompatibilityLevel.BACKWARD_TRANSITIVE,
        CompatibilityLevel.FORWARD_TRANSITIVE,
        CompatibilityLevel.FULL_TRANSITIVE,
    }
)


def directions(level: CompatibilityLevel | str) -> tuple[Direction, ...]:
    """The directions ``level`` checks: none, one, or both (backward first)."""
    return _DIRECTIONS[CompatibilityLevel(level)]


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
    ways = _DIRECTIONS[level]
    if not ways or not previous:
        return CompatibilityResult()
    new_schema = parse(new, source="new schema")
    numbers = range(len(previous), 0, -1) if level in _TRANSITIVE else (len(previous),)
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

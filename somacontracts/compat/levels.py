"""Schema Registry's compatibility levels: which directions each one checks, and how far back.

* ``BACKWARD``: the new schema reads data written with the latest previous one;
  ``BACKWARD_TRANSITIVE``: with every previous one.
* ``FORWARD``: the latest previous schema reads data written with the new one;
  ``FORWARD_TRANSITIVE``: every previous one does.
* ``FULL``: both, against the latest; ``FULL_TRANSITIVE``: both, against every one.
* ``NONE``: always compatible.

Standard library only: the catalog of the runtime names each contract's level with
:class:`CompatibilityLevel`; :func:`~somacontracts.compat.check_level` applies one.
"""

from __future__ import annotations

from enum import StrEnum

from somacontracts.compat.results import Direction

__all__ = ["TRANSITIVE", "CompatibilityLevel", "directions"]


class CompatibilityLevel(StrEnum):
    """Schema Registry compatibility levels, with Confluent's meanings."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"


_DIRECTIONS: dict[CompatibilityLevel, tuple[Direction, ...]] = {
    CompatibilityLevel.NONE: (),
    CompatibilityLevel.BACKWARD: (Direction.BACKWARD,),
    CompatibilityLevel.BACKWARD_TRANSITIVE: (Direction.BACKWARD,),
    CompatibilityLevel.FORWARD: (Direction.FORWARD,),
    CompatibilityLevel.FORWARD_TRANSITIVE: (Direction.FORWARD,),
    CompatibilityLevel.FULL: (Direction.BACKWARD, Direction.FORWARD),
    CompatibilityLevel.FULL_TRANSITIVE: (Direction.BACKWARD, Direction.FORWARD),
}
TRANSITIVE = frozenset(
    {
        CompatibilityLevel.BACKWARD_TRANSITIVE,
        CompatibilityLevel.FORWARD_TRANSITIVE,
        CompatibilityLevel.FULL_TRANSITIVE,
    }
)
"""The levels that check every previous version, not only the latest."""


def directions(level: CompatibilityLevel | str) -> tuple[Direction, ...]:
    """The directions ``level`` checks: none, one, or both (backward first)."""
    return _DIRECTIONS[CompatibilityLevel(level)]

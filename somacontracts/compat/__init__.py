"""Schema compatibility: the reader/writer engine, Schema Registry's levels, change reports.

:func:`check_reader_writer` gives Apache Avro Java's verdict on whether a reader schema
reads everything a writer schema writes, with every problem found; :func:`check_level`
applies a registry :class:`CompatibilityLevel` to a new schema and the versions before
it; :mod:`~somacontracts.compat.changes` reports what changed between two versions and
which side deploys first. Invalid schemas raise :class:`InvalidSchemaError`. Pure: no
I/O. The names load on first use, so that importing :class:`CompatibilityLevel` (as the
runtime's catalog does) loads neither the engine nor the schema model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from somacontracts import lazy_exports

if TYPE_CHECKING:
    from somacontracts.compat.engine import check_reader_writer
    from somacontracts.compat.history import check_level
    from somacontracts.compat.levels import CompatibilityLevel, directions
    from somacontracts.compat.results import (
        CompatibilityResult,
        Direction,
        Incompatibility,
        IncompatibilityType,
        InvalidSchemaError,
    )

__all__ = [
    "CompatibilityLevel",
    "CompatibilityResult",
    "Direction",
    "Incompatibility",
    "IncompatibilityType",
    "InvalidSchemaError",
    "check_level",
    "check_reader_writer",
    "directions",
]

_HOMES = {
    "CompatibilityLevel": "somacontracts.compat.levels",
    "directions": "somacontracts.compat.levels",
    "check_level": "somacontracts.compat.history",
    "check_reader_writer": "somacontracts.compat.engine",
    "CompatibilityResult": "somacontracts.compat.results",
    "Direction": "somacontracts.compat.results",
    "Incompatibility": "somacontracts.compat.results",
    "IncompatibilityType": "somacontracts.compat.results",
    "InvalidSchemaError": "somacontracts.compat.results",
}

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)

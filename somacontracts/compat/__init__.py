"""Schema compatibility: the reader/writer engine and Schema Registry's levels.

:func:`check_reader_writer` gives Apache Avro Java's verdict on whether a reader schema
reads everything a writer schema writes, with every problem found; :func:`check_level`
applies a registry :class:`~somacontracts.catalog.CompatibilityLevel` to a new schema
and the versions before it. :func:`parse` checks a schema once for many checks. Invalid
schemas raise :class:`InvalidSchemaError`. This package is pure: no I/O.
"""

from somacontracts.compat.engine import check_reader_writer
from somacontracts.compat.levels import check_level, directions
from somacontracts.compat.results import (
    CompatibilityResult,
    Direction,
    Incompatibility,
    IncompatibilityType,
    InvalidSchemaError,
)
from somacontracts.schema.model import ParsedSchema
from somacontracts.schema.parse import parse

__all__ = [
    "CompatibilityResult",
    "Direction",
    "Incompatibility",
    "IncompatibilityType",
    "InvalidSchemaError",
    "ParsedSchema",
    "check_level",
    "check_reader_writer",
    "directions",
    "parse",
]

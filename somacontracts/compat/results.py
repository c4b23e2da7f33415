"""The values a compatibility check returns: incompatibilities and their merged result.

Results are plain frozen values. A :class:`CompatibilityResult` holds every
:class:`Incompatibility` found, in the order Apache Avro Java reports them; two
results merge with :meth:`CompatibilityResult.merged_with`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from somacontracts.errors import InvalidSchemaError, count

__all__ = [
    "CompatibilityResult",
    "Direction",
    "Incompatibility",
    "IncompatibilityType",
    "InvalidSchemaError",
]


class IncompatibilityType(StrEnum):
    """Kinds of incompatibility, named as in Apache Avro Java's ``SchemaIncompatibilityType``."""

    NAME_MISMATCH = "NAME_MISMATCH"
    """A named type (record, enum, fixed) matches the writer's neither by name nor by alias."""
    FIXED_SIZE_MISMATCH = "FIXED_SIZE_MISMATCH"
    """Reader and writer fixed types differ in size."""
    MISSING_ENUM_SYMBOLS = "MISSING_ENUM_SYMBOLS"
    """The writer's enum has symbols the reader's lacks, and the reader's enum has no default."""
    READER_FIELD_MISSING_DEFAULT_VALUE = "READER_FIELD_MISSING_DEFAULT_VALUE"
    """A reader field has no default and no writer field to read it from."""
    TYPE_MISMATCH = "TYPE_MISMATCH"
    """The reader's type cannot read the writer's type, even by promotion."""
    MISSING_UNION_BRANCH = "MISSING_UNION_BRANCH"
    """No branch of the reader's union reads the writer's type (or one writer branch)."""
    READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS = "READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS"
    """A reader field's name and aliases match more than one writer field.

    Not one of Java's types: Java throws ``AvroRuntimeException`` wherever it meets such
    a field, even while trying a branch of a reader union, and Schema Registry reports
    the exception as an incompatibility. The check stops there too, so this is then the
    only problem of the result.
    """


class Direction(StrEnum):
    """Which way a level check read: which schema was the reader."""

    BACKWARD = "BACKWARD"
    """The new schema read data written with an old one."""
    FORWARD = "FORWARD"
    """An old schema read data written with the new one."""


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One reason a reader schema cannot read every datum of a writer schema."""

    type: IncompatibilityType
    location: str
    """JSON pointer into the reader schema, as Apache Avro Java reports it.

    A last index token names a union branch: the reader's when the reader's union lacked
    a branch, the writer's when a branch of the writer's union was unreadable.
    """
    message: str
    """A sentence saying what is wrong, quoting the names involved."""
    detail: str
    """Apache Avro Java's message for the same problem, for example ``expected: ns.Old``."""
    reader_fragment: str
    """The part of the reader schema at fault, as compact JSON."""
    writer_fragment: str
    """The part of the writer schema at fault, as compact JSON."""
    direction: Direction | None = None
    """Set by level checks: which schema was the reader."""
    version: int | None = None
    """Set by level checks: the 1-based position of the old schema among the previous ones."""

    def __str__(self) -> str:
        prefix = ""
        if self.version is not None and self.direction is not None:
            prefix = f"v{self.version} ({self.direction.lower()}): "
        return f"{prefix}{self.type} at {self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The verdict of a check and every incompatibility behind it."""

    problems: tuple[Incompatibility, ...] = ()

    @property
    def compatible(self) -> bool:
        """True when no incompatibility was found."""
        return not self.problems

    @property
    def types(self) -> tuple[IncompatibilityType, ...]:
        """The type of each problem, in order."""
        return tuple(problem.type for problem in self.problems)

    def merged_with(self, other: CompatibilityResult) -> CompatibilityResult:
        """A result holding the problems of both, this one's first."""
        if not other.problems:
            return self
        if not self.problems:
            return other
        return CompatibilityResult(self.problems + other.problems)

    def __str__(self) -> str:
        if self.compatible:
            return "compatible"
        lines = [f"incompatible ({count(len(self.problems), 'problem')}):"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)

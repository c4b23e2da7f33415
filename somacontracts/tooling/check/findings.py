"""What ``somacontracts check`` reports: findings, each under a stable rule id."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ERROR", "SEVERITIES", "WARNING", "Category", "Finding"]

ERROR = "error"
"""A finding that fails ``check`` (exit code 1)."""
WARNING = "warning"
"""A finding ``check`` reports without failing."""
SEVERITIES = (ERROR, WARNING)


class Category(StrEnum):
    """The kind of rule a finding comes from."""

    COMPATIBILITY = "compatibility"
    """A version cannot be read by, or cannot read, an earlier one at the contract's level."""
    IMMUTABILITY = "immutability"
    """A released version was edited or deleted."""
    LINT = "lint"
    """A style or governance rule; each can be turned off in configuration."""
    CATALOG = "catalog"
    """The catalog and the schema tree disagree (a topic's contract has no folder, its key
    names no field that can key messages)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken by one contract version, with the file and JSON location."""

    rule: str
    """Stable SCREAMING_SNAKE id, for example ``FIELD_DOC`` or ``TYPE_MISMATCH``."""
    category: Category
    contract: str
    version: int | None
    path: str | None
    """The schema file, as given to the checker (relative where possible)."""
    location: str
    """JSON pointer into the schema file; empty for the whole file."""
    message: str
    severity: str = ERROR
    """``error`` fails ``check``; ``warning`` is reported only."""
    line: int | None = None
    """Where ``location``'s value starts in the file as written (1-based), when known."""
    column: int | None = None

    def where(self) -> str:
        """``path`` and ``location`` joined for a one-line report."""
        place = self.path or self.contract
        return f"{place}:{self.location}" if self.location else place

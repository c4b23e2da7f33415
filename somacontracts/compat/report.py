"""The change report as values: the kinds of change between two versions of a
schema, each change located by a JSON pointer, and the report of a pair of versions
with what it means for rollout (which side deploys first). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from somacontracts.compat.levels import CompatibilityLevel, directions
from somacontracts.compat.results import Direction

__all__ = ["Change", "ChangeKind", "ChangeReport"]


class ChangeKind(StrEnum):
    """Kinds of change between two versions of a schema."""

    FIELD_ADDED = "FIELD_ADDED"
    FIELD_REMOVED = "FIELD_REMOVED"
    FIELD_RENAMED = "FIELD_RENAMED"
    FIELD_DEFAULT_ADDED = "FIELD_DEFAULT_ADDED"
    FIELD_DEFAULT_REMOVED = "FIELD_DEFAULT_REMOVED"
    FIELD_DEFAULT_CHANGED = "FIELD_DEFAULT_CHANGED"
    TYPE_PROMOTED = "TYPE_PROMOTED"
    TYPE_CHANGED = "TYPE_CHANGED"
    LOGICAL_TYPE_CHANGED = "LOGICAL_TYPE_CHANGED"
    MADE_OPTIONAL = "MADE_OPTIONAL"
    UNION_BRANCH_ADDED = "UNION_BRANCH_ADDED"
    UNION_BRANCH_REMOVED = "UNION_BRANCH_REMOVED"
    ENUM_SYMBOL_ADDED = "ENUM_SYMBOL_ADDED"
    ENUM_SYMBOL_REMOVED = "ENUM_SYMBOL_REMOVED"
    ENUM_DEFAULT_CHANGED = "ENUM_DEFAULT_CHANGED"
    TYPE_RENAMED = "TYPE_RENAMED"
    FIXED_SIZE_CHANGED = "FIXED_SIZE_CHANGED"
    DOC_CHANGED = "DOC_CHANGED"
    FIELD_TAGS_CHANGED = "FIELD_TAGS_CHANGED"
    RULE_ADDED = "RULE_ADDED"
    RULE_REMOVED = "RULE_REMOVED"
    RULE_CHANGED = "RULE_CHANGED"
    METADATA_CHANGED = "METADATA_CHANGED"
    PYTHON_API_BROKEN = "PYTHON_API_BROKEN"
    """The generated classes' Python API breaks code that imports them, whatever the wire."""


@dataclass(frozen=True, slots=True)
class Change:
    """One change, located by a JSON pointer into the newer schema, or, for what was
    removed (``in_old``: a field, a union branch, an enum symbol), into the older one;
    ``contract:`` locates it in the version's Data Contract parts, ``python:`` in the
    generated classes (``python:ToolInvocation.old_name``)."""

    kind: ChangeKind
    location: str
    message: str
    in_old: bool = False

    def where(self, old_version: int, new_version: int) -> str:
        """``v2:/fields/3``: the location, with the version its schema is
        (``v2.contract.json:/ruleSet/domainRules/0`` for its Data Contract parts)."""
        version = old_version if self.in_old else new_version
        if self.location.startswith("python:"):
            return self.location
        if self.location.startswith("contract:"):
            return f"v{version}.contract.json:{self.location.removeprefix('contract:')}"
        return f"v{version}:{self.location or '/'}"


@dataclass(frozen=True, slots=True)
class ChangeReport:
    """The changes from one version to another and what they mean for rollout."""

    old_version: int
    new_version: int
    changes: tuple[Change, ...]
    backward: bool
    """The new version reads data written with the old one."""
    forward: bool
    """The old version reads data written with the new one."""
    level: CompatibilityLevel
    readers_first: str | None = None
    """Why consumers must be able to run the new version's rules before producers write
    it (a rule added that transforms data on read, such as ENCRYPT), if they must."""
    majors: tuple[str | None, str | None] = (None, None)
    """The major versions (``application.major.version``) of the old and new version."""
    migrated: bool = False
    """Whether the new version has UPGRADE and DOWNGRADE migration rules."""

    @property
    def new_major(self) -> bool:
        """Whether the new version starts another major version (a compatibility group)."""
        return self.majors[0] != self.majors[1]

    @property
    def allowed(self) -> bool:
        """Whether the level's directions all hold for this pair, or the new version
        starts another major version (whose migration rules carry data across)."""
        if self.new_major:
            return self.migrated
        needed = directions(self.level)
        return (Direction.BACKWARD not in needed or self.backward) and (
            Direction.FORWARD not in needed or self.forward
        )

    @property
    def rollout(self) -> str:
        """Which side must deploy first, in one sentence."""
        if self.new_major and not self.migrated:
            return (
                f"New major version {self.majors[1]} without UPGRADE and DOWNGRADE migration "
                f"rules: readers of either major cannot read the other's data; add them to "
                f"v{self.new_version}.contract.json."
            )
        if self.new_major:
            return (
                f"New major version {self.majors[1]}: upgrade consumers first; readers of "
                "either major version read the other's data through the migration rules "
                "(UPGRADE, DOWNGRADE), so producers may then move at their own pace."
            )
        advice = self._directions()
        if not self.allowed:
            advice += (
                f" Not allowed at {self.level.value}: make it a new major version instead "
                '(metadata property "application.major.version" in its contract.json), '
                "with UPGRADE and DOWNGRADE migration rules (JSONata) between the two."
            )
        return advice

    def _directions(self) -> str:
        if self.readers_first is not None and self.backward:
            return f"Upgrade consumers first: {self.readers_first}"
        if self.readers_first is not None and self.forward:
            return (
                "Coordinate: the new version cannot read old data, and consumers must run "
                f"its rules before producers write it ({self.readers_first})"
            )
        if self.backward and self.forward:
            return "Deploy in any order: producers and consumers may upgrade independently."
        if self.backward:
            return (
                "Upgrade consumers first: the new version reads old data, but old consumers "
                "cannot read data written with the new version."
            )
        if self.forward:
            return (
                "Upgrade producers first: old consumers read the new data, but the new "
                "version cannot read data already written with the old one."
            )
        return (
            "Neither side can read the other's data: coordinate a migration "
            "(a new topic or a drained one); the registry refuses this at any level but NONE."
        )

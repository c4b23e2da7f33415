"""Which branch of a union a value is written in: the one choice ``to_avro`` and
``write_avro`` share.

A value in a model is a Python value, not a datum: nothing records which branch it was
read from, so the branch follows from the value, by the Avro type of its Python type:

* ``None`` goes to ``null``; an instance of a record or enum class to that record or
  enum (an enum member before ``string``: a ``StrEnum`` member is a ``str``);
* a ``bool`` goes to ``boolean`` only: to Avro a boolean is never a number;
* an ``int`` to the first ``int`` or ``long`` branch, in the union's order, whose range
  holds it, as fastavro picks; one that no such branch holds to ``double``, else
  ``float``; a ``float`` to ``double``, else ``float`` (fastavro prefers ``double``,
  which loses nothing);
* ``bytes`` to the first ``bytes`` branch, or ``fixed`` of their length, in the union's
  order, as fastavro picks;
* a ``datetime`` to its timestamp branch, not a ``date`` branch (a datetime is a date);
* of two branches holding one Python type with different encodings (``time-millis`` and
  ``time-micros``, two decimals), the first in the union's order that holds the value
  exactly: ``time-millis`` a time of whole milliseconds, a decimal one within its
  precision, scale and size; a ``UUID`` to a ``uuid`` string before a ``uuid`` fixed, as
  fastavro writes it.

Reading needs none of this: the bytes, and fastavro's datums, say the branch. So what a
model cannot keep is which of two branches of one Python type a value was read from:
written again, it goes to the branch above, and reads back to the same value.

``to_avro`` writes a branch's datum in fastavro's tuple notation ``(name, datum)``
(:func:`named`) where a plain datum would be taken for another branch's: by fastavro,
which tries the branches in order and stops at an earlier one that takes the datum too
(an int after a float, a string after an enum, bytes after an array: bytes are a
sequence), or by ``from_avro``, which reads a plain datum as the first branch of its
Python type that is not a named type; records always, since fastavro matches dicts to
records by their keys. An array or map whose items hold such pairs is named too:
fastavro, trying a union's branches, validates the items, and its validation knows the
pairs of records only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from somacontracts.tooling.codegen.declarations import TypeModel

Records: TypeAlias = Callable[[str], list[TypeModel]]
"""The field types of the record of a full name."""

__all__ = [
    "CHECK_ORDER",
    "DATUM_TYPES",
    "VALUE_TYPES",
    "Choice",
    "Group",
    "Records",
    "condition",
    "groups",
    "holds_pairs",
    "merged",
    "named",
    "tuple_name",
]

_INT_RANGE = "-2147483648 <= {v} <= 2147483647"
_LONG_RANGE = "-9223372036854775808 <= {v} <= 9223372036854775807"

# The Python type of a branch's values, for isinstance; the groups in the order tested,
# a subclass before its base (bool before int, datetime before date).
VALUE_TYPES = {
    "boolean": "bool",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "time": "datetime.time",
    "decimal": "decimal.Decimal",
    "uuid": "uuid.UUID",
    "fixed_uuid": "uuid.UUID",
    "int": "int",
    "float": "float",
    "string": "str",
    "bytes": "bytes",
    "fixed": "bytes",
    "array": "list",
    "map": "dict",
}
CHECK_ORDER = (
    "bool",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "decimal.Decimal",
    "uuid.UUID",
    "int",
    "float",
    "str",
    "bytes",
    "list",
    "dict",
)

DATUM_TYPES = {
    **VALUE_TYPES,
    "fixed_uuid": "bytes",
    "enum": "str",
    "json": "str",
    "record": "dict",
}
"""The Python type of a datum of each kind as fastavro reads it, for ``isinstance``."""

# Kinds of earlier branches that fastavro, trying a union's branches in order, takes the
# plain datum of a branch of this kind in (after their logical-type conversion), or fails
# on: an array takes bytes (a sequence) whose bytes its items take, empty ones always.
_BYTES_TAKERS = frozenset({"decimal", "fixed_uuid", "array"})
_TAKEN_EARLIER_BY = {
    "string": frozenset({"enum", "uuid", "date"}),
    "enum": frozenset({"string", "uuid", "date"}),
    "int": frozenset({"float", "date", "time", "datetime"}),
    "bytes": _BYTES_TAKERS,
    "fixed": _BYTES_TAKERS,
    "fixed_uuid": _BYTES_TAKERS | {"bytes"},
    "decimal": frozenset({"decimal"}),
    "time": frozenset({"time"}),
    "datetime": frozenset({"date"}),
}
# An int written in a float or double branch: fastavro takes it earlier in these.
_INT_TAKEN_EARLIER_BY = frozenset({"float", "date", "time", "datetime"})


@dataclass(frozen=True, slots=True)
class Choice:
    """A branch a value of its group may go to."""

    branch: TypeModel
    position: int
    """The branch's index in the union."""
    fits: str | None
    """The condition on the value (``{v}``) for this branch; None: every value of the group."""
    named: bool
    """Whether ``to_avro`` writes it as ``(name, datum)``."""


@dataclass(frozen=True, slots=True)
class Group:
    """The branches for values of one Python type, tried in order."""

    check: str | None
    """The ``isinstance`` target; None for ``None`` (the null branch)."""
    choices: tuple[Choice, ...]

    @property
    def exhaustive(self) -> bool:
        """Whether every value of the group has a branch (the last choice takes any)."""
        return self.choices[-1].fits is None


def tuple_name(branch: TypeModel) -> str:
    """The name fastavro's tuple notation gives ``branch``: a named type's full name, else
    its Avro type (``long`` for a timestamp)."""
    return branch.avro_type


def groups(
    union: TypeModel, class_name: Callable[[TypeModel], str], records: Records
) -> list[Group]:
    """The groups of a union of two or more branches, in the order a value is tested;
    ``records`` gives a record's fields by full name."""
    branches = list(enumerate(union.branches))
    found: list[Group] = []
    nulls = [(p, b) for p, b in branches if b.kind == "null"]
    if nulls:
        position, branch = nulls[0]
        found.append(Group(None, (Choice(branch, position, None, named=False),)))
    for position, branch in branches:
        if branch.kind in ("record", "enum"):
            choice = Choice(branch, position, None, named(union, position, records))
            found.append(Group(class_name(branch), (choice,)))
    by_check: dict[str, list[tuple[int, TypeModel]]] = {}
    for position, branch in branches:
        if branch.kind in VALUE_TYPES:
            by_check.setdefault(VALUE_TYPES[branch.kind], []).append((position, branch))
    floats = by_check.get("float", [])
    for check in CHECK_ORDER:
        if check == "int" and (check in by_check or floats):
            ints = by_check.get("int", [])
            found.append(Group(check, _integers(union, ints, floats, records)))
        elif check == "float" and floats:
            position, branch = _preferred_float(floats)
            found.append(Group(check, (Choice(branch, position, None, named=False),)))
        elif check in by_check and check != "int":
            members = by_check[check]
            if check == "uuid.UUID":  # fastavro writes a UUID as a string, never as a fixed
                members = sorted(members, key=lambda member: member[1].kind != "uuid")
            found.append(Group(check, _first_fit(union, members, records)))
    return found


def named(union: TypeModel, position: int, records: Records) -> bool:
    """Whether ``to_avro`` writes the branch at ``position`` as ``(name, datum)``."""
    branch = union.branches[position]
    if branch.kind == "record":
        return True
    earlier = union.branches[:position]
    takers = _TAKEN_EARLIER_BY.get(branch.kind, frozenset())
    if any(b.kind in takers for b in earlier):
        return True
    if branch.is_named:
        check = DATUM_TYPES[branch.kind]
        if any(DATUM_TYPES.get(b.kind) == check for b in union.branches if not b.is_named):
            return True
        if any(b.is_named and DATUM_TYPES[b.kind] == check for b in earlier):
            return True
    return branch.items is not None and holds_pairs(branch.items, records, set())


def holds_pairs(type_: TypeModel, records: Records, seen: set[str]) -> bool:
    """Whether a datum of ``type_`` may hold ``(name, datum)`` pairs, at any depth."""
    if type_.kind == "union":
        return any(
            b.kind != "null" and (named(type_, p, records) or holds_pairs(b, records, seen))
            for p, b in enumerate(type_.branches)
        )
    if type_.items is not None:
        return holds_pairs(type_.items, records, seen)
    if type_.kind == "record" and type_.named not in seen:
        assert type_.named is not None
        seen.add(type_.named)
        return any(holds_pairs(t, records, seen) for t in records(type_.named))
    return False


def _preferred_float(floats: list[tuple[int, TypeModel]]) -> tuple[int, TypeModel]:
    doubles = [f for f in floats if f[1].avro_type == "double"]
    return (doubles or floats)[0]


def _integers(
    union: TypeModel,
    ints: list[tuple[int, TypeModel]],
    floats: list[tuple[int, TypeModel]],
    records: Records,
) -> tuple[Choice, ...]:
    """An int: the first integer branch whose range holds it, else a floating one."""
    choices: list[Choice] = []
    for number, (position, branch) in enumerate(ints):
        last = number == len(ints) - 1 and not floats
        fits = None if last else _INT_RANGE if branch.avro_type == "int" else _LONG_RANGE
        choices.append(Choice(branch, position, fits, named(union, position, records)))
    if floats:
        position, branch = _preferred_float(floats)
        pair = any(b.kind in _INT_TAKEN_EARLIER_BY for b in union.branches[:position])
        choices.append(Choice(branch, position, None, named=pair))
    return tuple(choices)


def _first_fit(
    union: TypeModel, members: list[tuple[int, TypeModel]], records: Records
) -> tuple[Choice, ...]:
    """Branches of one Python type: the first in the union's order that holds the value."""
    choices: list[Choice] = []
    for number, (position, branch) in enumerate(members):
        fits = None if number == len(members) - 1 else _fit(branch)
        if branch.kind == "fixed" and len(members) > 1:
            fits = f"len({{v}}) == {branch.size}"
        choices.append(Choice(branch, position, fits, named(union, position, records)))
        if fits is None:
            break
    return tuple(choices)


def _fit(branch: TypeModel) -> str | None:
    """The condition for a value to be held exactly by ``branch`` among others of its type."""
    if branch.kind == "time" and branch.logical == "time-millis":
        return "{v}.microsecond % 1000 == 0"
    if branch.kind == "decimal":
        size = "" if branch.size is None else f", {branch.size}"
        return f"_rt.decimal_fits({{v}}, {branch.precision}, {branch.scale or 0}{size})"
    return None


def merged(clauses: list[tuple[list[str], list[str]]]) -> list[tuple[list[str], list[str]]]:
    """``(isinstance targets, body)`` clauses, each joined with the one before it where
    both have the same body (an int and a float both written as a double)."""
    result: list[tuple[list[str], list[str]]] = []
    for checks, body in clauses:
        if result and checks and result[-1][0] and result[-1][1] == body:
            result[-1] = ([*result[-1][0], *checks], body)
        else:
            result.append((checks, body))
    return result


def condition(checks: list[str], value: str) -> str:
    """The test of a clause of :func:`merged` on ``value``: ``None`` without ``checks``."""
    if not checks:
        return f"{value} is None"
    return f"isinstance({value}, {' | '.join(checks)})"  # not a tuple: ruff's UP038 up to 0.12

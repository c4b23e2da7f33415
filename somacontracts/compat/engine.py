"""The reader/writer compatibility checker, with the verdicts of Apache Avro Java 1.12.

:func:`check_reader_writer` answers whether a reader schema can decode every datum
written with a writer schema, the way ``org.apache.avro.SchemaCompatibility`` does (the
check Confluent Schema Registry runs). It follows Java's rules, including the ones
other ports differ on:

* Named types match when their *short* names are equal, or when the writer's full
  name is one of the reader's aliases, each alias resolved against the reader type's
  namespace.
* A reader field matches the writer field of the same name or of one of its aliases.
* Logical types are ignored: the underlying types decide.
* An enum with a default reads symbols it lacks. A reader field that the writer lacks
  needs its own default; an enum default does not stand in for it (Java reports this
  as a ``TYPE_MISMATCH`` of the field's enum against the writer's record).
* Every branch of a writer union must be readable; a reader union needs one branch
  that reads the writer's type.
* Results are memoized on pairs of parsed nodes, so recursive types terminate; a pair
  met again while it is being checked counts as compatible until proven otherwise.

A pair is first tried on a shortcut (:mod:`somacontracts.compat.shapes`): identical
types, or two records where every reader field the writer has is of the identical type
and every one it lacks has a default, read each other without a problem; set
operations on keys computed once per parsed schema prove it without walking the
fields. Anything else, and every pair with a problem, is checked in full, so the
verdicts and problems are the full checker's (a property test holds the two equal).

Every problem is collected, in Java's order. Locations are Java's JSON pointers with one
difference: where Java reuses a memoized result for a named type met a second time, it
repeats the location of the first meeting, while this checker reports the location of
each meeting.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, NamedTuple

from somacontracts.compat.results import CompatibilityResult, Incompatibility, IncompatibilityType
from somacontracts.compat.shapes import shape
from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    RecordNode,
    UnionNode,
)
from somacontracts.schema.parse import parse

__all__ = ["check_reader_writer", "checked_in_full"]

# Reader type -> the writer types it reads by promotion.
_PROMOTIONS: dict[str, frozenset[str]] = {
    "long": frozenset({"int"}),
    "float": frozenset({"int", "long"}),
    "double": frozenset({"int", "long", "float"}),
    "bytes": frozenset({"string"}),
    "string": frozenset({"bytes"}),
}
_SAME_KIND_LEAVES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)


def check_reader_writer(reader_schema: Any, writer_schema: Any) -> CompatibilityResult:
    """Whether ``reader_schema`` reads every datum written with ``writer_schema``.

    Each schema is schema JSON (text or decoded) or a :class:`ParsedSchema` from
    :func:`~somacontracts.schema.parse`; pass parsed schemas to check one schema against
    many without parsing it again. Raise :class:`InvalidSchemaError` if either schema is
    not valid.
    """
    reader = parse(reader_schema, source="reader schema")
    writer = parse(writer_schema, source="writer schema")
    if _reads_plainly(reader.root, writer.root):
        return _COMPATIBLE
    return checked_in_full(reader.root, writer.root)


def checked_in_full(reader: Node, writer: Node) -> CompatibilityResult:
    """The full check of a parsed pair, without the shortcut (its tests compare the two)."""
    try:
        found = _Checker().pair(None, reader, writer)
    except _AbortError as abort:
        found = (abort.found,)
    return CompatibilityResult(tuple(_publish(problem) for problem in found))


_COMPATIBLE = CompatibilityResult()


def _reads_plainly(reader: Node, writer: Node) -> bool:
    """Whether ``reader`` provably reads ``writer`` without a problem, from structural
    keys and set operations alone; False means: check in full."""
    reader_shape, writer_shape = shape(reader), shape(writer)
    if reader_shape.key is None or writer_shape.key is None or reader_shape.aliased:
        return False
    if reader_shape.key == writer_shape.key:
        return True
    if not (isinstance(reader, RecordNode) and isinstance(writer, RecordNode)):
        return False
    if reader.name != writer.name and writer.full_name not in reader.aliases:
        return False
    ours, theirs = reader_shape.summary, writer_shape.summary
    assert ours is not None
    assert theirs is not None
    differing = ours.pairs - theirs.pairs
    if not differing:
        return True
    names = frozenset(map(itemgetter(0), differing))
    return names.isdisjoint(theirs.names) and names <= ours.defaulted


class _Found(NamedTuple):
    """A problem as the checker finds it: ``path`` is relative to the pair checked."""

    type: IncompatibilityType
    path: tuple[str, ...]
    reader: Node
    writer: Node
    message: str
    detail: str


_Problems = tuple[_Found, ...]


class _AbortError(Exception):
    """Ends a check at a problem Java throws on, wherever it is met, even in a trial."""

    def __init__(self, found: _Found) -> None:
        super().__init__(found)
        self.found = found

    def under(self, *tokens: str) -> _AbortError:
        """This abort, its path under ``tokens``."""
        self.found = self.found._replace(path=(*tokens, *self.found.path))
        return self


def _publish(found: _Found) -> Incompatibility:
    location = "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in found.path)
    return Incompatibility(
        type=found.type,
        location=location,
        message=found.message,
        detail=found.detail,
        reader_fragment=found.reader.fragment(),
        writer_fragment=found.writer.fragment(),
    )


def _java_kind(node: Node) -> str:
    return node.kind.upper()


class _Checker:
    """One check: the memo of reader/writer node pairs, as in Java's checker."""

    def __init__(self) -> None:
        # None marks a pair whose check is in progress.
        self.memo: dict[tuple[Node, Node], _Problems | None] = {}

    def pair(self, token: str | None, reader: Node, writer: Node) -> _Problems:
        """The problems of a pair, their paths under ``token`` (or as they are, if None)."""
        key = (reader, writer)
        if key in self.memo:
            found = self.memo[key] or ()
        else:
            self.memo[key] = None
            try:
                found = self.calculate(reader, writer)
            except _AbortError as abort:
                if token is not None:
                    abort.under(token)
                raise
            self.memo[key] = found
        if token is None or not found:
            return found
        return tuple(problem._replace(path=(token, *problem.path)) for problem in found)

    def calculate(self, reader: Node, writer: Node) -> _Problems:
        if reader.kind == writer.kind:
            return self.same_kind(reader, writer)
        if isinstance(writer, UnionNode):
            found: _Problems = ()
            for index, branch in enumerate(writer.branches):
                found += self.pair(str(index), reader, branch)
            return found
        if writer.kind in _PROMOTIONS.get(reader.kind, ()):
            return ()
        if isinstance(reader, UnionNode):
            for branch in reader.branches:
                if not self.pair(None, branch, writer):
                    return ()
            return (
                _Found(
                    IncompatibilityType.MISSING_UNION_BRANCH,
                    (),
                    reader,
                    writer,
                    f"No branch of the reader's {reader.describe()} reads the writer's "
                    f"{writer.describe()}.",
                    f"reader union lacking writer type: {_java_kind(writer)}",
                ),
            )
        return (
            _Found(
                IncompatibilityType.TYPE_MISMATCH,
                (),
                reader,
                writer,
                f"The reader's {reader.describe()} cannot read the writer's {writer.describe()}.",
                f"reader type: {_java_kind(reader)} not compatible with writer type: "
                f"{_java_kind(writer)}",
            ),
        )

    def same_kind(self, reader: Node, writer: Node) -> _Problems:
        if reader.kind in _SAME_KIND_LEAVES:
            return ()
        if isinstance(reader, ArrayNode) and isinstance(writer, ArrayNode):
            return self.pair("items", reader.items, writer.items)
        if isinstance(reader, MapNode) and isinstance(writer, MapNode):
            return self.pair("values", reader.values, writer.values)
        if isinstance(reader, UnionNode) and isinstance(writer, UnionNode):
            return self.unions(reader, writer)
        assert isinstance(reader, NamedNode)
        assert isinstance(writer, NamedNode)
        found = _names(reader, writer)
        if isinstance(reader, FixedNode) and isinstance(writer, FixedNode):
            return found + _sizes(reader, writer)
        if isinstance(reader, EnumNode) and isinstance(writer, EnumNode):
            return found + _symbols(reader, writer)
        assert isinstance(reader, RecordNode)
        assert isinstance(writer, RecordNode)
        return found + self.fields(reader, writer)

    def unions(self, reader: UnionNode, writer: UnionNode) -> _Problems:
        found: _Problems = ()
        for index, branch in enumerate(writer.branches):
            # Java checks each branch from a fresh location and keeps only the verdict.
            if self.pair(None, reader, branch):
                found += (
                    _Found(
                        IncompatibilityType.MISSING_UNION_BRANCH,
                        (str(index),),
                        reader,
                        writer,
                        f"Branch {index} of the writer's union, {branch.describe()}, is not "
                        f"read by any branch of the reader's {reader.describe()}.",
                        f"reader union lacking writer type: {_java_kind(branch)}",
                    ),
                )
        return found

    def fields(self, reader: RecordNode, writer: RecordNode) -> _Problems:
        found: _Problems = ()
        for field in reader.fields:
            where = ("fields", str(field.position))
            matches = [
                writer.by_name[name]
                for name in (field.name, *field.aliases)
                if name in writer.by_name
            ]
            quoted = f'Field "{field.name}" of record "{reader.full_name}"'
            if len(matches) > 1:
                names = " and ".join(f'"{match.name}"' for match in matches)
                raise _AbortError(
                    _Found(
                        IncompatibilityType.READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS,
                        where,
                        reader,
                        writer,
                        f"{quoted} matched writer fields {names} by its name and aliases; "
                        "it may match one.",
                        f"Reader record field {field.name} matches multiple fields in writer "
                        f"record schema {writer.full_name}",
                    )
                )
            if matches:
                try:
                    inner = self.pair("type", field.node, matches[0].node)
                except _AbortError as abort:
                    abort.under(*where)
                    raise
                found += tuple(problem._replace(path=(*where, *problem.path)) for problem in inner)
            elif field.has_default:
                continue
            elif isinstance(field.node, EnumNode) and field.node.default is not None:
                # Java checks the field's enum against the writer's record here, which
                # always fails as a type mismatch; the enum default does not apply.
                found += (
                    _Found(
                        IncompatibilityType.TYPE_MISMATCH,
                        (*where, "type"),
                        field.node,
                        writer,
                        f"{quoted} has no default, and the writer's schema lacks it; the "
                        "default of its enum does not stand in for a missing field.",
                        "reader type: ENUM not compatible with writer type: RECORD",
                    ),
                )
            else:
                found += (
                    _Found(
                        IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE,
                        where,
                        reader,
                        writer,
                        f"{quoted} has no default, and the writer's schema lacks it.",
                        field.name,
                    ),
                )
        return found


def _names(reader: NamedNode, writer: NamedNode) -> _Problems:
    if reader.name == writer.name or writer.full_name in reader.aliases:
        return ()
    return (
        _Found(
            IncompatibilityType.NAME_MISMATCH,
            ("name",),
            reader,
            writer,
            f'The reader\'s {reader.describe()} is not named "{writer.name}" like the '
            f'writer\'s {writer.describe()}, nor has the alias "{writer.full_name}".',
            f"expected: {writer.full_name}",
        ),
    )


def _sizes(reader: FixedNode, writer: FixedNode) -> _Problems:
    if reader.size == writer.size:
        return ()
    return (
        _Found(
            IncompatibilityType.FIXED_SIZE_MISMATCH,
            ("size",),
            reader,
            writer,
            f'Fixed "{reader.full_name}" has size {reader.size} in the reader but '
            f"{writer.size} in the writer.",
            f"expected: {writer.size}, found: {reader.size}",
        ),
    )


def _symbols(reader: EnumNode, writer: EnumNode) -> _Problems:
    missing = sorted(set(writer.symbols) - reader.symbol_set)
    if not missing or reader.default is not None:
        return ()
    quoted = ", ".join(f'"{symbol}"' for symbol in missing)
    plural = "s" if len(missing) > 1 else ""
    return (
        _Found(
            IncompatibilityType.MISSING_ENUM_SYMBOLS,
            ("symbols",),
            reader,
            writer,
            f'Enum "{reader.full_name}" of the reader lacked the writer\'s symbol{plural} '
            f"{quoted} and has no default to read them as.",
            f"[{', '.join(missing)}]",
        ),
    )

"""The source of ``write_avro`` / ``read_avro``: each record's own Avro binary codec.

Pure: record models in, lines of Python out; :mod:`somacontracts.codegen.render` puts
them in the class. The generated methods encode and decode the record's exact schema
in straight-line code calling :mod:`somacontracts.runtime` once per value, as Avro
Java's generated classes do (``customEncode``/``customDecode``). The serdes
use them whenever the writer schema is the model's own and fall back to fastavro with
schema resolution otherwise.

A version gets the codec only if every union in it can choose its branch from the
value's Python type (:func:`supported`); a union holding ``bytes`` and a ``fixed``, or two
``fixed``, cannot (fastavro tries each branch's validation in turn), and its version's
classes keep ``to_avro``/``from_avro`` alone.

Union branches are chosen by ``isinstance`` in the order ``to_avro`` uses: records and
enums by class first, then ``bool`` before ``int``, ``datetime`` before ``date``; among
numbers of one Python type the branch fastavro would take (see :meth:`Codec.write_branch`).
A value of no branch raises ``TypeError`` naming the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from somacontracts.codegen import templates
from somacontracts.codegen.model import EnumModel, RecordModel, TypeModel, VersionModel
from somacontracts.codegen.pysource import (
    call_lines,
    docstring_lines,
    line_length,
    signature_lines,
    string_literal,
)

__all__ = ["Codec", "enum_table_lines", "enum_tables", "supported"]

_INDENT = "    "
_NOQA = "  # noqa: E501"

# (kind, Avro type or logical type) -> the codec function writing it / reading it.
_WRITERS = {
    "boolean": "_rt.write_boolean(out, {v})",
    "int:int": "_rt.write_int(out, {v})",
    "int:long": "_rt.write_long(out, {v})",
    "float:float": "_rt.write_float(out, {v})",
    "float:double": "_rt.write_double(out, {v})",
    "string": "_rt.write_string(out, {v})",
    "bytes": "_rt.write_bytes(out, {v})",
    "json": "_rt.write_json(out, {v})",
    "uuid": "_rt.write_uuid(out, {v})",
    "fixed_uuid": "_rt.write_fixed_uuid(out, {v})",
    "datetime:timestamp-millis": "_rt.write_timestamp_millis(out, {v})",
    "datetime:timestamp-micros": "_rt.write_timestamp_micros(out, {v})",
    "datetime:local-timestamp-millis": "_rt.write_local_timestamp_millis(out, {v})",
    "datetime:local-timestamp-micros": "_rt.write_local_timestamp_micros(out, {v})",
    "date": "_rt.write_date(out, {v})",
    "time:time-millis": "_rt.write_time_millis(out, {v})",
    "time:time-micros": "_rt.write_time_micros(out, {v})",
}
_READERS = {
    "null": "None",
    "boolean": "reader.read_boolean()",
    "int:int": "reader.read_int()",
    "int:long": "reader.read_long()",
    "float:float": "reader.read_float()",
    "float:double": "reader.read_double()",
    "string": "reader.read_string()",
    "bytes": "reader.read_bytes()",
    "json": "_rt.load_json_bytes(reader.read_bytes())",
    "uuid": "_rt.string_uuid(reader.read_string())",
    "fixed_uuid": "uuid.UUID(bytes=reader.read_fixed(16))",
    "datetime:timestamp-millis": "_rt.millis_timestamp(reader.read_long())",
    "datetime:timestamp-micros": "_rt.micros_timestamp(reader.read_long())",
    "datetime:local-timestamp-millis": "_rt.millis_local_timestamp(reader.read_long())",
    "datetime:local-timestamp-micros": "_rt.micros_local_timestamp(reader.read_long())",
    "date": "_rt.days_date(reader.read_int())",
    "time:time-millis": "_rt.millis_time(reader.read_int())",
    "time:time-micros": "_rt.micros_time(reader.read_long())",
}
_FIXED_WIDTH = {"boolean": 1, "float:float": 4, "float:double": 8, "fixed_uuid": 16}


def _key(type_: TypeModel) -> str:
    """The key of ``type_`` in the tables above."""
    if type_.kind in ("int", "float"):
        return f"{type_.kind}:{type_.avro_type}"
    if type_.kind in ("datetime", "time"):
        return f"{type_.kind}:{type_.logical}"
    return type_.kind


def _walk(version: VersionModel) -> Iterator[TypeModel]:
    """Every type in ``version``, nested ones included."""
    pending = [field.type for record in version.records for field in record.fields]
    while pending:
        type_ = pending.pop()
        yield type_
        pending.extend(type_.branches)
        if type_.items is not None:
            pending.append(type_.items)


def supported(version: VersionModel, value_check: Callable[[TypeModel], str]) -> bool:
    """Whether the classes of ``version`` get ``write_avro`` / ``read_avro``."""
    for type_ in _walk(version):
        if type_.kind != "union" or len(type_.non_null) < 2:
            continue
        for group in _groups(type_, value_check):
            if len(group) > 1 and group[0].kind not in ("int", "float"):
                return False
    return True


def _groups(union: TypeModel, value_check: Callable[[TypeModel], str]) -> list[list[TypeModel]]:
    """The non-null branches of ``union`` grouped by Python type, in ``isinstance`` order.

    Within a group the branches keep the union's order.
    """
    if len(union.non_null) == 1:
        return [list(union.non_null)]
    groups: dict[str, list[TypeModel]] = {}
    for branch in sorted(union.non_null, key=_rank):
        groups.setdefault(value_check(branch), []).append(branch)
    return [sorted(g, key=union.branches.index) for g in groups.values()]


def enum_tables(enum: EnumModel) -> tuple[str, str]:
    """Module-level names of ``enum``'s symbol -> index map and index -> member tuple."""
    stem = enum.class_name.upper()
    return f"_{stem}_INDEX", f"_{stem}_MEMBERS"


def enum_table_lines(enum: EnumModel) -> list[str]:
    """The two module-level tables of ``enum`` the codec indexes."""
    index, members = enum_tables(enum)
    name = enum.class_name
    return [
        *call_lines("_rt.enum_index", [name], 0, prefix=f"{index}: dict[str, int] = "),
        *call_lines("tuple", [name], 0, prefix=f"{members}: tuple[{name}, ...] = "),
    ]


@dataclass(frozen=True, slots=True)
class Codec:
    """Writes the codec methods of the records of one version.

    ``class_name`` names a record's or enum's class; ``value_check`` gives the
    ``isinstance`` target of a union branch; ``helper`` adds a module-level function
    (name stem, body lines after its ``def``, return annotation) and returns its name.
    """

    records: dict[str, RecordModel]
    enums: dict[str, EnumModel]
    class_name: Callable[[TypeModel], str]
    value_check: Callable[[TypeModel], str]
    annotation: Callable[[TypeModel], str]
    helper: Callable[[str, list[str], str], str]

    # -- writing -----------------------------------------------------------------------

    def write_method(self, record: RecordModel) -> list[str]:
        """``def write_avro(self, out)``: append this record's encoding to ``out``."""
        lines = signature_lines(templates.WRITE_AVRO_DEF, 1)
        lines += docstring_lines([templates.WRITE_AVRO_DOC], 2)
        numbers = itertools.count()
        for field in record.fields:
            source = f"self.{field.attribute}"
            where = f"{record.class_name}.{field.attribute}"
            lines += self.write(field.type, source, where, 2, numbers)
        return [_fit(line) for line in lines]

    def write(
        self,
        type_: TypeModel,
        source: str,
        where: str,
        depth: int,
        numbers: Iterator[int],
        *,
        checked: bool = False,
    ) -> list[str]:
        """Statements appending the encoding of the value ``source`` to ``out``.

        ``checked`` when a union's dispatch has already tested the value's class.
        """
        pad = _INDENT * depth
        kind = type_.kind
        if kind == "null":
            return [] if checked else [f"{pad}_rt.write_null({source})"]
        if kind == "record":
            name = self.class_name(type_)
            if checked:
                return [f"{pad}{name}.write_avro({source}, out)"]
            value = f"v{next(numbers)}"
            return [
                f"{pad}{value} = {source}",
                *self.instance_check(value, name, pad),
                f"{pad}{name}.write_avro({value}, out)",
            ]
        if kind == "enum":
            index, _ = enum_tables(self.enums[_named(type_)])
            return [f"{pad}_rt.write_long(out, {index}[{source}])"]
        if kind == "fixed":
            return [f"{pad}_rt.write_fixed(out, {source}, {type_.size})"]
        if kind == "decimal":
            digits = f"{type_.precision}, {type_.scale or 0}"
            if type_.size is None:
                return [f"{pad}_rt.write_bytes(out, _rt.decimal_bytes({source}, {digits}))"]
            fixed = f"_rt.decimal_fixed({source}, {digits}, {type_.size})"
            return [f"{pad}_rt.write_fixed(out, {fixed}, {type_.size})"]
        if kind in ("array", "map"):
            return self.write_collection(type_, source, where, depth, numbers, checked=checked)
        if kind == "union":
            return self.write_union(type_, source, where, depth, numbers)
        return [pad + _WRITERS[_key(type_)].format(v=source)]

    def instance_check(self, value: str, expected: str, pad: str) -> list[str]:
        """Lines refusing ``value`` unless it is an instance of the class ``expected``."""
        return [
            f"{pad}if not isinstance({value}, {expected}):",
            f"{pad}{_INDENT}raise _rt.wrong_type({string_literal(expected)}, {value})",
        ]

    def write_collection(
        self,
        type_: TypeModel,
        source: str,
        where: str,
        depth: int,
        numbers: Iterator[int],
        *,
        checked: bool,
    ) -> list[str]:
        assert type_.items is not None
        pad = _INDENT * depth
        inner = _INDENT * (depth + 2)
        value, number = f"v{next(numbers)}", next(numbers)
        item, key = f"v{number}", f"k{number}"
        if type_.kind == "array":
            loop = f"for {item} in {value}:"
            body = self.write(type_.items, item, where, depth + 2, numbers)
        else:
            loop = f"for {key}, {item} in {value}.items():"
            body = [
                f"{inner}_rt.write_string(out, {key})",
                *self.write(type_.items, item, where, depth + 2, numbers),
            ]
        python_type = "list" if type_.kind == "array" else "dict"
        return [
            f"{pad}{value} = {source}",
            *([] if checked else self.instance_check(value, python_type, pad)),
            f"{pad}if {value}:",
            f"{pad}{_INDENT}_rt.write_long(out, len({value}))",
            f"{pad}{_INDENT}{loop}",
            *(body or [f"{inner}pass"]),
            f"{pad}out.append(0)",
        ]

    def write_union(
        self, type_: TypeModel, source: str, where: str, depth: int, numbers: Iterator[int]
    ) -> list[str]:
        pad = _INDENT * depth
        value = f"v{next(numbers)}"
        groups = _groups(type_, self.value_check)
        nulls = [i for i, b in enumerate(type_.branches) if b.kind == "null"]
        clauses: list[tuple[str | None, list[str]]] = []
        if nulls:
            clauses.append((f"{value} is None", [_index(nulls[0])]))
        for group in groups:
            checked = len(groups) > 1  # tested below with isinstance, before the branch
            body = self.write_branch(type_, group, value, where, depth, numbers, checked=checked)
            if not checked:  # nothing left to tell apart
                clauses.append((None, body))
            else:
                clauses.append((f"isinstance({value}, {self.value_check(group[0])})", body))
        if clauses[-1][0] is not None:
            message = string_literal(where)
            clauses.append((None, [f"raise _rt.no_branch({message}, {value})"]))
        lines = [f"{pad}{value} = {source}"]
        if len(clauses) == 1:
            return lines + [pad + line for line in clauses[0][1]]
        for number, (condition, body) in enumerate(clauses):
            if condition is None:
                lines.append(f"{pad}else:")
            else:
                lines.append(f"{pad}{'if' if number == 0 else 'elif'} {condition}:")
            lines += [f"{pad}{_INDENT}{line}" for line in body]
        return lines

    def write_branch(
        self,
        union: TypeModel,
        group: list[TypeModel],
        value: str,
        where: str,
        depth: int,
        numbers: Iterator[int],
        *,
        checked: bool,
    ) -> list[str]:
        """Lines (unindented) writing ``value`` as the branch of ``group`` fastavro picks.

        Of several floats, fastavro takes ``double``. Of several ints, ``to_avro`` names
        ``long`` (or the first int) when a float branch is present too; otherwise fastavro
        takes the first branch in the union's order the value fits: an ``int`` only
        within 32 bits.
        """
        pad = _INDENT * depth

        def written(branch: TypeModel) -> list[str]:
            lines = self.write(branch, value, where, depth, numbers, checked=checked)
            body = [line[len(pad) :] for line in lines]
            return [_index(union.branches.index(branch)), *body]

        if len(group) == 1:
            return written(group[0])
        if group[0].kind == "float":  # every Python float is a double: fastavro prefers it
            doubles = [b for b in group if b.avro_type == "double"]
            return written((doubles or group)[0])
        if any(b.kind == "float" for b in union.non_null):
            longs = [b for b in group if b.avro_type == "long"]
            return written((longs or group)[0])
        clauses: list[str] = []
        for branch in group:
            if branch.avro_type == "long":  # takes every value left
                if not clauses:
                    return written(branch)
                return [*clauses, "else:", *(_INDENT + line for line in written(branch))]
            keyword = "elif" if clauses else "if"
            clauses.append(f"{keyword} -2147483648 <= {value} <= 2147483647:")
            clauses += [_INDENT + line for line in written(branch)]
        message = string_literal(where)
        return [*clauses, "else:", f"{_INDENT}raise _rt.no_branch({message}, {value})"]

    # -- reading -----------------------------------------------------------------------

    def read_method(self, record: RecordModel) -> list[str]:
        """``read_avro(cls, reader)``: the record encoded at the reader's position."""
        pad = _INDENT * 2
        lines = [f"{_INDENT}@classmethod", *signature_lines(templates.READ_AVRO_DEF, 1)]
        lines += docstring_lines([templates.READ_AVRO_DOC], 2)
        if not record.fields:
            return [*lines, f"{pad}return cls()"]
        lines.append(f"{pad}return cls(")
        for field in record.fields:
            expression = self.read(field.type, field.attribute)
            line = f"{pad}{_INDENT}{field.attribute}={expression},"
            if len(line) <= line_length():
                lines.append(line)
                continue
            name = self.read_helper(field.type, field.attribute, force=True).removesuffix(
                "(reader)"
            )
            call = call_lines(name, ["reader"], 3, prefix=f"{field.attribute}=", suffix=",")
            lines += [_fit(call[0]), *call[1:]]
        return [*lines, f"{pad})"]

    def read(self, type_: TypeModel, path: str) -> str:
        """An expression decoding a value of ``type_`` from ``reader``."""
        kind = type_.kind
        if kind == "record":
            return f"{self.class_name(type_)}.read_avro(reader)"
        if kind == "enum":
            enum = self.enums[_named(type_)]
            _, members = enum_tables(enum)
            return f"{members}[reader.read_index({len(enum.members)})]"
        if kind == "fixed":
            return f"reader.read_fixed({type_.size})"
        if kind == "decimal":
            size = type_.size
            data = "reader.read_bytes()" if size is None else f"reader.read_fixed({size})"
            return f"_rt.bytes_decimal({data}, {type_.precision}, {type_.scale or 0})"
        if kind in ("array", "map", "union"):
            return self.read_helper(type_, path)
        return _READERS[_key(type_)]

    def read_helper(self, type_: TypeModel, path: str, *, force: bool = False) -> str:
        """A call of a helper decoding ``type_``, or an inline expression when short."""
        if type_.kind == "union":
            inline = self.read_optional(type_, path)
            if inline is not None and not force:
                return inline
            body = self.read_union_body(type_, path)
        elif type_.kind in ("array", "map"):
            body = self.read_collection_body(type_, path)
        else:
            body = [f"{_INDENT}return {self.read(type_, path)}"]
        name = self.helper(path, [_fit(line) for line in body], self.annotation(type_))
        return f"{name}(reader)"

    def read_optional(self, type_: TypeModel, path: str) -> str | None:
        """``x if reader.read_index(2) == i else None`` for a union of null and one other type."""
        branches = type_.branches
        if len(branches) != 2 or not type_.nullable or type_.non_null[0].kind == "null":
            return None
        (other,) = type_.non_null
        if other.kind in ("array", "map", "union"):
            return None
        expression = self.read(other, path)
        if branches[0].kind == "null":
            return f"None if reader.read_index(2) == 0 else {expression}"
        return f"{expression} if reader.read_index(2) == 0 else None"

    def read_union_body(self, type_: TypeModel, path: str) -> list[str]:
        if len(type_.branches) == 1:
            expression = self.read(type_.branches[0], f"{path}_0")
            return [f"{_INDENT}reader.read_index(1)", f"{_INDENT}return {expression}"]
        lines = [f"{_INDENT}index = reader.read_index({len(type_.branches)})"]
        last = len(type_.branches) - 1
        for position, branch in enumerate(type_.branches):
            expression = self.read(branch, f"{path}_{position}")
            if position == last:
                lines.append(f"{_INDENT}return {expression}")
            else:
                lines += [
                    f"{_INDENT}if index == {position}:",
                    f"{_INDENT * 2}return {expression}",
                ]
        return lines

    def read_collection_body(self, type_: TypeModel, path: str) -> list[str]:
        assert type_.items is not None
        nested = f"{path}_{'items' if type_.kind == 'array' else 'values'}"
        item = self.read(type_.items, nested)
        width = self.width(type_.items, set()) if type_.kind == "array" else 1
        count = f"reader.read_count({width})" if width != 1 else "reader.read_count()"
        if type_.kind == "array":
            start = f"{_INDENT}items: {self.annotation(type_)} = []"
            add = f"items.append({item})"
        else:
            start = f"{_INDENT}items: {self.annotation(type_)} = {{}}"
            # The key first: an assignment evaluates its value before its target.
            add = f"key = reader.read_string()\n{_INDENT * 3}items[key] = {item}"
        return [
            start,
            f"{_INDENT}count = {count}",
            f"{_INDENT}while count:",
            f"{_INDENT * 2}for _ in range(count):",
            *f"{_INDENT * 3}{add}".split("\n"),
            f"{_INDENT * 2}count = {count}",
            f"{_INDENT}return items",
        ]

    def width(self, type_: TypeModel, visiting: set[str]) -> int:
        """The fewest bytes a value of ``type_`` encodes to (0 for null, an empty record)."""
        kind = type_.kind
        if kind == "null":
            return 0
        if kind == "fixed":
            return type_.size or 0
        if kind == "record":
            name = _named(type_)
            if name in visiting:
                return 1
            fields = self.records[name].fields
            return sum(self.width(f.type, visiting | {name}) for f in fields)
        return _FIXED_WIDTH.get(_key(type_), 1)


def _named(type_: TypeModel) -> str:
    assert type_.named is not None
    return type_.named


def _index(position: int) -> str:
    """The statement writing union branch index ``position``."""
    if position < 64:
        return f"out.append({position << 1})"
    return f"_rt.write_long(out, {position})"


def _rank(branch: TypeModel) -> int:
    """Records and enums first, then the Python types most specific first."""
    order = ("boolean", "datetime", "date", "time", "uuid", "fixed_uuid", "int", "float")
    if branch.kind in ("record", "enum"):
        return -1
    return order.index(branch.kind) if branch.kind in order else len(order)


def _fit(line: str) -> str:
    """``line``, marked for the linter when a long schema name leaves no way to fit it."""
    if len(line) <= line_length() or " " not in line.strip():  # E501 spares one-word lines
        return line
    return line + _NOQA

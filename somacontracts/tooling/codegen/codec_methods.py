"""The source of ``write_avro`` / ``read_avro``: each record's own Avro binary codec.

Pure: record models in, lines of Python out; :mod:`somacontracts.tooling.codegen.render` puts
them in the class. The generated methods encode and decode the record's exact schema
in straight-line code calling :mod:`somacontracts.runtime` once per value, as Avro
Java's generated classes do (``customEncode``/``customDecode``). The serdes
use them whenever the writer schema is the model's own and fall back to fastavro with
schema resolution otherwise.

Every record class gets the codec. A union's branch is the one ``to_avro`` chooses
(:mod:`somacontracts.tooling.codegen.unions`): by ``isinstance`` on the value's class, then,
among branches of one Python type, the first that holds the value. A value of no branch
raises ``TypeError`` naming the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from somacontracts.tooling.codegen import templates, unions
from somacontracts.tooling.codegen.declarations import EnumModel, RecordModel, TypeModel
from somacontracts.tooling.codegen.pysource import (
    call_lines,
    docstring_lines,
    line_length,
    signature_lines,
    statement_lines,
    string_literal,
)

__all__ = ["Codec", "enum_table_lines"]

_INDENT = "    "

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


def enum_table_lines(enum: EnumModel, index: str, members: str) -> list[str]:
    """The two module-level tables of ``enum`` the codec indexes: symbol -> index, named
    ``index``, and index -> member, named ``members``."""
    name = enum.class_name
    typed = f"{members}: tuple[{name}, ...] = tuple("
    if len(typed) > line_length():  # ruff would split the annotation: mypy infers it
        typed = f"{members} = tuple("
    return [
        *call_lines("_rt.enum_index", [name], 0, prefix=f"{index}: dict[str, int] = "),
        *call_lines("tuple", [name], 0, prefix=typed.removesuffix("tuple(")),
    ]


@dataclass(frozen=True, slots=True)
class Codec:
    """Writes the codec methods of the records of one version.

    ``class_name`` names a record's or enum's class; ``annotation`` gives the annotation
    of a type in at most so many characters (else a type alias); ``tables`` gives each enum's
    (symbol -> index, index -> member) tables by full name; ``helper`` adds a
    module-level function (name stem, body lines after its ``def``, return annotation)
    and returns its name.
    """

    records: dict[str, RecordModel]
    enums: dict[str, EnumModel]
    tables: dict[str, tuple[str, str]]
    class_name: Callable[[TypeModel], str]
    annotation: Callable[[TypeModel, int], str]
    helper: Callable[[str, list[str], str], str]

    def field_types(self, full_name: str) -> list[TypeModel]:
        """The field types of the record ``full_name``."""
        return [field.type for field in self.records[full_name].fields]

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
        return [fitted for line in lines for fitted in statement_lines(line)]

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
            index, _ = self.tables[_named(type_)]
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
        message = string_literal(where)
        lines = [f"{pad}{value} = {source}"]
        if len(type_.non_null) == 1:  # nothing to tell apart: the branch checks the value
            (branch,) = type_.non_null
            only = self.written(type_, branch, value, where, depth, numbers, checked=False)
            if not type_.nullable:
                return lines + [pad + line for line in only]
            null = type_.branches.index(next(b for b in type_.branches if b.kind == "null"))
            return [
                *lines,
                f"{pad}if {value} is None:",
                f"{pad}{_INDENT}{_index(null)}",
                f"{pad}else:",
                *(f"{pad}{_INDENT}{line}" for line in only),
            ]
        clauses: list[tuple[list[str], list[str]]] = []  # (isinstance targets, body)
        for group in unions.groups(type_, self.class_name, self.field_types):
            body: list[str] = []
            for number, choice in enumerate(group.choices):
                written = self.written(type_, choice.branch, value, where, depth, numbers)
                if choice.fits is None:
                    if number:
                        written = ["else:", *(_INDENT + line for line in written)]
                    body += written
                    break
                test = choice.fits.format(v=value)
                body += [f"{'elif' if number else 'if'} {test}:", *(_INDENT + w for w in written)]
            else:
                body += ["else:", *call_lines("raise _rt.no_branch", [message, value], 1)]
            clauses.append(([group.check] if group.check else [], body))
        for number, (checks, body) in enumerate(unions.merged(clauses)):
            test = unions.condition(checks, value)
            lines.append(f"{pad}{'elif' if number else 'if'} {test}:")
            lines += [f"{pad}{_INDENT}{line}" for line in body]
        raised = call_lines("raise _rt.no_branch", [message, value], depth + 1)
        return [*lines, f"{pad}else:", *raised]

    def written(
        self,
        union: TypeModel,
        branch: TypeModel,
        value: str,
        where: str,
        depth: int,
        numbers: Iterator[int],
        *,
        checked: bool = True,
    ) -> list[str]:
        """Lines (unindented) writing ``value`` as ``branch`` of ``union``: its index, then
        the value; ``checked`` when the union's dispatch tested the value's class."""
        pad = _INDENT * depth
        lines = self.write(branch, value, where, depth, numbers, checked=checked)
        return [_index(union.branches.index(branch)), *(line[len(pad) :] for line in lines)]

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
            lines += [*statement_lines(call[0]), *call[1:]]
        return [*lines, f"{pad})"]

    def read(self, type_: TypeModel, path: str) -> str:
        """An expression decoding a value of ``type_`` from ``reader``."""
        kind = type_.kind
        if kind == "record":
            return f"{self.class_name(type_)}.read_avro(reader)"
        if kind == "enum":
            enum = self.enums[_named(type_)]
            _, members = self.tables[enum.full_name]
            return f"{members}[reader.read_index({len(enum.members)})]"
        if kind == "fixed":
            return f"reader.read_fixed({type_.size})"
        if kind == "decimal":
            size = type_.size
            data = "reader.read_bytes()" if size is None else f"reader.read_fixed({size})"
            return f"_rt.bytes_decimal({data}, {type_.precision}, {type_.scale or 0})"
        if kind == "union" and not type_.non_null:  # ["null"]: its index, then nothing
            return "(reader.read_index(1), None)[1]"
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
        annotation = self.annotation(type_, line_length() - len(") -> :"))
        fitted = [piece for line in body for piece in statement_lines(line)]
        name = self.helper(path, fitted, annotation)
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
            annotation = self.annotation(type_, line_length() - len(f"{_INDENT}items:  = []"))
            start = f"{_INDENT}items: {annotation} = []"
            add = f"items.append({item})"
        else:
            annotation = self.annotation(type_, line_length() - len(f"{_INDENT}items:  = {{}}"))
            start = f"{_INDENT}items: {annotation} = {{}}"
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

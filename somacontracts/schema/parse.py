"""Parse schema JSON into the graph of :mod:`somacontracts.schema.graph`, checking it on the way.

:func:`parse` is the one parser: it checks a schema against the Avro specification and
against what Apache Avro Java's parser refuses, resolves every name through
:mod:`somacontracts.schema.names`, and builds the node graph. The first problem is a
:class:`~somacontracts.errors.InvalidSchemaError` whose ``location`` is a JSON pointer
into the schema (``/fields/4/type/fields/0/default``).

Stricter than fastavro's parser, which accepts schemas that other implementations
reject or misread: a default of the wrong type, an enum default that is not a symbol, a
union default that matches a later branch, an invalid name, a logical type on the wrong
base type. Union defaults follow the specification: the default must match the *first*
branch. Apache Avro's Java parser accepts any branch, but fastavro, the C and the Rust
implementations fill such a default with the first branch, so a contract relying on
the Java relaxation would read differently in different languages.

As Java's parser refuses them, so does this one: a schema object whose ``type`` is an
object or an array, and a field default holding a value of a record that encloses the
field (Java checks defaults before such a record has its fields). With
``portable=True`` (contracts), a reference that only Java's fallback to the null
namespace resolves is refused too, since fastavro cannot read it.

Schema text is decoded strictly (:func:`decode`): no NaN or infinity, no lone surrogate
escapes, no number beyond what a double or an integer of 4,300 digits holds. Types nest
at most :data:`MAX_NESTING` levels deep, far beyond any schema in use, so that every tool
walking the graph stays within the interpreter's stack.

Pure: schema JSON in, nodes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from somacontracts.errors import InvalidSchemaError
from somacontracts.runtime.jsontext import load_json
from somacontracts.schema.defaults import default_problem, describe_value
from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FieldNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    ParsedSchema,
    PrimitiveNode,
    RecordNode,
    UnionNode,
)
from somacontracts.schema.names import (
    JSON_LOGICAL_TYPE,
    NAMED_TYPES,
    PRIMITIVE_TYPES,
    full_name,
    is_valid_name,
    json_pointer,
    resolve,
)

__all__ = ["MAX_NESTING", "decode", "parse"]

MAX_NESTING = 100
"""How many levels deep types may nest (an array of arrays is two levels)."""

_MAX_INT = 2**31 - 1
_FIELD_ORDERS = frozenset({"ascending", "descending", "ignore"})
_RESERVED = {
    "record": frozenset({"type", "name", "namespace", "doc", "fields", "aliases"}),
    "error": frozenset({"type", "name", "namespace", "doc", "fields", "aliases"}),
    "enum": frozenset({"type", "name", "namespace", "doc", "symbols", "default", "aliases"}),
    "fixed": frozenset({"type", "name", "namespace", "doc", "size", "aliases"}),
    "array": frozenset({"type", "items"}),
    "map": frozenset({"type", "values"}),
}
_FIELD_RESERVED = frozenset({"name", "type", "doc", "default", "order", "aliases"})

# Logical type -> the base types it may annotate ("fixed" means a fixed of any size,
# checked further below where a size is implied).
_LOGICAL_BASES: dict[str, frozenset[str]] = {
    "decimal": frozenset({"bytes", "fixed"}),
    "big-decimal": frozenset({"bytes"}),
    "uuid": frozenset({"string", "fixed"}),
    "date": frozenset({"int"}),
    "time-millis": frozenset({"int"}),
    "time-micros": frozenset({"long"}),
    "timestamp-millis": frozenset({"long"}),
    "timestamp-micros": frozenset({"long"}),
    "timestamp-nanos": frozenset({"long"}),
    "local-timestamp-millis": frozenset({"long"}),
    "local-timestamp-micros": frozenset({"long"}),
    "local-timestamp-nanos": frozenset({"long"}),
    "duration": frozenset({"fixed"}),
    JSON_LOGICAL_TYPE: frozenset({"string"}),
}


def parse(
    schema: Any,
    *,
    source: str | None = None,
    references: Mapping[str, NamedNode] | None = None,
    shared: Mapping[str, NamedNode] | None = None,
    portable: bool = False,
) -> ParsedSchema:
    """Check ``schema`` and parse it into the node graph.

    ``schema`` is schema JSON as text, or decoded (a dict, list or str; a str that is
    not JSON text is taken as a type name such as ``int``), or a :class:`ParsedSchema`,
    returned as is. ``source`` names where it came from, for messages. ``references``
    are named types defined elsewhere (a registry's schema references), by full name.
    ``shared`` are named types the schema may use without defining them (those of the
    other files of a tree of contracts): the ones it uses join its references.
    With ``portable``, a reference resolved only by Java's fallback to the null namespace
    is refused. Raise :class:`InvalidSchemaError` for the first problem.
    """
    if isinstance(schema, ParsedSchema):
        return schema
    if isinstance(schema, str):
        schema = decode(schema, source=source)
    builder = _Builder(source, references or {}, shared or {}, portable=portable)
    root = builder.build(schema, "", "")
    return ParsedSchema(
        schema=schema,
        root=root,
        named=dict(builder.named),
        source=source,
        references=frozenset(references or ()) | builder.used,
    )


def decode(text: str, *, source: str | None = None) -> Any:
    """The schema JSON of ``text``, decoded strictly; a bare type name if not JSON text.

    Raise :class:`InvalidSchemaError` for text that is not JSON, or that JSON readers
    disagree on: NaN or infinity, lone surrogate escapes (``"\\ud800"``), numbers out of
    range, nesting deeper than the decoder's stack.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[", '"')):
        return stripped
    try:
        return load_json(stripped)
    except ValueError as err:
        raise InvalidSchemaError(f"is not valid JSON: {err}", source=source) from None


class _Builder:
    """One parse: the named types defined so far, and the records still being built."""

    def __init__(
        self,
        source: str | None,
        references: Mapping[str, NamedNode],
        shared: Mapping[str, NamedNode],
        *,
        portable: bool,
    ) -> None:
        self.source = source
        self.portable = portable
        self.named: dict[str, NamedNode] = dict(references)
        self.shared = shared
        self.used: frozenset[str] = frozenset()  # the names of ``shared`` the schema uses
        self.open: set[RecordNode] = set()
        self.depth = 0

    def fail(self, reason: str, location: str) -> InvalidSchemaError:
        return InvalidSchemaError(reason, location=location, source=self.source)

    def lookup(self, name: str, namespace: str, at: str) -> NamedNode:
        """The named type the reference ``name`` refers to, or an error at ``at``."""
        found = resolve(name, namespace, self.named)
        if found is None and (found := resolve(name, namespace, self.shared)) is not None:
            self.named[found.full_name] = self.shared[found.full_name]
            self.used |= {found.full_name}
        if found is None:
            raise self.fail(f'type "{name}" is not defined (before this point)', at)
        if found.by_fallback and self.portable:
            raise self.fail(
                f'type "{name}" is not defined in namespace "{namespace}"; Apache Avro Java '
                f'falls back to the type "{name}" of the null namespace, but fastavro and the '
                "Avro specification do not: give that type a namespace and refer to it by "
                "its full name",
                at,
            )
        return self.named[found.full_name]

    # -- schemas -------------------------------------------------------------------

    def build(self, schema: Any, at: str, namespace: str) -> Node:
        if self.depth >= MAX_NESTING:
            raise self.fail(
                f"types nest more than {MAX_NESTING} levels deep, more than this library reads",
                at,
            )
        self.depth += 1
        try:
            return self.build_type(schema, at, namespace)
        finally:
            self.depth -= 1

    def build_type(self, schema: Any, at: str, namespace: str) -> Node:
        if isinstance(schema, str):
            if schema in PRIMITIVE_TYPES:
                return PrimitiveNode(schema, schema, at, {})
            return self.lookup(schema, namespace, at)
        if isinstance(schema, list):
            return self.union(schema, at, namespace)
        if isinstance(schema, dict):
            return self.complex(schema, at, namespace)
        raise self.fail(
            f"a schema must be a string, an object or an array, not {describe_value(schema)}", at
        )

    def union(self, branches: list[Any], at: str, namespace: str) -> UnionNode:
        seen: dict[str, int] = {}
        nodes = []
        for index, branch in enumerate(branches):
            where = json_pointer(at, index)
            if isinstance(branch, list):
                raise self.fail("a union may not directly contain another union", where)
            node = self.build(branch, where, namespace)
            key = node.full_name if isinstance(node, NamedNode) else node.kind
            if key in seen:
                raise self.fail(
                    f"union branches {seen[key]} and {index} are both {key}; "
                    "a union holds each type once",
                    where,
                )
            seen[key] = index
            nodes.append(node)
        return UnionNode(branches, at, tuple(nodes))

    def complex(self, schema: dict[str, Any], at: str, namespace: str) -> Node:
        if "type" not in schema:
            raise self.fail('a schema object needs a "type"', at)
        type_ = schema["type"]
        if isinstance(type_, (dict, list)):
            # Apache Avro's parser takes "type" of a schema object as a name only.
            raise self.fail(
                f'"type" must be a type name, not {describe_value(type_)}; '
                'a nested schema belongs under a field\'s "type"',
                json_pointer(at, "type"),
            )
        if not isinstance(type_, str):
            raise self.fail(
                f'"type" must be a string, not {describe_value(type_)}', json_pointer(at, "type")
            )
        if type_ in NAMED_TYPES:
            return self.named_type(schema, type_, at, namespace)
        props = {k: v for k, v in schema.items() if k not in _RESERVED.get(type_, {"type"})}
        logical = self.logical(schema, type_, at)
        if type_ == "array":
            if "items" not in schema:
                raise self.fail('an array needs "items"', at)
            items = self.build(schema["items"], json_pointer(at, "items"), namespace)
            return ArrayNode(schema, at, props, items, logical)
        if type_ == "map":
            if "values" not in schema:
                raise self.fail('a map needs "values"', at)
            values = self.build(schema["values"], json_pointer(at, "values"), namespace)
            return MapNode(schema, at, props, values, logical)
        if type_ in PRIMITIVE_TYPES:
            return PrimitiveNode(type_, schema, at, props, logical)
        # {"type": "ns.Name"} refers to a named type; Java keeps none of its attributes.
        return self.lookup(type_, namespace, json_pointer(at, "type"))

    def named_type(self, schema: dict[str, Any], type_: str, at: str, namespace: str) -> NamedNode:
        name = schema.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail(f'a {type_} needs a "name"', at)
        own_namespace = schema.get("namespace", namespace)
        if own_namespace is None:
            own_namespace = ""
        if not isinstance(own_namespace, str):
            raise self.fail('"namespace" must be a string', json_pointer(at, "namespace"))
        full = full_name(name, own_namespace)
        if not is_valid_name(full):
            raise self.fail(
                f'"{full}" is not a valid Avro name '
                "(each dotted part must match [A-Za-z_][A-Za-z0-9_]*)",
                json_pointer(at, "name"),
            )
        if full.rpartition(".")[2] in PRIMITIVE_TYPES:
            raise self.fail(
                f'"{name}" is a primitive type and cannot name a {type_}', json_pointer(at, "name")
            )
        if full in self.named:
            raise self.fail(f'type "{full}" is defined twice', json_pointer(at, "name"))
        inner = full.rpartition(".")[0]
        written = self.aliases(schema.get("aliases", []), at)
        aliases = frozenset(full_name(alias, inner) for alias in written)
        doc = schema.get("doc")
        props = {k: v for k, v in schema.items() if k not in _RESERVED[type_]}
        size = schema.get("size")
        if type_ == "fixed" and (
            not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _MAX_INT
        ):
            raise self.fail(  # Java reads the size as an int
                f'a fixed needs a "size" that is a whole number from 0 to {_MAX_INT}',
                json_pointer(at, "size"),
            )
        logical = self.logical(schema, type_, at)
        common = (schema, at, props, full, written, aliases, doc if isinstance(doc, str) else None)
        node: NamedNode
        if type_ == "fixed":
            node = FixedNode(*common, logical, size=schema["size"])
        elif type_ == "enum":
            symbols, default = self.enum(schema, at)
            node = EnumNode(*common, logical, symbols=symbols, default=default)
        else:
            node = RecordNode(*common, logical, is_error=type_ == "error")
        self.named[full] = node  # before its fields, so that they may refer to it
        if isinstance(node, RecordNode):
            self.fill(node, schema, at, inner)
        return node

    def aliases(self, aliases: Any, at: str) -> tuple[str, ...]:
        """The aliases of a named type, as written: an array of (full) names."""
        where = json_pointer(at, "aliases")
        if not isinstance(aliases, list):
            raise self.fail('"aliases" must be an array of names', where)
        for index, alias in enumerate(aliases):
            if not isinstance(alias, str) or not is_valid_name(alias):
                raise self.fail(
                    f"alias {alias!r} is not a valid Avro name", json_pointer(where, index)
                )
        return tuple(aliases)

    def fill(self, node: RecordNode, schema: dict[str, Any], at: str, namespace: str) -> None:
        fields = schema.get("fields")
        if not isinstance(fields, list):
            raise self.fail('a record needs "fields", an array', at)
        self.open.add(node)
        built: list[FieldNode] = []
        names: set[str] = set()
        for position, field in enumerate(fields):
            where = json_pointer(at, "fields", position)
            if not isinstance(field, dict):
                raise self.fail(f"a field must be an object, not {describe_value(field)}", where)
            name = field.get("name")
            if not isinstance(name, str) or "." in name or not is_valid_name(name):
                raise self.fail(
                    f"field name {name!r} is not a valid Avro name", json_pointer(where, "name")
                )
            if name in names:
                raise self.fail(f'field "{name}" appears twice', json_pointer(where, "name"))
            names.add(name)
            if "type" not in field:
                raise self.fail(f'field "{name}" needs a "type"', where)
            aliases = field.get("aliases", [])
            if not isinstance(aliases, list) or not all(
                isinstance(a, str) and "." not in a and is_valid_name(a) for a in aliases
            ):
                raise self.fail(
                    f'"aliases" of field "{name}" must be an array of names',
                    json_pointer(where, "aliases"),
                )
            type_node = self.build(field["type"], json_pointer(where, "type"), namespace)
            order = field.get("order")
            if "order" in field and order not in _FIELD_ORDERS:
                raise self.fail(
                    f"field order must be ascending, descending or ignore, not {order!r}",
                    json_pointer(where, "order"),
                )
            if "default" in field:
                default_at = json_pointer(where, "default")
                self.check_default(type_node, field["default"], name, default_at)
            doc = field.get("doc")
            built.append(
                FieldNode(
                    name=name,
                    aliases=tuple(dict.fromkeys(aliases)),
                    node=type_node,
                    position=position,
                    pointer=where,
                    has_default="default" in field,
                    default=field.get("default"),
                    doc=doc if isinstance(doc, str) else None,
                    order=order if isinstance(order, str) else None,
                    props={k: v for k, v in field.items() if k not in _FIELD_RESERVED},
                    json=field,
                )
            )
        node.fields = tuple(built)
        node.by_name = {f.name: f for f in built}
        self.open.discard(node)

    def enum(self, schema: dict[str, Any], at: str) -> tuple[tuple[str, ...], str | None]:
        symbols = schema.get("symbols")
        if not isinstance(symbols, list):
            raise self.fail('an enum needs "symbols", an array of names', at)
        seen: set[str] = set()
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or "." in symbol or not is_valid_name(symbol):
                raise self.fail(
                    f"enum symbol {symbol!r} is not a valid Avro name",
                    json_pointer(at, "symbols", index),
                )
            if symbol in seen:
                raise self.fail(
                    f'enum symbol "{symbol}" appears twice', json_pointer(at, "symbols", index)
                )
            seen.add(symbol)
        default = schema.get("default")
        if "default" in schema and default not in seen:
            raise self.fail(
                f"enum default {default!r} is not one of its symbols", json_pointer(at, "default")
            )
        return tuple(symbols), default

    # -- logical types ---------------------------------------------------------------

    def logical(self, schema: dict[str, Any], base: str, at: str) -> str | None:
        """The logical type of ``schema``, checked against its base type, or None."""
        if "logicalType" not in schema:
            return None
        logical = schema["logicalType"]
        where = json_pointer(at, "logicalType")
        if not isinstance(logical, str):
            raise self.fail('"logicalType" must be a string', where)
        bases = _LOGICAL_BASES.get(logical)
        if bases is None:
            return logical  # Unknown logical types are legal Avro: readers use the base type.
        if base not in bases:
            allowed = " or ".join(sorted(bases))
            raise self.fail(f"logical type {logical} must annotate {allowed}, not {base}", where)
        self.check_logical_size(schema, base, at)
        return logical

    def check_logical_size(self, schema: dict[str, Any], base: str, at: str) -> None:
        logical = schema.get("logicalType")
        where = json_pointer(at, "logicalType")
        size = schema.get("size")
        if logical == "uuid" and base == "fixed" and size != 16:
            raise self.fail("logical type uuid on a fixed needs size 16", where)
        if logical == "duration" and size != 12:
            raise self.fail("logical type duration needs a fixed of size 12", where)
        if logical == "decimal":
            self.decimal(schema, base, at)

    def decimal(self, schema: dict[str, Any], base: str, at: str) -> None:
        precision = schema.get("precision")
        scale = schema.get("scale", 0)
        if not isinstance(precision, int) or isinstance(precision, bool) or precision < 1:
            raise self.fail(
                "decimal needs a precision that is a whole number >= 1",
                json_pointer(at, "precision"),
            )
        if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= precision:
            raise self.fail(
                f"decimal scale must be a whole number from 0 to the precision {precision}",
                json_pointer(at, "scale"),
            )
        if base == "fixed":
            size = int(schema["size"])
            most = len(str(2 ** (8 * size - 1) - 1)) - 1 if size > 0 else 0
            if precision > most:
                raise self.fail(
                    f"a fixed of size {size} holds a decimal of at most {most} digits",
                    json_pointer(at, "precision"),
                )

    # -- defaults ------------------------------------------------------------------

    def check_default(self, node: Node, value: Any, name: str, at: str) -> None:
        if self.reaches_open(node, value):
            raise self.fail(
                f'default of field "{name}" holds a value of a record whose '
                "definition encloses the field; Apache Avro rejects it",
                at,
            )
        problem = default_problem(node, value)
        if problem:
            raise self.fail(f'default of field "{name}" {problem}', at)

    def reaches_open(self, node: Node, value: Any) -> bool:
        """Whether checking ``value`` as a default of ``node`` reads a record still open.

        Java checks a default as it parses the field, before the records enclosing the
        field have their fields, and fails on reaching one of them.
        """
        if isinstance(node, UnionNode):
            # The default must match the first branch, where Java stops.
            return bool(node.branches) and self.reaches_open(node.branches[0], value)
        if isinstance(node, RecordNode):
            if node in self.open:
                return True
            return isinstance(value, dict) and any(
                self.reaches_open(field.node, value[field.name])
                for field in node.fields
                if field.name in value
            )
        if isinstance(node, ArrayNode) and isinstance(value, list):
            return any(self.reaches_open(node.items, item) for item in value)
        if isinstance(node, MapNode) and isinstance(value, dict):
            return any(self.reaches_open(node.values, item) for item in value.values())
        return False

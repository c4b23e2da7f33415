"""Hypothesis strategies for contracts: datums of any Avro schema, typed objects of any
generated model class, free-form JSON.

Values are the ones the serializers write and every reader reads back equal: aware UTC
timestamps in Avro's range, decimals within their precision and scale, finite floats,
text without lone surrogates, free-form JSON that survives its text.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any, TypeVar

from hypothesis import strategies as st

from somacontracts.runtime import dump_json
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

__all__ = ["datums", "json_values", "models", "timestamps_micros"]

T = TypeVar("T")

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values: st.SearchStrategy[Any] = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value: nested objects and arrays of strings, integers, floats, booleans, null."""

timestamps_micros = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(dt.UTC),
)
"""Aware UTC instants that ``timestamp-micros`` holds (a day's margin from the ends)."""

_local_micros = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))


def models(model: type[T]) -> st.SearchStrategy[T]:
    """Valid objects of a generated model class (its ``SCHEMA`` with the shared types of
    its ``REFERENCES``, through ``from_avro``): nested records, enums, unions, logical
    types, free-form JSON and recursion."""
    from somacontracts.schema import parse
    from somacontracts.serde.references import reference_nodes

    schema = getattr(model, "SCHEMA", None)
    from_avro = getattr(model, "from_avro", None)
    if not isinstance(schema, Mapping) or from_avro is None:
        raise TypeError(f"{model!r} is not a generated model class (no SCHEMA or from_avro)")
    shared = reference_nodes(getattr(model, "REFERENCES", None) or {})
    parsed = parse(schema, source=model.__name__, shared=shared)
    # named branches of unions as ("name", datum), so a record and a map, or an enum and
    # a string, are told apart as fastavro's return_named_type tells them
    return datums(parsed, named_branches=True).map(from_avro)


def datums(schema: Any, *, named_branches: bool = False) -> st.SearchStrategy[Any]:
    """Datums of ``schema`` (schema JSON or text, or the one schema model's parse of it) in
    the form fastavro reads them back; with ``named_branches``, as it reads them with
    ``return_named_type=True``. Not fastavro's parsed form: it drops namespaces that the
    names it keeps then misstate."""
    from somacontracts.schema import parse

    return _Datums(named_branches).of(parse(schema).root)


class _Datums:
    """Strategies of the nodes of one schema; a named record's is made once (deferred, so
    that recursive types draw)."""

    def __init__(self, named_branches: bool) -> None:
        self.named_branches = named_branches
        self.records: dict[str, st.SearchStrategy[Any]] = {}

    def of(self, node: Node) -> st.SearchStrategy[Any]:
        if isinstance(node, UnionNode):
            return st.one_of([self.branch(branch) for branch in node.branches])
        if isinstance(node, RecordNode):
            name = node.full_name
            if name not in self.records:
                self.records[name] = st.deferred(lambda: self.fields(node))
            return self.records[name]
        if isinstance(node, EnumNode):
            return st.sampled_from(node.symbols)
        if isinstance(node, FixedNode):
            if node.logical_type == "uuid" and node.size == 16:
                return st.uuids().map(lambda u: u.bytes)
            if node.logical_type == "decimal":
                return _decimals(node.props, 2 ** (8 * node.size - 1) - 1)
            return st.binary(min_size=node.size, max_size=node.size)
        if isinstance(node, ArrayNode):
            return st.lists(self.of(node.items), max_size=3)
        if isinstance(node, MapNode):
            return st.dictionaries(st.text(max_size=6), self.of(node.values), max_size=3)
        return _primitive(node.kind, node.logical_type, node.props)

    def fields(self, record: RecordNode) -> st.SearchStrategy[Any]:
        return st.fixed_dictionaries({field.name: self.of(field.node) for field in record.fields})

    def branch(self, node: Node) -> st.SearchStrategy[Any]:
        inner = self.of(node)
        if self.named_branches and isinstance(node, NamedNode):
            name = node.full_name
            return inner.map(lambda datum: (name, datum))
        return inner


def _decimals(props: Mapping[str, Any], largest: int | None = None) -> st.SearchStrategy[Any]:
    precision, scale = int(props["precision"]), int(props.get("scale", 0))
    bound = 10**precision - 1
    if largest is not None:
        bound = min(bound, largest)
    exact = decimal.Context(prec=precision)  # the default context would round to 28 digits
    return st.integers(-bound, bound).map(lambda n: decimal.Decimal(n).scaleb(-scale, exact))


def _primitive(type_: str, logical: str | None, props: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if logical == "json" and type_ == "string":
        # The text the runtime's codec writes, so a datum survives from_avro and to_avro.
        return json_values.map(dump_json)
    if logical == "uuid" and type_ == "string":
        return st.uuids()
    if logical == "decimal" and type_ == "bytes":
        return _decimals(props)
    if type_ == "long" and logical == "timestamp-micros":
        return timestamps_micros
    if type_ == "long" and logical == "timestamp-millis":
        return timestamps_micros.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
    if type_ == "long" and logical == "local-timestamp-micros":
        return _local_micros
    if type_ == "long" and logical == "local-timestamp-millis":
        return _local_micros.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
    if type_ == "int" and logical == "date":
        return st.dates()
    if type_ == "int" and logical == "time-millis":
        return st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
    if type_ == "long" and logical == "time-micros":
        return st.times()
    simple: dict[str, st.SearchStrategy[Any]] = {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**63), 2**63 - 1),
        "float": st.floats(width=32, allow_nan=False),
        "double": st.floats(allow_nan=False),
        "bytes": st.binary(max_size=8),
        "string": st.text(max_size=12),
    }
    return simple[type_]

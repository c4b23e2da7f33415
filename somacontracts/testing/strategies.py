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
    """Valid objects of a generated model class (its ``SCHEMA``, through ``from_avro``):
    nested records, enums, unions, logical types, free-form JSON and recursion."""
    from fastavro import parse_schema

    schema = getattr(model, "SCHEMA", None)
    from_avro = getattr(model, "from_avro", None)
    if not isinstance(schema, Mapping) or from_avro is None:
        raise TypeError(f"{model!r} is not a generated model class (no SCHEMA or from_avro)")
    parsed = parse_schema(dict(schema))
    # named branches of unions as ("name", datum), so a record and a map, or an enum and
    # a string, are told apart as fastavro's return_named_type tells them
    return datums(parsed, named_branches=True).map(from_avro)


def datums(
    schema: Any, named: dict[str, Any] | None = None, *, named_branches: bool = False
) -> st.SearchStrategy[Any]:
    """Datums of a fastavro-parsed ``schema`` in the form fastavro reads them back; with
    ``named_branches``, as it reads them with ``return_named_type=True``."""
    return _Datums({} if named is None else named, named_branches).strategy(schema)


class _Datums:
    def __init__(self, named: dict[str, Any], named_branches: bool) -> None:
        self.named = named
        self.named_branches = named_branches

    def strategy(self, schema: Any) -> st.SearchStrategy[Any]:
        return _strategy(schema, self.named, self)


def _branch(schema: Any, named: dict[str, Any], datums: _Datums) -> st.SearchStrategy[Any]:
    inner = _strategy(schema, named, datums)
    if not datums.named_branches:
        return inner
    if isinstance(schema, str) and schema in named:
        return inner.map(lambda datum: (schema, datum))
    if isinstance(schema, dict) and schema.get("type") in ("record", "error", "enum", "fixed"):
        name = schema["name"]
        return inner.map(lambda datum: (name, datum))
    return inner


def _strategy(schema: Any, named: dict[str, Any], datums: _Datums) -> st.SearchStrategy[Any]:
    if isinstance(schema, list):
        return st.one_of([_branch(branch, named, datums) for branch in schema])
    if isinstance(schema, str):
        if schema in named:
            return st.deferred(lambda: _strategy(named[schema], named, datums))
        return _primitive(schema, None, schema)
    type_ = schema["type"]
    logical = schema.get("logicalType")
    if type_ in ("record", "error"):
        named[schema["name"]] = schema
        return st.fixed_dictionaries(
            {f["name"]: _strategy(f["type"], named, datums) for f in schema["fields"]}
        )
    if type_ == "enum":
        named[schema["name"]] = schema
        return st.sampled_from(schema["symbols"])
    if type_ == "fixed":
        named[schema["name"]] = schema
        size = schema["size"]
        if logical == "uuid" and size == 16:
            return st.uuids().map(lambda u: u.bytes)
        if logical == "decimal":
            return _decimals(schema, 2 ** (8 * size - 1) - 1)
        return st.binary(min_size=size, max_size=size)
    if type_ == "array":
        return st.lists(_strategy(schema["items"], named, datums), max_size=3)
    if type_ == "map":
        values = _strategy(schema["values"], named, datums)
        return st.dictionaries(st.text(max_size=6), values, max_size=3)
    return _primitive(type_, logical, schema)


def _decimals(schema: Mapping[str, Any], largest: int | None = None) -> st.SearchStrategy[Any]:
    precision, scale = int(schema["precision"]), int(schema.get("scale", 0))
    bound = 10**precision - 1
    if largest is not None:
        bound = min(bound, largest)
    exact = decimal.Context(prec=precision)  # the default context would round to 28 digits
    return st.integers(-bound, bound).map(lambda n: decimal.Decimal(n).scaleb(-scale, exact))


def _primitive(type_: str, logical: str | None, schema: Any) -> st.SearchStrategy[Any]:
    if logical == "json" and type_ == "string":
        # The text the runtime's codec writes, so a datum survives from_avro and to_avro.
        return json_values.map(dump_json)
    if logical == "uuid" and type_ == "string":
        return st.uuids()
    if logical == "decimal" and type_ == "bytes":
        return _decimals(schema)
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

"""Hypothesis strategies that build valid Avro datums for a schema, and free-form JSON values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from somacontracts.runtime import dump_json

__all__ = ["datums", "json_values"]

_UTC = dt.UTC

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value: nested objects and arrays of strings, integers, floats, booleans, null."""

timestamps_micros = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(_UTC),
)


def datums(
    schema: Mapping[str, Any], named: dict[str, Any] | None = None
) -> st.SearchStrategy[Any]:
    """Datums of a fastavro-parsed ``schema`` in the form fastavro reads them back."""
    named = {} if named is None else named
    return _strategy(schema, named)


def _strategy(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    if isinstance(schema, list):
        return st.one_of([_strategy(branch, named) for branch in schema])
    if isinstance(schema, str):
        if schema in named:
            return st.deferred(lambda: _strategy(named[schema], named))
        return _primitive(schema, None, schema)
    type_ = schema["type"]
    logical = schema.get("logicalType")
    if type_ in ("record", "error"):
        named[schema["name"]] = schema
        return st.fixed_dictionaries(
            {f["name"]: _strategy(f["type"], named) for f in schema["fields"]}
        )
    if type_ == "enum":
        named[schema["name"]] = schema
        return st.sampled_from(schema["symbols"])
    if type_ == "fixed":
        named[schema["name"]] = schema
        return st.binary(min_size=schema["size"], max_size=schema["size"])
    if type_ == "array":
        return st.lists(_strategy(schema["items"], named), max_size=3)
    if type_ == "map":
        return st.dictionaries(st.text(max_size=6), _strategy(schema["values"], named), max_size=3)
    return _primitive(type_, logical, schema)


def _primitive(type_: str, logical: str | None, schema: Any) -> st.SearchStrategy[Any]:
    if logical == "json":
        # The text our own codec writes, so a datum survives from_avro and to_avro unchanged.
        return json_values.map(dump_json)
    if logical == "uuid":
        return st.uuids()
    if logical == "timestamp-micros":
        return timestamps_micros
    if logical == "timestamp-millis":
        return timestamps_micros.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
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

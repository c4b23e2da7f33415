"""Hypothesis strategies that build instances of generated model classes, and a strict equality.

The strategies follow the generator's own description of a version
(:class:`somacontracts.tooling.codegen.declarations.VersionModel`), so they know each class's Python
name and each field's attribute, and draw values of the Python types the model
promises: UUIDs, timezone-aware datetimes, decimals of the schema's scale, enum members,
nested and recursive records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from somacontracts.tooling.codegen.declarations import TypeModel, VersionModel
from somacontracts.tooling.testing import json_values, timestamps_micros

__all__ = ["instances", "same"]

_INT = (-(2**31), 2**31 - 1)
_LONG = (-(2**63), 2**63 - 1)


def instances(model: VersionModel, module: ModuleType) -> st.SearchStrategy[Any]:
    """Instances of the root class of ``model``, whose classes live in ``module``."""
    return _Builder(model, module).record(model.root.full_name)


_DEPTH = 3
"""Records nest at most this deep; below it unions take null and collections are empty,
which ends recursive structures (linked lists, trees)."""


class _Builder:
    def __init__(self, model: VersionModel, module: ModuleType) -> None:
        self.model = model
        self.module = module
        self.named = model.named

    def record(self, full_name: str, depth: int = 0) -> st.SearchStrategy[Any]:
        record = self.named[full_name]
        cls = getattr(self.module, record.class_name)
        fields = getattr(record, "fields", ())
        return st.builds(cls, **{f.attribute: self.value(f.type, depth + 1) for f in fields})

    def value(self, type_: TypeModel, depth: int) -> st.SearchStrategy[Any]:
        kind = type_.kind
        if kind == "record":
            assert type_.named is not None
            return self.record(type_.named, depth)
        if kind == "enum":
            assert type_.named is not None
            enum_cls: type[enum.Enum] = getattr(self.module, self.named[type_.named].class_name)
            return st.sampled_from(list(enum_cls))
        if kind == "union":
            branches = list(type_.branches)
            if depth >= _DEPTH and type_.nullable:
                branches = [b for b in branches if b.kind == "null"]
            return st.one_of([self.value(b, depth) for b in branches])
        if kind in ("array", "map"):
            assert type_.items is not None
            if depth >= _DEPTH:
                return st.just([] if kind == "array" else {})
            if kind == "array":
                return st.lists(self.value(type_.items, depth), max_size=2)
            keys = st.text(max_size=4)
            return st.dictionaries(keys, self.value(type_.items, depth), max_size=2)
        return _scalar(type_)


def _scalar(type_: TypeModel) -> st.SearchStrategy[Any]:
    kind, logical = type_.kind, type_.logical or ""
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "int":
        low, high = _INT if type_.avro_type == "int" else _LONG
        return st.integers(low, high)
    if kind == "float":
        return st.floats(width=32 if type_.avro_type == "float" else 64, allow_nan=False)
    if kind == "string":
        return st.text(max_size=8)
    if kind == "bytes":
        return st.binary(max_size=8)
    if kind == "fixed":
        return st.binary(min_size=type_.size or 0, max_size=type_.size or 0)
    if kind == "json":
        return json_values
    if kind in ("uuid", "fixed_uuid"):
        return st.uuids()
    if kind == "datetime":
        moments = timestamps_micros
        if logical.endswith("millis"):
            moments = moments.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
        if logical.startswith("local-"):
            moments = moments.map(lambda t: t.replace(tzinfo=None))
        return moments
    if kind == "date":
        return st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30))
    if kind == "time":
        times = st.times()
        if logical == "time-millis":
            times = times.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
        return times
    if kind == "decimal":
        scale, precision = type_.scale or 0, type_.precision or 1
        exact = decimal.Context(prec=precision)  # the default context rounds to 28 digits
        unscaled = st.integers(-(10**precision) + 1, 10**precision - 1)
        return unscaled.map(lambda n: decimal.Decimal(n).scaleb(-scale, exact))
    raise AssertionError(f"no strategy for {kind}")


def same(left: Any, right: Any) -> bool:
    """Equal and of the same types all the way down (an enum member is not its string)."""
    if type(left) is not type(right):
        return False
    if dataclasses.is_dataclass(left) and not isinstance(left, type):
        return all(
            same(getattr(left, f.name), getattr(right, f.name)) for f in dataclasses.fields(left)
        )
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[k], right[k]) for k in left)
    if isinstance(left, float) and left != left:
        return bool(right != right)
    return bool(left == right)

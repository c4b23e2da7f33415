"""Why an object cannot be written: the field path and the offending value, in one line.

The serializer writes a model through its generated codec, which refuses any value
that a reader would refuse or read back as something else (see
:mod:`somacontracts.runtime.encode`). The codec is straight-line code and says only
what went wrong, not where; :func:`value_problem` walks the object along the model's
schema and names the first value the schema cannot carry, as a path from the record:
``ToolInvocation.metadata.timestamp: a naive datetime ...`` or
``ToolInvocation.payload["args"][2]: uuid.UUID is not a JSON value``.

Each leaf is judged by the codec's own function for its type, so the explanation
follows the codec's rules; a record must be the class the model's annotations name for
it (its version's class, or an earlier version's where the type did not change). For a
model without a generated codec, :func:`value_problem` is the check
itself, run before fastavro writes. It walks the model's schema as the one schema
model parses it (:mod:`somacontracts.schema`).

Off the hot path: it runs only for an object the codec refused, or for the rare
models without a codec, and loads the schema model only then.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from somacontracts.runtime import encode as codec
from somacontracts.runtime import jsontext
from somacontracts.runtime.kinds import LOGICAL_KINDS, PRIMITIVE_KINDS

if TYPE_CHECKING:
    from somacontracts.schema import Node, ParsedSchema
    from somacontracts.serde.contract_model import ContractModel

__all__ = ["value_problem"]

# Kind (LOGICAL_KINDS / PRIMITIVE_KINDS, refined by Avro type) -> what the value must
# be, for messages, and the codec function that writes or converts it.
_Writer = Callable[[Any, Any], object]
_LEAVES: dict[str, tuple[str, _Writer]] = {
    "boolean": ("True or False", lambda v, n: codec.write_boolean(bytearray(), v)),
    "int:int": ("int", lambda v, n: codec.write_int(bytearray(), v)),
    "int:long": ("int", lambda v, n: codec.write_long(bytearray(), v)),
    "float:float": ("float", lambda v, n: codec.write_float(bytearray(), v)),
    "float:double": ("float", lambda v, n: codec.write_double(bytearray(), v)),
    "string": ("str", lambda v, n: codec.write_string(bytearray(), v)),
    "bytes": ("bytes", lambda v, n: codec.write_bytes(bytearray(), v)),
    "fixed": ("bytes", lambda v, n: codec.write_fixed(bytearray(), v, n.size)),
    "uuid": ("uuid.UUID", lambda v, n: codec.write_uuid(bytearray(), v)),
    "fixed_uuid": ("uuid.UUID", lambda v, n: codec.write_fixed_uuid(bytearray(), v)),
    "datetime:timestamp-millis": ("datetime.datetime", lambda v, n: codec.timestamp_millis(v)),
    "datetime:timestamp-micros": ("datetime.datetime", lambda v, n: codec.timestamp_micros(v)),
    "datetime:local-timestamp-millis": (
        "datetime.datetime",
        lambda v, n: codec.local_timestamp_millis(v),
    ),
    "datetime:local-timestamp-micros": (
        "datetime.datetime",
        lambda v, n: codec.local_timestamp_micros(v),
    ),
    "date": ("datetime.date", lambda v, n: codec.date_days(v)),
    "time:time-millis": ("datetime.time", lambda v, n: codec.time_millis(v)),
    "time:time-micros": ("datetime.time", lambda v, n: codec.time_micros(v)),
    "decimal:bytes": (
        "decimal.Decimal",
        lambda v, n: codec.decimal_bytes(v, n.props["precision"], n.props.get("scale", 0)),
    ),
    "decimal:fixed": (
        "decimal.Decimal",
        lambda v, n: codec.decimal_fixed(v, n.props["precision"], n.props.get("scale", 0), n.size),
    ),
}


def value_problem(model: type[Any], obj: object, label: str) -> str | None:
    """The first value of ``obj`` that ``model``'s schema cannot carry, or None.

    ``label`` names the record at the start of the path. The answer reads
    ``<path>: <reason>``.
    """
    problem = _Walk(model).check(_parsed(model).root, obj, label)
    return None if problem is None else problem.text


_PARSED: dict[type[Any], ParsedSchema] = {}


def _parsed(model: type[Any]) -> ParsedSchema:
    # The schema model is loaded on the first refusal only: the hot path never needs it.
    parsed = _PARSED.get(model)
    if parsed is None:
        from somacontracts.serde.contract_model import model_schema

        found = model_schema(cast("type[ContractModel]", model)).schema_model
        assert found is not None  # model_schema always parses it
        parsed = _PARSED[model] = found
    return parsed


@dataclasses.dataclass(frozen=True, slots=True)
class _Problem:
    text: str
    wrong_type: bool
    """The value is not of the type the schema asks for (rather than a bad value of it)."""


def _wrong(path: str, expected: str, value: object) -> _Problem:
    return _Problem(f"{path}: {codec.wrong_type(expected, value)}", wrong_type=True)


@functools.cache
def _record_classes(model: type[Any]) -> dict[str, type[Any]]:
    """The class of each record ``model`` holds, by full name, as its fields' annotations
    name them (text, under ``from __future__ import annotations``, read in the module)."""
    found: dict[str, type[Any]] = {}
    pending: list[Any] = [model]
    while pending:
        item = pending.pop()
        if not (isinstance(item, type) and dataclasses.is_dataclass(item)):
            pending += typing.get_args(item)  # a type alias of a union, list or dict
            continue
        name = getattr(item, "FULL_NAME", None)
        if not isinstance(name, str) or name in found:
            continue
        found[name] = item
        namespace = vars(sys.modules[item.__module__]) if item.__module__ in sys.modules else {}
        for field in dataclasses.fields(item):
            if isinstance(field.type, str):
                words = _WORD.findall(field.type)
                pending += [namespace[word] for word in words if word in namespace]
            else:
                pending.append(field.type)
    return found


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Walk:
    def __init__(self, model: type[Any]) -> None:
        self.classes = _record_classes(model) if dataclasses.is_dataclass(model) else {}

    def check(self, node: Node, value: object, path: str) -> _Problem | None:
        kind = node.kind
        if kind == "union":
            return self.union(node, value, path)
        if kind == "record":
            return self.record(node, value, path)
        if kind == "enum":
            return self.enum(node, value, path)
        if kind == "array":
            return self.array(node, value, path)
        if kind == "map":
            return self.map(node, value, path)
        if kind == "null":
            return None if value is None else _wrong(path, "None", value)
        return self.leaf(node, value, path)

    def leaf(self, node: Any, value: object, path: str) -> _Problem | None:
        type_: str = node.kind
        logical = node.logical_type or ""
        kind = LOGICAL_KINDS.get((type_, logical)) or PRIMITIVE_KINDS.get(type_, type_)
        if kind == "fixed_uuid" and node.size != 16:
            kind = "fixed"
        if kind == "json":
            problem = jsontext.json_problem(value)
            if problem is None:
                return None
            text = f"{path}{problem}" if problem.startswith("[") else f"{path}: {problem}"
            return _Problem(text, wrong_type=False)
        if kind in ("int", "float", "decimal"):
            key = f"{kind}:{type_}"
        elif kind in ("datetime", "time"):
            key = f"{kind}:{logical}"
        else:
            key = kind
        expected, write = _LEAVES[key]
        if kind == "string" and not isinstance(value, str):
            return _wrong(path, expected, value)
        try:
            write(value, node)
        except TypeError as err:  # the codec's own words: what it expected, what it got
            return _Problem(f"{path}: {err}", wrong_type=True)
        except AttributeError:
            return _wrong(path, expected, value)
        except UnicodeEncodeError as err:
            reason = (
                f"{_short(value)} holds a lone surrogate at {err.start}, which UTF-8 cannot encode"
            )
            return _Problem(f"{path}: {reason}", wrong_type=False)
        except (ValueError, OverflowError) as err:
            return _Problem(f"{path}: {err}", wrong_type=False)
        return None

    def record(self, node: Any, value: object, path: str) -> _Problem | None:
        expected = self.classes.get(node.full_name)
        if expected is None or not isinstance(value, expected):
            name = expected.__name__ if expected else f"a record {node.full_name}"
            return _wrong(path, name, value)
        for field, attribute in zip(node.fields, dataclasses.fields(value), strict=False):
            at = f"{path}.{attribute.name}"
            problem = self.check(field.node, getattr(value, attribute.name), at)
            if problem is not None:
                return problem
        return None

    def enum(self, node: Any, value: object, path: str) -> _Problem | None:
        try:
            if isinstance(value, str) and value in node.symbol_set:
                return None
        except TypeError:
            pass
        symbols = ", ".join(node.symbols)
        text = f"{path}: {_short(value)} is not a symbol of enum {node.name} ({symbols})"
        return _Problem(text, wrong_type=not isinstance(value, str))

    def array(self, node: Any, value: object, path: str) -> _Problem | None:
        if not isinstance(value, list):
            return _wrong(path, "list", value)
        for index, item in enumerate(value):
            problem = self.check(node.items, item, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None

    def map(self, node: Any, value: object, path: str) -> _Problem | None:
        if not isinstance(value, dict):
            return _wrong(path, "dict", value)
        for key, item in value.items():
            if not isinstance(key, str):
                text = f"{path}: key {_short(key)} ({type_name(key)}) is not a string"
                return _Problem(text, wrong_type=False)
            where = f"{path}[{key!r}]"
            try:
                codec.write_string(bytearray(), key)
            except UnicodeEncodeError as err:
                reason = f"holds a lone surrogate at {err.start}, which UTF-8 cannot encode"
                return _Problem(f"{path}: key {_short(key)} {reason}", wrong_type=False)
            problem = self.check(node.values, item, where)
            if problem is not None:
                return problem
        return None

    def union(self, node: Any, value: object, path: str) -> _Problem | None:
        branches = node.branches
        if value is None and any(b.kind == "null" for b in branches):
            return None
        problems = [self.check(b, value, path) for b in branches if b.kind != "null"]
        if any(problem is None for problem in problems):
            return None
        # The branch of the value's own type explains best; else no branch fits at all.
        for problem in problems:
            if problem is not None and not problem.wrong_type:
                return problem
        names = ", ".join(_describe(b) for b in branches)
        text = f"{path}: {type_name(value)} {_short(value)} is of no branch of the union [{names}]"
        return _Problem(text, wrong_type=True)


def _describe(node: Any) -> str:
    name = getattr(node, "name", None)
    if isinstance(name, str):
        return name
    return f"{node.kind} ({node.logical_type})" if node.logical_type else str(node.kind)


def type_name(value: object) -> str:
    """How messages name the type of ``value``."""
    return codec.type_name(value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."

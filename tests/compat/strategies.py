"""Hypothesis strategies for Avro schemas and for the edits that make one version from another.

:func:`record_schemas` draws valid record schemas: nested records, enums (with and
without defaults), fixed types, arrays, maps, unions, logical types, field aliases and
references to named types defined earlier, recursive ones included. Every named type
has a unique name and every reference is written as a full name, so edits can rename
types and rewrite the references.

:func:`mutants` draws a schema made from another by one to three edits of the kinds a
contract's next version makes: fields added or removed with or without defaults, types
changed, promoted or demoted, enum symbols and defaults changed, union branches added
or removed, named types renamed with or without aliases, fixed sizes changed, fields
renamed with aliases. :func:`schema_pairs` draws (reader, writer) pairs of such
versions, in either order.

Defaults are filled in with a fixed value of each type (``0``, ``""``, the first enum
symbol, ...), recomputed after every edit so that each drawn schema stays valid.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from somacontracts.compat import InvalidSchemaError
from somacontracts.schema import parse

__all__ = [
    "NO_DEFAULT",
    "default_for",
    "definitions",
    "has_references",
    "mutants",
    "record_schemas",
    "schema_pairs",
]

Draw = Callable[[st.SearchStrategy[Any]], Any]

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
NUMERIC_FAMILY = ("int", "long", "float", "double")
TEXT_FAMILY = ("string", "bytes")
SYMBOLS = ("A", "B", "C", "D", "E", "F")
NAMESPACES = ("", "soma", "soma.contracts", "other")
LOGICAL_PRIMITIVES: tuple[dict[str, Any], ...] = (
    {"type": "int", "logicalType": "date"},
    {"type": "int", "logicalType": "time-millis"},
    {"type": "long", "logicalType": "timestamp-millis"},
    {"type": "long", "logicalType": "timestamp-micros"},
    {"type": "string", "logicalType": "uuid"},
    {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
)
NAMED_KINDS = ("record", "error", "enum", "fixed")


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()
"""What :func:`default_for` returns for a type with no finite default (a recursive record)."""


def _full(name: str, namespace: str) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


# -- generation ----------------------------------------------------------------------


class _Context:
    """One schema being drawn: its named types so far, for references and defaults."""

    def __init__(self, draw: Draw, max_depth: int) -> None:
        self.draw = draw
        self.max_depth = max_depth
        self.count = 0
        self.named: dict[str, dict[str, Any]] = {}
        self.building: set[str] = set()

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def namespace_for(self, enclosing: str) -> tuple[str | None, str]:
        """An explicit namespace now and then; else the enclosing one, inherited."""
        if self.draw(st.integers(0, 4)) == 0:
            explicit = self.draw(st.sampled_from(NAMESPACES))
            return explicit, explicit
        return None, enclosing

    def schema(self, namespace: str, depth: int) -> Any:
        kinds = ["primitive", "primitive", "primitive", "logical", "enum", "fixed"]
        if depth < self.max_depth:
            kinds += ["array", "map", "union", "union", "record"]
        if self.named:
            kinds.append("reference")
        kind = self.draw(st.sampled_from(kinds))
        if kind == "union":
            return self.union(namespace, depth)
        return self.single(kind, namespace, depth)

    def single(self, kind: str, namespace: str, depth: int) -> Any:
        if kind == "primitive":
            return self.draw(st.sampled_from(PRIMITIVES))
        if kind == "logical":
            return dict(self.draw(st.sampled_from(LOGICAL_PRIMITIVES)))
        if kind == "reference":
            return self.draw(st.sampled_from(sorted(self.named)))
        if kind == "array":
            return {"type": "array", "items": self.schema(namespace, depth + 1)}
        if kind == "map":
            return {"type": "map", "values": self.schema(namespace, depth + 1)}
        if kind == "enum":
            return self.enum(namespace)
        if kind == "fixed":
            return self.fixed(namespace)
        return self.record(namespace, depth + 1)

    def union(self, namespace: str, depth: int) -> list[Any]:
        keys = self.draw(
            st.lists(
                st.sampled_from((*PRIMITIVES, "array", "map", "named")),
                min_size=1,
                max_size=4,
                unique=True,
            )
        )
        branches: list[Any] = []
        for key in keys:
            if key in PRIMITIVES:
                logical = [s for s in LOGICAL_PRIMITIVES if s["type"] == key]
                if logical and self.draw(st.integers(0, 4)) == 0:
                    branches.append(dict(self.draw(st.sampled_from(logical))))
                else:
                    branches.append(key)
            elif key == "named":
                kinds = ["enum", "fixed", "record"] + (["reference"] if self.named else [])
                branches.append(self.single(self.draw(st.sampled_from(kinds)), namespace, depth))
            else:
                branches.append(self.single(key, namespace, depth))
        return branches

    def define(self, schema: dict[str, Any], enclosing: str) -> str:
        explicit, namespace = self.namespace_for(enclosing)
        if explicit is not None:
            schema["namespace"] = explicit
        full = _full(schema["name"], namespace)
        self.named[full] = schema
        return full

    def enum(self, enclosing: str) -> dict[str, Any]:
        symbols = self.draw(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=4, unique=True))
        schema: dict[str, Any] = {"type": "enum", "name": self.fresh("E"), "symbols": symbols}
        self.define(schema, enclosing)
        if self.draw(st.booleans()):
            schema["default"] = self.draw(st.sampled_from(symbols))
        return schema

    def fixed(self, enclosing: str) -> dict[str, Any]:
        size = self.draw(st.sampled_from((1, 2, 4, 12, 16)))
        schema: dict[str, Any] = {"type": "fixed", "name": self.fresh("F"), "size": size}
        self.define(schema, enclosing)
        logical = self.draw(st.sampled_from((None, None, "decimal", "duration")))
        if logical == "decimal":
            schema.update(logicalType="decimal", precision=min(2 * size, 9), scale=0)
        elif logical == "duration" and size == 12:
            schema["logicalType"] = "duration"
        return schema

    def record(self, enclosing: str, depth: int) -> dict[str, Any]:
        kind = "error" if self.draw(st.integers(0, 9)) == 0 else "record"
        schema: dict[str, Any] = {"type": kind, "name": self.fresh("R")}
        full = self.define(schema, enclosing)
        namespace = full.rpartition(".")[0]
        self.building.add(full)
        fields = []
        for index in range(self.draw(st.integers(1 if depth else 2, 5))):
            field: dict[str, Any] = {"name": f"f{index}", "type": self.schema(namespace, depth)}
            if self.draw(st.integers(0, 5)) == 0:
                field["aliases"] = [f"old_f{index}"]
            fields.append(field)
        schema["fields"] = fields
        self.building.discard(full)
        for field in fields:
            if self.draw(st.booleans()):
                value = default_for(field["type"], self.named, frozenset(self.building))
                if value is not NO_DEFAULT:
                    field["default"] = value
        return schema


@st.composite
def record_schemas(draw: Draw, *, max_depth: int = 3) -> dict[str, Any]:
    """Valid Avro record schemas, nested up to ``max_depth`` levels."""
    context = _Context(draw, max_depth)
    namespace = draw(st.sampled_from(NAMESPACES))
    schema = context.record(namespace, 0)
    if namespace:
        schema.setdefault("namespace", namespace)
    return schema


def default_for(
    schema: Any, named: dict[str, dict[str, Any]], seen: frozenset[str] = frozenset()
) -> Any:
    """A fixed valid default of ``schema`` (references resolved by full name in ``named``)."""
    if isinstance(schema, list):
        return default_for(schema[0], named, seen) if schema else NO_DEFAULT
    if isinstance(schema, str):
        simple: dict[str, Any] = {
            "null": None,
            "boolean": False,
            "int": 0,
            "long": 0,
            "float": 0.0,
            "double": 0.0,
            "bytes": "",
            "string": "",
        }
        if schema in simple:
            return simple[schema]
        if schema in seen or schema not in named:
            return NO_DEFAULT
        return default_for(named[schema], named, seen)
    kind = schema["type"]
    if kind in PRIMITIVES:
        return default_for(kind, named, seen)
    if kind == "enum":
        return schema["symbols"][0]
    if kind == "fixed":
        return "\u0000" * schema["size"]
    if kind == "array":
        return []
    if kind == "map":
        return {}
    full = next((name for name, value in named.items() if value is schema), None)
    if full is None or full in seen:
        return NO_DEFAULT
    value = {}
    for field in schema.get("fields", ()):
        value[field["name"]] = default_for(field["type"], named, seen | {full})
        if value[field["name"]] is NO_DEFAULT:
            return NO_DEFAULT
    return value


# -- reading a drawn schema ------------------------------------------------------------


Site = tuple[Any, Any]
"""A place holding a type: (container, key) with ``container[key]`` the type."""


def _index(schema: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[Site]]:
    """The named definitions by full name, and every place a type is written."""
    named: dict[str, dict[str, Any]] = {}
    sites: list[Site] = []

    def at(container: Any, key: Any, namespace: str) -> None:
        sites.append((container, key))
        walk(container[key], namespace)

    def walk(node: Any, namespace: str) -> None:
        if isinstance(node, list):
            for index in range(len(node)):
                at(node, index, namespace)
        elif isinstance(node, dict):
            kind = node["type"]
            if kind in NAMED_KINDS:
                full = _full(node["name"], node.get("namespace", namespace) or "")
                named[full] = node
                for field in node.get("fields", ()):
                    at(field, "type", full.rpartition(".")[0])
            elif kind == "array":
                at(node, "items", namespace)
            elif kind == "map":
                at(node, "values", namespace)

    walk(schema, "")
    return named, sites


def definitions(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The named types ``schema`` defines, by full name."""
    return _index(schema)[0]


def has_references(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` refers to a named type by name anywhere."""
    named, sites = _index(schema)
    return any(isinstance(c[k], str) and c[k] in named for c, k in sites)


def _refresh_defaults(schema: dict[str, Any]) -> None:
    named = definitions(schema)
    for definition in named.values():
        for field in definition.get("fields", ()):
            if "default" in field:
                value = default_for(field["type"], named)
                if value is NO_DEFAULT:
                    del field["default"]
                else:
                    field["default"] = value


def _is_valid(schema: dict[str, Any]) -> bool:
    try:
        parse(schema)
    except InvalidSchemaError:
        return False
    return True


# -- edits -----------------------------------------------------------------------------


def _records(named: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in named.values() if d["type"] in ("record", "error")]


def _unused(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name += "x"
    return name


def _add_field(draw: Draw, schema: dict[str, Any], named: dict[str, Any], _: list[Site]) -> bool:
    record = draw(st.sampled_from(_records(named)))
    name = _unused("added", {f["name"] for f in record["fields"]})
    type_ = draw(st.sampled_from((*PRIMITIVES, "enum", "union")))
    if type_ == "enum":
        type_ = {"type": "enum", "name": _unused("AddedEnum", set(named)), "symbols": ["A", "B"]}
    elif type_ == "union":
        type_ = ["null", "string"]
    field: dict[str, Any] = {"name": name, "type": type_}
    if draw(st.booleans()):
        field["default"] = default_for(type_, named)
    position = draw(st.integers(0, len(record["fields"])))
    record["fields"].insert(position, field)
    return True


def _remove_field(draw: Draw, schema: dict[str, Any], named: dict[str, Any], _: list[Site]) -> bool:
    records = [r for r in _records(named) if r["fields"]]
    if not records:
        return False
    record = draw(st.sampled_from(records))
    del record["fields"][draw(st.integers(0, len(record["fields"]) - 1))]
    return True


def _field(draw: Draw, named: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    records = [r for r in _records(named) if r["fields"]]
    if not records:
        return None
    record = draw(st.sampled_from(records))
    return record, draw(st.sampled_from(record["fields"]))


def _rename_field(draw: Draw, schema: dict[str, Any], named: dict[str, Any], _: list[Site]) -> bool:
    found = _field(draw, named)
    if found is None:
        return False
    record, field = found
    old = field["name"]
    field["name"] = _unused(f"{old}_renamed", {f["name"] for f in record["fields"]})
    if draw(st.booleans()):
        field["aliases"] = [*field.get("aliases", []), old]
    return True


def _alias_sibling(
    draw: Draw, schema: dict[str, Any], named: dict[str, Any], _: list[Site]
) -> bool:
    """Give a field the name of another as alias: ambiguous when read as the reader."""
    records = [r for r in _records(named) if len(r["fields"]) > 1]
    if not records:
        return False
    record = draw(st.sampled_from(records))
    field, other = draw(st.permutations(record["fields"]))[:2]
    field["aliases"] = [*field.get("aliases", []), other["name"]]
    return True


def _toggle_default(
    draw: Draw, schema: dict[str, Any], named: dict[str, Any], _: list[Site]
) -> bool:
    found = _field(draw, named)
    if found is None:
        return False
    field = found[1]
    if "default" in field:
        del field["default"]
        return True
    value = default_for(field["type"], named)
    if value is NO_DEFAULT:
        return False
    field["default"] = value
    return True


def _base(type_: Any) -> str | None:
    if isinstance(type_, str) and type_ in PRIMITIVES:
        return type_
    if isinstance(type_, dict) and type_["type"] in PRIMITIVES:
        return str(type_["type"])
    return None


def _retype(draw: Draw, schema: dict[str, Any], named: dict[str, Any], sites: list[Site]) -> bool:
    """Promote, demote or swap a primitive within its family, or replace any type."""
    if not sites:
        return False
    container, key = draw(st.sampled_from(sites))
    base = _base(container[key])
    family = (
        NUMERIC_FAMILY if base in NUMERIC_FAMILY else TEXT_FAMILY if base in TEXT_FAMILY else None
    )
    if family is not None and draw(st.integers(0, 2)):
        container[key] = draw(st.sampled_from([t for t in family if t != base]))
    else:
        container[key] = draw(st.sampled_from(PRIMITIVES))
    return True


def _reshape(draw: Draw, schema: dict[str, Any], named: dict[str, Any], sites: list[Site]) -> bool:
    """Wrap a type in a union, unwrap a union, add or drop a branch, swap array and map."""
    if not sites:
        return False
    container, key = draw(st.sampled_from(sites))
    type_ = container[key]
    if isinstance(type_, list):
        action = draw(st.sampled_from(("unwrap", "add", "drop")))
        if action == "unwrap" and not isinstance(container, list):
            container[key] = draw(st.sampled_from(type_)) if type_ else "null"
        elif action == "add":
            present = {b for b in type_ if isinstance(b, str)}
            extra = [p for p in PRIMITIVES if p not in present]
            if not extra:
                return False
            type_.insert(draw(st.integers(0, len(type_))), draw(st.sampled_from(extra)))
        elif len(type_) > 1:
            del type_[draw(st.integers(0, len(type_) - 1))]
        else:
            return False
        return True
    if isinstance(type_, dict) and type_["type"] in ("array", "map"):
        inner = type_.get("items", type_.get("values"))
        container[key] = (
            {"type": "map", "values": inner}
            if type_["type"] == "array"
            else {"type": "array", "items": inner}
        )
        return True
    if isinstance(container, list) or type_ == "null":
        return False
    container[key] = ["null", type_] if draw(st.booleans()) else [type_, "null"]
    return True


def _edit_enum(draw: Draw, schema: dict[str, Any], named: dict[str, Any], _: list[Site]) -> bool:
    enums = [d for d in named.values() if d["type"] == "enum"]
    if not enums:
        return False
    enum = draw(st.sampled_from(enums))
    symbols = enum["symbols"]
    action = draw(st.sampled_from(("add", "remove", "default", "reorder")))
    if action == "add":
        extra = [s for s in SYMBOLS if s not in symbols] or ["G"]
        symbols.insert(draw(st.integers(0, len(symbols))), draw(st.sampled_from(extra)))
    elif action == "remove" and len(symbols) > 1:
        removable = [s for s in symbols if s != enum.get("default")]
        symbols.remove(draw(st.sampled_from(removable)))
    elif action == "default":
        if "default" in enum:
            del enum["default"]
        else:
            enum["default"] = draw(st.sampled_from(symbols))
    else:
        enum["symbols"] = draw(st.permutations(symbols))
    return True


def _resize(draw: Draw, schema: dict[str, Any], named: dict[str, Any], _: list[Site]) -> bool:
    fixeds = [d for d in named.values() if d["type"] == "fixed"]
    if not fixeds:
        return False
    fixed = draw(st.sampled_from(fixeds))
    fixed["size"] = draw(st.sampled_from([s for s in (1, 2, 4, 8, 16) if s != fixed["size"]]))
    for key in ("logicalType", "precision", "scale"):
        fixed.pop(key, None)
    return True


def _rename_type(
    draw: Draw, schema: dict[str, Any], named: dict[str, Any], sites: list[Site]
) -> bool:
    """Rename a named type, or move it to another namespace; maybe alias the old name."""
    old_full = draw(st.sampled_from(sorted(named)))
    definition = named[old_full]
    old_namespace, _, old_short = old_full.rpartition(".")
    if definition["type"] in ("enum", "fixed") and draw(st.booleans()):
        new_namespace = _unused("moved", {old_namespace})
        definition["namespace"] = new_namespace
        new_full = f"{new_namespace}.{old_short}"
    else:
        definition["name"] = _unused(f"{old_short}Renamed", {n.rpartition(".")[2] for n in named})
        new_full = _full(definition["name"], old_namespace)
    alias = draw(st.sampled_from((None, "short", "full", "wrong-namespace")))
    if alias == "short":
        definition["aliases"] = [old_short]
    elif alias == "full":
        definition["aliases"] = [old_full]
    elif alias == "wrong-namespace":
        definition["aliases"] = [f"elsewhere.{old_short}"]
    for container, key in sites:
        if container[key] == old_full:
            container[key] = new_full
    return True


_EDITS = (
    _add_field,
    _add_field,
    _remove_field,
    _remove_field,
    _rename_field,
    _alias_sibling,
    _toggle_default,
    _retype,
    _retype,
    _reshape,
    _reshape,
    _edit_enum,
    _edit_enum,
    _resize,
    _rename_type,
    _rename_type,
)


@st.composite
def mutants(draw: Draw, schema: dict[str, Any], *, max_edits: int = 3) -> dict[str, Any]:
    """A valid schema made from ``schema`` (left unchanged) by one to ``max_edits`` edits."""
    current = schema
    for _ in range(draw(st.integers(1, max_edits))):
        candidate = copy.deepcopy(current)
        named, sites = _index(candidate)
        edit = draw(st.sampled_from(_EDITS))
        if not edit(draw, candidate, named, sites):
            continue
        _refresh_defaults(candidate)
        if _is_valid(candidate):
            current = candidate
    if current is schema:
        current = copy.deepcopy(schema)
        name = _unused("added", {f["name"] for f in current["fields"]})
        current["fields"].append({"name": name, "type": "int", "default": 0})
    return current


@st.composite
def schema_pairs(draw: Draw, *, max_depth: int = 3) -> tuple[dict[str, Any], dict[str, Any]]:
    """(reader, writer): a drawn schema and a mutant of it, in either order."""
    original = draw(record_schemas(max_depth=max_depth))
    mutant = draw(mutants(original))
    return (original, mutant) if draw(st.booleans()) else (mutant, original)

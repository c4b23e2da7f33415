"""Schema text as the registry stores and compares it, and schemas with references expanded.

Identity. Confluent Schema Registry identifies an Avro schema by the string Apache
Avro Java's ``Schema.toString()`` prints for it (``AvroSchema.canonicalString``), plus
its references: whitespace and the order of the known attributes do not matter, but
docs, defaults, aliases, logical types and custom properties do. :func:`schema_string`
prints that form: compact JSON, attributes in Java's order (``type``, ``name``,
``namespace``, ``doc``, ``fields``/``symbols``/``items``/``values``/``size``, ``default``,
``order``, custom properties in the order given, ``aliases``), a ``namespace`` only
where it differs from the enclosing one, and a named type written by name after its
definition.

With ``normalize=True`` (the ``?normalize=true`` of Confluent's API) the form also
drops what only the spelling decides: every name and alias is written fully qualified
with no ``namespace`` attribute, aliases are sorted, custom properties are sorted by
key and ``"order": "ascending"`` is dropped. Docs, defaults, logical types and custom
properties stay, as in Confluent's ``AvroSchema.normalize``. Two schemas that differ
only in how names are qualified are then the same schema. This is not the Avro
Parsing Canonical Form, which drops defaults and aliases that change how data is read.

References. A schema may name types defined by the schemas it references. Apache
Avro Java parses the referenced schemas first; here :func:`expand` inlines each
referenced definition at its first use instead, so that the result is a standalone
schema the compatibility engine can check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from somacontracts.validation import PRIMITIVE_TYPES, qualified_name

__all__ = ["defined_names", "expand", "schema_string", "top_level_name"]

_NAMED = ("record", "error", "enum", "fixed")
_RECORD_KEYS = ("type", "name", "namespace", "doc", "fields", "aliases")
_ENUM_KEYS = ("type", "name", "namespace", "doc", "symbols", "default", "aliases")
_FIXED_KEYS = ("type", "name", "namespace", "doc", "size", "aliases")
_FIELD_KEYS = ("name", "type", "doc", "default", "order", "aliases")


def _space(full_name: str) -> str:
    return full_name.rpartition(".")[0]


def _own_full_name(schema: Mapping[str, Any], enclosing: str) -> str:
    name = str(schema["name"])
    if "." in name:
        return name
    namespace = schema.get("namespace", enclosing)
    return qualified_name(name, namespace if isinstance(namespace, str) else "")


def _resolve(name: str, namespace: str, known: Iterable[str] | set[str]) -> str:
    candidate = qualified_name(name, namespace)
    known_set = known if isinstance(known, set) else set(known)
    if candidate in known_set or name not in known_set:
        return candidate
    return name


def schema_string(schema: Any, *, normalize: bool = False, known: Iterable[str] = ()) -> str:
    """The text the registry stores for ``schema`` (decoded, valid schema JSON).

    ``known`` holds the full names defined by the schema's references, written by name.
    """
    writer = _Writer(normalize=normalize, defined=set(known))
    return json.dumps(writer.schema(schema, ""), separators=(",", ":"), ensure_ascii=False)


def defined_names(schema: Any) -> set[str]:
    """The full names of the named types ``schema`` defines."""
    writer = _Writer(normalize=True, defined=set())
    writer.schema(schema, "")
    return writer.defined


def top_level_name(schema: Any) -> str | None:
    """The full name of the named type ``schema`` defines at its top, if it is one."""
    if isinstance(schema, dict) and schema.get("type") in _NAMED and "name" in schema:
        return _own_full_name(schema, "")
    return None


class _Writer:
    def __init__(self, *, normalize: bool, defined: set[str]) -> None:
        self.normalize = normalize
        self.defined = defined

    def name(self, full_name: str, namespace: str) -> str:
        if self.normalize or _space(full_name) != namespace:
            return full_name
        return full_name.rpartition(".")[2]

    def reference(self, name: str, namespace: str) -> str:
        return self.name(_resolve(name, namespace, self.defined), namespace)

    def props(self, schema: Mapping[str, Any], reserved: Iterable[str]) -> dict[str, Any]:
        skip = set(reserved)
        found = {key: value for key, value in schema.items() if key not in skip}
        if self.normalize:
            return dict(sorted(found.items()))
        return found

    def schema(self, schema: Any, namespace: str) -> Any:
        if isinstance(schema, str):
            return schema if schema in PRIMITIVE_TYPES else self.reference(schema, namespace)
        if isinstance(schema, list):
            return [self.schema(branch, namespace) for branch in schema]
        if not isinstance(schema, dict):
            return schema
        type_ = schema.get("type")
        if type_ in _NAMED:
            return self.named(schema, str(type_), namespace)
        if type_ == "array":
            out = {"type": "array", "items": self.schema(schema.get("items"), namespace)}
            return out | self.props(schema, ("type", "items"))
        if type_ == "map":
            out = {"type": "map", "values": self.schema(schema.get("values"), namespace)}
            return out | self.props(schema, ("type", "values"))
        if type_ in PRIMITIVE_TYPES:
            props = self.props(schema, ("type",))
            return {"type": type_, **props} if props else type_
        if isinstance(type_, str):
            # {"type": "ns.Name"} is a reference; Java keeps no attributes of it.
            return self.reference(type_, namespace)
        return schema

    def aliases(self, aliases: Any, space: str) -> Any:
        if not isinstance(aliases, list):
            return aliases
        names = [qualified_name(a, space) if isinstance(a, str) else a for a in aliases]
        if self.normalize:
            return sorted(names, key=str)
        return [self.name(a, space) if isinstance(a, str) else a for a in names]

    def named(self, schema: dict[str, Any], type_: str, namespace: str) -> dict[str, Any]:
        full_name = _own_full_name(schema, namespace)
        space = _space(full_name)
        self.defined.add(full_name)
        if self.normalize:
            out: dict[str, Any] = {"type": type_, "name": full_name}
        else:
            out = {"type": type_, "name": full_name.rpartition(".")[2]}
            if space != namespace:
                out["namespace"] = space
        if "doc" in schema:
            out["doc"] = schema["doc"]
        reserved: tuple[str, ...]
        if type_ in ("record", "error"):
            reserved = _RECORD_KEYS
            fields = schema.get("fields")
            if isinstance(fields, list):
                out["fields"] = [self.field(field, space) for field in fields]
            else:
                out["fields"] = fields
        elif type_ == "enum":
            reserved = _ENUM_KEYS
            out["symbols"] = schema.get("symbols")
            if "default" in schema:
                out["default"] = schema["default"]
        else:
            reserved = _FIXED_KEYS
            out["size"] = schema.get("size")
        out.update(self.props(schema, reserved))
        if "aliases" in schema:
            out["aliases"] = self.aliases(schema["aliases"], space)
        return out

    def field(self, field: Any, namespace: str) -> Any:
        if not isinstance(field, dict):
            return field
        out: dict[str, Any] = {"name": field.get("name")}
        out["type"] = self.schema(field.get("type"), namespace)
        for key in ("doc", "default"):
            if key in field:
                out[key] = field[key]
        order = field.get("order", "ascending")
        if "order" in field and not (self.normalize and order == "ascending"):
            out["order"] = order
        out.update(self.props(field, _FIELD_KEYS))
        if "aliases" in field:
            aliases = field["aliases"]
            out["aliases"] = sorted(aliases, key=str) if self.normalize else aliases
        return out


def expand(schema: Any, references: Mapping[str, Any]) -> Any:
    """``schema`` with the definitions of ``references`` inlined where first used.

    ``references`` maps the full name each referenced schema defines to that schema,
    itself already expanded. A type defined by two references is inlined once.
    """
    return _Expander(references).walk(schema, "", inlined=False)


class _Expander:
    def __init__(self, references: Mapping[str, Any]) -> None:
        self.references = references
        self.defined: set[str] = set()

    def use(self, name: str, namespace: str) -> Any:
        full_name = _resolve(name, namespace, self.defined | set(self.references))
        if full_name in self.defined or full_name not in self.references:
            return name
        definition = dict(self.references[full_name])
        # Absolute, so that the enclosing namespace cannot change what it defines.
        definition["name"] = full_name
        definition.pop("namespace", None)
        if "." not in full_name:
            definition["namespace"] = ""
        return self.walk(definition, namespace, inlined=True)

    def walk(self, schema: Any, namespace: str, *, inlined: bool) -> Any:
        if isinstance(schema, str):
            return schema if schema in PRIMITIVE_TYPES else self.use(schema, namespace)
        if isinstance(schema, list):
            return [self.walk(branch, namespace, inlined=inlined) for branch in schema]
        if not isinstance(schema, dict):
            return schema
        type_ = schema.get("type")
        if type_ in _NAMED and isinstance(schema.get("name"), str):
            full_name = _own_full_name(schema, namespace)
            if inlined and full_name in self.defined:
                return full_name
            self.defined.add(full_name)
            out = dict(schema)
            fields = schema.get("fields")
            if type_ in ("record", "error") and isinstance(fields, list):
                out["fields"] = [
                    {**f, "type": self.walk(f.get("type"), _space(full_name), inlined=inlined)}
                    if isinstance(f, dict) and "type" in f
                    else f
                    for f in fields
                ]
            return out
        if type_ == "array" and "items" in schema:
            return {**schema, "items": self.walk(schema["items"], namespace, inlined=inlined)}
        if type_ == "map" and "values" in schema:
            return {**schema, "values": self.walk(schema["values"], namespace, inlined=inlined)}
        if isinstance(type_, str) and type_ not in PRIMITIVE_TYPES and type_ not in _NAMED:
            used = self.use(type_, namespace)
            return schema if used == type_ else used
        return schema

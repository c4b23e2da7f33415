"""Written forms of a parsed schema: the text a registry stores, and the Parsing Canonical Form.

Registry text. Confluent Schema Registry identifies an Avro schema by the string Apache
Avro Java's ``Schema.toString()`` prints for it (``AvroSchema.canonicalString``), plus
its references: white space and the order of the known attributes do not matter, but
docs, defaults, aliases, logical types and custom properties do. :func:`registry_text`
prints that form: compact JSON, attributes in Java's order (``type``, ``name``,
``namespace``, ``doc``, ``fields``/``symbols``/``items``/``values``/``size``,
``default``, ``order``, custom properties in the order given, ``aliases``), a
``namespace`` only where it differs from the enclosing one, and a named type written
by name after its definition (and types the references define, always by name).
:func:`standalone` writes those referenced types out instead, where first used, so that
the result parses without its references; :func:`named_text` writes one named type as a
schema of its own (what a shared type's subject holds).

With ``normalize=True`` (the ``?normalize=true`` of Confluent's API) the form also drops
what only the spelling decides: every name and alias is written fully qualified with no
``namespace`` attribute, aliases are sorted, custom properties are sorted by key and
``"order": "ascending"`` is dropped. Docs, defaults, logical types and custom
properties stay, as in Confluent's ``AvroSchema.normalize``.

Canonical form. :func:`canonical_form` is the Avro specification's Parsing Canonical
Form as fastavro's ``to_parsing_canonical_form`` prints it (an ``error`` is a
``record`` there), so that fingerprints recorded in lock files stay as they were: full
names, only the attributes that decide how data is read, in the specification's order;
it drops docs, defaults, aliases and logical types. :func:`fingerprint` is its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FieldNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    RecordNode,
    UnionNode,
)
from somacontracts.schema.names import full_name, namespace_of
from somacontracts.schema.parse import parse

__all__ = [
    "canonical_form",
    "fingerprint",
    "named_text",
    "registry_text",
    "shared_form",
    "shared_types",
    "standalone",
]

_RESERVED = {
    "record": ("type", "name", "namespace", "doc", "fields", "aliases"),
    "enum": ("type", "name", "namespace", "doc", "symbols", "default", "aliases"),
    "fixed": ("type", "name", "namespace", "doc", "size", "aliases"),
}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def registry_text(schema: Any, *, normalize: bool = False) -> str:
    """The text a registry stores for ``schema`` (schema JSON, text or parsed)."""
    parsed = parse(schema)
    writer = _TextWriter(normalize=normalize, written=set(parsed.references))
    return _compact(writer.node(parsed.root, ""))


def standalone(schema: Any) -> Any:
    """``schema`` as JSON that parses on its own: the types its references define are
    written out where first used (Java's order of attributes, names as written)."""
    parsed = parse(schema)
    return _TextWriter(normalize=False, written=set()).node(parsed.root, "")


def named_text(node: NamedNode, *, normalize: bool = True) -> str:
    """The text a registry stores for the named type ``node`` as a schema of its own (a
    shared type's subject): the types it uses written out where first used."""
    return _compact(_TextWriter(normalize=normalize, written=set()).node(node, ""))


def shared_form(node: NamedNode) -> tuple[Any, tuple[NamedNode, ...]]:
    """The named type ``node`` as a shared type's subject holds it: normalized, every other
    named type it uses written by name (each the shared type of a subject of its own, so
    that no two references define one type twice), and those types, first used first."""
    writer = _TextWriter(normalize=True, written=set(), only=node.full_name)
    return writer.node(node, ""), tuple(writer.used.values())


def shared_types(used: Iterable[NamedNode]) -> dict[str, dict[str, Any]]:
    """Every shared type a schema using the types ``used`` needs, by full name, each after
    the ones it references: ``{"schema": ..., "references": [full names]}``, what a
    registry's subjects of those types hold (:func:`shared_form`)."""
    found: dict[str, dict[str, Any]] = {}
    visiting: set[str] = set()

    def visit(node: NamedNode) -> None:
        if node.full_name in found or node.full_name in visiting:
            return
        visiting.add(node.full_name)
        schema, references = shared_form(node)
        for inner in references:
            visit(inner)
        found[node.full_name] = {
            "schema": schema,
            "references": [inner.full_name for inner in references],
        }

    for node in used:
        visit(node)
    return found


class _TextWriter:
    def __init__(self, *, normalize: bool, written: set[str], only: str | None = None) -> None:
        self.normalize = normalize
        self.written = written
        self.only = only
        """The one named type to write out; any other is written by name (and noted)."""
        self.used: dict[str, NamedNode] = {}

    def name(self, full: str, namespace: str) -> str:
        if self.normalize or namespace_of(full) != namespace:
            return full
        return full.rpartition(".")[2]

    def props(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(sorted(props.items())) if self.normalize else dict(props)

    def node(self, node: Node, namespace: str) -> Any:
        if isinstance(node, NamedNode):
            if self.only is not None and node.full_name != self.only:
                self.used.setdefault(node.full_name, node)
                return self.name(node.full_name, namespace)
            if node.full_name in self.written:
                return self.name(node.full_name, namespace)
            return self.named(node, namespace)
        if isinstance(node, UnionNode):
            return [self.node(branch, namespace) for branch in node.branches]
        if isinstance(node, ArrayNode):
            out = {"type": "array", "items": self.node(node.items, namespace)}
            return out | self.props(node.props)
        if isinstance(node, MapNode):
            out = {"type": "map", "values": self.node(node.values, namespace)}
            return out | self.props(node.props)
        props = self.props(node.props)
        return {"type": node.kind, **props} if props else node.kind

    def named(self, node: NamedNode, namespace: str) -> dict[str, Any]:
        self.written.add(node.full_name)
        space = node.namespace
        kind = "error" if isinstance(node, RecordNode) and node.is_error else node.kind
        out: dict[str, Any] = {"type": kind, "name": self.name(node.full_name, space)}
        if not self.normalize and space != namespace:
            out["namespace"] = space
        if "doc" in node.json:
            out["doc"] = node.json["doc"]
        if isinstance(node, RecordNode):
            out["fields"] = [self.field(field, space) for field in node.fields]
        elif isinstance(node, EnumNode):
            out["symbols"] = list(node.symbols)
            if "default" in node.json:
                out["default"] = node.json["default"]
        elif isinstance(node, FixedNode):
            out["size"] = node.size
        out.update(self.props(node.props))
        if "aliases" in node.json:
            out["aliases"] = self.aliases(node.aliases_written, space)
        return out

    def aliases(self, aliases: Iterable[str], space: str) -> list[str]:
        names = [full_name(alias, space) for alias in aliases]
        if self.normalize:
            return sorted(names)
        return [self.name(alias, space) for alias in names]

    def field(self, field: FieldNode, namespace: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": field.name, "type": self.node(field.node, namespace)}
        written = field.json if isinstance(field.json, dict) else {}
        for key in ("doc", "default"):
            if key in written:
                out[key] = written[key]
        if field.order is not None and not (self.normalize and field.order == "ascending"):
            out["order"] = field.order
        out.update(self.props(field.props))
        if "aliases" in written:
            aliases = list(written["aliases"])
            out["aliases"] = sorted(aliases) if self.normalize else aliases
        return out


def canonical_form(schema: Any) -> str:
    """The Avro Parsing Canonical Form of ``schema`` (schema JSON, text or parsed)."""
    parsed = parse(schema)
    return _compact(_Canonical(set(parsed.references)).node(parsed.root))


def fingerprint(schema: Any) -> str:
    """SHA-256 of the Parsing Canonical Form of ``schema``, as 64 hex digits."""
    return hashlib.sha256(canonical_form(schema).encode("utf-8")).hexdigest()


class _Canonical:
    def __init__(self, written: set[str]) -> None:
        self.written = written

    def node(self, node: Node) -> Any:
        if isinstance(node, NamedNode):
            if node.full_name in self.written:
                return node.full_name
            self.written.add(node.full_name)
            out: dict[str, Any] = {"name": node.full_name, "type": node.kind}
            if isinstance(node, RecordNode):
                out["fields"] = [
                    {"name": field.name, "type": self.node(field.node)} for field in node.fields
                ]
            elif isinstance(node, EnumNode):
                out["symbols"] = list(node.symbols)
            elif isinstance(node, FixedNode):
                out["size"] = node.size
            return out
        if isinstance(node, UnionNode):
            return [self.node(branch) for branch in node.branches]
        if isinstance(node, ArrayNode):
            return {"type": "array", "items": self.node(node.items)}
        if isinstance(node, MapNode):
            return {"type": "map", "values": self.node(node.values)}
        return node.kind

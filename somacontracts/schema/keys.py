"""Whether a dotted field path can key a contract's messages: the catalog's ``key``.

A producer keys each message by the text of one field of the payload (``str(value)``,
UTF-8): Kafka hashes the key to the partition, so messages with one key stay in order,
and a compacted topic keeps the last message of each key. The key travels as it is,
beside the value: Data Contract rules (encryption) transform the value only. So a key
path must:

- name a field of the schema, each part but the last a field of the record before it
  whose type is a record (not a union: a ``["null", record]`` on the way would leave a
  message without a key, which a compacted topic refuses and which loses its order; not
  an array or a map, which hold no one value);
- end on a field whose value has one stable text: ``string`` (a ``uuid`` gives its
  canonical text), an ``enum`` (its symbol), ``int`` or ``long`` without a logical type
  (the decimal digits). Not a union (null would send no key), ``boolean`` (two keys),
  ``float``/``double`` (``1.0`` and ``1`` are one number, two texts), ``bytes``/``fixed``
  and ``decimal`` (no text), nor a date or time (its text depends on how it is printed);
- not be tagged ``PII`` (on the field, or by the version's metadata tags), nor be
  encrypted by an enabled ``ENCRYPT`` rule (one whose tags meet the field's, or one
  without tags, which covers every field): the key would carry in plain text what the
  value carries encrypted.

:func:`key_problem` says which of these a path breaks, for ``check`` and ``validate``
(the newest version of the contract) and for a producer at start-up (the version its
model was generated from). Pure: the parsed schema and the version's Data Contract in,
a value out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from somacontracts.schema.datacontract import encrypt_rules_on_write, field_tags, rule_meets
from somacontracts.schema.graph import FieldNode, Node, RecordNode, UnionNode

__all__ = ["KEY_PII", "KEY_TYPES", "UNKNOWN_KEY", "KeyProblem", "key_problem"]

UNKNOWN_KEY = "CATALOG_KEY"
"""The rule of a key path that names no field, or a field of a type that cannot key."""
KEY_PII = "KEY_PII"
"""The rule of a key path whose field is personal data (tagged PII, or encrypted)."""
KEY_TYPES = ("string", "enum", "int", "long")
"""The types a key field may have (``int`` and ``long`` without a logical type)."""


@dataclass(frozen=True, slots=True)
class KeyProblem:
    """Why a key path cannot key a contract's messages, and where in the schema."""

    rule: str
    """:data:`UNKNOWN_KEY` or :data:`KEY_PII`."""
    reason: str
    """A phrase such as ``record "ns.Recipient" has no field "nope"``."""
    pointer: str
    """JSON pointer of the field (or record) at fault in the schema file."""


def key_problem(
    root: Node, path: str, *, metadata: Any = None, rule_set: Any = None
) -> KeyProblem | None:
    """What keeps the dotted ``path`` from keying messages of the schema ``root`` (with
    its version's ``metadata`` and ``rule_set``); None when it can."""
    found = _field_at(root, path.split("."))
    if isinstance(found, KeyProblem):
        return found
    owner, field = found
    unfit = _unfit_type(field.node)
    if unfit:
        return KeyProblem(UNKNOWN_KEY, f'"{path}" is {unfit}', field.pointer)
    tags = field_tags(metadata, owner.full_name, field.name, field.props.get("confluent:tags"))
    if "PII" in {tag.upper() for tag in tags}:
        return KeyProblem(
            KEY_PII,
            f'"{path}" is tagged PII: the key would carry it in plain text (rules encrypt '
            "the value only); key by a field without personal data",
            field.pointer,
        )
    rule = next(_encrypting(rule_set, tags), None)
    if rule is not None:
        return KeyProblem(
            KEY_PII,
            f'"{path}" is encrypted by rule "{rule}": the key would carry it in plain text '
            "(rules encrypt the value only); key by a field that is not encrypted",
            field.pointer,
        )
    return None


def _field_at(
    record: Node, parts: list[str], walked: str = ""
) -> tuple[RecordNode, FieldNode] | KeyProblem:
    """The field ``parts`` names from ``record`` on, and its record, or why it names none
    (``walked``: the path to ``record``)."""
    if not isinstance(record, RecordNode):
        return KeyProblem(UNKNOWN_KEY, _not_a_record(walked, record), record.pointer)
    field = record.by_name.get(parts[0])
    if field is None:
        known = ", ".join(f.name for f in record.fields)
        return KeyProblem(
            UNKNOWN_KEY,
            f'record "{record.full_name}" has no field "{parts[0]}" (its fields: {known})',
            record.pointer,
        )
    if len(parts) == 1:
        return record, field
    return _field_at(field.node, parts[1:], f"{walked}.{parts[0]}".lstrip("."))


def _not_a_record(walked: str, node: Node) -> str:
    if isinstance(node, UnionNode):
        return (
            f'"{walked}" is {_article(node)}: a message without it would have no key; '
            "key through records only (not nullable ones)"
        )
    return f'"{walked}" is {_article(node)}, not a record with fields'


def _unfit_type(node: Node) -> str:
    """Why a field of type ``node`` cannot key messages; empty when it can."""
    if node.kind in KEY_TYPES and (node.logical_type is None or node.kind == "string"):
        return ""
    if isinstance(node, UnionNode):
        why = "a message whose value is null would have no key"
    else:
        why = "its value has no one text to key by"
    return (
        f"{_article(node)}: {why}; a key is a string, an enum, or an int or long without a "
        "logical type, and not nullable"
    )


def _article(node: Node) -> str:
    text = node.describe()
    return f"an {text}" if text[0] in "aeio" else f"a {text}"


def _encrypting(rule_set: Any, tags: frozenset[str]) -> Iterator[str]:
    """The names of the enabled ``ENCRYPT`` rules that write a field tagged ``tags``."""
    for rule in encrypt_rules_on_write(rule_set):
        if rule_meets(rule, tags):
            yield str(rule.get("name", "ENCRYPT"))

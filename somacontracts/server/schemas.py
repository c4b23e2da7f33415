"""A schema as a request gives it, prepared for storage: its text, identity and expansion.

:func:`schema_text` checks a request's schema type and text; :func:`prepare` parses the
schema (with the definitions its references bring) through the one schema model and
returns what the store keeps: the text the registry returns (normalized when asked),
the standalone expansion the compatibility engine reads, and the two hashes that
identify it (as written, and normalized), references included, as Confluent does. Pure:
the registry resolves references to stored schemas before calling :func:`prepare`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from somacontracts.compat import CompatibilityLevel, CompatibilityResult, check_level
from somacontracts.errors import InvalidSchemaError
from somacontracts.schema import NamedNode, parse, registry_text, standalone
from somacontracts.server import errors
from somacontracts.server.store import StoredSchema

__all__ = [
    "SCHEMA_TYPES",
    "Prepared",
    "as_int",
    "check",
    "prepare",
    "reference_key",
    "reference_list",
    "same",
    "schema_text",
]

SCHEMA_TYPES = ("AVRO",)
"""The schema types this registry serves."""


@dataclass(frozen=True, slots=True)
class Prepared:
    schema_type: str
    text: str
    references: list[dict[str, object]]
    expanded: Any
    hash: str
    normal_hash: str


def schema_text(request: Mapping[str, Any]) -> str:
    """The schema text of a registration or lookup request: an Avro schema, as text."""
    schema_type = request.get("schemaType") or "AVRO"
    if not isinstance(schema_type, str) or schema_type.upper() not in SCHEMA_TYPES:
        raise errors.invalid_schema(
            f"schema type {schema_type!r} is not supported; this registry serves AVRO only"
        )
    text = request.get("schema")
    if not isinstance(text, str) or not text.strip():
        raise errors.invalid_schema('the request has no "schema" string')
    return text


def reference_list(value: Any) -> list[dict[str, Any]]:
    """The ``references`` of a request, each ``{"name", "subject", "version"}``, checked."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.invalid_schema('"references" must be an array')
    for ref in value:
        if not (
            isinstance(ref, dict)
            and isinstance(ref.get("name"), str)
            and isinstance(ref.get("subject"), str)
            and isinstance(ref.get("version"), int)
            and not isinstance(ref.get("version"), bool)
        ):
            raise errors.invalid_schema(
                'each reference must be {"name": string, "subject": string, "version": int}'
            )
    return value


def prepare(
    text: str,
    references: list[dict[str, object]],
    referenced: Sequence[tuple[str, str]],
    *,
    normalize: bool,
) -> Prepared:
    """Parse ``text`` with the definitions of ``referenced`` ((name, expanded text) of each
    reference, in order) and return what the store keeps of it."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as err:
        raise errors.invalid_schema(
            f"not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        ) from err
    defined: dict[str, NamedNode] = {}
    try:
        for name, expanded in referenced:
            definition = parse(json.loads(expanded))
            if not isinstance(definition.root, NamedNode):
                raise errors.invalid_schema(
                    f"reference {name!r} is not a record, enum or fixed schema"
                )
            defined.update(definition.named)
        parsed = parse(schema, source="schema", references=defined)
        stored = registry_text(parsed, normalize=normalize)
        normal = stored if normalize else registry_text(parsed, normalize=True)
        expansion = standalone(parsed)
    except InvalidSchemaError as err:
        raise errors.invalid_schema(str(err)) from err
    except (KeyError, TypeError, ValueError, RecursionError) as err:
        raise errors.invalid_schema(f"cannot be read as an Avro schema ({err})") from err
    normal_refs = sorted(references, key=reference_key)
    return Prepared(
        schema_type="AVRO",
        text=stored,
        references=references,
        expanded=expansion,
        hash=_digest(["AVRO", stored, references]),
        normal_hash=_digest(["AVRO", normal, normal_refs]),
    )


def check(
    level: CompatibilityLevel, prepared: Prepared, previous: list[StoredSchema]
) -> CompatibilityResult:
    """Whether ``prepared`` may follow the stored ``previous`` versions at ``level``."""
    return check_level(level, prepared.expanded, [json.loads(s.expanded) for s in previous])


def same(stored: StoredSchema, prepared: Prepared, *, normalize: bool) -> bool:
    """Whether ``stored`` is the schema of ``prepared`` (normalized identity if asked)."""
    if stored.schema_type != prepared.schema_type:
        return False
    if normalize:
        return stored.normal_hash == prepared.normal_hash
    return stored.hash == prepared.hash


def reference_key(ref: Mapping[str, object]) -> tuple[str, str, int]:
    return (str(ref["name"]), str(ref["subject"]), as_int(ref["version"]) or 0)


def as_int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _digest(value: object) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

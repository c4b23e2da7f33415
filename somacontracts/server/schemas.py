"""A schema as a request gives it, prepared for storage: its text, identity and expansion.

:func:`schema_text` checks a request's schema type and text; :func:`prepare` parses the
schema (with the definitions its references bring) through the one schema model and
returns what the store keeps: the text the registry returns (normalized when asked),
the standalone expansion the compatibility engine reads, and the two hashes that
identify it (as written, and normalized), references included, as Confluent does.
:class:`Registration` is the work of one registration that needs no store: the parse and
the compatibility check, which the registry runs outside the store's lock. Pure: the
registry reads what they need from the store (:class:`Source`, the stored versions)
before calling them.

Schemas are limited to :data:`MAX_SCHEMA_BYTES` of UTF-8 text and to the nesting depth
of :data:`somacontracts.schema.MAX_NESTING`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from somacontracts.compat import CompatibilityLevel, CompatibilityResult, check_level
from somacontracts.errors import InvalidSchemaError
from somacontracts.schema import NamedNode, decode, parse, registry_text, standalone
from somacontracts.schema.datacontract import canonical
from somacontracts.server import errors
from somacontracts.server.store import MAX_VERSION, StoredSchema, SubjectVersion

__all__ = [
    "MAX_SCHEMA_BYTES",
    "SCHEMA_TYPES",
    "Prepared",
    "Registration",
    "Source",
    "as_int",
    "check",
    "prepare",
    "reference_key",
    "reference_list",
    "same",
    "schema_text",
    "sent_back",
]

SCHEMA_TYPES = ("AVRO",)
"""The schema types this registry serves."""
MAX_SCHEMA_BYTES = 1024 * 1024
"""The largest schema text accepted, in UTF-8 bytes: 1 MiB, the size of the largest
message Confluent Schema Registry's default ``_schemas`` topic holds."""


@dataclass(frozen=True, slots=True)
class Source:
    """A request's schema with what it needs from the store: its references, resolved."""

    text: str
    references: list[dict[str, object]]
    """``{"name", "subject", "version"}`` of each reference, versions resolved."""
    referenced: list[tuple[str, str]]
    """(name, standalone text) of the schema of each reference, in order."""
    metadata: Any = None
    """The Data Contract ``metadata``, checked (:mod:`somacontracts.server.contracts`)."""
    rule_set: Any = None
    """The Data Contract ``ruleSet``, checked."""


@dataclass(frozen=True, slots=True)
class Prepared:
    schema_type: str
    text: str
    references: list[dict[str, object]]
    expanded: Any
    hash: str
    normal_hash: str
    metadata: Any = None
    rule_set: Any = None


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
    too_large = len(text) > MAX_SCHEMA_BYTES // 4  # 4 bytes at most per character
    if too_large and len(text.encode("utf-8", "replace")) > MAX_SCHEMA_BYTES:
        raise errors.invalid_schema(
            f"the schema has more than {MAX_SCHEMA_BYTES} bytes of UTF-8 text, the most "
            "this registry accepts"
        )
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
            and (ref["version"] == -1 or 1 <= ref["version"] <= MAX_VERSION)
        ):
            raise errors.invalid_schema(
                'each reference must be {"name": string, "subject": string, "version": int}, '
                "the version -1 (the latest) or from 1 to 2^31-1"
            )
    return value


def prepare(source: Source, *, normalize: bool) -> Prepared:
    """Parse ``source``'s text with the definitions of its references and return what the
    store keeps of it."""
    defined: dict[str, NamedNode] = {}
    try:
        schema = decode(source.text, source="schema")
        for name, expanded in source.referenced:
            definition = parse(expanded)
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
    references = source.references
    normal_refs = sorted(references, key=reference_key)
    contract = list(canonical(source.metadata, source.rule_set))  # part of the identity
    return Prepared(
        schema_type="AVRO",
        text=stored,
        references=references,
        expanded=expansion,
        hash=_digest(["AVRO", stored, references, *contract]),
        normal_hash=_digest(["AVRO", normal, normal_refs, *contract]),
        metadata=source.metadata,
        rule_set=source.rule_set,
    )


@dataclass(slots=True)
class Registration:
    """One registration's view of a subject, read under the store's lock, and the work on
    it that needs no store (:meth:`run`)."""

    source: Source
    normalize: bool
    mode: str
    every: list[SubjectVersion]
    """Every version of the subject, soft-deleted ones included."""
    level: CompatibilityLevel
    previous: list[StoredSchema]
    """The schemas of the live versions, oldest first."""
    compared: list[int] | None = None
    """Indexes in ``previous`` of the versions the compatibility check reads (those of
    the new schema's compatibility group); None: all of them."""
    prepared: Prepared | None = None
    existing: int | None = None
    """The id of the schema when a live version already has it."""
    result: CompatibilityResult | None = None

    @property
    def live(self) -> list[SubjectVersion]:
        """The versions not deleted, oldest first."""
        return [v for v in self.every if not v.deleted]

    def run(self) -> Prepared:
        """Parse the schema; outside import mode, find it among the live versions or check
        it against them."""
        prepared = self.prepared = prepare(self.source, normalize=self.normalize)
        if self.mode == "IMPORT":
            return prepared
        for stored in reversed(self.previous):
            if same(stored, prepared, normalize=self.normalize):
                self.existing = stored.id
                return prepared
        self.result = check(self.level, prepared, self.compared_versions()[1])
        return prepared

    def compared_versions(self) -> tuple[list[SubjectVersion], list[StoredSchema]]:
        """The versions the compatibility check reads, and their schemas."""
        live = self.live
        chosen = range(len(live)) if self.compared is None else self.compared
        return [live[i] for i in chosen], [self.previous[i] for i in chosen]


def check(
    level: CompatibilityLevel, prepared: Prepared, previous: list[StoredSchema]
) -> CompatibilityResult:
    """Whether ``prepared`` may follow the stored ``previous`` versions at ``level``."""
    try:
        return check_level(level, prepared.expanded, [s.expanded for s in previous])
    except InvalidSchemaError as err:  # stored before a limit of this version existed
        raise errors.invalid_schema(f"an earlier version cannot be read: {err}") from err


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


def sent_back(stored: StoredSchema, source: Source) -> bool:
    """Whether a lookup sends the very text the registry returns for ``stored`` (normalized
    when it was registered so), with its Data Contract parts: that is its version, whether
    or not the lookup asks to normalize (confluent-kafka's deserializer looks up the writer
    schema it fetched by id without normalizing)."""
    return source.text == stored.schema and canonical(
        source.metadata, source.rule_set
    ) == canonical(stored.metadata, stored.rule_set)

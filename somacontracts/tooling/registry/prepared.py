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
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from somacontracts.compat import CompatibilityLevel, CompatibilityResult, check_level
from somacontracts.errors import InvalidSchemaError
from somacontracts.schema import (
    NamedNode,
    ParsedSchema,
    decode,
    parse,
    registry_text,
    standalone,
)
from somacontracts.schema.datacontract import canonical
from somacontracts.tooling.registry import errors
from somacontracts.tooling.registry.store import MAX_VERSION, StoredSchema, SubjectVersion

__all__ = [
    "MAX_SCHEMA_BYTES",
    "SCHEMA_TYPES",
    "ParseCache",
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
    """The Data Contract ``metadata``, checked (:mod:`somacontracts.tooling.registry.contracts`)."""
    rule_set: Any = None
    """The Data Contract ``ruleSet``, checked."""


@dataclass(frozen=True, slots=True)
class Prepared:
    schema_type: str
    text: str
    references: list[dict[str, object]]
    expanded: Any
    """The standalone expansion (references inlined) that compatibility checks read."""
    hash: str
    normal_hash: str
    metadata: Any = None
    rule_set: Any = None
    expanded_text: str = ""
    """The expansion as the store keeps it (compact JSON)."""
    parsed: ParsedSchema | None = None
    """The expansion, parsed."""


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
        parsed_expansion = parse(expansion, source="schema")
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
        expanded_text=json.dumps(expansion, separators=(",", ":")),
        parsed=parsed_expansion,
    )


@dataclass(slots=True)
class Registration:
    """One registration's view of a subject, read under the store's lock, and the work on
    it that needs no store (:meth:`prepare`, :meth:`check`).

    It holds only what the level reads: the latest version of the new schema's
    compatibility group, or every one of them at a transitive level.
    """

    source: Source
    normalize: bool
    mode: str
    level: CompatibilityLevel
    compared: list[SubjectVersion]
    """The live versions the compatibility check reads, oldest first."""
    previous: list[StoredSchema]
    """Their schemas."""
    prepared: Prepared | None = None
    existing: int | None = None
    """The id of the schema when a live version of the subject already has it."""
    result: CompatibilityResult | None = None

    def prepare(self) -> Prepared:
        """Parse the schema into what the store keeps."""
        self.prepared = prepare(self.source, normalize=self.normalize)
        return self.prepared

    def check(self, parsed: Callable[[StoredSchema], Any]) -> None:
        """Check the prepared schema against the compared versions, each read through
        ``parsed`` (the registry's cache of parsed schemas), unless there is nothing to
        check: a live version already has it, or the subject imports."""
        assert self.prepared is not None
        if self.existing is None and self.mode != "IMPORT":
            self.result = check(self.level, self.prepared, [parsed(s) for s in self.previous])


def check(
    level: CompatibilityLevel, prepared: Prepared, previous: list[Any]
) -> CompatibilityResult:
    """Whether ``prepared`` may follow ``previous`` (stored schemas' expansions, as text or
    parsed) at ``level``."""
    try:
        return check_level(level, prepared.parsed or prepared.expanded, previous)
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


class ParseCache:
    """Parsed schema expansions by their text, the ``size`` used last; thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._found: OrderedDict[str, ParsedSchema] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> ParsedSchema:
        """``text`` parsed, from the cache or parsed now."""
        with self._lock:
            found = self._found.get(text)
            if found is not None:
                self._found.move_to_end(text)
                return found
        found = parse(text, source="stored schema")  # outside the lock: it takes time
        self.put(text, found)
        return found

    def put(self, text: str, parsed: ParsedSchema) -> None:
        """Keep ``parsed`` as the parse of ``text``."""
        with self._lock:
            self._found[text] = parsed
            self._found.move_to_end(text)
            while len(self._found) > self._size:
                self._found.popitem(last=False)

"""The arguments of the REST API checked, and the bodies of its answers: pure functions.

Each check raises :class:`~somacontracts.tooling.registry.errors.ApiError` with Confluent's status
and error code; :func:`messages` words an incompatibility as Confluent's verbose
compatibility answer does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from somacontracts.compat import (
    CompatibilityLevel,
    CompatibilityResult,
    Direction,
    Incompatibility,
    IncompatibilityType,
)
from somacontracts.tooling.registry import errors
from somacontracts.tooling.registry.store import (
    GLOBAL,
    MAX_ID,
    MAX_VERSION,
    StoredSchema,
    SubjectVersion,
)

__all__ = [
    "check_subject",
    "integer",
    "messages",
    "optional_int",
    "request_object",
    "version_body",
    "version_number",
    "with_contract",
]

_RESERVED_SUBJECTS = frozenset({GLOBAL, "__EMPTY"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# ASCII digits only: int() also reads "+1", "1_0" and other scripts' digits
_INTEGER = re.compile(r"-?[0-9]{1,12}")


def integer(text: str) -> int | None:
    """The integer ``text`` spells in plain ASCII digits (an optional minus, at most 12
    digits); None for anything else."""
    return int(text) if _INTEGER.fullmatch(text) else None


_READER_WRITER = {Direction.BACKWARD: ("new", "old"), Direction.FORWARD: ("old", "new")}


def request_object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise errors.ApiError(422, 422, "Unprocessable Entity: the request body must be an object")
    return body


def optional_int(request: Mapping[str, Any], key: str) -> int | None:
    """The ``id`` or ``version`` a request gives: None for none or -1, else 1 to 2^31-1.

    Schema ids are 32-bit signed on Confluent's wire format, and versions are numbered
    in the same range; anything else is refused before it reaches the store.
    """
    value = request.get(key)
    if value is None or value == -1:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise errors.ApiError(
            422,
            422,
            f'Unprocessable Entity: "{key}" must be an integer from 1 to {MAX_ID} (or -1), '
            f"not {errors.shown(value, 40)}",
        )
    return value


def check_subject(subject: str) -> None:
    if not subject or subject in _RESERVED_SUBJECTS or _CONTROL.search(subject):
        raise errors.invalid_subject(subject)


def version_number(text: str) -> int | None:
    """The version number in a path; ``None`` for the latest; 42202 if not a version."""
    if text == "latest":
        return None
    number = integer(text)
    if number == -1:
        return None
    if number is None or not 1 <= number <= MAX_VERSION:
        raise errors.invalid_version(text)
    return number


def version_body(version: SubjectVersion, stored: StoredSchema) -> dict[str, object]:
    body: dict[str, object] = {
        "subject": version.subject,
        "version": version.version,
        "id": stored.id,
        "guid": stored.guid,
    }
    if stored.schema_type != "AVRO":
        body["schemaType"] = stored.schema_type
    if stored.references:
        body["references"] = list(stored.references)
    body["schema"] = stored.schema
    return with_contract(body, stored)


def with_contract(body: dict[str, object], stored: StoredSchema) -> dict[str, object]:
    """``body`` with the schema's Data Contract ``metadata`` and ``ruleSet``, if any."""
    if stored.metadata is not None:
        body["metadata"] = stored.metadata
    if stored.rule_set is not None:
        body["ruleSet"] = stored.rule_set
    return body


def messages(
    result: CompatibilityResult,
    versions: list[SubjectVersion],
    previous: list[StoredSchema],
    level: CompatibilityLevel,
) -> list[str]:
    """Confluent's verbose messages: the problems with the first incompatible old version."""
    position = result.problems[0].version or len(versions)
    problems = [p for p in result.problems if p.version == position]
    messages = [difference(p) for p in problems]
    messages.append(f"{{oldSchemaVersion: {versions[position - 1].version}}}")
    messages.append(f"{{oldSchema: '{previous[position - 1].schema}'}}")
    messages.append(f"{{compatibility: '{level.value}'}}")
    return messages


def difference(problem: Incompatibility) -> str:
    """One problem as Confluent's ``Difference`` prints it."""
    reader, writer = _READER_WRITER[problem.direction or Direction.BACKWARD]
    path = problem.location
    info = problem.detail
    kind = problem.type
    if kind is IncompatibilityType.READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS:
        return f"Unexpected exception during compatibility check: {problem.message}"
    descriptions = {
        IncompatibilityType.FIXED_SIZE_MISMATCH: (
            f"The size of FIXED type field at path '{path}' in the {reader} schema does not "
            f"match with the {writer} schema"
        ),
        IncompatibilityType.TYPE_MISMATCH: (
            f"The type (path '{path}') of a field in the {reader} schema does not match with "
            f"the {writer} schema"
        ),
        IncompatibilityType.NAME_MISMATCH: f"The name of the schema has changed (path '{path}')",
        IncompatibilityType.MISSING_ENUM_SYMBOLS: (
            f"The {reader} schema is missing enum symbols '{info}' at path '{path}' in the "
            f"{writer} schema"
        ),
        IncompatibilityType.MISSING_UNION_BRANCH: (
            f"The {reader} schema is missing a type inside a union field at path '{path}' in "
            f"the {writer} schema"
        ),
        IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE: (
            f"The field '{info}' at path '{path}' in the {reader} schema has no default value "
            f"and is missing in the {writer} schema"
        ),
    }
    return (
        f"{{errorType:'{kind.value}', description:'{descriptions.get(kind, '')}', "
        f"additionalInfo:'{info}'}}"
    )

"""Lint rules for contract schemas, in the spirit of ``buf lint``.

Each rule has a stable id, a purpose sentence and a function from a contract's
versions to findings. Rules are pure: they read parsed schema JSON and return values.
Ids are never renamed or reused, so that configurations that turn a rule off keep
working (``[tool.somacontracts.lint] disable = ["FIELD_DOC"]`` in ``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from somacontracts.compat.findings import Category, Finding
from somacontracts.schemas import SchemaVersion
from somacontracts.validation import qualified_name

__all__ = ["RULES", "LintRule", "lint"]

_NAMED = ("record", "error", "enum", "fixed")


@dataclass(frozen=True, slots=True)
class LintRule:
    """A lint rule: stable id, what it checks, and the check itself."""

    id: str
    purpose: str
    check: Callable[[Sequence[SchemaVersion], int], Iterator[tuple[str, str]]]
    """Given all versions and the index of the one to check, yield (location, message)."""


def named_types(
    schema: Any, at: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (JSON pointer, full name, definition) of every named type defined in ``schema``."""
    if isinstance(schema, list):
        for index, branch in enumerate(schema):
            yield from named_types(branch, f"{at}/{index}", namespace)
        return
    if not isinstance(schema, dict):
        return
    type_ = schema.get("type")
    if isinstance(type_, (dict, list)):
        yield from named_types(type_, f"{at}/type", namespace)
        return
    if type_ in _NAMED:
        full = qualified_name(str(schema["name"]), schema.get("namespace", namespace) or "")
        yield at, full, schema
        namespace = full.rpartition(".")[0]
        if type_ in ("record", "error"):
            for index, field in enumerate(schema["fields"]):
                yield from named_types(field["type"], f"{at}/fields/{index}/type", namespace)
    for key in ("items", "values"):
        if key in schema:
            yield from named_types(schema[key], f"{at}/{key}", namespace)


def _records(version: SchemaVersion) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for at, full, schema in named_types(version.schema):
        if schema["type"] in ("record", "error"):
            yield at, full, schema


def _record_doc(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for at, full, schema in _records(versions[index]):
        if not str(schema.get("doc", "")).strip():
            yield at, f'Record "{full}" has no doc.'


def _field_doc(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for at, full, schema in _records(versions[index]):
        for position, field in enumerate(schema["fields"]):
            if not str(field.get("doc", "")).strip():
                yield (
                    f"{at}/fields/{position}",
                    f'Field "{field["name"]}" of record "{full}" has no doc.',
                )


def _enum_doc(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for at, full, schema in named_types(versions[index].schema):
        if schema["type"] == "enum" and not str(schema.get("doc", "")).strip():
            yield at, f'Enum "{full}" has no doc.'


def _namespace(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    schema = versions[index].schema
    if "." not in str(schema["name"]) and not schema.get("namespace"):
        yield "/namespace", f'Record "{schema["name"]}" has no namespace.'


def _enum_default(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for at, full, schema in named_types(versions[index].schema):
        if schema["type"] == "enum" and "default" not in schema:
            yield (
                at,
                (
                    f'Enum "{full}" has no default symbol, so readers of older versions '
                    "fail on any symbol added later."
                ),
            )


def _field_added_with_default(
    versions: Sequence[SchemaVersion], index: int
) -> Iterator[tuple[str, str]]:
    if index == 0:
        return
    before = {full: schema for _, full, schema in _records(versions[index - 1])}
    previous_version = versions[index - 1].version
    for at, full, schema in _records(versions[index]):
        old = before.get(full)
        if old is None:
            old = next((before[a] for a in schema.get("aliases", []) if a in before), None)
        if old is None:
            continue
        old_names = {f["name"] for f in old["fields"]}
        for position, field in enumerate(schema["fields"]):
            names = {field["name"], *field.get("aliases", [])}
            if not names & old_names and "default" not in field:
                yield (
                    f"{at}/fields/{position}",
                    (
                        f'Field "{field["name"]}" of record "{full}" was added after '
                        f"v{previous_version} without a default."
                    ),
                )


RULES: tuple[LintRule, ...] = (
    LintRule("RECORD_DOC", "Checks that every record has a doc.", _record_doc),
    LintRule("FIELD_DOC", "Checks that every field of every record has a doc.", _field_doc),
    LintRule("ENUM_DOC", "Checks that every enum has a doc.", _enum_doc),
    LintRule("RECORD_NAMESPACE", "Checks that the top-level record has a namespace.", _namespace),
    LintRule(
        "ENUM_DEFAULT",
        "Checks that every enum has a default symbol, so that it can grow.",
        _enum_default,
    ),
    LintRule(
        "FIELD_ADDED_WITH_DEFAULT",
        "Checks that a field added to a record after v1 has a default.",
        _field_added_with_default,
    ),
)
"""Every lint rule, in report order."""


def lint(
    versions: Sequence[SchemaVersion], *, disabled: frozenset[str] = frozenset()
) -> list[Finding]:
    """Run every rule not in ``disabled`` on every version of one contract."""
    findings = []
    for rule in RULES:
        if rule.id in disabled:
            continue
        for index, version in enumerate(versions):
            for location, message in rule.check(versions, index):
                findings.append(
                    Finding(
                        rule=rule.id,
                        category=Category.LINT,
                        contract=version.contract,
                        version=version.version,
                        path=str(version.path),
                        location=location,
                        message=message,
                    )
                )
    return findings

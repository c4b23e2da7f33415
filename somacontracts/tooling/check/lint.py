"""Lint rules for contract schemas, in the spirit of ``buf lint``.

Each rule has a stable id, a purpose sentence and a function from a contract's
versions to findings. Rules are pure: they read the parsed schema
(:mod:`somacontracts.schema`) and return values. Ids are never renamed or reused, so
that configurations that turn a rule off keep working
(``[tool.somacontracts.lint] disable = ["FIELD_DOC"]`` in ``pyproject.toml``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from somacontracts.schema.datacontract import (
    encrypted_tags,
    field_tags,
    major_version,
    migrates,
)
from somacontracts.schema.graph import (
    ArrayNode,
    EnumNode,
    FieldNode,
    MapNode,
    NamedNode,
    Node,
    RecordNode,
    UnionNode,
)
from somacontracts.tooling.check.contract_rules import rule_problems
from somacontracts.tooling.check.findings import ERROR, WARNING, Category, Finding
from somacontracts.tooling.sources import SchemaVersion

__all__ = ["RULES", "LintRule", "lint"]


@dataclass(frozen=True, slots=True)
class LintRule:
    """A lint rule: stable id, what it checks, and the check itself."""

    id: str
    purpose: str
    check: Callable[[Sequence[SchemaVersion], int], Iterator[tuple[str, str]]]
    """Given all versions and the index of the one to check, yield (location, message)."""
    severity: str = ERROR
    """Its default severity; ``[tool.somacontracts.lint] severity`` changes it."""


def _named(version: SchemaVersion) -> Iterator[NamedNode]:
    """Every named type the version defines, in the order it defines them."""
    return version.parsed.defined()


def _records(version: SchemaVersion) -> Iterator[RecordNode]:
    return (node for node in _named(version) if isinstance(node, RecordNode))


def _no_doc(node: NamedNode | FieldNode) -> bool:
    doc = node.json.get("doc", "") if isinstance(node.json, dict) else ""
    return not str(doc).strip()


def _record_doc(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for record in _records(versions[index]):
        if _no_doc(record):
            yield record.pointer, f'Record "{record.full_name}" has no doc.'


def _field_doc(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for record in _records(versions[index]):
        for field in record.fields:
            if _no_doc(field):
                yield (
                    field.pointer,
                    f'Field "{field.name}" of record "{record.full_name}" has no doc.',
                )


def _enum_doc(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for node in _named(versions[index]):
        if isinstance(node, EnumNode) and _no_doc(node):
            yield node.pointer, f'Enum "{node.full_name}" has no doc.'


def _namespace(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    root = versions[index].parsed.root
    if isinstance(root, NamedNode) and not root.namespace:
        yield "/namespace", f'Record "{root.name}" has no namespace.'


_TYPE_KEYWORDS = frozenset({"array", "enum", "error", "fixed", "map", "record"})


def _type_name_keyword(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for node in _named(versions[index]):
        if node.name in _TYPE_KEYWORDS:
            yield (
                f"{node.pointer}/name",
                f'{node.kind.capitalize()} "{node.full_name}" is named like the Avro type '
                f'"{node.name}": fastavro, and so confluent-kafka\'s Avro serdes, cannot write it '
                "in a union; rename it (keeping the old name as an alias).",
            )


def _enum_default(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    for node in _named(versions[index]):
        if isinstance(node, EnumNode) and "default" not in node.json:
            yield (
                node.pointer,
                (
                    f'Enum "{node.full_name}" has no default symbol, so readers of older versions '
                    "fail on any symbol added later."
                ),
            )


def _previous_of_major(versions: Sequence[SchemaVersion], index: int) -> SchemaVersion | None:
    """The version before ``versions[index]`` of its major version, if any: a new major
    version may break, its migration rules carry data across."""
    major = major_version(versions[index].metadata)
    for earlier in reversed(versions[:index]):
        if major_version(earlier.metadata) == major:
            return earlier
    return None


def _same_records(
    versions: Sequence[SchemaVersion], index: int
) -> Iterator[tuple[RecordNode, RecordNode, int]]:
    """Each record of ``versions[index]`` with the same record (by name or alias) in the
    version before it of its major version, and that version's number."""
    previous = _previous_of_major(versions, index)
    if previous is None:
        return
    before = {record.full_name: record for record in _records(previous)}
    for record in _records(versions[index]):
        old = before.get(record.full_name)
        if old is None:
            old = next((before[a] for a in sorted(record.aliases) if a in before), None)
        if old is not None:
            yield record, old, previous.version


def _field_added_with_default(
    versions: Sequence[SchemaVersion], index: int
) -> Iterator[tuple[str, str]]:
    for record, old, previous_version in _same_records(versions, index):
        for field in record.fields:
            names = {field.name, *field.aliases}
            if not names & set(old.by_name) and not field.has_default:
                yield (
                    field.pointer,
                    (
                        f'Field "{field.name}" of record "{record.full_name}" was added after '
                        f"v{previous_version} without a default."
                    ),
                )


def _logical_type_unchanged(
    versions: Sequence[SchemaVersion], index: int
) -> Iterator[tuple[str, str]]:
    for record, old, previous_version in _same_records(versions, index):
        for field in record.fields:
            match = next(
                (old.by_name[n] for n in (field.name, *field.aliases) if n in old.by_name), None
            )
            if match is None:
                continue
            for at, was, now in _representation_changes(
                match.node, field.node, field.pointer + "/type"
            ):
                yield (
                    at,
                    f'Field "{field.name}" of record "{record.full_name}" was {was} in '
                    f"v{previous_version} and is {now} in v{versions[index].version}: readers "
                    "that convert by their own "
                    "logical type would misread the other version's data.",
                )


def _representation(node: Node) -> str:
    """A value's logical type and its parameters: what a reader converts the bytes with."""
    if node.logical_type is None:
        return "without a logical type"
    params = [f"{key} {node.props[key]}" for key in ("precision", "scale") if key in node.props]
    return f"{node.logical_type}" + (f" ({', '.join(params)})" if params else "")


def _representation_changes(old: Node, new: Node, at: str) -> Iterator[tuple[str, str, str]]:
    """(pointer, was, is) for every value of the same type whose logical type changed."""
    if isinstance(new, UnionNode) or isinstance(old, UnionNode):
        olds = {_key(b): b for b in (old.branches if isinstance(old, UnionNode) else (old,))}
        news = new.branches if isinstance(new, UnionNode) else (new,)
        for index, branch in enumerate(news):
            if _key(branch) in olds:
                where = f"{at}/{index}" if isinstance(new, UnionNode) else at
                yield from _representation_changes(olds[_key(branch)], branch, where)
        return
    if old.kind != new.kind or isinstance(new, RecordNode):
        return  # another type altogether, or a record whose own fields are checked apart
    if isinstance(old, ArrayNode) and isinstance(new, ArrayNode):
        yield from _representation_changes(old.items, new.items, f"{at}/items")
    elif isinstance(old, MapNode) and isinstance(new, MapNode):
        yield from _representation_changes(old.values, new.values, f"{at}/values")
    elif _representation(old) != _representation(new):
        yield at, _representation(old), _representation(new)


def _key(node: Node) -> str:
    return node.full_name if isinstance(node, NamedNode) else node.kind


# Words in field names that mark personal data; "name" only in the pairs below, since a
# field "tool_name" names a tool.
_PERSONAL_WORDS = frozenset(
    {"email", "mail", "phone", "mobile", "telephone", "address", "street", "postcode"}
    | {"zip", "ip", "ssn", "passport", "birth", "birthday", "dob", "surname", "username"}
    | {"firstname", "lastname", "fullname", "iban", "card"}
)
_NAME_OWNERS = frozenset({"first", "last", "full", "given", "family", "display", "user", "real"})
_PERSONAL_DOC = re.compile(
    r"\b(e-?mail|phone number|home address|postal address|ip address|date of birth|"
    r"full name|user'?s name|text of the message|message text|what (?:the )?users? (?:type|wrote)|"
    r"typed by (?:the )?user)\b",
    re.IGNORECASE,
)


def _words(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [word for word in re.split(r"[_\W]+", spaced.lower()) if word]


def _personal(field: FieldNode) -> bool:
    words = _words(field.name)
    if _PERSONAL_WORDS.intersection(words):
        return True
    if "name" in words and _NAME_OWNERS.intersection(words):
        return True
    doc = field.json.get("doc") if isinstance(field.json, dict) else None
    return isinstance(doc, str) and _PERSONAL_DOC.search(doc) is not None


def _pii_untagged(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    if index != len(versions) - 1:
        return  # a released version cannot change: its fix is the newest version
    version = versions[index]
    tagged = {
        record.full_name
        for record, _field, tags in _tagged_fields(version)
        if "PII" in {tag.upper() for tag in tags}
    }
    for record, field, tags in _tagged_fields(version):
        if (
            _personal(field)
            and "PII" not in {tag.upper() for tag in tags}
            and not _holds_tagged(field.node, tagged)
        ):
            yield (
                field.pointer,
                f'Field "{field.name}" of record "{record.full_name}" looks like personal '
                'data but has no "confluent:tags": ["PII"]; tag it (in a new version) so '
                "that encryption rules cover it, or rename or re-document it.",
            )


def _holds_tagged(node: Node, tagged: set[str], seen: set[str] | None = None) -> bool:
    """Whether ``node`` holds a record with a field tagged PII (``tagged``: the full names
    of such records), through unions, arrays, maps and nested records: a field such as
    ``card`` keeps its personal data in tagged fields of its own, which rules cover."""
    seen = set() if seen is None else seen
    if isinstance(node, UnionNode):
        return any(_holds_tagged(branch, tagged, seen) for branch in node.branches)
    if isinstance(node, ArrayNode):
        return _holds_tagged(node.items, tagged, seen)
    if isinstance(node, MapNode):
        return _holds_tagged(node.values, tagged, seen)
    if isinstance(node, RecordNode) and node.full_name not in seen:
        seen.add(node.full_name)
        return node.full_name in tagged or any(
            _holds_tagged(inner.node, tagged, seen) for inner in node.fields
        )
    return False


def _tagged_fields(version: SchemaVersion) -> Iterator[tuple[RecordNode, FieldNode, set[str]]]:
    """Every field with its tags: ``confluent:tags`` on the field, and the metadata's tags
    by field path (``namespace.Record.field``)."""
    for record in _records(version):
        for field in record.fields:
            own = field.props.get("confluent:tags")
            tags = field_tags(version.metadata, record.full_name, field.name, own)
            yield record, field, set(tags)


def _pii_unencrypted(versions: Sequence[SchemaVersion], index: int) -> Iterator[tuple[str, str]]:
    if index != len(versions) - 1:
        return  # a released version cannot change: its fix is the newest version
    version = versions[index]
    covered = {tag.upper() for tag in encrypted_tags(version.rule_set)}
    for record, field, tags in _tagged_fields(version):
        if "PII" in {tag.upper() for tag in tags} and "PII" not in covered:
            yield (
                field.pointer,
                f'Field "{field.name}" of record "{record.full_name}" is tagged PII, but no '
                f"enabled ENCRYPT rule (mode WRITEREAD) for the tag PII is in "
                f"v{version.version}.contract.json: it would travel in plain text.",
            )


def _major_version_migrated(
    versions: Sequence[SchemaVersion], index: int
) -> Iterator[tuple[str, str]]:
    if index == 0:
        return
    old, new = versions[index - 1], versions[index]
    if major_version(old.metadata) == major_version(new.metadata):
        return
    missing = [m for m in ("UPGRADE", "DOWNGRADE") if not migrates(new.rule_set, m)]
    if missing:
        yield (
            "",
            f"v{new.version} starts major version {major_version(new.metadata)} but "
            f"v{new.version}.contract.json has no {' or '.join(missing)} migration rule: "
            f"readers of v{old.version} and v{new.version} could not read each other's data.",
        )


RULES: tuple[LintRule, ...] = (
    LintRule("RECORD_DOC", "Checks that every record has a doc.", _record_doc),
    LintRule("FIELD_DOC", "Checks that every field of every record has a doc.", _field_doc),
    LintRule("ENUM_DOC", "Checks that every enum has a doc.", _enum_doc),
    LintRule("RECORD_NAMESPACE", "Checks that the top-level record has a namespace.", _namespace),
    LintRule(
        "TYPE_NAME_KEYWORD",
        "Checks that no named type is named like an Avro complex type (record, enum, fixed, "
        "array, map, error), which fastavro mistakes for that type in a union.",
        _type_name_keyword,
    ),
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
    LintRule(
        "LOGICAL_TYPE_UNCHANGED",
        "Checks that a field keeps the logical type, precision and scale of the version "
        "before: Avro's compatibility rules ignore them, but readers that convert by their own "
        "misread the other version's data (micros read as millis, a decimal rescaled).",
        _logical_type_unchanged,
    ),
    LintRule(
        "PII_UNTAGGED",
        "Checks that a field whose name or doc suggests personal data (email, phone, name, "
        'address, IP, message text, ...) carries the tag "confluent:tags": ["PII"] in the '
        "newest version (a released version cannot change: the newest one is its fix).",
        _pii_untagged,
        WARNING,
    ),
    LintRule(
        "PII_UNENCRYPTED",
        "Checks that every field tagged PII (on the field or in the version's metadata) is "
        "covered by an enabled ENCRYPT rule of the newest version's rule set "
        "(vN.contract.json).",
        _pii_unencrypted,
    ),
    LintRule(
        "RULES_RUNNABLE",
        "Checks that every Data Contract rule of a version can run: a type the serdes run, "
        "actions ERROR, NONE or DLQ, ENCRYPT parameters they accept, CEL and JSONata "
        "expressions that parse.",
        lambda versions, index: rule_problems(versions[index]),
    ),
    LintRule(
        "MAJOR_VERSION_MIGRATED",
        "Checks that a version starting a new major version (its metadata property "
        "application.major.version changed) carries UPGRADE and DOWNGRADE migration rules "
        "(or UPDOWN), so that readers of each major version read the other's data.",
        _major_version_migrated,
    ),
)
"""Every lint rule, in report order."""


def lint(
    versions: Sequence[SchemaVersion],
    *,
    disabled: frozenset[str] = frozenset(),
    severities: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Run every rule not in ``disabled`` on every version of one contract, at its default
    severity or the one ``severities`` gives it."""
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
                        severity=(severities or {}).get(rule.id, rule.severity),
                    )
                )
    return findings

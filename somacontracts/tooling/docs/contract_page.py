"""A contract's page of the docs site: facts, fields, versions with their changes, example.

:func:`contract_page` renders one page from the contract's versions and what the site
knows about its topics; :func:`search_entries` lists the contract and its fields for the
site's search. Pure: strings in, strings out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from somacontracts.compat import CompatibilityResult, check_level
from somacontracts.compat.changes import diff_versions
from somacontracts.compat.levels import TRANSITIVE, CompatibilityLevel
from somacontracts.compat.report import ChangeReport
from somacontracts.schema import FieldNode, NamedNode, RecordNode
from somacontracts.schema.datacontract import encrypted_tags, field_tags
from somacontracts.tooling.docs.examples import NoExampleError, avro_size, example
from somacontracts.tooling.docs.templating import render
from somacontracts.tooling.sources import ContractSchemas, SchemaVersion

__all__ = ["ContractFacts", "TopicLink", "contract_page", "search_entries"]


@dataclass(frozen=True, slots=True)
class TopicLink:
    """A topic that carries the contract, as its page and facts show it."""

    name: str
    href: str
    retention: str
    partitions: int


@dataclass(frozen=True, slots=True)
class ContractFacts:
    """What the catalog and the configuration say about a contract."""

    description: str
    level: CompatibilityLevel
    key_field: str | None
    subjects: tuple[str, ...]
    topics: tuple[TopicLink, ...]


@dataclass(frozen=True, slots=True)
class _FieldRow:
    field: FieldNode
    default: str | None
    """The default as JSON text; None for a required field."""
    tags: tuple[str, ...]
    encrypted: bool


@dataclass(frozen=True, slots=True)
class _Section:
    """A named type of the latest version and, for a record, its fields."""

    node: NamedNode
    fields: tuple[_FieldRow, ...]


@dataclass(frozen=True, slots=True)
class _Example:
    text: str
    """The example message in plain JSON, indented."""
    size: int
    """Bytes of its Avro binary."""


@dataclass(frozen=True, slots=True)
class _Version:
    version: SchemaVersion
    same_as_previous: bool
    report: ChangeReport | None
    """The changes from the version before (None for v1)."""
    against_all: CompatibilityResult | None
    """At a transitive level, the check against every earlier version."""
    schema_text: str
    contract_text: str | None
    """The version's Data Contract parts as JSON text, if it has any."""

    @property
    def allowed(self) -> bool:
        """Whether the level allows this version after the one before (and all before)."""
        return (
            self.report is not None
            and self.report.allowed
            and (self.against_all is None or self.against_all.compatible)
        )

    @property
    def failing(self) -> list[int]:
        """The earlier versions this one is not compatible with, at a transitive level."""
        found = self.against_all.problems if self.against_all else ()
        return sorted({p.version for p in found if p.version})


def _section(node: NamedNode, version: SchemaVersion) -> _Section:
    if not isinstance(node, RecordNode):
        return _Section(node, ())
    encrypted = encrypted_tags(version.rule_set)
    rows = []
    for f in node.fields:
        tags = field_tags(version.metadata, node.full_name, f.name, f.props.get("confluent:tags"))
        default = json.dumps(f.default, ensure_ascii=False) if f.has_default else None
        rows.append(_FieldRow(f, default, tuple(sorted(tags)), bool(tags & encrypted)))
    return _Section(node, tuple(rows))


def _versions(contract: ContractSchemas, level: CompatibilityLevel) -> list[_Version]:
    views = []
    previous: SchemaVersion | None = None
    for index, version in enumerate(contract.versions):
        report = against_all = None
        if previous is not None:
            earlier = [v.parsed for v in contract.versions[:index]]
            if level in TRANSITIVE:
                against_all = check_level(level, version.parsed, earlier)
            report = diff_versions(
                previous.parsed,
                version.parsed,
                old_version=previous.version,
                new_version=version.version,
                level=level,
                old_contract=(previous.metadata, previous.rule_set),
                new_contract=(version.metadata, version.rule_set),
            )
        parts = {"metadata": version.metadata, "ruleSet": version.rule_set}
        present = {k: v for k, v in parts.items() if v}
        views.append(
            _Version(
                version=version,
                same_as_previous=previous is not None
                and previous.fingerprint == version.fingerprint,
                report=report,
                against_all=against_all,
                schema_text=json.dumps(version.schema, indent=2, ensure_ascii=False),
                contract_text=json.dumps(present, indent=2, ensure_ascii=False)
                if present
                else None,
            )
        )
        previous = version
    return views


def contract_page(contract: ContractSchemas, facts: ContractFacts) -> str:
    """The page of ``contract`` (it lives one folder below the site's top)."""
    latest = contract.latest
    named = [n for n in latest.parsed.named.values() if isinstance(n, NamedNode)]
    sample: _Example | None = None
    no_example = ""
    try:
        plain = example(latest.parsed.root)
    except NoExampleError as err:
        no_example = str(err)
    else:
        text = json.dumps(plain, indent=2, ensure_ascii=False)
        sample = _Example(text, avro_size(latest.whole, plain))
    return render(
        "contract.html.j2",
        title=contract.name,
        root="../",
        contract=contract,
        facts=facts,
        sections=[_section(node, latest) for node in named],
        example=sample,
        no_example=no_example,
        encrypts=bool(encrypted_tags(latest.rule_set)),
        versions=_versions(contract, facts.level),
    )


def search_entries(contract: ContractSchemas, href: str, description: str) -> list[dict[str, Any]]:
    """The search entries of ``contract`` (whose page is ``href``): itself, its named
    types and every field of its latest version."""
    latest = contract.latest
    entries: list[dict[str, Any]] = [
        {
            "kind": "contract",
            "name": contract.name,
            "path": contract.name,
            "doc": description,
            "url": href,
        }
    ]
    for node in latest.parsed.named.values():
        if not isinstance(node, NamedNode):
            continue
        if node is not latest.parsed.root:
            entries.append(
                {
                    "kind": node.kind,
                    "name": node.name,
                    "path": f"{contract.name} / {node.name}",
                    "doc": node.doc or "",
                    "url": f"{href}#type-{node.full_name}",
                }
            )
        if isinstance(node, RecordNode):
            owner = contract.name if node is latest.parsed.root else node.name
            for f in node.fields:
                own = f.props.get("confluent:tags")
                tags = field_tags(latest.metadata, node.full_name, f.name, own)
                entries.append(
                    {
                        "kind": "field",
                        "name": f.name,
                        "path": f"{owner}.{f.name}",
                        "doc": f.doc or "",
                        # Searched, not shown: a field is found by its type and tags too.
                        "terms": " ".join([f.node.describe(), *sorted(tags)]),
                        "url": f"{href}#f-{node.full_name}.{f.name}",
                    }
                )
    return entries

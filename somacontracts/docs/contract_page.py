"""A contract's page of the docs site: facts, fields, versions with their changes, example.

:func:`contract_page` renders one page from the contract's versions and what the site
knows about its topics; :func:`search_entries` lists the contract and its fields for the
site's search. Pure: strings in, strings out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

from somacontracts.compat import CompatibilityResult, check_level
from somacontracts.compat.changes import ChangeReport, diff_versions
from somacontracts.compat.levels import TRANSITIVE, CompatibilityLevel
from somacontracts.docs.examples import NoExampleError, avro_size, example
from somacontracts.docs.templates import page
from somacontracts.schema import (
    ArrayNode,
    EnumNode,
    FixedNode,
    MapNode,
    NamedNode,
    Node,
    RecordNode,
    UnionNode,
)
from somacontracts.schema.datacontract import encrypted_tags, field_tags
from somacontracts.schemas import ContractSchemas, SchemaVersion

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


def _type(node: Node) -> str:
    """``node`` as HTML: named types link to their table on the page."""
    if isinstance(node, NamedNode):
        return (
            f'<a href="#type-{escape(node.full_name)}" title="{escape(node.full_name)}">'
            f"{escape(node.name)}</a>"
        )
    if isinstance(node, ArrayNode):
        return f"array&lt;{_type(node.items)}&gt;"
    if isinstance(node, MapNode):
        return f"map&lt;string, {_type(node.values)}&gt;"
    if isinstance(node, UnionNode):
        return " | ".join(_type(branch) for branch in node.branches)
    if node.logical_type == "decimal":
        precision, scale = _decimal(node)
        return f"{escape(node.kind)} <small>(decimal {precision},{scale})</small>"
    if node.logical_type:
        return f"{escape(node.kind)} <small>({escape(node.logical_type)})</small>"
    return escape(node.kind)


def _decimal(node: Node) -> tuple[Any, Any]:
    """A decimal's precision and scale (0 unless written), as its schema gives them."""
    return node.props.get("precision"), node.props.get("scale", 0)


def _tags(tags: frozenset[str], encrypted: frozenset[str]) -> str:
    out = []
    for tag in sorted(tags):
        css = "tag pii" if tag.upper() == "PII" else "tag"
        out.append(f'<span class="{css}">{escape(tag)}</span>')
    if tags & encrypted:
        out.append('<span class="tag encrypted">encrypted</span>')
    return "".join(out)


def _record_table(record: RecordNode, version: SchemaVersion) -> str:
    encrypted = encrypted_tags(version.rule_set)
    rows = []
    for f in record.fields:
        tags = field_tags(version.metadata, record.full_name, f.name, f.props.get("confluent:tags"))
        default = (
            f"<code>{escape(json.dumps(f.default, ensure_ascii=False))}</code>"
            if f.has_default
            else "<em>required</em>"
        )
        aliases = (
            "<br><small>aliases: " + ", ".join(escape(a) for a in f.aliases) + "</small>"
            if f.aliases
            else ""
        )
        rows.append(
            f'<tr id="f-{escape(record.full_name)}.{escape(f.name)}">'
            f"<td><code>{escape(f.name)}</code>{aliases}</td><td>{_type(f.node)}</td>"
            f"<td>{default}</td><td>{escape(f.doc or '')}</td>"
            f"<td>{_tags(tags, encrypted)}</td></tr>"
        )
    return (
        '<div class="scroll"><table><thead><tr><th>field</th><th>type</th><th>default</th>'
        f"<th>doc</th><th>tags</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _named_section(node: NamedNode, version: SchemaVersion) -> str:
    head = (
        f'<h3 id="type-{escape(node.full_name)}">{escape(node.kind)} '
        f"<code>{escape(node.full_name)}</code></h3>"
    )
    doc = f"<p>{escape(node.doc)}</p>" if node.doc else ""
    if isinstance(node, RecordNode):
        return head + doc + _record_table(node, version)
    if isinstance(node, EnumNode):
        symbols = ", ".join(f"<code>{escape(s)}</code>" for s in node.symbols)
        fallback = (
            f" Readers that lack a symbol read <code>{escape(node.default)}</code>."
            if node.default
            else ""
        )
        return f"{head}{doc}<p>Symbols: {symbols}.{fallback}</p>"
    if isinstance(node, FixedNode):
        kind = ""
        if node.logical_type == "decimal":
            precision, scale = _decimal(node)
            kind = f", a decimal of precision {precision} and scale {scale}"
        return f"{head}{doc}<p>{node.size} bytes{kind}.</p>"
    return head + doc


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _report(report: ChangeReport, against_all: CompatibilityResult | None) -> str:
    allowed = report.allowed and (against_all is None or against_all.compatible)
    verdict = (
        '<span class="verdict-ok">allowed</span>'
        if allowed
        else '<span class="verdict-bad">not allowed</span>'
    )
    transitive = ""
    if against_all is not None:
        failing = sorted({p.version for p in against_all.problems if p.version})
        transitive = f" Checked against every earlier version ({escape(report.level.value)}): " + (
            "compatible."
            if against_all.compatible
            else "not compatible with "
            + ", ".join(f'<a href="#v{n}">v{n}</a>' for n in failing)
            + f": {escape(against_all.problems[0].message)}"
        )
    rows = "".join(
        f"<tr><td><code>{escape(c.kind.value)}</code></td>"
        f"<td><code>{escape(c.where(report.old_version, report.new_version))}</code></td>"
        f"<td>{escape(c.message)}</td></tr>"
        for c in report.changes
    )
    table = (
        "<table><thead><tr><th>change</th><th>where</th><th>what</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if rows
        else "<p>No changes to the schema.</p>"
    )
    return (
        f"<p>Changes from v{report.old_version} ({escape(report.level.value)}: {verdict}); "
        f"backward (v{report.new_version} reads v{report.old_version} data): "
        f"{_yes(report.backward)}; forward: {_yes(report.forward)}.{transitive}</p>"
        f"{table}<p><strong>Deploy:</strong> {escape(report.rollout)}</p>"
    )


def _versions(contract: ContractSchemas, level: CompatibilityLevel) -> str:
    parts = []
    previous: SchemaVersion | None = None
    for index, version in enumerate(contract.versions):
        same = previous is not None and previous.fingerprint == version.fingerprint
        parts.append(
            f'<h3 id="v{version.version}">v{version.version}</h3>'
            f"<p>Fingerprint (SHA-256 of the canonical form): "
            f"<code>{version.fingerprint}</code>"
            + (
                " — the same as the version before: the canonical form leaves out docs, "
                "defaults, aliases and the Data Contract parts"
                if same
                else ""
            )
            + "</p>"
        )
        if previous is not None:
            earlier = [v.parsed for v in contract.versions[:index]]
            against_all = (
                check_level(level, version.parsed, earlier) if level in TRANSITIVE else None
            )
            parts.append(
                _report(
                    diff_versions(
                        previous.schema,
                        version.schema,
                        old_version=previous.version,
                        new_version=version.version,
                        level=level,
                        old_contract=(previous.metadata, previous.rule_set),
                        new_contract=(version.metadata, version.rule_set),
                    ),
                    against_all,
                )
            )
        text = json.dumps(version.schema, indent=2, ensure_ascii=False)
        parts.append(
            f"<details><summary>Schema v{version.version}</summary>"
            f"<pre>{escape(text)}</pre></details>"
        )
        if version.metadata or version.rule_set:
            parts_json = {"metadata": version.metadata, "ruleSet": version.rule_set}
            contract_text = json.dumps(
                {k: v for k, v in parts_json.items() if v}, indent=2, ensure_ascii=False
            )
            parts.append(
                f"<details><summary>Data Contract of v{version.version} "
                "(metadata and rules)</summary>"
                f"<pre>{escape(contract_text)}</pre></details>"
            )
        previous = version
    return "".join(parts)


def _facts(contract: ContractSchemas, facts: ContractFacts) -> str:
    latest = contract.latest
    topics = (
        ", ".join(
            f'<a href="{escape(t.href)}"><code>{escape(t.name)}</code></a> '
            f"({escape(t.retention)}, {t.partitions} partitions)"
            for t in facts.topics
        )
        or "—"
    )
    subjects = ", ".join(f"<code>{escape(s)}</code>" for s in facts.subjects) or "—"
    key = f"<code>{escape(facts.key_field)}</code>" if facts.key_field else "—"
    return (
        '<dl class="facts">'
        f"<dt>latest version</dt><dd>v{latest.version} "
        f"(<code>{escape(latest.full_name)}</code>)</dd>"
        f"<dt>topics</dt><dd>{topics}</dd>"
        f"<dt>registry subjects</dt><dd>{subjects}</dd>"
        f"<dt>message key</dt><dd>{key}</dd>"
        f"<dt>compatibility</dt><dd><code>{escape(facts.level.value)}</code></dd>"
        "<dt>versions</dt><dd>"
        + " ".join(f'<a href="#v{v.version}">v{v.version}</a>' for v in contract.versions)
        + "</dd></dl>"
    )


def contract_page(contract: ContractSchemas, facts: ContractFacts) -> str:
    """The page of ``contract`` (it lives one folder below the site's top)."""
    latest = contract.latest
    named = [n for n in latest.parsed.named.values() if isinstance(n, NamedNode)]
    try:
        sample = example(latest.parsed.root)
    except NoExampleError as err:
        shown = f"<p>No finite message fits this schema: {escape(str(err))}.</p>"
    else:
        size = avro_size(latest.schema, sample)
        encrypted = (
            " before its ENCRYPT rule encrypts the tagged fields (which makes it larger)"
            if encrypted_tags(latest.rule_set)
            else ""
        )
        shown = (
            f"<p>In the platform's plain JSON; {size} bytes of Avro, {size + 5} on the wire "
            f"with Confluent's framing (a zero byte and the 4-byte schema id){encrypted}.</p>"
            f"<pre>{escape(json.dumps(sample, indent=2, ensure_ascii=False))}</pre>"
        )
    body = [
        f"<h1>{escape(contract.name)}</h1>",
        f'<p class="lead">{escape(facts.description)}</p>' if facts.description else "",
        _facts(contract, facts),
        f"<h2>Fields of v{latest.version}</h2>",
        *(_named_section(node, latest) for node in named),
        "<h2>Example message</h2>",
        shown,
        "<h2>Versions</h2>",
        _versions(contract, facts.level),
    ]
    return page(title=contract.name, root="../", body="\n".join(part for part in body if part))


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

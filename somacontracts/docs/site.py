"""The docs site: every page of a schema tree's contracts and of the catalog's topics.

:func:`build_site` returns the whole site as ``{relative path: text}``, the same bytes
for the same inputs (no dates, no absolute paths), so that a CI job can check it in or
compare it: ``index.html`` (the topic flow as an inline SVG, a search box over
contracts and fields, tables of contracts and topics), ``contracts/<Contract>.html``,
``topics/<topic>.html``, ``style.css`` and ``search.js``. A contract of this package's
catalog gets its topics, key field and consumers; any other tree's contracts get the
levels and subjects of the project's configuration. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from somacontracts.catalog import CONTRACTS, TOPICS, Topic
from somacontracts.docs.contract_page import (
    ContractFacts,
    TopicLink,
    contract_page,
    search_entries,
)
from somacontracts.docs.diagram import Flow, flow_svg
from somacontracts.docs.templates import SCRIPT, STYLE, json_island, page
from somacontracts.kafka.topics import dlq_name
from somacontracts.project import ProjectConfig
from somacontracts.schemas import ContractSchemas
from somacontracts.settings import Settings

__all__ = ["SUFFIXES", "build_site", "retention_text"]

SUFFIXES = (".html", ".svg", ".css", ".js", ".json")
"""What the site's files end in: the only files ``docs`` ever removes from its folder."""

_DAY_MS = 24 * 60 * 60 * 1000


def retention_text(milliseconds: int) -> str:
    """``7 days``, ``1 day``, ``36 hours``: a retention as people say it."""
    if milliseconds % _DAY_MS == 0:
        days = milliseconds // _DAY_MS
        return f"{days} day" if days == 1 else f"{days} days"
    hours = milliseconds / 3_600_000
    return f"{hours:g} hours"


def _topic_href(name: str, root: str) -> str:
    return f"{root}topics/{name}.html"


def _contract_href(name: str, root: str) -> str:
    return f"{root}contracts/{name}.html"


def _subjects(config: ProjectConfig, name: str, settings: Settings) -> tuple[str, ...]:
    """The configured subjects, else the catalog's (topic names of ``settings``), else none."""
    if name in config.subjects:
        return config.subjects[name]
    return settings.subjects_of(name) if name in CONTRACTS else ()


def _facts(
    name: str, contract: ContractSchemas, config: ProjectConfig, settings: Settings
) -> ContractFacts:
    entry = CONTRACTS.get(name)
    doc = contract.latest.schema.get("doc", "")
    topics = (
        tuple(
            TopicLink(
                settings.topic_name(key),
                _topic_href(settings.topic_name(key), "../"),
                retention_text(TOPICS[key].retention_ms),
                TOPICS[key].partitions,
            )
            for key in entry.topics
        )
        if entry
        else ()
    )
    return ContractFacts(
        description=(entry.description if entry else "") or str(doc),
        level=config.level_of(name),
        key_field=entry.key_field if entry else None,
        subjects=_subjects(config, name, settings),
        topics=topics,
    )


def _topic_page(topic: Topic, settings: Settings) -> str:
    name = settings.topic_name(topic.key)
    groups = ", ".join(
        f"<code>{escape(group)}</code>"
        if (group := settings.group_of(c, topic.key))
        else f"none: every {escape(c)} instance reads every message"
        for c in topic.consumers
    )
    contract = f'<a href="{_contract_href(topic.contract, "../")}">{escape(topic.contract)}</a>'
    override = f"<code>{escape(topic.env_var)}</code>" if topic.env_var else "—"
    lag = f"{topic.lag_alert} messages" if topic.lag_alert is not None else "—"
    facts = [
        ("contract", contract),
        ("producers", escape(", ".join(topic.producers))),
        ("consumers", escape(", ".join(topic.consumers))),
        ("consumer groups", groups),
        ("partitions", str(topic.partitions)),
        ("retention", escape(retention_text(topic.retention_ms))),
        ("cleanup policy", f"<code>{escape(topic.cleanup_policy)}</code>"),
        ("lag alert above", lag),
        ("name set by", override),
        ("registry subject", f"<code>{escape(name)}-value</code>"),
        ("dead-letter topic", f"<code>{escape(dlq_name(name))}</code>"),
        ("message key", f"<code>{escape(CONTRACTS[topic.contract].key_field)}</code>"),
    ]
    rows = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts)
    note = (
        "" if topic.in_source_document else "<p>This topic is not in the platform's document.</p>"
    )
    body = f'<h1><code>{escape(name)}</code></h1>{note}<dl class="facts">{rows}</dl>'
    return page(title=name, root="../", body=body)


def _index(
    tree: Mapping[str, ContractSchemas],
    facts: Mapping[str, ContractFacts],
    topics: list[Topic],
    settings: Settings,
    entries: list[dict[str, object]],
) -> str:
    flows = [
        Flow(
            settings.topic_name(t.key),
            _topic_href(settings.topic_name(t.key), ""),
            t.producers,
            t.consumers,
        )
        for t in topics
    ]
    contract_rows = "".join(
        f'<tr><td><a href="{_contract_href(name, "")}">{escape(name)}</a></td>'
        f"<td>{escape(facts[name].description)}</td><td>v{tree[name].latest.version}</td>"
        f"<td><code>{escape(facts[name].level.value)}</code></td>"
        "<td>"
        + (
            ", ".join(
                f'<a href="{_topic_href(t.name, "")}"><code>{escape(t.name)}</code></a>'
                for t in facts[name].topics
            )
            or "—"
        )
        + "</td></tr>"
        for name in tree
    )
    topic_rows = "".join(
        f'<tr><td><a href="{_topic_href(settings.topic_name(t.key), "")}">'
        f"<code>{escape(settings.topic_name(t.key))}</code></a></td>"
        f'<td><a href="{_contract_href(t.contract, "")}">{escape(t.contract)}</a></td>'
        f"<td>{escape(', '.join(t.producers))}</td>"
        f"<td>{escape(', '.join(t.consumers))}</td>"
        f"<td>{escape(retention_text(t.retention_ms))}</td><td>{t.partitions}</td></tr>"
        for t in topics
    )
    count = f"{len(tree)} contract{'s' if len(tree) != 1 else ''}"
    body = [
        "<h1>Contracts catalog</h1>",
        f'<p class="lead">{count}'
        + (f", {len(topics)} topics" if topics else "")
        + ". Generated by <code>somacontracts docs</code>.</p>",
        '<p><input id="search" type="search" placeholder="Search contracts and fields" '
        'aria-label="Search contracts and fields" autocomplete="off"></p>',
        '<ul id="results"></ul>',
        json_island("search-index", entries),
    ]
    if flows:
        body += ["<h2>Topic flow</h2>", flow_svg(flows)]
    body += [
        "<h2>Contracts</h2>",
        '<div class="scroll"><table><thead><tr><th>contract</th><th>description</th>'
        "<th>latest</th><th>compatibility</th><th>topics</th></tr></thead>"
        f"<tbody>{contract_rows}</tbody></table></div>",
    ]
    if topics:
        body += [
            "<h2>Topics</h2>",
            '<div class="scroll"><table><thead><tr><th>topic</th><th>contract</th>'
            "<th>producers</th><th>consumers</th><th>retention</th><th>partitions</th></tr>"
            f"</thead><tbody>{topic_rows}</tbody></table></div>",
        ]
    return page(title="Contracts catalog", root="", body="\n".join(body), scripts=True)


def build_site(
    tree: Mapping[str, ContractSchemas], config: ProjectConfig, settings: Settings
) -> dict[str, str]:
    """Every file of the site of ``tree``, by path relative to the site's folder."""
    names = sorted(tree)
    facts = {name: _facts(name, tree[name], config, settings) for name in names}
    topics = [t for t in TOPICS.values() if t.contract in tree]
    entries: list[dict[str, object]] = []
    files: dict[str, str] = {"style.css": STYLE, "search.js": SCRIPT}
    for name in names:
        files[f"contracts/{name}.html"] = contract_page(tree[name], facts[name])
        entries += search_entries(tree[name], _contract_href(name, ""), facts[name].description)
    for topic in topics:
        name = settings.topic_name(topic.key)
        entries.append(
            {
                "kind": "topic",
                "name": name,
                "path": name,
                "doc": f"{topic.contract} {' '.join(topic.producers + topic.consumers)}",
                "url": _topic_href(name, ""),
            }
        )
        files[f"topics/{name}.html"] = _topic_page(topic, settings)
    files["index.html"] = _index({n: tree[n] for n in names}, facts, topics, settings, entries)
    return files

"""The docs site: every page of a schema tree's contracts and of the catalog's topics.

:func:`build_site` returns the whole site as ``{relative path: text}``, the same bytes
for the same inputs (no dates, no absolute paths), so that a CI job can check it in or
compare it: ``index.html`` (the topic flow as an inline SVG, a search box over
contracts and fields, tables of contracts and topics), ``contracts/<Contract>.html``,
``topics/<topic>.html``, ``style.css`` and ``search.js``. A contract of this package's
catalog gets its topics, key field and consumers; any other tree's contracts get the
levels and subjects of the project's configuration. Given the readers a registry holds
(:class:`SiteReaders`), each topic page lists them; without, the pages do not change.
Pure: no I/O but reading the templates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from somacontracts.catalog.entries import Topic, subject_for_topic
from somacontracts.catalog.environment import Settings
from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import count
from somacontracts.kafka.topics import dlq_name
from somacontracts.tooling.configuration import ProjectConfig
from somacontracts.tooling.docs.contract_page import (
    ContractFacts,
    TopicLink,
    contract_page,
    search_entries,
)
from somacontracts.tooling.docs.diagram import Flow, flow_layout
from somacontracts.tooling.docs.templating import asset, render
from somacontracts.tooling.sources import ContractSchemas

__all__ = ["SUFFIXES", "SiteReaders", "TopicReader", "build_site", "retention_text"]

SUFFIXES = (".html", ".svg", ".css", ".js", ".json")
"""What the site's files end in: the only files ``docs`` ever removes from its folder."""

_DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class TopicReader:
    """A consumer group registered as a reader of a topic, as its page lists it."""

    group: str
    service: str
    version: int | None
    """The contract version of its reader schema, where it said."""
    live: bool | None
    """Whether the cluster counts it live; None when unknown."""
    why: str = ""
    replaced: str = ""
    """When the group replaced this reader (a rolling deploy's older instances); empty for
    the reader in use."""


@dataclass(frozen=True, slots=True)
class SiteReaders:
    """The readers a registry holds, for the topic pages."""

    by_subject: Mapping[str, tuple[TopicReader, ...]] = field(default_factory=dict)
    """A topic's value subject -> its readers."""
    liveness_unknown: str | None = None
    """Why no reader's liveness is known, when none is (no cluster given)."""


def retention_text(milliseconds: int | None) -> str:
    """``7 days``, ``1 day``, ``36 hours``: a retention as people say it (None: the
    broker's; -1: for ever)."""
    if milliseconds is None:
        return "the broker's"
    if milliseconds == -1:
        return "for ever"
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
    return settings.subjects_of(name) if name in settings.catalog.contracts else ()


def _facts(
    name: str, contract: ContractSchemas, config: ProjectConfig, settings: Settings
) -> ContractFacts:
    entry = settings.catalog.contracts.get(name)
    doc = contract.latest.schema.get("doc", "")
    topics = (
        tuple(
            TopicLink(
                settings.topic_name(key),
                _topic_href(settings.topic_name(key), "../"),
                retention_text(settings.retention_of(key)[0]),
                settings.catalog.topic(key).partitions,
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


def _topic_page(topic: Topic, settings: Settings, readers: SiteReaders | None) -> str:
    name = settings.topic_name(topic.key)
    subject = subject_for_topic(name)
    return render(
        "topic.html.j2",
        title=name,
        root="../",
        name=name,
        topic=topic,
        contract_href=_contract_href(topic.contract, "../"),
        groups=[(c, settings.group_of(c, topic.key)) for c in topic.consumers],
        retention=retention_text(settings.retention_of(topic.key)[0]),
        subject=subject,
        dlq=dlq_name(name),
        key_field=topic.key_field,
        readers=None if readers is None else readers.by_subject.get(subject, ()),
        liveness_unknown=None if readers is None else readers.liveness_unknown,
    )


@dataclass(frozen=True, slots=True)
class _ContractRow:
    """A row of the index's table of contracts; its topics link from the site's top."""

    name: str
    href: str
    description: str
    latest: int
    level: CompatibilityLevel
    topics: tuple[TopicLink, ...]


@dataclass(frozen=True, slots=True)
class _TopicRow:
    """A row of the index's table of topics."""

    topic: Topic
    name: str
    href: str
    contract_href: str
    retention: str


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
    contracts = [
        _ContractRow(
            name=name,
            href=_contract_href(name, ""),
            description=facts[name].description,
            latest=tree[name].latest.version,
            level=facts[name].level,
            topics=tuple(
                dataclasses.replace(t, href=_topic_href(t.name, "")) for t in facts[name].topics
            ),
        )
        for name in tree
    ]
    topic_rows = [
        _TopicRow(
            topic=t,
            name=settings.topic_name(t.key),
            href=_topic_href(settings.topic_name(t.key), ""),
            contract_href=_contract_href(t.contract, ""),
            retention=retention_text(settings.retention_of(t.key)[0]),
        )
        for t in topics
    ]
    lead = count(len(tree), "contract") + (f", {count(len(topics), 'topic')}" if topics else "")
    return render(
        "index.html.j2",
        title="Contracts catalog",
        root="",
        lead=lead,
        entries=entries,
        flow=flow_layout(flows),
        contracts=contracts,
        topics=topic_rows,
    )


def build_site(
    tree: Mapping[str, ContractSchemas],
    config: ProjectConfig,
    settings: Settings,
    readers: SiteReaders | None = None,
) -> dict[str, str]:
    """Every file of the site of ``tree``, by path relative to the site's folder; with
    ``readers``, each topic page lists the topic's."""
    names = sorted(tree)
    facts = {name: _facts(name, tree[name], config, settings) for name in names}
    topics = [t for t in settings.catalog.topics.values() if t.contract in tree]
    entries: list[dict[str, object]] = []
    files = {name: asset(name) for name in ("style.css", "search.js")}
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
        files[f"topics/{name}.html"] = _topic_page(topic, settings, readers)
    files["index.html"] = _index({n: tree[n] for n in names}, facts, topics, settings, entries)
    return files

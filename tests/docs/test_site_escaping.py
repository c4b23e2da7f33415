"""No contract can inject the docs site: every text a contract carries (docs, defaults,
custom attributes, tags, Data Contract metadata and rules, subjects, the consumer group,
a registered reader's group and service) that holds markup, script or template syntax is
text on its pages, in the same markup a plain text gets, and nothing of it runs in a
browser."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.sync_api import Dialog, Page

from somacontracts.catalog.environment import load_settings
from somacontracts.kafka.readers import register_reader
from somacontracts.tooling import sources
from somacontracts.tooling.cli import EXIT_USAGE, main
from somacontracts.tooling.configuration import ProjectConfig
from somacontracts.tooling.docs.diagram import Flow, flow_layout
from somacontracts.tooling.docs.site import build_site
from somacontracts.tooling.docs.templating import render
from somacontracts.tooling.registry import LocalRegistry

PAYLOAD = (
    "<script>alert(1)</script> \"><img src=x onerror=alert(1)> '><svg onload=alert(1)> "
    "</title></textarea></pre></script><!-- {{ 7*7 }} {% raw %} ${7*7} &lt;b&gt; &amp;"
)
PLAIN = "plain words"
MARKUP = ("<", ">", "&", ";", '"', "'", "=", "<b>", "</p>", "<!--", "&amp;", "&#60;", "{{", "}}")
"""Pieces of markup a text made of them may have: what escaping must keep as text."""
EVIL_PAGE = "contracts/Evil.html"
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"})


_Element = tuple[str, dict[str, str | None], list[str]]
"""An element of a page: its tag, attributes and text (all the text inside it)."""


class _Document(HTMLParser):
    """A page as an HTML parser reads it: its markup (every tag with its attributes, in
    order, and any comment or declaration) apart from its text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.markup: list[tuple[Any, ...]] = []
        self.text: list[str] = []
        """Text outside ``<script>`` elements, as the parser decodes it."""
        self.elements: list[_Element] = []
        self._open: list[_Element] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.markup.append(("start", tag, tuple(attrs)))
        element: _Element = (tag, dict(attrs), [])
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.markup.append(("empty", tag, tuple(attrs)))
        self.elements.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        self.markup.append(("end", tag))
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not (self._open and self._open[-1][0] == "script"):
            self.text.append(data)
        for _, _, text in self._open:
            text.append(data)

    def handle_comment(self, data: str) -> None:
        self.markup.append(("comment", data))

    def handle_decl(self, decl: str) -> None:
        self.markup.append(("declaration", decl))

    def handle_pi(self, data: str) -> None:
        self.markup.append(("instruction", data))

    def unknown_decl(self, data: str) -> None:
        self.markup.append(("declaration", data))

    def text_of(self, tag: str, **attrs: str) -> list[str]:
        """The text of each element ``tag`` with these attribute values."""
        return [
            "".join(text)
            for name, found, text in self.elements
            if name == tag and all(found.get(k) == v for k, v in attrs.items())
        ]

    def search_index(self) -> list[dict[str, Any]]:
        (island,) = self.text_of("script", type="application/json", id="search-index")
        entries: list[dict[str, Any]] = json.loads(island)
        return entries


def _schema(text: Callable[[str], str], version: int) -> dict[str, Any]:
    added = [{"name": "added", "type": "string", "default": text("added default")}]
    return {
        "type": "record",
        "name": "Evil",
        "namespace": "evil.ns",
        "doc": text(f"v{version} record doc"),
        "x-record-note": text("record attribute"),
        "fields": [
            {
                "name": "note",
                "type": "string",
                "doc": text(f"v{version} field doc"),
                "default": text("string default"),
                "aliases": ["old_note"],
                "x-note": text("field attribute"),
                "confluent:tags": [text("inline tag")],
            },
            {
                "name": "kind",
                "type": {
                    "type": "enum",
                    "name": "Kind",
                    "doc": text("enum doc"),
                    "symbols": ["A", "B"],
                    "default": "A",
                },
                "default": "B",
            },
            {
                "name": "inner",
                "type": {
                    "type": "record",
                    "name": "Inner",
                    "doc": text("inner record doc"),
                    "fields": [{"name": "x", "type": "long", "doc": text("inner field doc")}],
                },
            },
            {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
            {
                "name": "lines",
                "type": {"type": "array", "items": "string"},
                "default": [text("array default")],
            },
            {
                "name": "labels",
                "type": {"type": "map", "values": "string"},
                "default": {text("map default key"): text("map default value")},
            },
            *(added if version == 2 else []),
        ],
    }


def _contract_parts(text: Callable[[str], str], version: int) -> dict[str, Any]:
    return {
        "metadata": {
            "properties": {text("property name"): text(f"v{version} property value")},
            "tags": {"evil.ns.Evil.note": [text("metadata tag")]},
            "sensitive": [text("sensitive property")],
        },
        "ruleSet": {
            "domainRules": [
                {
                    "name": text("rule name"),
                    "doc": text("rule doc"),
                    "kind": "CONDITION",
                    "mode": "WRITE",
                    "type": "CEL",
                    "expr": text(f"v{version} rule expression"),
                    "tags": [text("rule tag")],
                    "params": {text("parameter name"): text("parameter value")},
                    "onFailure": "ERROR",
                },
                {
                    "name": "encryptTagged",
                    "kind": "TRANSFORM",
                    "mode": "WRITEREAD",
                    "type": "ENCRYPT",
                    "tags": [text("metadata tag")],
                    "params": {"encrypt.kek.name": text("kek name")},
                },
            ]
        },
    }


def _project(folder: Path, text: Callable[[str], str]) -> Path:
    """A project whose tree holds this package's contracts and ``Evil`` (two versions,
    each with Data Contract parts), with a subject from its configuration; its
    ``pyproject.toml``."""
    tree = folder / "avro"
    shutil.copytree(sources.bundled_root(), tree)
    (tree / "Evil").mkdir()
    for version in (1, 2):
        (tree / "Evil" / f"v{version}.avsc").write_text(json.dumps(_schema(text, version)))
        parts = _contract_parts(text, version)
        (tree / "Evil" / f"v{version}.contract.json").write_text(json.dumps(parts))
    config = folder / "pyproject.toml"
    config.write_text(  # JSON's string escapes are TOML's
        '[tool.somacontracts]\nschemas = "avro"\n'
        '[tool.somacontracts.levels]\nEvil = "BACKWARD_TRANSITIVE"\n'
        f"[tool.somacontracts.subjects]\nEvil = [{json.dumps(text('subject'))}]\n"
    )
    return config


@dataclass
class _Site:
    folder: Path
    pages: dict[str, _Document]
    texts: set[str]
    """Every text the contracts and configuration carried."""


def _built(folder: Path, text: Callable[[str], str]) -> _Site:
    texts: set[str] = set()

    def record(carrier: str) -> str:
        texts.add(text(carrier))
        return text(carrier)

    config = _project(folder, record)
    out = folder / "site"
    with pytest.MonkeyPatch.context() as env, LocalRegistry() as registry:
        env.setenv("TOOL_EXECUTOR_GROUP", record("consumer group"))
        env.delenv("TOOL_REQUESTS_TOPIC", raising=False)
        env.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)  # liveness unknown
        register_reader(
            registry.url,
            topic="tool.requests",
            group=record("reader group"),
            service=record("reader service"),
            reader_schema=json.dumps({"type": "record", "name": "Reader", "fields": []}),
            version=1,
        )
        argv = ["docs", "--out", str(out), "--config", str(config), "--registry", registry.url]
        assert main(argv) == 0
    pages = {
        str(path.relative_to(out)): _Document(path.read_text(encoding="utf-8"))
        for path in sorted(out.rglob("*.html"))
    }
    return _Site(out, pages, texts)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[_Site, _Site]:
    """The site of the hostile project and of the same project with plain texts."""
    hostile = _built(tmp_path_factory.mktemp("hostile"), lambda carrier: f"{carrier}: {PAYLOAD}")
    plain = _built(tmp_path_factory.mktemp("plain"), lambda carrier: f"{carrier}: {PLAIN}")
    return hostile, plain


def test_markup_in_contract_texts_adds_no_element_or_attribute(
    sites: tuple[_Site, _Site],
) -> None:
    hostile, plain = sites
    assert EVIL_PAGE in hostile.pages
    assert "topics/tool.requests.html" in hostile.pages  # where the consumer group shows
    readers = hostile.pages["topics/tool.requests.html"].text_of("td")
    assert f"reader group: {PAYLOAD}" in readers  # the readers table is on the page
    assert set(hostile.pages) == set(plain.pages)
    for name, page in hostile.pages.items():
        assert page.markup == plain.pages[name].markup, name
        for event in page.markup:
            assert event[0] not in ("comment", "instruction"), (name, event)
            if event[0] in ("start", "empty"):
                assert event[1] not in ("img", "textarea"), (name, event)
                for attribute, value in event[2]:
                    assert not attribute.startswith("on"), (name, event)
                    assert "alert" not in (value or ""), (name, event)
        scripts = [e for e in page.markup if e[:2] == ("start", "script")]
        assert len(scripts) == (2 if name == "index.html" else 0), name


def test_every_text_a_contract_carries_shows_as_text(sites: tuple[_Site, _Site]) -> None:
    hostile, _ = sites
    shown = "".join(text for page in hostile.pages.values() for text in page.text)
    for text in sorted(hostile.texts):
        # As written, or inside the JSON of a schema or a default, or quoted by a message.
        forms = (text, json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1])
        assert any(form in shown for form in forms), text
    assert "{{ 7*7 }}" in shown  # no template syntax was evaluated
    page = hostile.pages[EVIL_PAGE]
    assert page.text_of("p", **{"class": "lead"}) == [f"v2 record doc: {PAYLOAD}"]
    assert page.text_of("title") == ["Evil"]
    entries = hostile.pages["index.html"].search_index()
    evil = next(e for e in entries if e["kind"] == "contract" and e["name"] == "Evil")
    assert evil["doc"] == f"v2 record doc: {PAYLOAD}"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(MARKUP) | st.characters(exclude_categories=["Cs"])).map("".join))
def test_any_doc_reads_back_as_written(doc: str) -> None:
    schema = {
        "type": "record",
        "name": "Doc",
        "doc": doc,
        "fields": [{"name": "f", "type": "string", "doc": doc, "default": doc}],
    }
    version = sources.parse_version(
        json.dumps(schema), path=Path("Doc/v1.avsc"), contract="Doc", version=1
    )
    tree = {"Doc": sources.ContractSchemas("Doc", Path("Doc"), (version,))}
    page = _Document(build_site(tree, ProjectConfig(), load_settings({}))["contracts/Doc.html"])
    assert page.text_of("p", **{"class": "lead"}) == ([doc] if doc else [])
    (row,) = page.text_of("tr", id="f-Doc.f")
    assert row == f"fstring{json.dumps(doc, ensure_ascii=False)}{doc}"


def test_the_flow_diagram_shows_any_service_and_topic_name_as_text() -> None:
    def svg(text: str) -> _Document:
        flow = Flow(f"topic {text}", "topics/t.html", (f"producer {text}",), (f"reader {text}",))
        return _Document(render("flow.svg.j2", flow=flow_layout([flow])))

    hostile, plain = svg(PAYLOAD), svg(PLAIN)
    assert hostile.markup == plain.markup
    assert hostile.text_of("title") == [
        f"producer {PAYLOAD}",
        f"topic {PAYLOAD}",
        f"reader {PAYLOAD}",
    ]


def test_without_jinja2_docs_stops_with_one_line_naming_the_extra(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "sys.modules['jinja2'] = None  # as if it were not installed\n"
        "from somacontracts.tooling.cli import main\n"
        "sys.exit(main(['docs', '--out', sys.argv[1]]))\n"
    )
    out = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-c", probe, str(out)], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == EXIT_USAGE
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("somacontracts docs: error: the docs site needs Jinja2")
    assert "pip install 'somacontracts[docs]'" in done.stderr
    assert not out.exists()  # nothing written


def test_no_injected_text_runs_in_a_browser(browser_page: Page, sites: tuple[_Site, _Site]) -> None:
    hostile, _ = sites
    problems: list[str] = []
    page = browser_page

    def dialog(found: Dialog) -> None:
        problems.append(f"dialog: {found.message}")
        found.dismiss()

    page.on("dialog", dialog)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    for name in sorted(hostile.pages):
        page.goto((hostile.folder / name).as_uri())
        counts = page.evaluate(
            "() => [document.scripts.length, document.images.length,"
            " document.querySelectorAll('textarea, svg[onload], [onerror]').length,"
            " document.title]"
        )
        assert counts[:3] == [2 if name == "index.html" else 0, 0, 0], name
        assert "<" not in counts[3], name
    page.goto((hostile.folder / EVIL_PAGE).as_uri())
    assert f"v2 record doc: {PAYLOAD}" in page.inner_text("main")
    page.goto((hostile.folder / "index.html").as_uri())
    page.fill("#search", "record doc")
    assert "record doc: <script>alert(1)</script>" in page.inner_text("#results")
    page.fill("#search", "<script>alert(1)</script>")
    assert page.locator("#results a").count() >= 1
    assert problems == []

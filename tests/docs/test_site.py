"""``somacontracts docs``: a static site, the same bytes every run, that a real browser
opens without errors, every page reachable and every link whole, search working."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, assume, given, settings
from playwright.sync_api import Page

from somacontracts.catalog.environment import load_settings
from somacontracts.compat import CompatibilityLevel
from somacontracts.schema import Node, RecordNode, UnionNode, parse
from somacontracts.tooling import sources
from somacontracts.tooling.cli import main
from somacontracts.tooling.configuration import ProjectConfig, read_config
from somacontracts.tooling.docs.examples import NoExampleError, avro_size, example
from somacontracts.tooling.docs.site import build_site
from somacontracts.tooling.plainjson import from_plain_json
from tests.compat.strategies import record_schemas

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "shop"


def _site(out: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, bytes]:
    assert main(["docs", "--out", str(out), *args]) == 0
    assert capsys.readouterr().out.startswith("wrote ")
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


class _Links(HTMLParser):
    """The hrefs and ids of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag in ("a", "link", "script") and (found.get("href") or found.get("src")):
            self.hrefs.append(str(found.get("href") or found.get("src")))


def _links(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text())
    return parser


def test_two_runs_give_identical_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _site(tmp_path / "a", capsys)
    second = _site(tmp_path / "b", capsys)
    assert first == second
    assert {"index.html", "style.css", "search.js", "contracts/ToolInvocation.html"} <= set(first)
    assert b"/tmp" not in b"".join(first.values())  # no absolute paths in the pages


def test_every_link_and_fragment_of_every_page_resolves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _site(tmp_path, capsys)
    pages = [tmp_path / name for name in site if name.endswith(".html")]
    reached = {tmp_path / "index.html"}
    for page in pages:
        for href in _links(page).hrefs:
            if href == "data:,":
                continue  # the empty icon, which spares the browser a request
            assert "://" not in href, f"{page.name} links outside the site: {href}"
            target, _, fragment = href.partition("#")
            resolved = (page.parent / target).resolve() if target else page
            assert resolved.is_file(), f"{page.name}: broken link {href}"
            if fragment:
                assert fragment in _links(resolved).ids, f"{page.name}: no #{fragment} in {target}"
            reached.add(resolved)
    assert set(pages) <= reached


def test_pages_say_what_the_catalog_and_schemas_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_REQUESTS_TOPIC", "somastack.tools")
    _site(tmp_path, capsys)
    topic = (tmp_path / "topics" / "somastack.tools.html").read_text()
    for fact in ("500 messages", "TOOL_REQUESTS_TOPIC", "tool-executor", "7 days", "gateway"):
        assert fact in topic
    assert not (tmp_path / "topics" / "tool.requests.html").exists()
    page = (tmp_path / "contracts" / "ConversationEvent.html").read_text()
    content = re.search(
        r'<tr id="f-somastack\.contracts\.ConversationEvent\.content">.*?</tr>', page
    )
    assert content is not None
    assert 'class="tag pii">PII<' in content.group()
    assert "encrypted" in content.group()
    assert page.index('id="v1"') < page.index('id="v2"')
    assert "Deploy:" in page
    assert "FULL_TRANSITIVE" in page
    sample = re.search(
        r"Example message</h2>\s*<p>.*? (\d+) bytes of Avro.*?<pre>(.*?)</pre>", page, re.S
    )
    assert sample is not None
    plain = json.loads(html.unescape(sample.group(2)))
    latest = sources.bundled()["ConversationEvent"].latest
    assert int(sample.group(1)) == avro_size(latest.schema, plain)


def test_a_transitive_level_judges_each_version_against_all_before_it(tmp_path: Path) -> None:
    folder = tmp_path / "avro" / "Thing"
    folder.mkdir(parents=True)
    a = {"name": "a", "type": "string"}
    b = {"name": "b", "type": "long"}
    versions = [[a], [a, {**b, "default": 1}], [a, b]]  # v3 cannot read v1 data
    for number, fields in enumerate(versions, 1):
        schema = {"type": "record", "name": "Thing", "fields": fields}
        (folder / f"v{number}.avsc").write_text(json.dumps(schema))
    level = CompatibilityLevel.BACKWARD_TRANSITIVE
    config = ProjectConfig(levels={"Thing": level})
    page = build_site(sources.load_tree(tmp_path / "avro"), config, load_settings({}))[
        "contracts/Thing.html"
    ]
    v3 = page[page.index('id="v3"') :]
    assert '<span class="verdict-bad">not allowed</span>' in v3
    assert 'not compatible with <a href="#v1">v1</a>' in v3
    v2 = page[page.index('id="v2"') : page.index('id="v3"')]
    assert '<span class="verdict-ok">allowed</span>' in v2


def test_any_service_s_tree_gets_a_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _site(tmp_path, capsys, "--config", str(EXAMPLES / "pyproject.toml"))
    assert "contracts/Order.html" in files
    assert not any(name.startswith("topics/") for name in files)
    config = read_config(EXAMPLES / "pyproject.toml")
    page = files["contracts/Order.html"].decode()
    for subject in config.subjects.get("Order", ()):
        assert subject in page


def test_hostile_docs_are_text_and_odd_schemas_get_pages(tmp_path: Path) -> None:
    tree_root = tmp_path / "avro" / "Evil"
    tree_root.mkdir(parents=True)
    doc = '</script><script>alert(1)</script><b onmouseover="x">&'
    schema = {
        "type": "record",
        "name": "Evil",
        "namespace": "x",
        "doc": doc,
        "fields": [{"name": "a", "type": "string", "doc": doc}],
    }
    (tree_root / "v1.avsc").write_text(json.dumps(schema))
    selfish = {"type": "record", "name": "Loop", "fields": [{"name": "next", "type": "Loop"}]}
    (tmp_path / "avro" / "Loop").mkdir()
    (tmp_path / "avro" / "Loop" / "v1.avsc").write_text(json.dumps(selfish))
    files = build_site(sources.load_tree(tmp_path / "avro"), ProjectConfig(), load_settings({}))
    assert (
        "No finite message fits this schema: record Loop contains itself at /next"
        in (files["contracts/Loop.html"])
    )
    for text in files.values():
        assert "<script>alert" not in text
        assert "<b onmouseover" not in text
    assert files["index.html"].count("</script>") == 2  # the index island and search.js


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_schemas())
def test_any_schema_gets_an_example_avro_writes(schema: dict[str, Any]) -> None:
    try:
        fastavro.parse_schema(schema)
    except (fastavro.schema.SchemaParseException, fastavro.schema.UnknownType):
        assume(False)  # a schema tree holds only schemas fastavro reads (it loads them so)
    root = parse(schema).root
    try:
        plain = example(root)
    except NoExampleError:
        assert not _inhabited(root, frozenset())  # no finite message exists at all
        return
    size = avro_size(schema, plain)
    assert size >= 0
    datum = from_plain_json(schema, plain)
    assert fastavro.validation.validate(datum, fastavro.parse_schema(schema), raise_errors=False)


def _inhabited(node: Node, assumed_empty: frozenset[str]) -> bool:
    """Whether a finite value of ``node`` exists (records in ``assumed_empty`` are being
    decided: a value through them would be infinite)."""
    if isinstance(node, RecordNode):
        if node.full_name in assumed_empty:
            return False
        inside = assumed_empty | {node.full_name}
        return all(_inhabited(f.node, inside) for f in node.fields)
    if isinstance(node, UnionNode):
        return any(_inhabited(b, assumed_empty) for b in node.branches)
    return True  # primitives, enums, fixed; arrays and maps may be empty


def test_only_pages_it_wrote_go_and_a_blocked_path_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "avro"
    shutil.copytree(sources.bundled_root(), tree)
    site = tmp_path / "site"
    _site(site, capsys, "--schemas", str(tree))
    (site / "contracts" / "overview.html").write_text("a page of the team's own")
    shutil.rmtree(tree / "DelegatedTask")
    assert main(["docs", "--out", str(site), "--schemas", str(tree)]) == 0
    assert "removed 2 stale pages" in capsys.readouterr().out  # its contract and topic pages
    assert not (site / "contracts" / "DelegatedTask.html").exists()
    assert not (site / "topics" / "task.delegated.html").exists()
    assert (site / "contracts" / "overview.html").read_text() == "a page of the team's own"

    (site / "contracts" / "ToolResult.html").unlink()
    (site / "contracts" / "ToolResult.html").mkdir()  # something in the way of a page
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (site, blocker / "site"):
        assert main(["docs", "--out", str(out), "--schemas", str(tree)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "cannot write" in err
    assert main(["docs", "--out", ""]) == 2
    assert "names no folder" in capsys.readouterr().err


def test_the_site_opens_in_a_browser_without_errors_and_search_finds_fields(
    browser_page: Page,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path_factory.mktemp("site")
    shots = tmp_path_factory.getbasetemp() / "screenshots"
    shots.mkdir(exist_ok=True)
    _site(out, capsys)
    problems: list[str] = []
    page = browser_page
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))

    index = (out / "index.html").as_uri()
    seen: set[str] = set()
    queue = [index]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        page.goto(url)
        hrefs = page.eval_on_selector_all(
            "a[href]",  # SVG links too, whose .href is not a string
            "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)",
        )
        queue += [h.partition("#")[0] for h in hrefs if h.startswith("file://")]
    pages = {p.as_uri() for p in out.rglob("*.html")}
    assert pages <= seen
    page.goto(index)
    page.screenshot(path=str(shots / "index.png"), full_page=True)
    page.fill("#search", "duration_ms")
    results = page.locator("#results a")
    assert results.count() >= 1
    assert "ToolResult" in (results.first.get_attribute("href") or "")
    results.first.click()
    page.wait_for_load_state()
    assert page.url.endswith("ToolResult.html#f-somastack.contracts.ToolResultMetrics.duration_ms")
    assert page.locator("tr[id$='.duration_ms']").is_visible()
    page.goto((out / "contracts" / "ConversationEvent.html").as_uri())
    page.screenshot(path=str(shots / "contract.png"))
    assert problems == []
    print(f"screenshots in {shots}")

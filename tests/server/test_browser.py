"""Web pages in a real browser (headless Chromium) try to write to and read from a local
registry: a page on another origin with the requests a browser sends without asking
(a ``no-cors`` fetch, form posts), and a DNS-rebinding page whose own name points at the
registry. None of them writes, deletes or reads anything; a page on an allowed origin,
and the rebinding page once its name is allowed, do: the attacks are real."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from somacontracts.tooling.registry import LocalRegistry
from tests.docs.conftest import chromium  # noqa: F401  (the fixture, shared)
from tests.server.conftest import A_GUID, raw

ATTACKER = "attacker.test"
SCHEMA = json.dumps({"schema": '"string"'})

# Each attempt resolves to what the page could learn of it: a status, or the error.
CROSS_ORIGIN = """
async ([registry, body]) => {
  const tries = {};
  const attempt = async (name, request) => {
    try { const r = await request(); tries[name] = r.type === "opaque" ? "opaque" : r.status; }
    catch (e) { tries[name] = "failed: " + e.name; }
  };
  await attempt("no-cors blob", () => fetch(registry + "/subjects/blob/versions",
    {method: "POST", mode: "no-cors", body: new Blob([body])}));
  await attempt("no-cors json blob", () => fetch(registry + "/subjects/typed/versions",
    {method: "POST", mode: "no-cors",
     body: new Blob([body], {type: "application/vnd.schemaregistry.v1+json"})}));
  await attempt("no-cors text", () => fetch(registry + "/subjects/text/versions",
    {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body}));
  await attempt("cors json", () => fetch(registry + "/subjects/cors/versions",
    {method: "POST", headers: {"Content-Type": "application/json"}, body}));
  await attempt("cors delete", () => fetch(registry + "/subjects/seed", {method: "DELETE"}));
  await attempt("cors mode", () => fetch(registry + "/mode",
    {method: "PUT", headers: {"Content-Type": "application/json"}, body: '{"mode":"READONLY"}'}));
  await attempt("cors read", async () => { const r = await fetch(registry + "/subjects");
    return {status: r.status, type: r.type, text: await r.text()}; });
  for (const [name, enctype, field, value] of [
      ["form text", "text/plain", '{"schema":"\\\\"int\\\\"","x":"', '"}'],
      ["form urlencoded", "application/x-www-form-urlencoded", "schema", '"int"'],
      ["form multipart", "multipart/form-data", "schema", '"int"']]) {
    const frame = document.createElement("iframe");
    frame.name = name;
    document.body.append(frame);
    const form = document.createElement("form");
    form.method = "POST"; form.enctype = enctype; form.target = name;
    form.action = registry + "/subjects/form/versions";
    const input = document.createElement("input");
    input.name = field; input.value = value;
    form.append(input);
    document.body.append(form);
    await new Promise((done) => { frame.onload = done; form.submit(); });
    tries[name] = "submitted";
  }
  return tries;
}
"""

# The page of a rebound name is the registry's own origin to the browser: same-origin
# requests, no CORS, JSON content types allowed.
REBOUND = """
async (body) => {
  const read = await fetch("/subjects");
  const write = await fetch("/subjects/rebound/versions", {method: "POST",
    headers: {"Content-Type": "application/vnd.schemaregistry.v1+json"}, body});
  const remove = await fetch("/subjects/seed", {method: "DELETE"});
  return {read: read.status, seen: await read.text(), write: write.status,
          remove: remove.status};
}
"""


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:  # noqa: F811  (the fixture imported above)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", f"--host-resolver-rules=MAP {ATTACKER} 127.0.0.1"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@contextlib.contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[int]:
    """A loopback port served by ``handler`` until the block ends."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _EmptyPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>a page</title><body></body>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page_server() -> Iterator[int]:
    """An empty page on a loopback port of its own: another origin than the registry's."""
    with _serving(_EmptyPage) as port:
        yield port


def seeded(registry: LocalRegistry) -> str:
    url = registry.url
    assert raw(url, "POST", "/subjects/seed/versions", {"schema": '"int"'}) == (
        200,
        {"id": 1, "guid": A_GUID},
    )
    return url


def unchanged(url: str) -> None:
    """The registry holds the seed, and nothing else: no subject, version, mode or config."""
    assert raw(url, "GET", "/subjects?deleted=true") == (200, ["seed"])
    assert raw(url, "GET", "/subjects/seed/versions?deleted=true") == (200, [1])
    assert raw(url, "GET", "/mode") == (200, {"mode": "READWRITE"})
    assert raw(url, "GET", "/schemas/ids/2")[0] == 404


def statuses(page: Page, port: int) -> list[tuple[str, str, int]]:
    """What the registry answered each request of ``page`` that reached it."""
    answers: list[tuple[str, str, int]] = []

    def seen(response: object) -> None:
        request = response.request  # type: ignore[attr-defined]
        if urlsplit(request.url).port == port:
            answers.append((request.method, urlsplit(request.url).path, response.status))  # type: ignore[attr-defined]

    page.on("response", seen)
    return answers


@pytest.mark.parametrize("page_host", ["127.0.0.1", ATTACKER])
def test_a_page_on_another_origin_changes_and_reads_nothing(
    page: Page, page_server: int, page_host: str
) -> None:
    with LocalRegistry() as registry:
        url = seeded(registry)
        port = urlsplit(url).port
        assert port is not None
        answers = statuses(page, port)
        page.goto(f"http://{page_host}:{page_server}/")
        tries = page.evaluate(CROSS_ORIGIN, [f"http://127.0.0.1:{port}", SCHEMA])
        unchanged(url)
    assert tries["no-cors blob"] == tries["no-cors json blob"] == "opaque"
    for name in ("cors json", "cors delete", "cors mode", "cors read"):
        assert tries[name] == "failed: TypeError", (name, tries[name])  # refused by CORS
    reached = {(method, path) for method, path, _ in answers}
    assert ("POST", "/subjects/blob/versions") in reached  # the browser sent it ...
    assert ("POST", "/subjects/form/versions") in reached
    assert {status for _, _, status in answers} <= {403}, answers  # ... and it was refused


def test_a_rebound_name_reads_and_changes_nothing(page: Page) -> None:
    with LocalRegistry() as registry:
        url = seeded(registry)
        got = _rebound(page, url)
        unchanged(url)
    assert got["read"] == got["write"] == got["remove"] == 403, got
    assert "seed" not in got["seen"]
    assert "--allowed-host" in got["seen"]


def test_an_allowed_name_and_origin_are_served_in_the_browser(
    page: Page, browser: Browser, page_server: int
) -> None:
    """The same pages succeed where the registry allows them: the refusals above are the
    registry's, not the browser's."""
    with LocalRegistry(allowed_hosts=[ATTACKER]) as registry:
        url = seeded(registry)
        got = _rebound(page, url)
        assert (got["read"], got["write"], got["remove"]) == (200, 200, 200), got
        assert json.loads(got["seen"]) == ["seed"]
        assert raw(url, "GET", "/subjects")[1] == ["rebound"]
    origin = f"http://127.0.0.1:{page_server}"
    with LocalRegistry(allowed_origins=[origin]) as registry:
        url = seeded(registry)
        other = browser.new_page()
        try:
            other.goto(origin + "/")
            tries = other.evaluate(CROSS_ORIGIN, [url, SCHEMA])
        finally:
            other.close()
        assert tries["cors json"] == tries["cors delete"] == 200, tries
        assert raw(url, "GET", "/subjects")[1] == ["cors"]
        assert raw(url, "GET", "/mode")[1] == {"mode": "READONLY"}


def _rebound(page: Page, url: str) -> dict[str, Any]:
    """Run :data:`REBOUND` in a page of ``attacker.test`` that then reaches the registry at
    the same name and port, as if the attacker's DNS had answered 127.0.0.1 in between."""
    with _rebinding(url) as port:
        page.goto(f"http://{ATTACKER}:{port}/")
        got: dict[str, Any] = page.evaluate(REBOUND, SCHEMA)
    return got


@contextlib.contextmanager
def _rebinding(url: str) -> Iterator[int]:
    """A port whose ``/`` is the attacker's page and whose every other path is the
    registry's, forwarded as sent (``Host`` included)."""
    registry = urlsplit(url)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            if self.path == "/":
                self.answer(
                    200, [("Content-Type", "text/html")], b"<!doctype html><title>x</title>"
                )
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            connection = http.client.HTTPConnection(registry.hostname or "", registry.port)
            try:
                connection.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in self.headers.items():
                    connection.putheader(name, value)
                connection.endheaders(body)
                response = connection.getresponse()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() == "content-type"]
                self.answer(response.status, kept, response.read())
            finally:
                connection.close()

        def answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self.forward()

        def do_POST(self) -> None:
            self.forward()

        def do_PUT(self) -> None:
            self.forward()

        def do_DELETE(self) -> None:
            self.forward()

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as port:
        yield port

"""The docs site's templates: the page shell, the style sheet and the search script.

Everything the site needs is here and inlined or written beside the pages, so that it
reads offline from the file system: no CDN, no server, no ``fetch`` (browsers refuse it
on ``file://``). Pages escape every value they insert (:func:`html.escape`); the search
index is JSON inside a ``<script type="application/json">`` element, with ``<`` escaped
so that no value can close it.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

__all__ = ["SCRIPT", "STYLE", "json_island", "page"]

STYLE = """\
:root { --fg: #1d2330; --muted: #5b6475; --line: #d8dce4; --accent: #2456a6;
  --bg-soft: #f4f6fa; --pii: #a3261b; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); }
header { padding: 12px 24px; border-bottom: 1px solid var(--line); display: flex;
  gap: 24px; align-items: baseline; }
header a.home { font-weight: 600; color: var(--fg); text-decoration: none; }
main { padding: 8px 24px 48px; max-width: 1100px; }
a { color: var(--accent); }
h1 { font-size: 26px; margin: 16px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
p.lead { color: var(--muted); margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
  border-bottom: 1px solid var(--line); }
th { background: var(--bg-soft); font-weight: 600; }
code, pre { font: 13px/1.45 ui-monospace, "SFMono-Regular", Menlo, monospace; }
pre { background: var(--bg-soft); padding: 10px 12px; overflow-x: auto; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.tag { display: inline-block; padding: 0 6px; margin-right: 4px; border-radius: 8px;
  font-size: 12px; background: var(--bg-soft); border: 1px solid var(--line); }
.tag.pii { color: var(--pii); border-color: var(--pii); }
.tag.encrypted { color: #fff; background: var(--pii); border-color: var(--pii); }
.verdict-ok { color: #1c7c3c; }
.verdict-bad { color: var(--pii); font-weight: 600; }
#search { width: 100%; max-width: 480px; padding: 6px 10px; font-size: 15px; }
#results { list-style: none; padding: 0; }
#results li { padding: 3px 0; }
#results .kind { color: var(--muted); font-size: 12px; margin-left: 6px; }
#results .snippet { color: var(--muted); font-size: 13px; }
h1 code { font-size: inherit; }
.scroll { overflow-x: auto; }
@media (max-width: 700px) { main { padding: 8px 12px 32px; } header { padding: 10px 12px; } }
svg.flow { max-width: 100%; height: auto; font: 12px ui-monospace, Menlo, monospace; }
svg.flow rect.service { fill: #eef2f9; stroke: #8a96ad; }
svg.flow rect.topic { fill: #fff6e5; stroke: #c58a1c; }
svg.flow a:hover rect.topic { fill: #ffe7b8; }
svg.flow .edge { fill: none; stroke: #8a96ad; stroke-width: 1.3; }
svg.flow marker path { fill: #8a96ad; }
svg.flow .heading { fill: var(--muted); font-weight: 600; }
"""

SCRIPT = """\
"use strict";
(function () {
  const box = document.getElementById("search");
  const list = document.getElementById("results");
  const data = document.getElementById("search-index");
  if (!box || !list || !data) { return; }
  const entries = JSON.parse(data.textContent);
  function show(query) {
    list.replaceChildren();
    const words = query.toLowerCase().split(/\\s+/).filter(Boolean);
    if (words.length === 0) { return; }
    const found = entries.filter(function (entry) {
      const text = [entry.name, entry.path, entry.doc, entry.terms || ""].join(" ").toLowerCase();
      return words.every(function (word) { return text.includes(word); });
    }).slice(0, 50);
    for (const entry of found) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = entry.url;
      link.textContent = entry.path;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = entry.kind;
      item.append(link, kind);
      if (entry.doc) {
        const doc = document.createElement("div");
        doc.className = "snippet";
        doc.textContent = entry.doc.length > 140 ? entry.doc.slice(0, 137) + "..." : entry.doc;
        item.append(doc);
      }
      list.append(item);
    }
    if (found.length === 0) {
      const item = document.createElement("li");
      item.textContent = "Nothing matches.";
      list.append(item);
    }
  }
  box.addEventListener("input", function () { show(box.value); });
  show(box.value);
})();
"""


def json_island(element_id: str, value: Any) -> str:
    """``value`` as JSON in a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


def page(*, title: str, root: str, body: str, scripts: bool = False) -> str:
    """A whole HTML page; ``root`` is the relative path to the site's top (``""`` or
    ``"../"``)."""
    script = f'<script src="{root}search.js"></script>' if scripts else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f'<link rel="stylesheet" href="{root}style.css">\n'
        "</head>\n<body>\n"
        f'<header><a class="home" href="{root}index.html">Contracts catalog</a>'
        + (f"<span>{escape(title)}</span>" if root else "")
        + "</header>\n"
        f"<main>\n{body}\n</main>\n{script}\n</body>\n</html>\n"
    )

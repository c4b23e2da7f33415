"use strict";
(function () {
  const box = document.getElementById("search");
  const list = document.getElementById("results");
  const data = document.getElementById("search-index");
  if (!box || !list || !data) { return; }
  const entries = JSON.parse(data.textContent);
  function show(query) {
    list.replaceChildren();
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
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

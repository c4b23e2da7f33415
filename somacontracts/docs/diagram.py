"""The topic flow of the catalog as an inline SVG: services, topics, services.

What the platform's document draws as a mermaid graph, laid out in three columns:
producing services on the left, topics in the middle (each linked to its page),
consuming services on the right, an arrow for each producer-topic and topic-consumer
pair. Pure and deterministic: the same flows give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Flow", "flow_svg"]

_ROW = 40
_BOX_HEIGHT = 28
_TOP = 36
_COLUMNS = ((10, 170), (300, 230), (650, 170))
"""(x, width) of the producer, topic and consumer columns."""
_WIDTH = 830


@dataclass(frozen=True, slots=True)
class Flow:
    """A topic with the services that write and read it."""

    topic: str
    href: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


_CHAR_WIDTH = 7.3
"""Width of one character of the diagram's 12px monospace font, in pixels."""


def _box(x: int, y: int, width: int, label: str, css: str, href: str | None = None) -> str:
    fits = int((width - 12) / _CHAR_WIDTH)
    shown = label if len(label) <= fits else label[: fits - 1] + "…"
    rect = (
        f"<title>{escape(label)}</title>"
        f'<rect x="{x}" y="{y}" width="{width}" height="{_BOX_HEIGHT}" rx="6" class="{css}"/>'
        f'<text x="{x + width // 2}" y="{y + 18}" text-anchor="middle">{escape(shown)}</text>'
    )
    if href is None:
        return f"<g>{rect}</g>"
    return f'<a href="{escape(href)}"><g>{rect}</g></a>'


def _arrow(x1: int, y1: int, x2: int, y2: int) -> str:
    middle = (x1 + x2) // 2
    return (
        f'<path d="M{x1},{y1} C{middle},{y1} {middle},{y2} {x2 - 6},{y2}" '
        'class="edge" marker-end="url(#arrow)"/>'
    )


def flow_svg(flows: Sequence[Flow]) -> str:
    """The diagram of ``flows`` as an ``<svg>`` element (empty string for no flows)."""
    if not flows:
        return ""
    producers = _unique([p for flow in flows for p in flow.producers])
    consumers = _unique([c for flow in flows for c in flow.consumers])
    rows = max(len(producers), len(flows), len(consumers))
    height = _TOP + rows * _ROW + 10

    def y_of(index: int, count: int) -> int:
        # Centre a shorter column against the tallest one.
        return _TOP + index * _ROW + (rows - count) * _ROW // 2

    (px, pw), (tx, tw), (cx, cw) = _COLUMNS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" role="img" class="flow" '
        'aria-label="Services, the topics they produce to and the services that consume them">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>",
        f'<text x="{px + pw // 2}" y="18" text-anchor="middle" class="heading">produce</text>',
        f'<text x="{tx + tw // 2}" y="18" text-anchor="middle" class="heading">topic</text>',
        f'<text x="{cx + cw // 2}" y="18" text-anchor="middle" class="heading">consume</text>',
    ]
    middle = _BOX_HEIGHT // 2
    for index, flow in enumerate(flows):
        ty = y_of(index, len(flows))
        for producer in flow.producers:
            py = y_of(producers.index(producer), len(producers))
            parts.append(_arrow(px + pw, py + middle, tx, ty + middle))
        for consumer in flow.consumers:
            cy = y_of(consumers.index(consumer), len(consumers))
            parts.append(_arrow(tx + tw, ty + middle, cx, cy + middle))
    parts += [
        _box(px, y_of(i, len(producers)), pw, name, "service") for i, name in enumerate(producers)
    ]
    parts += [
        _box(tx, y_of(i, len(flows)), tw, flow.topic, "topic", flow.href)
        for i, flow in enumerate(flows)
    ]
    parts += [
        _box(cx, y_of(i, len(consumers)), cw, name, "service") for i, name in enumerate(consumers)
    ]
    parts.append("</svg>")
    return "".join(parts)

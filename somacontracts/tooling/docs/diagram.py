"""The topic flow of the catalog, laid out for an inline SVG: services, topics, services.

What the platform's document draws as a mermaid graph, laid out in three columns:
producing services on the left, topics in the middle (each linked to its page),
consuming services on the right, an arrow for each producer-topic and topic-consumer
pair. :func:`flow_layout` computes where everything goes; ``templates/flow.svg.j2``
draws it. Pure and deterministic: the same flows give the same layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Arrow", "Box", "Flow", "Heading", "Layout", "flow_layout"]

_ROW = 40
_BOX_HEIGHT = 28
_TOP = 36
_COLUMNS = ((10, 170), (300, 230), (650, 170))
"""(x, width) of the producer, topic and consumer columns."""
_WIDTH = 830
_CHAR_WIDTH = 7.3
"""Width of one character of the diagram's 12px monospace font, in pixels."""


@dataclass(frozen=True, slots=True)
class Flow:
    """A topic with the services that write and read it."""

    topic: str
    href: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    """A column's heading, centred on ``x``."""

    x: int
    text: str


@dataclass(frozen=True, slots=True)
class Box:
    """A service or topic: ``label`` in full (its tooltip), ``shown`` cut to fit."""

    x: int
    y: int
    width: int
    label: str
    shown: str
    css: str
    href: str | None

    @property
    def text_x(self) -> int:
        """Where the label's centre goes."""
        return self.x + self.width // 2

    @property
    def text_y(self) -> int:
        """Where the label's baseline goes."""
        return self.y + 18


@dataclass(frozen=True, slots=True)
class Arrow:
    """A curve from (x1, y1) to (x2, y2), bending at ``middle``."""

    x1: int
    y1: int
    middle: int
    x2: int
    y2: int


@dataclass(frozen=True, slots=True)
class Layout:
    """Everything the diagram draws, in pixels."""

    width: int
    height: int
    box_height: int
    headings: tuple[Heading, ...]
    arrows: tuple[Arrow, ...]
    boxes: tuple[Box, ...]


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _box(x: int, y: int, width: int, label: str, css: str, href: str | None = None) -> Box:
    fits = int((width - 12) / _CHAR_WIDTH)
    shown = label if len(label) <= fits else label[: fits - 1] + "…"
    return Box(x, y, width, label, shown, css, href)


def _arrow(x1: int, y1: int, x2: int, y2: int) -> Arrow:
    # The arrow head (its marker) takes the last 6 pixels.
    return Arrow(x1, y1, (x1 + x2) // 2, x2 - 6, y2)


def flow_layout(flows: Sequence[Flow]) -> Layout | None:
    """The layout of the diagram of ``flows`` (None for no flows)."""
    if not flows:
        return None
    producers = _unique([p for flow in flows for p in flow.producers])
    consumers = _unique([c for flow in flows for c in flow.consumers])
    rows = max(len(producers), len(flows), len(consumers))

    def y_of(index: int, count: int) -> int:
        # Centre a shorter column against the tallest one.
        return _TOP + index * _ROW + (rows - count) * _ROW // 2

    (px, pw), (tx, tw), (cx, cw) = _COLUMNS
    middle = _BOX_HEIGHT // 2
    arrows: list[Arrow] = []
    for index, flow in enumerate(flows):
        ty = y_of(index, len(flows))
        for producer in flow.producers:
            py = y_of(producers.index(producer), len(producers))
            arrows.append(_arrow(px + pw, py + middle, tx, ty + middle))
        for consumer in flow.consumers:
            cy = y_of(consumers.index(consumer), len(consumers))
            arrows.append(_arrow(tx + tw, ty + middle, cx, cy + middle))
    boxes = [
        *(
            _box(px, y_of(i, len(producers)), pw, name, "service")
            for i, name in enumerate(producers)
        ),
        *(
            _box(tx, y_of(i, len(flows)), tw, flow.topic, "topic", flow.href)
            for i, flow in enumerate(flows)
        ),
        *(
            _box(cx, y_of(i, len(consumers)), cw, name, "service")
            for i, name in enumerate(consumers)
        ),
    ]
    return Layout(
        width=_WIDTH,
        height=_TOP + rows * _ROW + 10,
        box_height=_BOX_HEIGHT,
        headings=(
            Heading(px + pw // 2, "produce"),
            Heading(tx + tw // 2, "topic"),
            Heading(cx + cw // 2, "consume"),
        ),
        arrows=tuple(arrows),
        boxes=tuple(boxes),
    )

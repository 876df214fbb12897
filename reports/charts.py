"""Inline SVG charts for the run report: pure functions from numbers to markup, with no
script and no remote resource. Every label is escaped, colours come from CSS classes (so
the report's light and dark palettes apply), and each chart carries a text alternative
(``<title>`` and ``<desc>``) that a screen reader reads instead of the drawing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from markupsafe import Markup, escape

SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class Bar:
    """One bar of a stacked bar chart: its label and its value per series."""

    label: str
    values: Mapping[str, int]
    note: str = ""  # shown in the bar's tooltip and text alternative (e.g. "partial run")

    @property
    def total(self) -> int:
        """Sum of every series in the bar."""
        return sum(self.values.values())


class Cell(NamedTuple):
    """One run in a rule's history strip: a status (None: not audited) and its tooltip (a
    tuple: rows of them are cache keys, hashed without a Python call per cell)."""

    status: str | None
    tooltip: str


def _svg(
    ident: str, size: tuple[int, int], text: tuple[str, str], body: list[str], css: str
) -> Markup:
    """Wrap ``body`` (already escaped markup) in an accessible, scalable ``<svg>`` whose
    ``<title>`` and ``<desc>`` (``text``) carry ids made from ``ident``."""
    (width, height), (title, desc), n = size, text, escape(f"chart-{ident}")
    return Markup(
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{n}-t {n}-d" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="{n}-t">{escape(title)}</title><desc id="{n}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _describe(bar: Bar, series: Sequence[str]) -> str:
    """``"label: 5 (high 2, medium 3, low 0)"`` for tooltips and text alternatives."""
    parts = ", ".join(f"{s} {bar.values.get(s, 0)}" for s in series)
    note = f", {bar.note}" if bar.note else ""
    return f"{bar.label}: {bar.total} ({parts}){note}"


def _scale_top(values: Sequence[int]) -> int:
    """A round axis maximum at least as large as every value (never zero)."""
    top = max([*values, 1])
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 4:
            return -(-top // step) * step
    return top


def stacked_columns(
    ident: str,
    title: str,
    bars: Sequence[Bar],
    series: Sequence[str] = SEVERITIES,
    line: Sequence[int] | None = None,
    line_label: str = "",
) -> Markup:
    """Vertical stacked columns (one per bar, series stacked bottom-up), optionally with a
    line of a second measure drawn over them (e.g. failing pages per run)."""
    width, height, left, bottom, top_pad = 640, 220, 44, 36, 12
    plot_h = height - bottom - top_pad
    slot = min((width - left - 8) / max(len(bars), 1), 52)  # a lone run is no wall of colour
    top = _scale_top([b.total for b in bars] + list(line or []))

    def y(v: float) -> float:
        """Vertical position of value ``v``."""
        return top_pad + plot_h - v * plot_h / top

    body = [
        f'<line class="axis" x1="{left}" y1="{y(0):.1f}" x2="{width - 4}" y2="{y(0):.1f}"/>',
        f'<text class="tick" x="{left - 6}" y="{y(top) + 4:.1f}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
        f'<line class="grid" x1="{left}" y1="{y(top):.1f}" x2="{width - 4}" y2="{y(top):.1f}"/>',
    ]
    for i, bar in enumerate(bars):
        x = left + i * slot + slot * 0.18
        w = slot * 0.64
        base = 0
        tip = escape(_describe(bar, series))
        body.append(f"<g><title>{tip}</title>")
        for s in series:
            v = bar.values.get(s, 0)
            if v:
                body.append(
                    f'<rect class="sev-{escape(s)}" x="{x:.1f}" y="{y(base + v):.1f}" '
                    f'width="{w:.1f}" height="{v * plot_h / top:.1f}"/>'
                )
            base += v
        body.append(
            f'<text class="tick" x="{x + w / 2:.1f}" y="{height - bottom + 15}" '
            f'text-anchor="middle">{escape(bar.label)}</text></g>'
        )
    if line:
        points = " ".join(
            f"{left + i * slot + slot / 2:.1f},{y(v):.1f}" for i, v in enumerate(line)
        )
        body.append(f'<polyline class="trend-line" points="{points}"/>')
        for i, v in enumerate(line):
            body.append(
                f'<circle class="trend-dot" cx="{left + i * slot + slot / 2:.1f}" '
                f'cy="{y(v):.1f}" r="3.5"><title>{escape(bars[i].label)}: '
                f"{escape(line_label)} {v}</title></circle>"
            )
    body.append(_legend(series, line_label if line else "", height - 8, left))
    desc = "; ".join(
        _describe(b, series) + (f", {line_label} {line[i]}" if line else "")
        for i, b in enumerate(bars)
    )
    return _svg(ident, (width, height), (title, desc or "No data."), body, "columns")


def stacked_rows(
    ident: str, title: str, bars: Sequence[Bar], series: Sequence[str] = SEVERITIES
) -> Markup:
    """Horizontal stacked bars, one row per bar (labels on the left, totals on the right)."""
    row_h, label_w, width, top_pad = 22, 170, 480, 4
    height = top_pad + row_h * max(len(bars), 1) + 24
    top = _scale_top([b.total for b in bars])
    plot_w = width - label_w - 48
    body = []
    for i, bar in enumerate(bars):
        y0 = top_pad + i * row_h
        body.append(f"<g><title>{escape(_describe(bar, series))}</title>")
        body.append(
            f'<text class="label" x="{label_w - 6}" y="{y0 + 15}" text-anchor="end">'
            f"{escape(_shorten(bar.label, 26))}</text>"
        )
        x = float(label_w)
        for s in series:
            v = bar.values.get(s, 0)
            if v:
                w = v * plot_w / top
                body.append(
                    f'<rect class="sev-{escape(s)}" x="{x:.1f}" y="{y0 + 4}" '
                    f'width="{w:.1f}" height="{row_h - 8}"/>'
                )
                x += w
        body.append(f'<text class="tick" x="{x + 4:.1f}" y="{y0 + 15}">{bar.total}</text></g>')
    body.append(_legend(series, "", height - 6, label_w))
    desc = "; ".join(_describe(b, series) for b in bars)
    return _svg(ident, (width, height), (title, desc or "No data."), body, "rows")


def history_strip(ident: str, title: str, rows: Sequence[tuple[str, Sequence[Cell]]]) -> Markup:
    """A rule-by-run grid: one row per rule (its label), one small cell per run coloured
    by that run's status, each with a tooltip; oldest run on the left."""
    cell, gap, label_w = 11, 2, 150
    runs = max((len(cells) for _, cells in rows), default=0)
    width = label_w + runs * (cell + gap)
    height = len(rows) * (cell + gap + 3)
    drawn = [_strip_row(i, label, tuple(cells)) for i, (label, cells) in enumerate(rows)]
    body = [svg for svg, _ in drawn]
    lines = [line for _, line in drawn]
    return _svg(ident, (width, height), (title, "; ".join(lines) or "No history."), body, "strip")


@lru_cache(maxsize=512)
def _strip_row(i: int, label: str, cells: tuple[Cell, ...]) -> tuple[str, str]:
    """Row ``i`` of a history strip (its markup and its text alternative), drawn once for
    every page whose rule has that history."""
    cell, gap, label_w = 11, 2, 150
    y0 = i * (cell + gap + 3)
    body = [
        f'<text class="label" x="{label_w - 6}" y="{y0 + cell - 1}" text-anchor="end">'
        f"{escape(_shorten(label, 24))}</text>"
    ]
    body += [_strip_cell(j, y0, c) for j, c in enumerate(cells)]
    return "".join(body), f"{label}: " + ", ".join(c.tooltip for c in cells)


@lru_cache(maxsize=16384)
def _strip_cell(j: int, y0: int, c: Cell) -> str:
    """Cell ``j`` of a history strip's row at ``y0`` (one rule's status in one run, with
    its tooltip): the same in every row where that rule had that status in that run."""
    cell, gap, label_w = 11, 2, 150
    css = f"st-{escape(c.status)}" if c.status else "st-none"
    return (
        f'<rect class="{css}" x="{label_w + j * (cell + gap)}" y="{y0}" '
        f'width="{cell}" height="{cell}"><title>{escape(c.tooltip)}</title></rect>'
    )


def _legend(series: Sequence[str], line_label: str, y: float, x: float) -> str:
    """A row of colour keys under a chart (the text alternative names series in words)."""
    out = ['<g class="legend" aria-hidden="true">']
    for s in series:
        out.append(
            f'<rect class="sev-{escape(s)}" x="{x:.0f}" y="{y - 9:.0f}" width="10" height="10"/>'
            f'<text class="tick" x="{x + 14:.0f}" y="{y:.0f}">{escape(s)}</text>'
        )
        x += 26 + 7 * len(s)
    if line_label:
        out.append(
            f'<circle class="trend-dot" cx="{x + 5:.0f}" cy="{y - 4:.0f}" r="3.5"/>'
            f'<text class="tick" x="{x + 14:.0f}" y="{y:.0f}">{escape(line_label)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def _shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (the tooltip has it whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

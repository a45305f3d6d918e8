"""Charts as server-rendered SVG: no script, readable on a phone (the drawing scales to the width),
and accessible (a role, a title and a text alternative; every chart is also shown as a table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import count

from markupsafe import Markup

from .labels import number

WIDTH = 320
ROW = 22
LABEL_WIDTH = 118
VALUE_ROOM = 46
LABEL_CHARS = 19
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    part: int = 0  # the darker share of the bar (e.g. the unique titles among the titles)


def _short(text: str, chars: int = LABEL_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _frame(title: str, description: str, height: int, body: str) -> Markup:
    ident = f"chart-{next(_ids)}"
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(description)}</desc>'
        f"{body}</svg>"
    )


def bar_chart(title: str, bars: Sequence[Bar], lang: str, part_name: str = "") -> Markup:
    """Horizontal bars, one a row: its label, its bar (its ``part`` darker) and its value."""
    top = max((b.value for b in bars), default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    rows = []
    for i, bar in enumerate(bars):
        y = i * ROW + 4
        full = round(room * bar.value / top, 1)
        part = round(room * bar.part / top, 1)
        rows.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" class="chart-label">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{full}" height="{ROW - 6}" class="chart-bar"/>'
            + (
                f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{part}" height="{ROW - 6}" class="chart-part"/>'
                if part
                else ""
            )
            + f'<text x="{LABEL_WIDTH + full + 4}" y="{y + 14}" class="chart-value">'
            f"{number(bar.value, lang)}</text>"
        )
    description = "; ".join(
        f"{b.label}: {number(b.value, lang)}"
        + (f" ({part_name} {number(b.part, lang)})" if part_name else "")
        for b in bars
    )
    return _frame(title, description, max(len(bars), 1) * ROW + 8, "".join(rows))


def column_chart(title: str, bars: Sequence[Bar], lang: str) -> Markup:
    """Vertical columns in time order (months): every label would not fit, so the first, the last
    and every sixth are written under the axis; the text alternative gives them all."""
    height, axis = 150, 120
    top = max((b.value for b in bars), default=0) or 1
    step = (WIDTH - 8) / max(len(bars), 1)
    cols = []
    for i, bar in enumerate(bars):
        h = round((axis - 16) * bar.value / top, 1)
        x = round(4 + i * step, 1)
        width = max(round(step - 2, 1), 1)
        cols.append(f'<rect x="{x}" y="{axis - h}" width="{width}" height="{h}" class="chart-bar"/>')
        if i in (0, len(bars) - 1) or i % 6 == 0:
            cols.append(f'<text x="{x}" y="{axis + 14}" class="chart-label">{escape(bar.label)}</text>')
    cols.append(f'<line x1="0" y1="{axis}" x2="{WIDTH}" y2="{axis}" class="chart-axis"/>')
    cols.append(f'<text x="4" y="10" class="chart-value">{number(top, lang)}</text>')
    description = "; ".join(f"{b.label}: {number(b.value, lang)}" for b in bars)
    return _frame(title, description, height, "".join(cols))

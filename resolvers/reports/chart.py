"""A small SVG line chart of revenue per period: self-contained (no script, no style sheet, no link), text escaped.

Why a renderer of its own: the chart is one polyline, two axes and a few
labels, about a hundred lines; a charting library would add a dependency for
it, and the obvious ones do not fit as they are (pygal's SVG loads its
tooltip script from a CDN unless told not to; matplotlib pulls in a whole
plotting stack and takes a second to import). Every text that comes from
data goes through `escape`/`quoteattr`, so a store named `<&>` stays text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from datasources.money import from_minor
from datasources.reports.periods import Interval

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 84, 24, 44, 56
MAX_X_LABELS = 8
Y_TICKS = 5
DOT_LIMIT = 62
"""Periods up to which every point gets a dot (beyond, the dots would merge into the line)."""


def nice_step(maximum: Decimal, ticks: int = Y_TICKS) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) so that `ticks` steps reach `maximum`."""
    if maximum <= 0:
        return Decimal(1)
    raw = maximum / ticks
    exponent = math.floor(math.log10(raw))
    power = Decimal(10) ** exponent
    for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if power * factor >= raw:
            return power * factor
    return power * 10  # pragma: no cover - the loop's last factor always reaches raw


def _amount_label(value: Decimal, step: Decimal) -> str:
    return f"{value:,.0f}" if step >= 1 else f"{value:,.2f}"


def _period_label(instant: datetime, interval: Interval) -> str:
    return instant.strftime("%Y-%m") if interval == "MONTH" else instant.strftime("%Y-%m-%d")


def _text(x: float, y: float, content: str, **attributes: str) -> str:
    extra = "".join(f" {name.replace('_', '-')}={quoteattr(value)}" for name, value in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def revenue_chart_svg(
    points: Sequence[tuple[datetime, int]], currency: str, interval: Interval, subject: str
) -> str:
    """The revenue (minor units) of each period as an SVG line chart, with dated and priced axes."""
    amounts = [from_minor(minor, currency) for _, minor in points]
    top = max(amounts, default=Decimal(0))
    step = nice_step(top)
    steps = max(1, math.ceil(top / step)) if top > 0 else Y_TICKS
    ceiling = step * steps
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(index: int) -> float:
        return LEFT + (plot_w / 2 if len(points) == 1 else index * plot_w / (len(points) - 1))

    def y_of(amount: Decimal) -> float:
        return TOP + plot_h - float(amount / ceiling) * plot_h

    title = f"Revenue per {interval.lower()}, {subject} ({currency})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)} '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(LEFT, 22, title, font_size="14", font_weight="bold", fill="#222222"),
    ]
    # The amount axis: gridlines and labels at round amounts.
    for tick in range(steps + 1):
        amount = step * tick
        y = y_of(amount)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        parts.append(_text(LEFT - 6, y + 4, _amount_label(amount, step), text_anchor="end", fill="#444444"))
    parts.append(
        _text(
            16,
            TOP + plot_h / 2,
            currency,
            text_anchor="middle",
            fill="#444444",
            transform=f"rotate(-90 16 {TOP + plot_h / 2:.1f})",
        )
    )
    # The date axis: at most MAX_X_LABELS period labels, evenly spread.
    baseline = TOP + plot_h
    parts.append(f'<line x1="{LEFT}" y1="{baseline}" x2="{WIDTH - RIGHT}" y2="{baseline}" stroke="#888888"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{baseline}" stroke="#888888"/>')
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    for index in range(0, len(points), every):
        x = x_of(index)
        parts.append(
            f'<line x1="{x:.1f}" y1="{baseline}" x2="{x:.1f}" y2="{baseline + 4}" stroke="#888888"/>'
        )
        parts.append(
            _text(
                x,
                baseline + 18,
                _period_label(points[index][0], interval),
                text_anchor="middle",
                fill="#444444",
            )
        )
    # The revenue line.
    coordinates = " ".join(f"{x_of(i):.1f},{y_of(a):.1f}" for i, a in enumerate(amounts))
    if coordinates:
        parts.append(f'<polyline points="{coordinates}" fill="none" stroke="#1f6fb2" stroke-width="2"/>')
    if len(points) <= DOT_LIMIT:
        parts.extend(
            f'<circle cx="{x_of(i):.1f}" cy="{y_of(a):.1f}" r="2.5" fill="#1f6fb2"/>'
            for i, a in enumerate(amounts)
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"

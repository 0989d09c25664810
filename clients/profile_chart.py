"""Monthly bar charts drawn by the server as inline SVG: geometry here, markup in
templates/profile/_chart.html. No chart library, no JavaScript; the numbers are also given
as a table for screen readers and for anyone who prefers them."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from glamiti.templatetags.glamiti_tags import money

WIDTH = 640
HEIGHT = 190
LEFT = 56  # room for the money axis labels
RIGHT = 36  # room for the visits axis labels
TOP = 12
BOTTOM = 26  # room for the month labels
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ that is ≥ `value` (axis maxima people can read)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


@dataclass
class ChartMonth:
    month: datetime.date
    amount: Decimal
    count: int | None
    x: float = 0
    bar_y: float = 0
    bar_height: float = 0
    dot_y: float = 0

    cx: float = 0  # the middle of the bar

    # Coordinates as SVG attribute text, formatted once.
    @cached_property
    def svg(self) -> dict[str, str]:
        return {
            "x": f"{self.x:.1f}",
            "cx": f"{self.cx:.1f}",
            "y": f"{self.bar_y:.1f}",
            "height": f"{self.bar_height:.1f}",
            "dot_y": f"{self.dot_y:.1f}",
        }

    @property
    def label(self) -> str:
        return self.month.strftime("%b")

    @property
    def full_label(self) -> str:
        return self.month.strftime("%B %Y")


@dataclass
class MonthlyChart:
    title: str
    amount_label: str
    count_label: str | None
    months: list[ChartMonth]
    currency: str
    chart_id: str
    grid: list[tuple[str, str]] = field(default_factory=list)  # (y, amount label)
    count_grid: list[tuple[str, int]] = field(default_factory=list)
    bar_width: str = "0"
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: int = TOP + PLOT_HEIGHT

    @property
    def line_points(self) -> str:
        return " ".join(f"{m.cx:.1f},{m.dot_y:.1f}" for m in self.months)

    @property
    def total_amount(self) -> Decimal:
        return sum((m.amount for m in self.months), Decimal("0"))

    @property
    def total_count(self) -> int:
        return sum(m.count or 0 for m in self.months)

    @property
    def is_empty(self) -> bool:
        return not self.total_amount and not self.total_count

    @property
    def label_y(self) -> int:
        return self.baseline + 18

    @property
    def rows(self) -> list[tuple[str, str, int | None]]:
        """The numbers as table rows: month, amount, count."""
        return [(m.full_label, money(m.amount, self.currency), m.count) for m in self.months]

    def svg(self) -> SafeString:
        """The chart as an inline <svg>. Built here with plain strings (every text part
        escaped): a template loop over the bars costs more than the rest of the tab."""
        count_label = escape((self.count_label or "").lower())
        parts = [
            f'<svg class="pf-chart-svg" viewBox="0 0 {self.width} {self.height}" role="img"'
            f' aria-labelledby="{self.chart_id}-title {self.chart_id}-desc"'
            ' preserveAspectRatio="xMidYMid meet">'
            f'<title id="{self.chart_id}-title">{escape(self.title)}</title>'
            f'<desc id="{self.chart_id}-desc">{escape(self.amount_label)} in total'
            f" {escape(money(self.total_amount, self.currency))}"
            + (f", {self.total_count} {count_label}" if self.count_label else "")
            + ". The table that follows gives each month.</desc>",
            '<g class="pf-chart-grid">',
        ]
        for y, label in self.grid:
            parts.append(
                f'<line x1="{self.left}" x2="{self.right_edge}" y1="{y}" y2="{y}"/>'
                f'<text class="pf-chart-axis" x="{self.left - 6}" y="{y}" dy="0.32em"'
                f' text-anchor="end">{escape(label)}</text>'
            )
        for y, count in self.count_grid:
            parts.append(
                f'<text class="pf-chart-axis" x="{self.right_edge + 6}" y="{y}"'
                f' dy="0.32em">{count}</text>'
            )
        parts.append('</g><g class="pf-chart-bars">')
        for m in self.months:
            counted = f", {m.count} {count_label}" if m.count is not None else ""
            parts.append(
                f'<rect x="{m.svg["x"]}" y="{m.svg["y"]}" width="{self.bar_width}"'
                f' height="{m.svg["height"]}" rx="3"><title>{escape(m.full_label)}:'
                f" {escape(money(m.amount, self.currency))}{counted}</title></rect>"
            )
        parts.append("</g>")
        if self.count_label:
            parts.append(
                f'<g class="pf-chart-line"><polyline points="{self.line_points}" fill="none"/>'
            )
            parts += [
                f'<circle cx="{m.svg["cx"]}" cy="{m.svg["dot_y"]}" r="3.5"/>' for m in self.months
            ]
            parts.append("</g>")
        parts.append('<g class="pf-chart-months">')
        parts += [
            f'<text x="{m.svg["cx"]}" y="{self.label_y}" text-anchor="middle">'
            f"{escape(m.label)}</text>"
            for m in self.months
        ]
        parts.append("</g></svg>")
        return mark_safe("".join(parts))  # noqa: S308 - every text part above is escaped


def monthly_chart(
    *,
    chart_id: str,
    title: str,
    months: list[datetime.date],
    amounts: dict[datetime.date, Decimal],
    amount_label: str,
    currency: str,
    counts: dict[datetime.date, int] | None = None,
    count_label: str | None = None,
) -> MonthlyChart:
    """Bars for `amounts` per month and, if given, a line for `counts` on a second axis."""
    amount_max = nice_ceiling(float(max(amounts.values(), default=0) or 0))
    highest_count = max((counts or {}).values(), default=0)
    # Whole numbers on the visits axis: 1 to 4 visits step by one, more in four even steps.
    count_steps = max(1, highest_count) if highest_count <= 4 else 4
    count_max = count_steps * max(1, math.ceil(highest_count / count_steps))
    slot = (WIDTH - LEFT - RIGHT) / len(months)
    bar_width = slot * 0.62
    chart_months = []
    for index, month in enumerate(months):
        amount = Decimal(amounts.get(month) or 0)
        count = (counts or {}).get(month, 0) if counts is not None else None
        height = PLOT_HEIGHT * float(amount) / amount_max
        dot_y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * (count or 0) / count_max
        chart_months.append(
            ChartMonth(
                month=month,
                amount=amount,
                count=count,
                x=LEFT + slot * index + (slot - bar_width) / 2,
                cx=LEFT + slot * index + slot / 2,
                bar_y=TOP + PLOT_HEIGHT - height,
                bar_height=height,
                dot_y=dot_y,
            )
        )
    grid = [
        (
            f"{TOP + PLOT_HEIGHT - PLOT_HEIGHT * step / 4:.1f}",
            money(Decimal(str(amount_max * step / 4)), currency).replace(".00", ""),
        )
        for step in range(5)
    ]
    count_grid = []
    if counts is not None:
        count_grid = [
            (
                f"{TOP + PLOT_HEIGHT - PLOT_HEIGHT * step / count_steps:.1f}",
                count_max * step // count_steps,
            )
            for step in range(count_steps + 1)
        ]
    return MonthlyChart(
        chart_id=chart_id,
        currency=currency,
        title=title,
        amount_label=amount_label,
        count_label=count_label,
        months=chart_months,
        grid=grid,
        count_grid=count_grid,
        bar_width=f"{bar_width:.1f}",
    )

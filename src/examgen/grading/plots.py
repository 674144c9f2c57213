"""The report's plots as inline SVG, written directly: bars, lines, dots and their labels.

Why not matplotlib: the three plots are rectangles, lines and text, and `examgen grade` has
2 s for 1,000 students; matplotlib's import alone took 0.6 s of them (1.1 s on a busy machine)
and drawing 0.3 s more, where these take milliseconds. Written here, the bytes are a function
of the numbers alone (no ids, dates or versions), and the page needs no fonts of its own.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..numbers import MARKS_PER_POINT, marks_of

BAR, PASS, FAIL, LINE, INK = "#3b6ea5", "#3b8a4a", "#b8433b", "#777777", "#222222"
TARGET_BINS = 40  # histogram bars across the exam's total, each a whole number of half points
NICE_STEPS = (1, 2, 2.5, 5, 10)


def _n(value: float) -> str:
    """A coordinate: a tenth of a pixel is as fine as a screen shows."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _label(value: float) -> str:
    return f"{value:.10g}"


def ticks(low: float, high: float, count: int = 6) -> list[float]:
    """About ``count`` round values (1, 2, 2.5 or 5 times a power of ten apart), the first at or below
    low, the last at or above high."""
    span = max(high - low, 1e-9)
    power = 10 ** math.floor(math.log10(span / count))
    step = next(power * s for s in NICE_STEPS if span / (power * s) <= count)
    first = math.floor(low / step + 1e-9) * step
    return [round(first + i * step, 10) for i in range(math.ceil((high - first) / step - 1e-9) + 1)]


@dataclass(frozen=True)
class Frame:
    """A plot: its size in pixels, its data ranges, and the margins around the plotting area."""

    width: float
    height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    left: float = 52
    right: float = 14
    top: float = 14
    bottom: float = 40

    def x(self, value: float) -> float:
        low, high = self.x_range
        return self.left + (value - low) / (high - low) * (self.width - self.left - self.right)

    def y(self, value: float) -> float:
        low, high = self.y_range
        return self.height - self.bottom - (value - low) / (high - low) * (self.height - self.top - self.bottom)

    def axes(self, x_ticks: Sequence[tuple[float, str]], y_ticks: Sequence[float], x_label: str,
             y_label: str) -> list[str]:
        """The axis lines, tick marks and labels, and light grid lines along the y ticks."""
        base, side = self.y(self.y_range[0]), self.x(self.x_range[0])
        parts = [f'<line x1="{_n(side)}" y1="{_n(base)}" x2="{_n(self.width - self.right)}" y2="{_n(base)}" '
                 f'stroke="{INK}"/>',
                 f'<line x1="{_n(side)}" y1="{_n(self.top)}" x2="{_n(side)}" y2="{_n(base)}" stroke="{INK}"/>']
        for value, text in x_ticks:
            x = self.x(value)
            parts.append(f'<line x1="{_n(x)}" y1="{_n(base)}" x2="{_n(x)}" y2="{_n(base + 4)}" stroke="{INK}"/>'
                         f'<text x="{_n(x)}" y="{_n(base + 16)}" text-anchor="middle">{html.escape(text)}</text>')
        for value in y_ticks:
            y = self.y(value)
            parts.append(f'<line x1="{_n(side)}" y1="{_n(y)}" x2="{_n(self.width - self.right)}" y2="{_n(y)}" '
                         f'stroke="#e4e4e4"/><text x="{_n(side - 6)}" y="{_n(y + 4)}" '
                         f'text-anchor="end">{_label(value)}</text>')
        parts.append(f'<text x="{_n((side + self.width - self.right) / 2)}" y="{_n(self.height - 6)}" '
                     f'text-anchor="middle">{html.escape(x_label)}</text>')
        parts.append(f'<text transform="translate(13 {_n((self.top + base) / 2)}) rotate(-90)" '
                     f'text-anchor="middle">{html.escape(y_label)}</text>')
        return parts

    def svg(self, title: str, parts: list[str]) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(self.width)}" height="{_n(self.height)}" '
                f'viewBox="0 0 {_n(self.width)} {_n(self.height)}" role="img" aria-label="{html.escape(title)}" '
                f'font-family="sans-serif" font-size="11" fill="{INK}">'
                f'{"".join(parts)}</svg>')


def _bar(frame: Frame, x0: float, x1: float, count: float, color: str) -> str:
    top, base = frame.y(count), frame.y(0)
    return (f'<rect x="{_n(frame.x(x0))}" y="{_n(top)}" width="{_n(frame.x(x1) - frame.x(x0))}" '
            f'height="{_n(base - top)}" fill="{color}" stroke="white" stroke-width="0.5"/>')


def histogram(totals: Sequence[float], total: float, cuts: Sequence[tuple[str, float]]) -> str:
    """The totals in bins of whole half points, each grade's least total a line labelled above the
    plot, the pass mark (the last) solid and green."""
    width = max(1 / MARKS_PER_POINT, marks_of(total / TARGET_BINS))
    bins = int(total / width) + 1
    counts = [0] * bins
    for value in totals:
        counts[min(int(value / width), bins - 1)] += 1
    y_ticks = ticks(0, max(counts) or 1, 5)
    frame = Frame(800, 320, (0, bins * width), (0, y_ticks[-1]), top=34)
    parts = [_bar(frame, i * width, (i + 1) * width, count, BAR) for i, count in enumerate(counts) if count]
    for grade, points in cuts:
        color, dash = (PASS, "") if (grade, points) == tuple(cuts[-1]) else (LINE, ' stroke-dasharray="4 3"')
        x = _n(frame.x(points))
        parts.append(f'<line x1="{x}" y1="{_n(frame.top - 4)}" x2="{x}" y2="{_n(frame.y(0))}" stroke="{color}"{dash}/>'
                     f'<text transform="translate({x} {_n(frame.top - 7)}) rotate(-90)" font-size="9" '
                     f'fill="{color}">{html.escape(grade)}</text>')
    x_ticks = [(value, _label(value)) for value in ticks(0, total, 10) if value <= bins * width]
    axes = frame.axes(x_ticks, y_ticks, f"total points (of {_label(total)}); lines: the least total for each grade",
                      "students")
    return frame.svg("histogram of the total points with the grade thresholds", axes + parts)


def grade_bars(grades: Sequence[tuple[str, int]], failing: str) -> str:
    """A bar per grade, best first; the failing grade's in red."""
    y_ticks = ticks(0, max((count for _, count in grades), default=1) or 1, 5)
    frame = Frame(60 + 44 * len(grades), 260, (0, len(grades)), (0, y_ticks[-1]))
    parts = [_bar(frame, i + 0.15, i + 0.85, count, FAIL if grade == failing else BAR)
             for i, (grade, count) in enumerate(grades)]
    axes = frame.axes([(i + 0.5, grade) for i, (grade, _) in enumerate(grades)], y_ticks, "grade", "students")
    return frame.svg("students per grade", axes + parts)


def item_map(items: Sequence[tuple[str, float, float, bool]]) -> str:
    """Each part (number, difficulty, discrimination, flagged) as a dot, flagged ones red, with its number."""
    values = [r for _, _, r, _ in items]
    y_ticks = ticks(min([-0.2, *values]), max([0.8, *values]), 6)
    frame = Frame(620, 360, (0, 1), (y_ticks[0], y_ticks[-1]))
    parts = [f'<line x1="{_n(frame.x(0))}" y1="{_n(frame.y(0))}" x2="{_n(frame.x(1))}" y2="{_n(frame.y(0))}" '
             f'stroke="{LINE}"/>']
    for number, difficulty, r, flagged in items:
        x, y = frame.x(difficulty), frame.y(r)
        parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{FAIL if flagged else BAR}"/>'
                     f'<text x="{_n(x + 4)}" y="{_n(y - 3)}" font-size="8">{html.escape(number)}</text>')
    axes = frame.axes([(v, _label(v)) for v in ticks(0, 1, 5)], y_ticks,
                      "difficulty (mean / maximum; 1 = everybody full points)", "discrimination (corrected r)")
    return frame.svg("discrimination against difficulty per part", axes + parts)

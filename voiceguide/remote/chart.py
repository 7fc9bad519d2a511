"""The mood chart: the journal's ratings (0-10) averaged by day, week or month, laid out for an SVG.

Only what was said is shown: a point for each period that has ratings, a line between them, nothing for
the periods without any (no gaps are counted, no streaks, no targets).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from voiceguide.journal.entry import Entry

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
WIDTH, HEIGHT = 360.0, 220.0
"""The SVG's view box."""
LEFT, RIGHT, TOP, BOTTOM = 28.0, 12.0, 12.0, 30.0
"""Margins inside it: axis labels left and below."""
MAX_POINTS = 60
"""Only the most recent periods are drawn (60 days, weeks or months)."""


@dataclass(frozen=True)
class Point:
    """One period's average rating, placed on the chart."""

    x: float
    """Horizontal position in the view box."""
    y: float
    """Vertical position in the view box."""
    label: str
    """The period (``3 Dec``, ``week of 30 Nov``, ``Dec 2026``)."""
    mean: float
    """Average rating in it."""
    count: int
    """How many ratings it holds."""


@dataclass(frozen=True)
class Chart:
    """Everything the template draws."""

    period: Period
    """What one point stands for."""
    points: tuple[Point, ...]
    """Oldest first."""
    line: str
    """The ``points`` attribute of the polyline."""
    grid: tuple[tuple[float, int], ...]
    """(y, rating) for the horizontal lines at 0, 5 and 10."""
    first: str
    """Label of the first period drawn (below the axis, left)."""
    last: str
    """Label of the last period drawn (right)."""


def _when(entry: Entry) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(entry.time).date()
    except (TypeError, ValueError):
        return None  # a hand-edited row: left out, never a crash


def period_start(day: dt.date, period: Period) -> dt.date:
    """The first day of the period ``day`` falls in (weeks begin on Monday)."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def label(start: dt.date, period: Period) -> str:
    """How a period is named on the chart."""
    if period == "month":
        return f"{start:%b %Y}"
    if period == "week":
        return f"week of {start.day} {start:%b}"
    return f"{start.day} {start:%b}"


def build(entries: Sequence[Entry], period: Period) -> Chart:
    """The chart of every rating in ``entries``."""
    buckets: dict[dt.date, list[int]] = defaultdict(list)
    for entry in entries:
        day = _when(entry)
        if entry.kind == "rating" and isinstance(entry.rating, int) and 0 <= entry.rating <= 10 and day:
            buckets[period_start(day, period)].append(entry.rating)
    starts = sorted(buckets)[-MAX_POINTS:]
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    points = []
    for i, start in enumerate(starts):
        values = buckets[start]
        mean = sum(values) / len(values)
        x = LEFT + (inner_w * i / (len(starts) - 1) if len(starts) > 1 else inner_w / 2)
        y = TOP + inner_h * (1 - mean / 10)
        points.append(Point(round(x, 1), round(y, 1), label(start, period), round(mean, 1), len(values)))
    grid = tuple((round(TOP + inner_h * (1 - v / 10), 1), v) for v in (0, 5, 10))
    return Chart(period, tuple(points), " ".join(f"{p.x},{p.y}" for p in points), grid,
                 points[0].label if points else "", points[-1].label if points else "")

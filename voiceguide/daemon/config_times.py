"""Reading when things happen from the daemon's config: times of day, days of the week, quiet hours."""

from __future__ import annotations

import datetime as dt
import re

from voiceguide.daemon.config import QuietHours
from voiceguide.script.checks import Checker, describe

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names as written, Monday first (``datetime.weekday()`` order)."""
DAY_WORDS = {"daily": range(7), "every day": range(7), "weekdays": range(5), "weekends": range(5, 7)}
"""Words for sets of days."""


def read_time(check: Checker, where: str, key: str, value: object) -> dt.time | None:
    """``"22:30"``, ``"7:05"`` or a TOML local time ``22:30:00``."""
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None)
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value) if isinstance(value, str) else None
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return dt.time(int(match[1]), int(match[2]))
    check.add(where, f"{key} must be a time of day like \"22:30\", not {describe(value)}")
    return None


def read_days(check: Checker, where: str, value: object) -> frozenset[int] | None:
    """``"mon-fri"``, ``"sat,sun"``, ``"fri-mon"`` (wrapping), ``"daily"``, ``"weekends"`` or a list of days."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if not isinstance(value, str) or not value.strip():
        check.add(where, f"days must be like \"mon-fri\" or \"sat,sun\" or \"daily\", not {describe(value)}")
        return None
    text = value.strip().lower()
    if text in DAY_WORDS:
        return frozenset(DAY_WORDS[text])
    days: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        ends = [e.strip()[:3] for e in part.split("-")]
        if len(ends) > 2 or not all(e in DAY_NAMES for e in ends):
            check.add(where, f"days: cannot read {part!r}; use mon, tue, wed, thu, fri, sat, sun, "
                             "ranges like mon-fri, commas, or daily")
            return None
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def quiet_hours(check: Checker, t: object) -> QuietHours | None:
    """``[quiet_hours]``: start and end, both times of day (None when absent or wrong)."""
    if t is None:
        return None
    if not isinstance(t, dict):
        check.add("file", f"quiet_hours must be a table ([quiet_hours]), not {describe(t)}")
        return None
    where = "[quiet_hours]"
    check.unknown(where, set(t), {"start", "end"})
    for key in ("start", "end"):
        if key not in t:
            check.add(where, f"{key} is required (a time like \"23:00\")")
    start = read_time(check, where, "start", t["start"]) if "start" in t else None
    end = read_time(check, where, "end", t["end"]) if "end" in t else None
    return QuietHours(start, end) if start is not None and end is not None else None

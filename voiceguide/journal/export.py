"""The journal as Markdown (a diary by day), CSV or JSON text.

Rows may have been edited by hand (see :mod:`rows`): a time that is not a date goes under "Time
unknown", and control characters never reach the output raw. Markdown and CSV are for people and
spreadsheets, so C0 (except tab and newline), DEL and C1 characters are dropped from them; JSON keeps
every character, written as a ``\\u`` escape.

Markdown's fixed words (headings, dates, "not transcribed yet") are in the answers' language: Dutch
for a journal of Dutch sessions, English otherwise (each answer's own note in its own language).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from itertools import groupby
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voiceguide.journal.entry import Entry

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_JSON_UNESCAPED = re.compile(r"[\x7f-\x9f\u2028\u2029]")  # json.dumps escapes only C0 itself


def clean(text: str) -> str:
    """``text`` without control characters (tab and newline kept)."""
    return _CONTROL.sub("", text)


CSV_COLUMNS = ("id", "time", "session_id", "session_title", "step", "prompt", "kind", "transcript", "rating",
               "recognizer", "confidence", "audio_path", "duration", "language")
"""Columns of the CSV export, in order."""

WORDS: dict[str, dict[str, str]] = {
    "en": {"title": "Journal", "empty": "Nothing here yet. Answers you speak during a session will appear here.",
           "pending": "(words not transcribed yet; 'voiceguide journal retranscribe' adds them)",
           "none": "(no words recognised)"},
    "nl": {"title": "Dagboek", "empty": "Hier staat nog niets. Wat je tijdens een sessie hardop antwoordt, komt hier.",
           "pending": "(woorden nog niet uitgeschreven; 'voiceguide journal retranscribe' voegt ze toe)",
           "none": "(geen woorden herkend)"},
}
"""The export's fixed words by language."""
DAYS = {"nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")}
"""Weekday names (Monday first) where not English."""
MONTHS = {"nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                 "oktober", "november", "december")}
"""Month names where not English."""


def _words(language: str | None) -> dict[str, str]:
    return WORDS.get((language or "en").split("-")[0], WORDS["en"])


def answer_text(entry: Entry) -> str:
    """What was answered, as a person would read it: the words, or ``7 / 10`` for a rating."""
    if entry.kind == "rating" and entry.rating is not None:
        return f"{entry.rating} / 10"
    if entry.transcript is None:
        return _words(entry.language)["pending"]
    if not entry.transcript:
        return _words(entry.language)["none"]
    return entry.transcript


def to_json(entries: Sequence[Entry]) -> str:
    """A JSON list of objects, oldest first: time, session {id, title}, step, prompt, kind, transcript ..."""
    rows = []
    for e in entries:
        rows.append({"id": e.id, "time": e.time, "session": {"id": e.session_id, "title": e.session_title},
                     "step": e.step, "prompt": e.prompt, "kind": e.kind, "transcript": e.transcript,
                     "rating": e.rating, "recognizer": e.recognizer, "confidence": e.confidence,
                     "audio_path": e.audio_path, "duration": e.duration, "language": e.language})
    text = json.dumps(rows, indent=2, ensure_ascii=False, allow_nan=False)
    return _JSON_UNESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def to_csv(entries: Sequence[Entry]) -> str:
    """CSV with a header row (:data:`CSV_COLUMNS`); empty cells for missing values."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        values = e.to_dict()
        writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these (after any spaces) a spreadsheet may run as a formula."""


def _cell(value: object) -> str:
    """One CSV cell: empty for None, numbers as they are, text cleaned and, where a spreadsheet would take it
    for a formula, kept as text by a leading apostrophe (so an answer like "=HYPERLINK(...)" stays words)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = clean(str(value))
    return f"'{text}" if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def _when(entry: Entry) -> datetime | None:
    try:
        return datetime.fromisoformat(entry.time)
    except ValueError:
        return None


def _day(entry: Entry) -> date | None:
    when = _when(entry)
    return when.date() if when is not None else None


def to_markdown(entries: Sequence[Entry]) -> str:
    """A diary: a heading per day, then each answer with its time, session and question."""
    languages = [(e.language or "en").split("-")[0] for e in entries]
    language = max(set(languages), key=languages.count) if languages else "en"
    words = _words(language)
    lines = [f"# {words['title']}", ""]
    if not entries:
        lines += [words["empty"], ""]
    for day, group in groupby(entries, key=_day):
        if day is None:
            lines += ["## Tijd onbekend" if language == "nl" else "## Time unknown", ""]
        elif language in DAYS:
            lines += [f"## {DAYS[language][day.weekday()]} {day.day} {MONTHS[language][day.month - 1]} {day.year}", ""]
        else:
            lines += [f"## {day:%A} {day.day} {day:%B %Y}", ""]
        for e in group:
            when = _when(e)
            where = f" · {clean(e.session_title)}" if e.session_title else ""
            stamp = f"{when:%H:%M}" if when is not None else clean(e.time)
            lines += [f"**{stamp}**{where}", "", f"> {clean(e.prompt)}".replace("\n", "\n> "), "",
                      clean(answer_text(e)), ""]
    return "\n".join(lines)


FORMATS: dict[str, Callable[[Sequence[Entry]], str]] = {"md": to_markdown, "csv": to_csv, "json": to_json}
"""Export formats by the name ``--format`` takes."""

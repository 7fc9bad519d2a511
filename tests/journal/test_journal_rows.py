"""Hand-edited rows (NULLs, wrong types, odd dates, control characters, bad UTF-8) never crash export."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from voiceguide.cli.main import main
from voiceguide.journal import Journal
from voiceguide.journal.rows import entry_fields

HAND_EDITED = [  # a number too big for an INTEGER column is kept by SQLite as a REAL (1e20)
    # (time, prompt, kind, transcript, rating, step, confidence, duration, session_title, audio_path)
    ("2026-11-29T08:15:30+01:00", "Plain?", "reflection", "all fine", None, 1, 0.5, 2.0, "Evening", None),
    (None, None, None, None, None, None, None, None, None, None),
    (1764400000.5, "Float time?", "rating", "seven", "seven", "three", "high", "long", 42, 7),
    ("not a date", "Bad date?", "banana", "words", 1e20, 2 ** 62, 1e30, float("inf"), "x", ""),
    ("2026-13-45T99:00:00", "Impossible date?", "rating", "eight", 8.0, 3.5, -1, 1e308, None, None),
    ("2026-11-29T09:00:00", "Escape?", "reflection", "\x1b[2J\x1b]0;owned\x07 hi\x00 there\x9b", None, None, None,
     None, "\x1b[31mred", None),
    ("2026-11-29T09:01:00", b"\xff\xfe blob prompt", "reflection", b"\xc3\x28 bad utf8", None, None, None, None,
     b"\x80", b"\xff"),
]


def _journal(tmp_path: Path) -> Path:
    """A journal whose table has no constraints (as an older tool or a hand edit might leave it), with
    one well-formed row and the rest as odd as SQLite allows."""
    path = tmp_path / "journal.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, time, session_id, session_title, "
                 "step, prompt, kind, transcript, rating, recognizer, audio_path, confidence, duration)")
    conn.execute("CREATE INDEX entries_time ON entries (time)")
    conn.execute("PRAGMA user_version = 2")
    conn.executemany("INSERT INTO entries (time, prompt, kind, transcript, rating, step, confidence, duration, "
                     "session_title, audio_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", HAND_EDITED)
    conn.execute("INSERT INTO entries (time, prompt, kind, transcript) "
                 "VALUES ('2026-11-29T09:02:00', 'Text that is not UTF-8?', 'reflection', CAST(x'41c328ff' AS TEXT))")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_every_format_exports_hand_edited_rows(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = _journal(tmp_path)
    out = tmp_path / f"out.{fmt}"
    assert main(["journal", "export", "--format", fmt, "-o", str(out), "--journal", str(path)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert "all fine" in text and "Float time?" in text and "Impossible date?" in text and "bad utf8" in text
    if fmt == "json":
        rows = json.loads(text)  # strict JSON: no NaN or Infinity
        assert len(rows) == len(HAND_EDITED) + 1
        assert rows[2]["rating"] is None and rows[2]["step"] is None and rows[2]["confidence"] is None
        assert rows[2]["time"].startswith("2025-11-29T"), "a numeric time is read as Unix seconds"
        assert rows[3]["step"] == 2 ** 62 and rows[3]["rating"] is None and rows[3]["duration"] is None
        assert rows[4]["rating"] == 8 and rows[4]["kind"] == "rating"
        assert rows[1]["prompt"] == "" and rows[1]["time"] == "unknown time"
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == len(HAND_EDITED) + 1 and rows[0]["transcript"] == "all fine"
    if fmt in ("md", "csv"):  # written for people to open: no terminal control sequences survive
        assert "\x1b" not in text and "\x00" not in text and "\x07" not in text and "\x9b" not in text
        assert "hi" in text and "there" in text


def test_list_show_and_search_survive_hand_edited_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _journal(tmp_path)
    opt = ["--journal", str(path)]
    assert main(["journal", "list", *opt]) == 0
    assert main(["journal", "search", "utf8", *opt]) == 0
    assert "bad utf8" in capsys.readouterr().out
    for n in range(1, len(HAND_EDITED) + 2):
        assert main(["journal", "show", str(n), *opt]) == 0
    assert "Traceback" not in capsys.readouterr().err
    with Journal(path) as j:
        assert len(j.entries()) == len(HAND_EDITED) + 1


def test_entry_fields_never_raise_and_fit_the_entry_types() -> None:
    odd: list[object] = [None, "", "x", b"\xff", 1, -1, 2 ** 70, 1.5, float("nan"), float("-inf"), "1e999", True]
    for value in odd:
        row = {name: value for name in ("time", "session_id", "session_title", "step", "prompt", "kind",
                                        "transcript", "rating", "recognizer", "confidence", "audio_path",
                                        "duration")}
        fields = entry_fields(row, 1)
        assert isinstance(fields["time"], str) and isinstance(fields["prompt"], str)
        assert fields["kind"] in ("reflection", "rating")
        assert fields["rating"] is None or 0 <= fields["rating"] <= 10
        for name in ("confidence", "duration"):
            assert fields[name] is None or isinstance(fields[name], float)

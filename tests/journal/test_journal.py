"""The private journal: file safety, schema and migrations, CRUD, search, exports, audio, durability, CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voiceguide.cli.main import main
from voiceguide.errors import JournalError
from voiceguide.journal import Journal, default_path
from voiceguide.journal.export import to_csv, to_json, to_markdown
from voiceguide.journal.schema import MIGRATIONS, VERSION
from voiceguide.seams import Clip

T1 = "2026-11-28T21:05:00+01:00"
T2 = "2026-11-29T08:15:30+01:00"
T3 = "2026-11-29T08:16:00+01:00"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def tone(seconds: float = 0.5, rate: int = 16000) -> Clip:
    t = np.arange(int(seconds * rate)) / rate
    return Clip((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "vg" / "journal.sqlite3")


def fill(j: Journal) -> None:
    j.add("How do you feel after the walk?", transcript="I feel calmer today", session_id="evening",
          session_title="Evening wind-down", step=3, recognizer="sphinx", confidence=0.8, time=T1)
    j.add("How tense are you, from 0 to 10?", "rating", "about a three", session_id="evening",
          session_title="Evening wind-down", step=5, time=T2)
    j.add("Anything else?", transcript=None, time=T3)


def test_new_journal_is_private_wal_and_current(tmp_path: Path) -> None:
    path = tmp_path / "new" / "journal.sqlite3"
    with Journal(path) as j:
        j.add("Q?", transcript="a")
        assert mode(path) == 0o600
        assert mode(path.parent) == 0o700
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and mode(wal) == 0o600
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION == 3


def test_default_path_is_in_the_user_data_dir(isolated_user_dirs: Path) -> None:
    assert default_path() == isolated_user_dirs / "data" / "voiceguide" / "journal.sqlite3"
    Journal().close()
    assert default_path().exists()


def test_an_existing_world_readable_journal_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    path.chmod(0o644)
    Journal(path).close()
    assert mode(path) == 0o600


def test_version_1_journal_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for sql in MIGRATIONS[0]:
        conn.execute(sql)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO entries (time, prompt, kind, transcript) VALUES (?, 'Old question', 'reflection', "
                 "'old words')", (T1,))
    conn.commit()
    conn.close()
    with Journal(path) as j:
        old = j.require(1)
        assert (old.prompt, old.transcript, old.confidence, old.duration) == ("Old question", "old words", None, None)
        new_id = j.add("New?", transcript="new", confidence=0.5, duration=2.0)
        assert j.require(new_id).duration == 2.0
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 3


def test_a_journal_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    sqlite3.connect(path).execute("PRAGMA user_version = 99")
    with pytest.raises(JournalError, match="newer voiceguide"):
        Journal(path)


def test_add_get_update_list_search(journal: Journal) -> None:
    fill(journal)
    first = journal.require(1)
    assert (first.session_title, first.step, first.kind, first.transcript, first.confidence) == \
        ("Evening wind-down", 3, "reflection", "I feel calmer today", 0.8)
    assert journal.require(2).rating == 3  # parsed from the words
    assert journal.get(99) is None
    updated = journal.update_transcript(3, "no, that is all", recognizer="sphinx", confidence=0.6)
    assert (updated.transcript, updated.recognizer, updated.confidence) == ("no, that is all", "sphinx", 0.6)
    assert journal.update_transcript(2, "more like a five").rating == 5
    assert [e.id for e in journal.entries()] == [1, 2, 3]
    assert [e.id for e in journal.entries(limit=2)] == [2, 3]
    assert [e.id for e in journal.search("CALMER")] == [1]
    assert [e.id for e in journal.search("evening")] == [1, 2]  # session title
    assert journal.search("100%") == []  # % is literal
    with pytest.raises(JournalError):
        journal.add("bad", "rating", rating=11)
    with pytest.raises(JournalError):
        journal.update_transcript(42, "x")


def test_time_is_local_iso_with_offset(journal: Journal) -> None:
    entry = journal.require(journal.add("Q?", transcript="x"))
    assert entry.time[10] == "T" and entry.time[-6] in "+-" and entry.time[-3] == ":"


def test_answer_audio_is_kept_as_private_flac_and_deleted_with_the_entry(journal: Journal) -> None:
    entry_id = journal.add("Q?", transcript="words", audio=tone(0.5))
    entry = journal.require(entry_id)
    path = journal.audio_file(entry)
    assert path is not None and path.parent == journal.folder / "audio" and path.suffix == ".flac"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    data, rate = soundfile.read(path)
    assert rate == 16000 and len(data) == 8000 and entry.duration == pytest.approx(0.5)
    deleted = journal.delete(entry_id)
    assert deleted is not None and deleted.id == entry_id
    assert not path.exists() and journal.get(entry_id) is None
    assert journal.delete(entry_id) is None


def test_audio_can_be_turned_off(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3", keep_audio=False) as j:
        entry = j.require(j.add("Q?", transcript="w", audio=tone(0.25)))
        assert entry.audio_path is None and entry.duration == pytest.approx(0.25)
        assert not (tmp_path / "audio").exists()


def test_json_export(journal: Journal) -> None:
    fill(journal)
    rows = json.loads(to_json(journal.all()))
    assert rows[0] == {"id": 1, "time": T1, "session": {"id": "evening", "title": "Evening wind-down"}, "step": 3,
                       "prompt": "How do you feel after the walk?", "kind": "reflection",
                       "transcript": "I feel calmer today", "rating": None, "recognizer": "sphinx",
                       "confidence": 0.8, "audio_path": None, "duration": None,
                       "language": None}
    assert [r["rating"] for r in rows] == [None, 3, None]
    assert to_json([]) == "[]\n"


def test_csv_export(journal: Journal) -> None:
    fill(journal)
    assert to_csv(journal.all()).splitlines() == [
        "id,time,session_id,session_title,step,prompt,kind,transcript,rating,recognizer,confidence,audio_path,duration,language",
        f"1,{T1},evening,Evening wind-down,3,How do you feel after the walk?,reflection,I feel calmer today,"
        ",sphinx,0.8,,,",
        f'2,{T2},evening,Evening wind-down,5,"How tense are you, from 0 to 10?",rating,about a three,3,,,,,',
        f"3,{T3},,,,Anything else?,reflection,,,,,,,",
    ]


def test_markdown_export_reads_like_a_diary(journal: Journal) -> None:
    fill(journal)
    assert to_markdown(journal.all()) == textwrap.dedent("""\
        # Journal

        ## Saturday 28 November 2026

        **21:05** · Evening wind-down

        > How do you feel after the walk?

        I feel calmer today

        ## Sunday 29 November 2026

        **08:15** · Evening wind-down

        > How tense are you, from 0 to 10?

        3 / 10

        **08:16**

        > Anything else?

        (words not transcribed yet; 'voiceguide journal retranscribe' adds them)
        """)
    assert "Nothing here yet" in to_markdown([])


WRITER = """
import sys
from voiceguide.journal import Journal
j = Journal(sys.argv[1])
i = 0
while True:
    i += 1
    print(j.add("Q?", transcript=f"answer {i}"), flush=True)
"""


def test_rows_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    written = [int(proc.stdout.readline()) for _ in range(30)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    with Journal(path) as j:
        assert j.integrity_check() == "ok"
        kept = {e.id: e.transcript for e in j.entries()}
    assert all(kept[i] == f"answer {i}" for i in written)


def test_cli_on_an_empty_journal_is_friendly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "j.sqlite3")
    assert main(["journal", "list", "--journal", path]) == 0
    assert "Your journal is empty" in capsys.readouterr().out
    assert main(["journal", "export", "--format", "json", "--journal", path]) == 0
    captured = capsys.readouterr()
    assert captured.out == "[]\n" and "empty" in captured.err


def test_cli_list_show_search_export_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j:
        fill(j)
        j.add("Say it?", transcript="spoken", audio=tone())
    opt = ["--journal", str(path)]
    assert main(["journal", "list", *opt]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[1].split()[0] == "2" and "3 / 10" in out[1] and "2026-11-29 08:15" in out[1]
    assert main(["journal", "show", "1", *opt]) == 0
    assert "I feel calmer today" in capsys.readouterr().out
    assert main(["journal", "search", "calmer", *opt]) == 0
    assert capsys.readouterr().out.lstrip().startswith("1 ")
    assert main(["journal", "search", "zebra", *opt]) == 0
    assert "Nothing in your journal mentions 'zebra'" in capsys.readouterr().out
    target = tmp_path / "out.md"
    assert main(["journal", "export", "--format", "md", "-o", str(target), *opt]) == 0
    assert target.read_text().startswith("# Journal") and mode(target) == 0o600
    audio = next((tmp_path / "audio").glob("*.flac"))
    assert main(["journal", "delete", "4", *opt]) == 0
    assert "deleted entry 4 and its audio" in capsys.readouterr().out and not audio.exists()
    assert main(["journal", "show", "4", *opt]) == 1
    assert "no journal entry 4" in capsys.readouterr().err


def test_cli_retranscribe_updates_entries_with_audio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j:
        j.add("Q?", transcript=None, audio=tone())
        j.add("How tense?", "rating", None, audio=tone())
        j.add("No audio?", transcript="kept")
    assert main(["journal", "retranscribe", "--recognizer", "fake", "--journal", str(path)]) == 0
    with Journal(path) as j:
        assert [e.transcript for e in j.entries()] == ["", "", "kept"]
        assert j.require(1).recognizer == "fake"
    assert main(["journal", "retranscribe", "3", "--recognizer", "fake", "--journal", str(path)]) == 1
    assert "no kept audio" in capsys.readouterr().err


def test_retranscribing_keeps_the_old_words_in_the_history(journal: Journal) -> None:
    entry = journal.add("What did you notice?", transcript="you'll slide him these days", recognizer="sphinx",
                        confidence=0.4, language="en")
    assert journal.history(entry) == []
    journal.update_transcript(entry, "feels like these days go on forever", "faster-whisper/tiny.en", 0.9)
    (earlier,) = journal.history(entry)
    assert (earlier.transcript, earlier.recognizer, earlier.confidence) == \
        ("you'll slide him these days", "sphinx", 0.4)
    assert journal.require(entry).transcript == "feels like these days go on forever"
    journal.delete(entry)
    assert journal.history(entry) == []


def test_the_first_words_are_not_history(journal: Journal) -> None:
    entry = journal.add("What did you notice?")  # transcribed in the background
    journal.update_transcript(entry, "the rain", "fake")
    assert journal.history(entry) == []


def test_markdown_speaks_the_journals_language(journal: Journal) -> None:
    journal.add("Wat merk je nu op?", time="2026-12-01T21:05:00+01:00", language="nl")
    journal.add("Hoe voel je je, van nul tot tien?", "rating", "een zeven", time="2026-12-01T21:06:00+01:00",
                language="nl")
    text = to_markdown(journal.all())
    assert text.startswith("# Dagboek\n") and "## dinsdag 1 december 2026" in text
    assert "(woorden nog niet uitgeschreven" in text and "7 / 10" in text

"""The journal is data: no path stored in it may make voiceguide read or delete a file outside its audio folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voiceguide.cli.main import main
from voiceguide.journal import Journal


def _flac(path: Path) -> Path:
    t = np.arange(8000) / 16000
    soundfile.write(str(path), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000, format="FLAC")
    return path


def _journal_with(tmp_path: Path, audio_path: str) -> Path:
    """A journal of one entry whose audio_path was edited by hand to ``audio_path``."""
    path = tmp_path / "vg" / "journal.sqlite3"
    with Journal(path) as j:
        j.add("How are you?", transcript="steady", audio=None)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE entries SET audio_path = ?", (audio_path,))
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A precious file outside the journal's folder."""
    return _flac(tmp_path / "precious.flac")


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "audio-dir-itself"])
def test_delete_never_removes_a_file_outside_the_audio_folder(
        tmp_path: Path, outside: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    stored = {"absolute": str(outside), "dotdot": "audio/../../precious.flac", "symlink": "audio/link.flac",
              "audio-dir-itself": "audio"}[kind]
    path = _journal_with(tmp_path, stored)
    audio = path.parent / "audio"
    audio.mkdir(exist_ok=True)
    if kind == "symlink":
        (audio / "link.flac").symlink_to(outside)
    assert main(["journal", "delete", "1", "--journal", str(path)]) == 0
    captured = capsys.readouterr()
    assert outside.exists() and outside.read_bytes()[:4] == b"fLaC", "a file outside the journal was deleted"
    assert audio.is_dir()
    assert "deleted entry 1 (" in captured.out, "the row itself is still deleted"
    assert "outside the journal's audio folder" in captured.err and "left alone" in captured.err
    with Journal(path) as j:
        assert j.entries() == []


def test_retranscribe_and_show_never_read_a_file_outside_the_audio_folder(
        tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _journal_with(tmp_path, str(outside))
    assert main(["journal", "retranscribe", "--recognizer", "fake", "--journal", str(path)]) == 0
    assert "not read" in capsys.readouterr().err
    with Journal(path) as j:
        entry = j.require(1)
        assert entry.transcript == "steady" and entry.recognizer is None, "the outside file was transcribed"
        assert j.audio_file(entry) is None
    assert main(["journal", "show", "1", "--journal", str(path)]) == 0
    assert "not used: the audio path" in capsys.readouterr().out


def test_audio_inside_the_folder_is_still_deleted(tmp_path: Path, outside: Path) -> None:
    path = _journal_with(tmp_path, "audio/../audio/mine.flac")
    (path.parent / "audio").mkdir(exist_ok=True)
    mine = _flac(path.parent / "audio" / "mine.flac")
    assert main(["journal", "delete", "1", "--journal", str(path)]) == 0
    assert not mine.exists() and outside.exists()

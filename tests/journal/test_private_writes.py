"""One private write for the whole package (``places``): a file is replaced whole, 0600, and nothing half
written is left; the journal's export goes through it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from voiceguide import places
from voiceguide.cli.main import main
from voiceguide.journal.db import Journal


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_export_over_an_older_one_is_whole_and_private(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j:
        j.add("How do you feel?", transcript="Calmer than this morning.")
    target = tmp_path / "old-export.md"
    target.write_text("an older export that others could read\n", encoding="utf-8")
    target.chmod(0o644)
    assert main(["journal", "export", "--format", "md", "-o", str(target), "--journal", str(path)]) == 0
    assert "Calmer than this morning." in target.read_text(encoding="utf-8")
    assert mode(target) == 0o600, "the journal's words are the person's own, whatever the file was before"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "private" / "devices.json"
    places.write_private(target, b"[1]\n")
    assert target.read_bytes() == b"[1]\n" and mode(target) == 0o600 and mode(target.parent) == 0o700
    with pytest.raises(RuntimeError), places.replacing(target) as tmp:
        Path(tmp).write_text("[2", encoding="utf-8")
        raise RuntimeError("the disk filled up")
    assert target.read_bytes() == b"[1]\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["devices.json"]
    places.write_private(target, "[3]\n", mode=0o644)
    assert target.read_text(encoding="utf-8") == "[3]\n" and mode(target) == 0o644

"""A session name is looked up as an id before it is taken as a path, and the daemon never looks a relative
path up in its working folder (which is nobody's choice)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.errors import SessionNotFound
from voiceguide.script import library

DECOY = '[session]\ntitle = "Not the demo"\n[[step]]\nsay = "Decoy."\n'


def test_an_id_wins_over_a_file_of_that_name_in_the_working_folder(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "demo").write_text(DECOY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert library.find("demo") == library.data_dir("scripts") / "demo.toml"


def test_the_daemon_refuses_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.toml").write_text(DECOY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert library.find("mine.toml") == Path("mine.toml")  # the command line: the person's own folder
    for name in ("mine.toml", "./mine.toml"):
        with pytest.raises(SessionNotFound, match="full path"):
            library.find(name, relative=False)
    assert library.find(str(tmp_path / "mine.toml"), relative=False) == tmp_path / "mine.toml"


def test_the_daemon_start_path_refuses_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceguide.daemon.config import DaemonConfig
    from voiceguide.daemon.events import StartRequest
    from voiceguide.daemon.sessions import Sessions

    (tmp_path / "mine.toml").write_text(DECOY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    sessions = Sessions(DaemonConfig())
    try:
        with pytest.raises(SessionNotFound, match="full path"):
            sessions.load(StartRequest("mine.toml", "ctl"))
    finally:
        sessions.close()


def test_an_include_never_falls_back_to_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere, scripts = tmp_path / "cwd", tmp_path / "scripts"
    elsewhere.mkdir()
    scripts.mkdir()
    (elsewhere / "part.toml").write_text(DECOY, encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    assert library.find_part("part.toml", scripts) is None
    assert library.find_part("./part.toml", scripts) is None

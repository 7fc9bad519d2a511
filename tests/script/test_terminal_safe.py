"""Control characters from scripts, journals, requests and configs never reach a terminal or a log raw."""

from __future__ import annotations

import argparse
import io
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from voiceguide.backends.fake import FakeSpeaker
from voiceguide.cli import daemon as daemon_cli
from voiceguide.cli.main import main
from voiceguide.cli.view import SessionView
from voiceguide.daemon import app, ctl_socket
from voiceguide.engine.compile import compile_session
from voiceguide.journal.db import Journal
from voiceguide.playback.control import Snapshot, State
from voiceguide.safe_text import SafeFormatter, controls_in, terminal_safe
from voiceguide.script import parse

NASTY = "\x1b[2J\x1b]0;owned\x07\r\x00\x9b\u202e"
"""Clear the screen, set the window title, ring the bell, NUL, a C1 CSI, a bidi override and a carriage return."""
ESCAPED = "\\x1b[2J\\x1b]0;owned\\x07\\x0d\\x00\\x9b\\u202e"
TOML_NASTY = "\\u001b[2J\\u001b]0;owned\\u0007\\r\\u0000\\u009b\\u202e"
"""NASTY as a TOML basic string writes it."""
RAW = ("\x1b[2J", "\x1b]", "\x07", "\x00", "\x9b", "\u202e", "\r")


def assert_clean(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the terminal: {text!r}"


def nasty_script(folder: Path, name: str = "nasty.toml") -> Path:
    path = folder / name
    path.write_text(f'[session]\ntitle = "Title {TOML_NASTY}"\ndescription = "About {TOML_NASTY}"\n'
                    f'[[step]]\nsay = "Hello {TOML_NASTY} there."\n'
                    f'[[step]]\nlisten = "How are you {TOML_NASTY}?"\n', encoding="utf-8")
    return path


def test_terminal_safe_escapes_what_acts_and_keeps_real_text() -> None:
    assert terminal_safe(NASTY) == ESCAPED
    assert terminal_safe("one\ntwo\tthree") == "one\\x0atwo\tthree"
    assert terminal_safe("one\ntwo", multiline=True) == "one\ntwo"
    assert terminal_safe("\u2066x\u2069\u2028\x7f\ud800") == "\\u2066x\\u2069\\u2028\\x7f\\ud800"
    real = "Adem in, שלום \u200f, naïve, 👩\u200d👩\u200d👧, 日本語"
    assert terminal_safe(real) == real
    assert terminal_safe(3) == "3"
    assert controls_in("a\x1bb\x1b\nc\u202e") == ["\\x1b", "\\u202e"]


def test_show_prints_titles_and_lines_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(nasty_script(tmp_path)), "--backend", "fake"]) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    assert f"Title {ESCAPED}" in out and f"About {ESCAPED}" in out and f"Hello {ESCAPED} there." in out


def test_list_escapes_and_does_not_read_markup(isolated_user_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = isolated_user_dirs / "config" / "voiceguide" / "scripts"
    folder.mkdir(parents=True)
    nasty_script(folder)
    (folder / "markup.toml").write_text('[session]\ntitle = "[/bold] [red]x"\n[[step]]\nsay = "Hi."\n',
                                        encoding="utf-8")
    assert main(["list"]) == 0  # a title that looks like rich markup used to raise MarkupError
    out = capsys.readouterr().out
    assert_clean(out)
    assert f"Title {ESCAPED}" in out and "[/bold] [red]x" in out


def test_validate_escapes_problems_and_warns_about_control_characters(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[session]\ntitle = "T"\n"{TOML_NASTY}" = 1\n[[step]]\nsay = "Hi."\n', encoding="utf-8")
    assert main(["validate", str(nasty_script(tmp_path)), str(bad)]) == 1
    out = capsys.readouterr().out
    assert_clean(out)
    lines = out.splitlines()
    found = "(\\x1b \\x07 \\x0d \\x00 \\x9b \\u202e)"
    assert lines[:5] == [
        "nasty.toml: ok",
        f"nasty.toml: [session]: warning: title contains control characters {found}; they are not text and are "
        "shown escaped",
        f"nasty.toml: [session]: warning: description contains control characters {found}; they are not text and "
        "are shown escaped",
        f"nasty.toml: step 1 (say): warning: say contains control characters {found}; they are not text and are "
        "shown escaped",
        f"nasty.toml: step 2 (listen): warning: listen contains control characters {found}; they are not text and "
        "are shown escaped"]
    assert lines[5].startswith(f"bad.toml: [session]: unknown key '{ESCAPED}'")


def test_errors_printed_by_the_cli_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", f"no-such-{NASTY}"]) == 1
    err = capsys.readouterr().err
    assert_clean(err)
    assert f"no session called 'no-such-{ESCAPED}'" in err


def test_run_prints_plain_lines_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(nasty_script(tmp_path)), "--backend", "fake"]) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    assert f"step 1: Hello {ESCAPED} there." in out and f"Title {ESCAPED}: finished" in out


def test_the_live_view_shows_title_and_caption_escaped(tmp_path: Path) -> None:
    session = parse.load(nasty_script(tmp_path))
    timeline = compile_session(session, FakeSpeaker(), 8000)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=300, color_system=None)
    view = SessionView(timeline, console)
    console.print(view.render(Snapshot(timeline.step_starts[0] + 10, State.PLAYING, timeline)))
    out = buffer.getvalue()
    assert_clean(out)
    assert f"Title {ESCAPED}" in out and f"Hello {ESCAPED} there." in out


def test_journal_list_and_show_escape_what_was_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        journal.add(f"Question {NASTY}?", transcript=f"answer {NASTY}", session_id="s", session_title=f"S {NASTY}",
                    step=1, recognizer=f"rec {NASTY}")
    assert main(["journal", "list", "--journal", str(path)]) == 0
    assert main(["journal", "show", "1", "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    assert f"Question {ESCAPED}?" in out and f"answer {ESCAPED}" in out and f"rec {ESCAPED}" in out


def test_ctl_status_is_escaped(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(ctl_socket, "request", lambda message: {"ok": True, "state": "playing", "session": NASTY,
                                                             "source": "ctl", "seconds": 60})
    assert main(["ctl", "status"]) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    assert out == f"playing: {ESCAPED} (from ctl)\n"


def test_doctor_shows_config_problems_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[audio]\n"{TOML_NASTY}" = 1\n', encoding="utf-8")
    main(["doctor", "--config", str(config)])
    out = capsys.readouterr().out
    assert_clean(out)
    assert f"unknown key '{ESCAPED}'" in out


def test_log_lines_are_escaped_but_tracebacks_keep_their_lines() -> None:
    formatter = SafeFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("voiceguide.daemon", logging.INFO, __file__, 1, "starting %s (%s)",
                               (f"x{NASTY}\nINFO forged line", "ctl"), None)
    assert formatter.format(record) == f"INFO voiceguide.daemon: starting x{ESCAPED}\\x0aINFO forged line (ctl)"
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", (NASTY,), sys.exc_info())
    lines = formatter.format(record).splitlines()
    assert lines[0] == f"ERROR x: failed {ESCAPED}" and lines[1].startswith("Traceback")


def test_the_daemon_logs_through_the_safe_formatter(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = logging.StreamHandler(io.StringIO())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    seen: list[logging.Formatter | None] = []
    monkeypatch.setattr(app, "serve", lambda path: seen.append(handler.formatter) or 0)
    try:
        assert daemon_cli.cmd_daemon(argparse.Namespace(config=None)) == 0
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert isinstance(seen[0], SafeFormatter)


def test_the_cli_log_is_escaped(write_script: Callable[[str, str], Path]) -> None:
    path = write_script("rec.toml", f'[session]\ntitle = "T"\n[[step]]\nsay = "Hi."\naudio = "{TOML_NASTY}.wav"\n')
    done = subprocess.run([sys.executable, "-m", "voiceguide", "show", str(path), "--backend", "fake"],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.returncode == 0, done.stderr
    assert "speaking the text instead" in done.stderr  # the warning names the recording's path
    assert_clean(done.stderr)

"""What the phone remote needs of the daemon: the ``[remote]`` config table, ctl's skip/slower/reload, and a
reload that takes up a changed schedule and quiet hours without a restart."""

from __future__ import annotations

import datetime as dt
import queue
from pathlib import Path

import pytest

from tests.daemon.test_daemon_core import NOON, RecordingWorker
from voiceguide.daemon.clock import FakeWallClock
from voiceguide.daemon.config import REMOTE_PORT, Remote
from voiceguide.daemon.config_read import load_config, loads_config
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.ctl_socket import to_event
from voiceguide.daemon.events import Control, Reload, Reply
from voiceguide.errors import ConfigError
from voiceguide.playback.control import Command


def test_remote_is_off_unless_configured_and_listens_on_loopback_by_default() -> None:
    assert loads_config("").remote is None
    assert loads_config("[remote]\n").remote == Remote("127.0.0.1", REMOTE_PORT, True, None, None)
    assert loads_config("[remote]\nenabled = false\n").remote is None
    remote = loads_config('[remote]\nlisten = "192.168.1.20"\nport = 9000\njournal = false\n').remote
    assert remote == Remote("192.168.1.20", 9000, False)


def test_remote_tls_files_are_found_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("x")
    (tmp_path / "key.pem").write_text("x")
    path = tmp_path / "config.toml"
    path.write_text('[remote]\ncertificate = "cert.pem"\nkey = "key.pem"\n')
    remote = load_config(path).remote
    assert remote is not None and remote.tls and remote.certificate == tmp_path / "cert.pem"


@pytest.mark.parametrize(("text", "message"), [
    ('listen = "my-pi.local"', "listen must be an IP address"),
    ("port = 80", "port"),
    ('journal = "yes"', "journal must be true or false"),
    ('certificate = "/nonexistent.pem"\nkey = "/nonexistent.key"', "no such file"),
    ('colour = "red"', "colour"),
])
def test_remote_config_problems_are_located(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loads_config(f"[remote]\n{text}\n")
    assert any(p.where == "[remote]" and message in p.message for p in caught.value.problems), caught.value


def test_ctl_knows_skip_slower_and_reload() -> None:
    replies: list[Reply] = []
    skip, slower, reload = (to_event({"command": c}, replies.append) for c in ("skip", "slower", "reload"))
    assert isinstance(skip, Control) and skip.command is Command.SKIP
    assert isinstance(slower, Control) and slower.command is Command.SLOWER
    assert isinstance(reload, Reload)


def test_reload_takes_up_the_new_schedule_and_quiet_hours(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[schedule]]\nsession = "demo"\nat = "22:00"\n')
    clock = FakeWallClock(NOON)
    daemon = Daemon(load_config(path), queue.SimpleQueue(), RecordingWorker(), clock)
    assert daemon.scheduler.upcoming(NOON).when == dt.datetime(2026, 11, 30, 22, 0)  # type: ignore[union-attr]
    path.write_text('[[schedule]]\nsession = "box"\nat = "13:00"\n[quiet_hours]\nstart = "23:00"\nend = "7:00"\n')
    replies: list[Reply] = []
    daemon.handle(Reload(replies.append))
    assert replies == [{"ok": True, "schedule": 1}]
    upcoming = daemon.scheduler.upcoming(NOON)
    assert upcoming is not None and upcoming.entry.session == "box"
    assert daemon.config.quiet_hours is not None and daemon.config.quiet_hours.start == dt.time(23, 0)


def test_a_broken_config_is_not_taken_up(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[schedule]]\nsession = "demo"\nat = "22:00"\n')
    daemon = Daemon(load_config(path), queue.SimpleQueue(), RecordingWorker(), FakeWallClock(NOON))
    path.write_text('[[schedule]]\nsession = "demo"\nat = "25:00"\n')
    replies: list[Reply] = []
    daemon.handle(Reload(replies.append))
    assert replies[0]["ok"] is False and "at must be a time" in replies[0]["error"]
    assert daemon.config.schedule[0].at == dt.time(22, 0)

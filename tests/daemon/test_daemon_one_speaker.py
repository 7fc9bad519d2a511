"""The daemon holds one speech engine across all its sessions and closes it when it exits (issue 12).

Before, every prepare and every "slower" made a new speaker that nothing closed: a pyttsx3 engine is a
thread, an engine and a temporary folder, so a bedside daemon running for months leaked one per session.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from voiceguide import backends
from voiceguide.backends import rig
from voiceguide.backends.fake import FakeClock, FakeSpeaker
from voiceguide.backends.fake_input import FakeInput
from voiceguide.daemon import app
from voiceguide.daemon.config_read import loads_config
from voiceguide.daemon.events import Shutdown, Start, StartRequest

SESSIONS = 20


class CountedSpeaker(FakeSpeaker):
    """The fake voice, counting how often it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def _wait_for(condition: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_many_sessions_share_one_speaker_that_is_closed_at_shutdown(
        runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[CountedSpeaker] = []

    def counted() -> CountedSpeaker:
        made.append(CountedSpeaker())
        return made[-1]

    monkeypatch.setitem(backends.TTS, "fake", counted)  # the daemon finds its speaker through the registry
    monkeypatch.setitem(rig.RIGS, "sounddevice", rig.RIGS["fake"])  # ... and its output and clock
    monkeypatch.setitem(backends.INPUTS, "sounddevice", lambda device: FakeInput(FakeClock()))
    config = loads_config(f'[speech]\ntts = "fake"\ncache_dir = "{tmp_path / "cache"}"\n'
                          '[audio]\nsample_rate = 8000\n')
    daemon = app.build(config)
    running = threading.Thread(target=daemon.run, name="test-daemon", daemon=True)
    running.start()
    for n in range(SESSIONS):
        if n % 2:
            daemon.worker.submit("prepare", StartRequest("box", "schedule"))  # a scheduled session, ahead
        daemon.events.put(Start(StartRequest("box", "ctl")))
        _wait_for(lambda n=n: len(daemon.history) == n + 1)
    assert [e.error for e in daemon.history] == [None] * SESSIONS
    assert len(made) == 1, "one speaker for every session"
    assert made[0].closed == 0, "kept open while the daemon runs"
    assert len(made[0].calls) > 0, "and it spoke the sessions"
    daemon.events.put(Shutdown("test"))
    running.join(30)
    assert not running.is_alive()
    daemon.worker.close(timeout=30)  # the worker closes the builder after its last job
    assert len(made) == 1 and made[0].closed == 1, "closed once, at shutdown"

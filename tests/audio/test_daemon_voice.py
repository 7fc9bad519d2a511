"""Voice commands in a session the daemon plays: with the wake phrase on, the same microphone also hears
"stop" during the session, through a virtual microphone (a null sink's monitor) fed with ``paplay``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audio.audio_helpers import Pulse, voiceguide
from tests.audio.test_daemon_live import Daemon
from tests.audio.test_mic import _piper_words, _play, virtual_mic  # noqa: F401  (the fixture)

pytestmark = pytest.mark.audio

QUIET = '''[session]
title = "Quiet time"
[[step]]
say = "Let's rest for a while."
[[step]]
pause = 60
[[step]]
say = "That is all."
'''


@pytest.fixture
def listening_daemon(pulse: Pulse, virtual_mic: str, tmp_path: Path,  # noqa: F811
                     speech_cache: Path) -> Iterator[Daemon]:
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    config = home / "config" / "voiceguide" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[audio]\noutput = "pulse"\ninput = "pulse"\n'
                      f'[speech]\ntts = "fake"\ncache_dir = "{speech_cache}"\n'
                      '[wake]\nphrase = "hello guide"\n', encoding="utf-8")
    env = dict(pulse.env, XDG_CONFIG_HOME=str(home / "config"), XDG_RUNTIME_DIR=str(runtime),
               XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"),
               PULSE_SOURCE=f"{virtual_mic}.monitor")
    d = Daemon(voiceguide("daemon", env=env), env)
    d.wait_for("ready")
    yield d
    if d.proc.poll() is None:
        d.proc.kill()
        d.proc.wait()


def test_saying_stop_ends_a_session_the_daemon_plays(listening_daemon: Daemon, virtual_mic: str,  # noqa: F811
                                                      tmp_path: Path) -> None:
    daemon = listening_daemon
    daemon.wait_for("and for voice commands during sessions")
    stop = next(audio for word, audio in _piper_words() if word == "stop")
    script = tmp_path / "quiet.toml"
    script.write_text(QUIET, encoding="utf-8")
    started = daemon.ctl("start", str(script))
    assert started.returncode == 0, started.stderr
    daemon.wait_for("playing on")
    began = time.monotonic()
    time.sleep(5)  # into the long pause: the session's own voice is not in the air

    def speak() -> None:
        for _ in range(3):
            _play(virtual_mic, stop)
            time.sleep(2)

    speaker = threading.Thread(target=speak)
    speaker.start()
    try:
        daemon.wait_for("heard 'stop'", timeout=30)
        daemon.wait_for("stopped", timeout=10)
    finally:
        speaker.join()
    assert time.monotonic() - began < 20, "the 60 s pause was cut short by the spoken stop"
    assert daemon.ctl("status").stdout.startswith("idle")

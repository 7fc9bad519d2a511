"""Listening in the sessions the daemon plays, through a virtual microphone (a null sink's monitor) fed
with ``paplay``: with the wake phrase on, the same microphone also hears "stop" during a session; and a
spoken answer to a question lands, transcribed, in the journal that ``voiceguide journal`` reads."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from tests.audio.audio_helpers import Pulse, run_voiceguide
from tests.audio.test_daemon_live import Daemon, running_daemon
from tests.audio.test_listen_session import SCRIPT as QUESTION
from tests.audio.test_listen_session import answer_at, words
from tests.audio.test_mic import _piper_words, _play, virtual_mic  # noqa: F401  (the fixture)
from tests.speech_data import librivox_or_skip

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
    """A daemon with the virtual microphone as its input and the wake phrase (and so voice commands) on."""
    with running_daemon(pulse, tmp_path, speech_cache, '[wake]\nphrase = "hello guide"\n', microphone=True,
                        PULSE_SOURCE=f"{virtual_mic}.monitor") as d:
        yield d


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


def test_an_answer_in_a_daemon_session_is_in_the_journal(listening_daemon: Daemon, virtual_mic: str,  # noqa: F811
                                                         tmp_path: Path) -> None:
    daemon = listening_daemon
    clip = next(c for c in librivox_or_skip() if c.name.endswith("0870"))
    audio, _ = sf.read(clip.path, dtype="float32")
    script = tmp_path / "question.toml"
    script.write_text(QUESTION, encoding="utf-8")
    started = daemon.ctl("start", str(script))
    assert started.returncode == 0, started.stderr
    daemon.wait_for("playing on")
    time.sleep(answer_at(script) - 1)  # 2 s after the cue: the spoken privacy notice and the question come first
    _play(virtual_mic, audio)
    daemon.wait_for("kept a", timeout=30)
    daemon.wait_for("journal entry 1:", timeout=60)
    daemon.wait_for("finished", timeout=60)
    export = run_voiceguide("journal", "export", "--format", "json", env=daemon.env)  # the default journal
    assert export.returncode == 0, export.stderr
    (entry,) = json.loads(export.stdout)
    assert entry["prompt"] == "What did you read today?" and entry["session"]["title"] == "A question"
    heard, said = words(entry["transcript"]), words(clip.reference)
    overlap = sum(1 for w in set(said) if w in heard) / len(set(said))
    assert overlap >= 0.5, f"heard {entry['transcript']!r} for {clip.reference!r}"

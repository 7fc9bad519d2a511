"""Listening in the sessions the daemon plays, through a virtual microphone (a null sink's monitor) fed
with ``paplay``: with the wake phrase on, the same microphone also hears "stop" during a session; and a
spoken answer to a question lands, transcribed, in the journal that ``voiceguide journal`` reads."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from tests.audio.audio_helpers import Pulse, check_kept_answer, run_voiceguide
from tests.audio.test_daemon_live import Daemon, running_daemon
from tests.audio.test_listen_session import SCRIPT as QUESTION
from tests.audio.test_listen_session import answer_at
from tests.audio.test_mic import _play, virtual_mic  # noqa: F401  (the fixture)
from tests.speech_data import librivox_or_skip
from voiceguide.backends.fake_spotter import tone

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
    """A daemon with the virtual microphone as its input and the wake phrase (and so voice commands) on, heard by
    the fake spotter (a word is its test tone: no recognizer's luck); its answers are transcribed by pocketsphinx
    (Whisper, the default, has tests of its own in test_whisper_live)."""
    with running_daemon(pulse, tmp_path, speech_cache, '[wake]\nphrase = "hello guide"\nspotter = "fake"\n',
                        microphone=True,
                        speech='recognizer = "sphinx"\n',
                        PULSE_SOURCE=f"{virtual_mic}.monitor") as d:
        yield d


def test_saying_stop_ends_a_session_the_daemon_plays(listening_daemon: Daemon, virtual_mic: str,  # noqa: F811
                                                      tmp_path: Path) -> None:
    daemon = listening_daemon
    daemon.wait_for("and for voice commands during sessions")
    stop = tone("stop")
    script = tmp_path / "quiet.toml"
    script.write_text(QUIET, encoding="utf-8")
    started = daemon.ctl("start", str(script))
    assert started.returncode == 0, started.stderr
    daemon.wait_for("playing on")
    began = time.monotonic()
    time.sleep(5)  # into the long pause: the session's own voice is not in the air
    _play(virtual_mic, stop)  # once: the fake spotter hears its tone every time
    daemon.wait_for("heard 'stop'", timeout=30)
    daemon.wait_for("stopped", timeout=10)
    assert time.monotonic() - began < 20, "the 60 s pause was cut short by the spoken stop"
    assert daemon.ctl("status").stdout.startswith("idle")


def test_an_answer_in_a_daemon_session_is_in_the_journal(listening_daemon: Daemon, virtual_mic: str,  # noqa: F811
                                                         tmp_path: Path) -> None:
    daemon = listening_daemon
    clip = next(c for c in librivox_or_skip() if c.name.endswith("0870"))
    audio, rate = sf.read(clip.path, dtype="float32")
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
    journal_folder = Path(daemon.env["XDG_DATA_HOME"]) / "voiceguide"
    check_kept_answer(entry, journal_folder, "sphinx", audio, rate)

"""Pause during a question stops the listening (issue 17, item 3), through a real daemon.

``voiceguide daemon`` plays a one-question session into a null sink and listens on a virtual microphone. Once
the listening cue has been heard, ``ctl pause``; then a person answers aloud (real speech) while it is paused:
none of it may be kept. ``ctl resume`` asks the question again; the answer given after its cue is the one entry
in the journal, judged by its audio (the fake recognizer: no word luck).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio.audio_helpers import Pulse, run_voiceguide
from tests.audio.person import MIC_RATE, find, person, wait_for_sound
from tests.audio.test_daemon_live import running_daemon
from tests.speech_data import librivox_or_skip

pytestmark = pytest.mark.audio

QUESTION = '''[session]
title = "A question"
rate = 200
[[step]]
say = "Hello."
[[step]]
listen = "What did you read today?"
timeout = 20
[[step]]
say = "That is all for now."
'''


def clips() -> tuple[np.ndarray, np.ndarray]:
    """Two different answers: LibriVox clips 0870 and 0880, their first 3 s."""
    found = {c.name[-4:]: c for c in librivox_or_skip()}
    out = []
    for name in ("0870", "0880"):
        audio, rate = sf.read(found[name].path, dtype="float32")
        assert rate == MIC_RATE
        out.append(np.asarray(audio[:3 * MIC_RATE], dtype=np.float32))
    return out[0], out[1]


def scores(kept: np.ndarray, clip: np.ndarray) -> list[float]:
    """How well each audible 200 ms of ``clip`` (from 0.2 s to 2.8 s) is found in ``kept``."""
    pieces = [clip[int(start * MIC_RATE):int((start + 0.2) * MIC_RATE)] for start in np.arange(0.2, 2.8, 0.2)]
    return [find(kept, piece)[1] for piece in pieces if np.sqrt(np.mean(piece * piece)) > 0.01]


def test_speech_after_a_pause_during_a_question_is_not_kept(pulse: Pulse, tmp_path: Path,
                                                           speech_cache: Path) -> None:
    from voiceguide.sound.sounds import listen_cue

    unheard, heard = clips()
    cue = listen_cue(48000)
    with person(pulse.env) as who, running_daemon(pulse, tmp_path, speech_cache, microphone=True,
                                                 speech='recognizer = "fake"\n', PULSE_SINK=who.out,
                                                 PULSE_SOURCE=f"{who.mic}.monitor") as daemon:
        script = tmp_path / "question.toml"
        script.write_text(QUESTION, encoding="utf-8")
        started = daemon.ctl("start", str(script))
        assert started.returncode == 0, started.stderr
        first_cue = wait_for_sound(who, cue)  # the window is open
        paused = daemon.ctl("pause")
        assert paused.returncode == 0, paused.stderr
        who.say(unheard, time.monotonic() + 0.2)  # answered while paused
        time.sleep(who.latency + len(unheard) / MIC_RATE + 3.0)  # heard, and quiet for longer than ends an answer
        resumed = daemon.ctl("resume")
        assert resumed.returncode == 0, resumed.stderr
        second_cue = wait_for_sound(who, cue, after=first_cue)  # the question, asked again
        who.say(heard, who.time_of(second_cue) + 0.5)
        daemon.wait_for("finished", timeout=60)
        log = "".join(daemon.log)
        export = run_voiceguide("journal", "export", "--format", "json", env=daemon.env)
    assert export.returncode == 0, export.stderr
    entries = json.loads(export.stdout)
    assert len(entries) == 1, f"{len(entries)} entries, expected only the answer after resume\n{log}"
    journal_folder = Path(daemon.env["XDG_DATA_HOME"]) / "voiceguide"
    kept, _ = sf.read(str(journal_folder / entries[0]["audio_path"]), dtype="float64")
    # 200 ms stretches of speech: one that was kept is found at 0.95-1.0 (the path resamples); one that was not
    # matches unrelated speech at 0.6 at best (measured on these clips)
    said_after, said_during = scores(kept, heard), scores(kept, unheard)
    assert min(said_after) > 0.85, f"the answer given after resume is not all kept: {np.round(said_after, 2)}"
    assert max(said_during) < 0.85, f"speech given while paused was kept: {np.round(said_during, 2)}"
    assert len(kept) / MIC_RATE < 4.5, "one answer's worth, with its pre- and post-roll"

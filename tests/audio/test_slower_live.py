"""'Slower' through the real audio path: a session plays into the PulseAudio null sink, "slower" is asked
for during the breathing, and the recording matches the slower render sample for sample across the
switch (and no longer matches the original render after it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .audio_helpers import RATE, REPO, Pulse, global_lag, read_wav, segment

pytestmark = pytest.mark.audio

SCRIPT = """[session]
title = "Slower, live"

[[step]]
say = "Settle in."

[[step]]
breathe = { inhale = 2, exhale = 3 }
cycles = 4
cue = "tone"

[[step]]
say = "Well done."
"""

ATTEMPTS = 3
"""Runs at most: one in which the output ran dry (a busy machine; the player then takes the lost time out
of a quiet stretch, so the recording no longer lines up with the render sample for sample) is run again.
Every run that did not run dry is judged sample for sample, as before."""

DRIVER = """
import json, queue, sys, threading
from pathlib import Path
import soundfile
from voiceguide.script import parse
from voiceguide.backends import system_clock
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.backends.sounddevice_out import SoundDeviceOutput
from voiceguide.engine.compile import DEFAULT_RATE, compile_session
from voiceguide.engine.mix import Mixer
from voiceguide.playback.control import Command
from voiceguide.playback.loop import play
from voiceguide.playback.slowing import Slower, first_difference

script, out, press = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
session, speaker, rate = parse.load(script), FakeSpeaker(), 48000
old = compile_session(session, speaker, rate)
controls = queue.SimpleQueue()
slower = Slower(session, lambda s: compile_session(s, speaker, rate), DEFAULT_RATE)
press += old.step_starts[1] / rate
threading.Timer(press, lambda: controls.put(Command.SLOWER)).start()
output = SoundDeviceOutput("pulse")
result = play(old, output, system_clock(), controls, on_slower=slower.request)
soundfile.write(str(out / "old.wav"), Mixer(old).render(), rate, subtype="FLOAT")
soundfile.write(str(out / "new.wav"), Mixer(result.timeline).render(), rate, subtype="FLOAT")
print(json.dumps({"times": slower.times, "change": first_difference(old, result.timeline),
                  "old": old.length, "new": result.timeline.length, "press": int(press * rate),
                  "underruns": output.underflows, "lost": result.lost, "starved": result.starved}))
"""


def test_slower_switches_seamlessly_through_the_sink(pulse: Pulse, tmp_path: Path) -> None:
    script = tmp_path / "slower.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    recording = tmp_path / "live.wav"
    ran_dry = []
    for _ in range(ATTEMPTS):
        with pulse.record(recording):
            done = subprocess.run([sys.executable, "-c", DRIVER, str(script), str(tmp_path), "1.0"], env=pulse.env,
                                  cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        info = json.loads(done.stdout)
        if not (info["underruns"] or info["lost"] or info["starved"]):
            break
        ran_dry.append(info)  # the machine was busy: the player made the time up, so the samples moved
    else:
        pytest.fail(f"every one of {ATTEMPTS} runs had an underrun: {ran_dry}")
    assert info["times"] == 1, done.stderr
    change, old_length, new_length = info["change"], info["old"], info["new"]
    assert info["press"] + 1.5 * RATE <= change < old_length  # at least the lead ahead, inside the session
    assert new_length > old_length + 0.2 * 5 * RATE  # the slowed cycles (and the last line)

    live, new, old = read_wav(recording), read_wav(tmp_path / "new.wav"), read_wav(tmp_path / "old.wav")
    lag = global_lag(live, new)
    heard = segment(live, lag, lag + len(new))
    # 16-bit recording of the same samples: within rounding everywhere, before and after the switch.
    worst_before = float(np.abs(heard[:change] - new[:change]).max())
    worst_after = float(np.abs(heard[change:] - new[change:]).max())
    assert worst_before < 1e-3 and worst_after < 1e-3, (worst_before, worst_after, info)
    # ... and after the switch it really is the slower version, not the original.
    stretch = slice(change, min(len(old), len(new)))
    assert float(np.abs(heard[stretch] - old[stretch]).max()) > 0.05
    print(f"slower: switched at {change / RATE:.2f} s; session {old_length / RATE:.1f} -> {new_length / RATE:.1f} s; "
          f"worst difference from the slower render {max(worst_before, worst_after):.5f}; runs that ran dry first: "
          f"{len(ran_dry)}")

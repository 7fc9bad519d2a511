"""'Slower' through the real audio path: a session plays into the PulseAudio null sink, "slower" is asked
for during the breathing, and what the player hands the output is the slower render sample for sample across
the switch (and no longer the original after it); the recording shows the slower version reached the sink."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .audio_helpers import RATE, REPO, Pulse, Signal, global_lag, read_wav, segment
from .tee import Teed, differing, piece_problems

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

ASK_AFTER = 1.0
"""Seconds into the breathing step, on the stream's own sample clock, at which "slower" is asked for."""

DRIVER = """
import json, queue, sys
from pathlib import Path
import soundfile
from tests.audio.tee import Tee
from voiceguide.script import parse
from voiceguide.backends import system_clock
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.backends.sounddevice_out import SoundDeviceOutput
from voiceguide.engine.compile import DEFAULT_RATE, compile_session
from voiceguide.engine.mix import Mixer
from voiceguide.playback.control import Command
from voiceguide.playback.loop import play
from voiceguide.playback.slowing import Slower, first_difference

script, out, after = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
session, speaker, rate = parse.load(script), FakeSpeaker(), 48000
old = compile_session(session, speaker, rate)
controls = queue.SimpleQueue()
slower = Slower(session, lambda s: compile_session(s, speaker, rate), DEFAULT_RATE)
target, asked, players = old.step_starts[1] + int(after * rate), [], []

def tick(snapshot):  # ask on the stream's sample clock, not the wall clock: a new stream starts late
    if not asked and snapshot.position >= target:
        asked.append(snapshot.position)
        controls.put(Command.SLOWER)

def on_slower(player):
    players.append(player)
    slower.request(player)

tee = Tee()
tee.install()
output = SoundDeviceOutput("pulse")
result = play(old, output, system_clock(), controls, on_tick=tick, on_slower=on_slower)
tee.save(out / "handed.npz")
soundfile.write(str(out / "old.wav"), Mixer(old).render(), rate, subtype="PCM_16")
soundfile.write(str(out / "new.wav"), Mixer(result.timeline).render(), rate, subtype="PCM_16")
pieces = [(g.stream_start, g.timeline_start, g.timeline_end) for g in players[0].segments] if players else []
print(json.dumps({"times": slower.times, "change": first_difference(old, result.timeline),
                  "old": old.length, "new": result.timeline.length, "asked": asked, "pieces": pieces,
                  "underruns": output.underflows, "lost": result.lost, "starved": result.starved}))
"""


def test_slower_switches_seamlessly_through_the_sink(pulse: Pulse, tmp_path: Path) -> None:
    """Judged where each thing is exact. What the player handed the output (teed inside the process) is the
    slower render sample for sample, in the pieces the player says it played (one piece, unless the output ran
    dry and the lost time was taken out of a quiet stretch); "slower" is asked for, and the change is found, on
    the stream's sample clock. The recording shows what the real path can: the slower version, not the old
    one, reached the sink after the switch (each stretch found there by correlation, wherever a new stream's
    late start or an underrun put it)."""
    script = tmp_path / "slower.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    recording = tmp_path / "live.wav"
    with pulse.record(recording):
        done = subprocess.run([sys.executable, "-c", DRIVER, str(script), str(tmp_path), str(ASK_AFTER)],
                              env=pulse.env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["times"] == 1 and len(info["asked"]) == 1, (info, done.stderr)
    change, old_length, new_length, (asked,) = info["change"], info["old"], info["new"], info["asked"]
    assert asked + 1.5 * RATE <= change < old_length  # at least the lead ahead, inside the session
    assert new_length > old_length + 0.2 * 5 * RATE  # the slowed cycles (and the last line)

    new, old = read_wav(tmp_path / "new.wav"), read_wav(tmp_path / "old.wav")
    (handed,) = Teed(tmp_path / "handed.npz").streams
    pieces = [tuple(p) for p in info["pieces"]]
    assert handed.losses or pieces == [(0, 0, new_length)], f"no loss, yet the player jumped: {pieces}"
    problems = piece_problems(handed, new, pieces)
    assert problems == [], f"{problems}; losses {handed.losses}; {info}"
    if not handed.losses:
        assert differing(handed, new) < 0, "no loss, yet the handed stream is not the slower render throughout"
    # ... and after the switch it really is the slower version, not the original.
    stream, start, stop = next(p for p in pieces if p[2] > change)
    first = max(change, start)
    stretch = slice(first, min(stop, len(old)))
    played = handed.stream[stream + first - start:stream + stretch.stop - start]
    assert float(np.abs(played - old[stretch]).max()) > 0.05, "the old version was played after the switch"

    live = read_wav(recording)
    heard = heard_after(live, handed.stream, stream + first - start)
    assert len(heard) >= 3 and sorted(heard)[len(heard) // 2] > 0.99, \
        f"the slower stretches after the switch, as found in the recording: {heard}"
    print(f"slower: asked at {asked / RATE:.2f} s, switched at {change / RATE:.2f} s; session "
          f"{old_length / RATE:.1f} -> {new_length / RATE:.1f} s; losses {handed.losses}; pieces {pieces}; "
          f"recording correlation after the switch {[round(h, 4) for h in heard]}")


def heard_after(live: Signal, stream: Signal, at: int, window: int = 2 * RATE, count: int = 4) -> list[float]:
    """How well each of ``count`` sounding 2-second windows of the handed ``stream`` from ``at`` on is found in
    the recording (normalised correlation at its best lag, searched over the whole recording; 2 s span a
    breathing phase's change, where the slower version's timing differs from the old one's). A window an
    underrun cut through scores lower: the test asks most windows, not all, to be found."""
    found = []
    here = at
    while len(found) < count and here + window <= len(stream):
        piece = stream[here:here + window]
        if np.isfinite(piece).all() and float(np.sqrt(np.mean(piece * piece))) > 0.01:
            lag = global_lag(live, piece)
            got = segment(live, lag, lag + window)
            found.append(float(np.dot(got, piece) / np.sqrt(np.dot(got, got) * np.dot(piece, piece) + 1e-20)))
        here += window
    return found

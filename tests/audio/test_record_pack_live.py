"""Recording a voice pack through the real path, and playing a half-recorded pack live.

1. ``record``'s walk with the real microphone code (PortAudio's ``pulse`` device, through the AudioInput seam):
   each line is "read" by playing real human speech (LibriVox, pocketsphinx's source archive) into a null sink
   of our own whose monitor is the microphone. The pack's files are checked: at most 0.25 s before the voice,
   within 1 LU of the synthetic lines' loudness, and the voice itself (cross-correlation with the clip).
2. ``voiceguide run SCRIPT --voice mine`` with two of four lines kept as takes (real speech, stored as the walk
   stores them) into the null sink, recorded with ``parec`` and teed inside the process (``tee.py``): what the
   player hands the output is the render sample for sample (every line on its planned sample, less the time the
   player made up after the output ran dry); through the sink every line sounds, and each recorded one is its take.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voiceguide.backends import voice_pack
from voiceguide.engine.pack_lines import Line, session_lines
from voiceguide.live.record_walk import WalkIO, walk
from voiceguide.live.take_recorder import RATE, TakeRecorder
from voiceguide.script import parse
from voiceguide.sound import sounds, takes

from .audio_helpers import Pulse, global_lag, local_lag, read_wav, run_voiceguide
from .tee import LSB, Handed, Teed

pytestmark = pytest.mark.audio

SCRIPT = """[session]
title = "Half recorded live"

[[step]]
say = "Hello, and welcome to a short rest."

[[step]]
say = "Let your shoulders soften."

[[step]]
say = "Notice the weight of your hands."

[[step]]
say = "When you are ready, open your eyes."
"""
def _pactl(pulse: Pulse, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **{k: v for k, v in pulse.env.items() if k == "PULSE_SERVER"})
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=False, env=env)


@pytest.fixture
def microphone(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    """A null sink whose monitor is the default source for new PortAudio streams: (sink, env to play into it)."""
    sink = f"vg_record_mic_{os.getpid()}"
    loaded = _pactl(pulse, "load-module", "module-null-sink", f"sink_name={sink}", f"rate={RATE}")
    assert loaded.returncode == 0, loaded.stderr
    if "PULSE_SERVER" in pulse.env:
        monkeypatch.setenv("PULSE_SERVER", pulse.env["PULSE_SERVER"])
    monkeypatch.setenv("PULSE_SOURCE", f"{sink}.monitor")
    import sounddevice as sd

    sd._terminate()  # PortAudio lists devices once: again, now that the server is known
    sd._initialize()
    env = dict(os.environ)
    try:
        yield sink, env
    finally:
        _pactl(pulse, "unload-module", loaded.stdout.strip())


def _speech() -> list[np.ndarray]:
    from tests.speech_data import librivox_or_skip

    out = []
    clips = sorted(librivox_or_skip(), key=lambda c: c.path.stat().st_size)[:2]  # the two shortest: a quick walk
    for clip in clips:
        data, rate = sf.read(clip.path, dtype="float32")
        out.append(sounds.resample(np.asarray(data, np.float32), int(rate), RATE))
    return out


def _play_into(sink: str, env: dict[str, str], audio: np.ndarray, folder: Path) -> None:
    path = folder / f"read-{time.monotonic_ns()}.wav"
    sf.write(path, audio, RATE, subtype="PCM_16")
    done = subprocess.run(["paplay", f"--device={sink}", str(path)], capture_output=True, text=True, timeout=60,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr


def _record_pack(tmp_path: Path, sink: str, env: dict[str, str], lines: list[Line],
                 keys: list[str]) -> tuple[voice_pack.Pack, list[np.ndarray]]:
    """Walk through ``lines`` with ``keys``, each take read by playing the next LibriVox clip into the mic."""
    from voiceguide.backends import audio_input, system_clock

    clips = iter(_speech())
    readers: list[threading.Thread] = []
    read: list[np.ndarray] = []

    def beat(n: int) -> None:
        if n == 1:  # the count's last beat: start reading, with a breath of quiet first as people do
            clip = next(clips)
            read.append(clip)
            audio = np.concatenate([np.zeros(RATE // 2, np.float32), clip * 0.5])
            reader = threading.Thread(target=_play_into, args=(sink, env, audio, tmp_path))
            reader.start()
            readers.append(reader)

    pack = voice_pack.open_pack("mine", create=True)
    keys_left = iter(keys)
    mic = audio_input("sounddevice", "pulse")
    with TakeRecorder(mic, system_clock(), beat=beat) as recorder:
        time.sleep(2.0)  # a capture sends nothing for its first moment (FIELD-NOTES): the walk waits as well
        io = WalkIO(ask=lambda prompt, choices: next(keys_left), show=lambda text: None, record=recorder.record,
                    play=lambda samples: None)
        walk(pack, "half", lines, io)
    for reader in readers:
        reader.join(timeout=60)
    return pack, read


def test_recording_through_the_microphone_keeps_trimmed_takes_at_the_loudness(
        microphone: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    sink, env = microphone
    lines = [Line("Hello, and welcome to a short rest.", "line"), Line("Let your shoulders soften.", "line")]
    pack, read = _record_pack(tmp_path, sink, env, lines, ["", "k", "", "k"])
    for line, clip in zip(lines, read, strict=True):
        take = pack.load(line.text)
        assert take is not None, f"{line.text!r} was not kept"
        levels = takes.frame_levels(take, RATE)
        lead = int(np.argmax(levels > levels.max() - 30)) * takes.FRAME
        assert lead <= 0.25, f"{lead:.2f} s before the voice"  # half a second of quiet was read before it
        assert abs(takes.loudness(take, RATE) - takes.TARGET_LUFS) <= 1.0
        lag = global_lag(take.astype(np.float64), clip.astype(np.float64))
        _, score = local_lag(take.astype(np.float64), clip.astype(np.float64), 0, lag, search=RATE // 50,
                             before=0, after=RATE)
        assert score > 0.8, f"the take of {line.text!r} is not the voice read into the microphone ({score:.2f})"
        assert len(take) < len(clip) + RATE  # the quiet after it was cut too (kept: 0.35 s and a block)


def line_problems(handed: Handed, events: list[dict[str, Any]], planned: list[dict[str, Any]],
                  reference: np.ndarray) -> list[str]:
    """What is wrong with the lines as the player handed them out (``events``: the played timeline's speech, on the
    stream's clock) against the render (``planned``, ``reference``); empty if nothing. See the live test."""
    produced = handed.stream[~np.isnan(handed.stream)]
    found = []
    for event, plan_event in zip(events, planned, strict=True):
        start, length = plan_event["start_sample"], plan_event["end_sample"] - plan_event["start_sample"]
        at = event["start_sample"] - sum(n for resume, n in handed.losses if resume <= event["start_sample"])
        if abs(at - start) > handed.lost or (not handed.losses and at != start):
            found.append(f"{event['text']!r} played at {at}, planned at {start}")
        off = np.abs(produced[at:at + length] - reference[start:start + length])
        if len(off) < length or off.max() > LSB:
            found.append(f"{event['text']!r} was not handed out as rendered ({off.max() if len(off) else '-'})")
    return found


def test_a_half_recorded_pack_plays_live_on_time(pulse: Pulse, tmp_path: Path) -> None:
    script = tmp_path / "half.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    lines = session_lines(parse.load(script))
    # The first and third lines recorded (real speech kept as the walk keeps a take; recording through the
    # microphone is the test above's: here what is timed is the live playback, on the real-time worker)
    pack = voice_pack.open_pack("mine", create=True)
    for line, clip in zip(lines[::2], _speech(), strict=True):
        voice_pack.keep_take(pack, line.text, clip * 0.5)
    recorded = {line.text: pack.load(line.text) for line in lines if pack.has(line.text)}
    assert len(recorded) == 2
    cache, ref, plan = tmp_path / "cache", tmp_path / "ref.wav", tmp_path / "plan.json"
    player_env = {**os.environ, **pulse.env}  # the server and our sink
    player_env.pop("PULSE_SOURCE", None)
    done = run_voiceguide("render", script, "--voice", "mine", "--cache-dir", cache, "-o", ref, "--timeline", plan,
                          env=player_env)
    assert done.returncode == 0, done.stderr
    planned = [e for e in json.loads(plan.read_text())["events"] if e["kind"] == "speech"]
    reference = read_wav(ref)
    live, played, tee = tmp_path / "live.wav", tmp_path / "played.json", tmp_path / "handed.npz"
    with pulse.record(live):
        done = run_voiceguide("run", script, "--voice", "mine", "--cache-dir", cache, "--device", "pulse",
                              "--timeline", played, env=player_env, tee=tee)
    assert done.returncode == 0, done.stderr
    events = [e for e in json.loads(played.read_text())["events"] if e["kind"] == "speech"]
    assert [e["text"] for e in events] == [e["text"] for e in planned] and len(events) == 4
    # Exact where it is exact: what the player handed the output holds every line (the takes and the synthetic
    # ones) sample for sample as rendered, on its planned sample. A busy machine may make the output run dry:
    # the frames it lost are gaps in the stream (NaN) during which the player's sound did not move on, and the
    # player makes the time up later by shortening a quiet stretch, never a line. So each line is judged in what
    # the player produced (the stream without its gaps), where it must start on its planned sample less what
    # has been made up so far: exactly on it when nothing was lost.
    (handed,) = Teed(tee).streams
    problems = line_problems(handed, events, planned, reference)
    assert problems == [], f"{problems}; losses {handed.losses}"
    # Through the sink: every line sounds, and each recorded one is what the player handed out there (its take,
    # above), found near its place on the stream's clock (the real path was seen to shift sound by a few ms to
    # 0.16 s on a busy machine with no loss reported to the player, as at a new stream's start: its timing is the
    # tee's to judge, as in test_chime_timing).
    recording, stream = read_wav(live), np.nan_to_num(handed.stream)
    lag = global_lag(recording, stream)  # where the stream starts in the recording
    for event in events:
        start, end = event["start_sample"], event["end_sample"]
        piece = recording[start + lag: end + lag]
        assert float(np.sqrt(np.mean(np.square(piece)))) > 0.01, f"{event['text']!r} did not sound"
        if event["text"] not in recorded:
            continue
        found, score = local_lag(recording, stream, start, lag, search=RATE // 5, before=0,
                                 after=min(end - start, RATE))
        assert score > 0.95, f"{event['text']!r} is not the recorded take ({score:.2f})"
        print(f"{event['text']!r}: {found - lag} samples from its place through the sink; losses {handed.losses}")


def test_the_record_command_end_to_end(microphone: tuple[str, dict[str, str]], pulse: Pulse, tmp_path: Path) -> None:
    """``voiceguide record demo`` as a person runs it: keys on stdin, the first line read into the microphone when
    the count reaches one, the take played back to the speaker, kept; then stopped for now."""
    sink, env = microphone
    clip = _speech()[0]
    child_env = dict(env, PULSE_SINK=pulse.sink, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "record", "demo", "--pack", "t", "--input", "pulse",
                             "--device", "pulse"], env=child_env, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("\nk\nq\n")  # record the first line, keep it, stop at the second
    proc.stdin.flush()
    out: list[str] = []
    reader: threading.Thread | None = None
    watchdog = threading.Timer(120, proc.kill)  # a hung walk ends the test, never the run
    watchdog.start()
    try:
        for line in proc.stdout:
            out.append(line)
            if "1 ..." in line and reader is None:
                audio = np.concatenate([np.zeros(RATE // 2, np.float32), clip * 0.5])
                reader = threading.Thread(target=_play_into, args=(sink, env, audio, tmp_path))
                reader.start()
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
    if reader is not None:
        reader.join(timeout=60)
    text = "".join(out)
    assert proc.returncode == 0, text + (proc.stderr.read() if proc.stderr else "")
    assert "Pack 't' now has 1 of 9 lines of demo." in text
    pack = voice_pack.open_pack("t")
    take = pack.load("Hello. This is one quiet minute, just for you.")
    assert take is not None
    lag = global_lag(take.astype(np.float64), clip.astype(np.float64))
    _, score = local_lag(take.astype(np.float64), clip.astype(np.float64), 0, lag, search=RATE // 50, before=0,
                         after=RATE)
    assert score > 0.8

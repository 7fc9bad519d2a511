"""Stopping with Ctrl-C fades out and exits promptly; with no output device, voiceguide says what to do."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from .audio_helpers import (
    ExitClock,
    Pulse,
    judge_fade,
    read_wav,
    run_voiceguide,
    voiceguide,
    wait_until_quiet,
)

pytestmark = pytest.mark.audio

PLAY_BEFORE_STOP = 5.0
"""Seconds of box to play before Ctrl-C: the opening bell (3.5 s) and into the first spoken line."""


def _watch(stream: IO[str], log: list[str], started: threading.Event) -> None:
    for line in stream:
        log.append(line)
        if "playing on" in line:  # logged (with -v) once the output stream has started
            started.set()


def test_ctrl_c_fades_out_and_exits(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> None:
    recording, tee = tmp_path / "box.wav", tmp_path / "handed.npz"
    with pulse.record(recording):
        proc = voiceguide("-v", "run", "box", "--device", "pulse", "--tts", "fake", "--cache-dir", speech_cache,
                          env=pulse.env, tee=tee)
        log: list[str] = []
        started = threading.Event()
        assert proc.stderr is not None
        threading.Thread(target=_watch, args=(proc.stderr, log, started), daemon=True).start()
        if not started.wait(60):
            proc.kill()
            pytest.fail(f"voiceguide did not start playing within 60 s: {''.join(log)}")
        time.sleep(PLAY_BEFORE_STOP)
        clock = ExitClock(proc.pid)
        proc.send_signal(signal.SIGINT)
        code = clock.wait(proc, 10)
        wait_until_quiet(recording)  # let the tail reach the recording
    assert code == 0, f"exit code {code} after Ctrl-C"
    assert clock.wall - clock.waited <= 1.5, f"voiceguide took {clock.describe()} to exit after Ctrl-C"

    live = read_wav(recording)
    wav = tmp_path / "box-ref.wav"
    done = run_voiceguide("render", "box", "-o", wav, "--tts", "fake", "--cache-dir", speech_cache)
    assert done.returncode == 0, done.stderr
    seconds = judge_fade(tee, live, read_wav(wav), "Ctrl-C")
    print(f"exit {clock.describe()} after Ctrl-C; fade {seconds:.3f} s")


def test_no_output_device_exits_2_with_advice() -> None:
    env = dict(os.environ, PULSE_SERVER="unix:/nonexistent")
    env.pop("PULSE_SINK", None)
    done = run_voiceguide("run", "demo", "--device", "pulse", "--tts", "fake", env=env, timeout=60)
    assert done.returncode == 2, f"exit {done.returncode}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    ours = [line for line in done.stderr.splitlines() if line.startswith("voiceguide:")]
    assert len(ours) == 1, f"expected one paragraph from voiceguide, got:\n{done.stderr}"
    assert "render" in ours[0] and "--device" in ours[0], ours[0]

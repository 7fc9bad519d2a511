"""Measurements of listening beyond word error rate, used by ``python -m benchmarks.stt``.

* invented answers: how often a recognizer "hears" words in silence or room noise (Whisper is known to write
  "Thank you." or "you" there), counted by ``tests.measure.invented_answers`` on its synthetic rooms (the
  tests use them too).
* :func:`in_worker`: end of answer to words, cold and warm, and the worker's peak RSS.
* :func:`underruns_while_transcribing`: the real output's underflows while answers are transcribed.
* :func:`daemon_memory`: RSS of a daemon-like process with the model loaded, and after the worker's idle exit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.measure import invented_answers
from voiceguide.seams import Clip, Samples

from . import REPO


def _status_mb(pid: int | str, field: str) -> float | None:
    """A memory field of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``) in MB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            line = next(x for x in fh if x.startswith(field + ":"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 1024.0


@dataclass(frozen=True)
class WorkerRun:
    """One recognizer in its worker process, on a set of clips."""

    name: str
    """The recognizer's journal name."""
    cold_s: float
    """End of the first answer to its words: start the worker, load and check the model, transcribe."""
    warm_s: list[float]
    """End of answer to words for each clip after that, the worker warm."""
    peak_rss_mb: float | None
    """The worker's peak RSS (VmHWM)."""


def in_worker(backend: str, config: dict[str, Any], clips: list[Clip]) -> WorkerRun:
    """Transcribe ``clips`` through a :class:`RecognizerProcess` the way a session does; time and measure it."""
    from voiceguide.listen.stt_worker import RecognizerProcess

    worker = RecognizerProcess(backend, config, backend)
    try:
        began = time.perf_counter()
        worker.transcribe(clips[0])
        cold = time.perf_counter() - began
        warm = []
        for clip in clips:
            began = time.perf_counter()
            worker.transcribe(clip)
            warm.append(time.perf_counter() - began)
        pid = worker.pid
        peak = _status_mb(pid, "VmHWM") if pid else None
    finally:
        worker.close()
    return WorkerRun(backend, cold, warm, peak)


def underruns_while_transcribing(backend: str, config: dict[str, Any], clips: list[Clip], answers: int,
                                 seconds: float, device: str | None = None) -> tuple[int, int, float]:
    """Play a quiet tone for ``seconds`` on the real output while the worker transcribes ``answers`` clips
    one after another; (underflows, answers transcribed, seconds played)."""
    from voiceguide.backends.sounddevice_out import SoundDeviceOutput
    from voiceguide.listen.stt_worker import RecognizerProcess

    rate = 48000
    phase = 0

    def fill(out: Samples, lost: int = 0) -> None:
        nonlocal phase
        n = len(out)
        out[:] = 0.05 * np.sin(2 * np.pi * 440 * (np.arange(phase, phase + n) / rate))
        phase += n

    output = SoundDeviceOutput(device)
    worker = RecognizerProcess(backend, config, backend)
    done = 0
    began = time.perf_counter()
    try:
        with output.open(rate, fill):
            gap = seconds / (answers + 1)
            for i in range(answers):
                time.sleep(max(0.0, began + gap * (i + 1) - time.perf_counter()))  # a bench, not the player
                worker.transcribe(clips[i % len(clips)])
                done += 1
            time.sleep(max(0.0, began + seconds - time.perf_counter()))
    finally:
        worker.close()
    return output.underflows, done, time.perf_counter() - began


MEMORY_PROBE = """
import json, sys, time
from benchmarks.listen import _status_mb
from voiceguide.daemon import app, core  # what the daemon process imports
from voiceguide.journal.audio import load
from voiceguide.listen.stt_worker import off_audio_path
worker = off_audio_path("auto", None, "en", idle=float(sys.argv[2]))
worker.transcribe(load(sys.argv[1]))
loaded = {"daemon": _status_mb("self", "VmRSS"), "worker": _status_mb(worker.pid, "VmRSS")}
time.sleep(float(sys.argv[3]))
idle = {"daemon": _status_mb("self", "VmRSS"), "worker alive": worker.alive}
print(json.dumps({"loaded": loaded, "idle": idle}))
"""
"""Run in a fresh interpreter: a process that imports what the daemon imports, with the default recognizer
for English in its worker; RSS with the model loaded, then after the worker's idle exit."""


def daemon_memory(clip: Path, idle: float, after: float | None = None) -> dict[str, Any]:
    """The figures of :data:`MEMORY_PROBE`, with the worker's idle time set to ``idle`` seconds, the second
    ``after`` seconds after the answer (default: 3 s after the idle time)."""
    wait = idle + 3 if after is None else after
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(clip.resolve()), str(idle), str(wait)],
                          capture_output=True, text=True, timeout=wait + 300, check=True, cwd=REPO)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(clip_paths: list[Path], device: str | None, session_seconds: float, answers: int,
           idle: float) -> list[str]:
    """The listening benchmark's Markdown lines (each measurement once: Whisper decoding is heavy)."""
    from voiceguide.backends import recognizer
    from voiceguide.journal.audio import load

    clips = [load(p) for p in clip_paths]
    lines = ["", "### Invented answers (20 tries each of silence and room noise)", "",
             "| recognizer | silence | room noise |", "|---|---|---|"]
    for model in ("tiny.en", "base"):
        found = invented_answers(recognizer("faster-whisper", model=model, language="en"))
        lines.append(f"| faster-whisper/{model} | {len(found['silence'])} / 20 | {len(found['room noise'])} / 20 |")
    lines += ["", "### End of answer to words, in the worker process", "",
              "| recognizer | cold (start worker, load, check, transcribe) | warm, median per clip | "
              "worker peak RSS |", "|---|---|---|---|"]
    for backend, config in (("sphinx", {}), ("faster-whisper", {"model": "tiny.en"}),
                            ("faster-whisper", {"model": "base", "language": "en"})):
        run = in_worker(backend, config, clips)
        label = backend + (f"/{config['model']}" if "model" in config else "")
        warm = sorted(run.warm_s)[len(run.warm_s) // 2]
        lines.append(f"| {label} | {run.cold_s:.2f} s | {warm:.2f} s | {run.peak_rss_mb or 0:.0f} MB |")
    under, done, played = underruns_while_transcribing("faster-whisper", {"model": "tiny.en"}, clips, answers,
                                                       session_seconds, device)
    lines += ["", f"Underruns of the real output ({device or 'default'}, 48 kHz, blocksize 2048, latency high) "
              f"in {played:.0f} s of playing while {done} answers were transcribed by tiny.en in the worker: "
              f"**{under}**."]
    memory = daemon_memory(clip_paths[0], idle)
    lines += ["", f"Daemon-like process (imports the daemon, default recognizer for English in its worker): "
              f"{memory['loaded']['daemon']:.0f} MB + worker {memory['loaded']['worker']:.0f} MB with the model "
              f"loaded; {memory['idle']['daemon']:.0f} MB, worker alive: {memory['idle']['worker alive']}, "
              f"{idle:.0f} s after the last answer (the worker's idle time set to {idle:.0f} s for the benchmark)."]
    return lines

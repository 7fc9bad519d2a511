"""Helpers for the real-audio tests: running voiceguide, recording a null sink, and signal analysis
(alignment by cross-correlation, chime placement, fade shape).

The analysis works on plain float arrays; the tests also run it on doctored signals to show that a
misplaced chime or a cut instead of a fade would be caught.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

Signal = npt.NDArray[np.float64]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
RATE = 48000
"""Sample rate of every stream, sink, recording and render here."""
SILENCE_RMS = 1e-3
"""A 10 ms window quieter than this (-60 dBFS) counts as silence."""
REF_SOUND = 0.005
"""Reference windows at least this loud (-46 dBFS) are judged in a fade: far above 16-bit rounding."""
GAUGE_SHARE = 0.5
"""How far a chime after the catch-up may be from the plan, as a share of the frames the gauge reported lost.

The catch-up pays what the loss gauge (``LossGauge``, from PortAudio's DAC times) measured, so a later chime is
off the plan by the gauge's error. Measured with ``python -m benchmarks.gauge`` (the live catch-up test's run:
a 200-ms SIGSTOP during a bell; the chimes after the catch-up against the one before the stop, in the
recording), 2026-12-07, 2 cores shared with seven other lanes (load 7-11), 28 runs, 12 of them beside a busy
loop: for the stop's lone loss (3100-6200 frames reported) the error was at most 145 samples in 15 of 17 runs,
288 (5 %) and 566 (14 %) in the other two; three underruns in quick succession left the later chimes 25 % of
the reported loss off. Half the loss is twice the worst share seen, and half of what a catch-up that pays
nothing (or twice) leaves. Seen beside a busy loop, once each, and not covered: a loss 3.3 s into a stream
reported as 2414 frames where the chimes after it showed about 130; the chimes after a 4715-frame loss staying
5092 frames late (the real path shifting sound without an underrun reported, as seen elsewhere in 3 more runs)."""


def _default_sigint() -> None:
    # A shell may start its background jobs with SIGINT ignored, and a child would inherit that;
    # voiceguide must see the test's SIGINT as a real Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def voiceguide(*args: str | Path, env: dict[str, str] | None = None, tee: Path | None = None) -> subprocess.Popen[str]:
    """Start ``python -m voiceguide ARGS`` with stdin not a terminal and stdout/stderr piped; with ``tee``, what
    the player hands each output stream is saved there (see ``tee.py``)."""
    command = ["-m", "tests.audio.tee", str(tee)] if tee is not None else ["-m", "voiceguide"]
    return subprocess.Popen([sys.executable, *command, *map(str, args)], env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint, cwd=REPO)


def run_voiceguide(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120,
                   tee: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m voiceguide ARGS`` to the end (teed into ``tee``, if given); returns its exit code and
    output."""
    proc = voiceguide(*args, env=env, tee=tee)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"voiceguide {' '.join(map(str, args))} took more than {timeout} s\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@dataclass(frozen=True)
class Pulse:
    """A private null sink on the running server, and how to play into it and record it."""

    sink: str
    """The null sink's name."""
    env: dict[str, str]
    """Environment for a player: the server, and the sink as the default for new streams."""

    @contextmanager
    def record(self, path: Path) -> Iterator[Path]:
        """Record the sink's monitor to a 48 kHz mono 16-bit WAV at ``path`` while the block runs."""
        # Small fragments: by default parec gets audio in large chunks, and what is still on its way
        # when parec is stopped is lost (the last second or so of the recording).
        cmd = ["parec", f"--device={self.sink}.monitor", "--format=s16le", f"--rate={RATE}", "--channels=1",
               "--latency-msec=20", "--file-format=wav", str(path)]
        proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            while not (path.exists() and path.stat().st_size > 44 + RATE // 10):  # 50 ms of samples flowing
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"parec did not start recording: {' '.join(cmd)}: {proc.stderr and proc.stderr.read()}")
                time.sleep(0.02)
            yield path
        finally:
            proc.terminate()  # parec finishes the WAV header on SIGTERM
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read_wav(path: Path) -> Signal:
    """A mono WAV file as float64 samples; it must be at :data:`RATE`."""
    data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    assert rate == RATE, f"{path} is {rate} Hz, expected {RATE}"
    mono: Signal = data.mean(axis=1)
    return mono


def timeline_starts(path: Path, kind: str = "chime") -> list[int]:
    """The ``start_sample`` of every event of ``kind`` in a timeline JSON file."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["sample_rate"] == RATE
    return [int(e["start_sample"]) for e in doc["events"] if e["kind"] == kind]


def segment(x: Signal, start: int, stop: int) -> Signal:
    """``x[start:stop]``, padded with zeros where the range runs past either end."""
    out = np.zeros(stop - start, dtype=np.float64)
    a, b = max(start, 0), min(stop, len(x))
    if a < b:
        out[a - start:b - start] = x[a:b]
    return out


def global_lag(recording: Signal, reference: Signal) -> int:
    """The lag L that best fits ``recording[n + L] ≈ reference[n]`` (FFT cross-correlation)."""
    n = len(recording) + len(reference)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(reference, size)), size)
    k = int(np.argmax(corr))
    return k if k < size // 2 else k - size


def local_lag(recording: Signal, reference: Signal, at: int, lag: int, search: int,
              before: int = 480, after: int = 4800) -> tuple[int, float]:
    """Where the reference's stretch around ``at`` really is in the recording, near ``at + lag``.

    Correlates ``reference[at - before : at + after]`` with the recording over lags
    ``lag - search .. lag + search``; returns (lag found, normalised correlation 0..1 there).
    """
    ref = segment(reference, at - before, at + after)
    rec = segment(recording, at + lag - before - search, at + lag + after + search)
    corr = np.correlate(rec, ref, mode="valid")  # corr[j] pairs ref with rec[j : j + len(ref)]
    energy = np.concatenate(([0.0], np.cumsum(rec * rec)))
    window = energy[len(ref):] - energy[:-len(ref)]
    norm = np.sqrt(np.maximum(window, 1e-20) * float(np.dot(ref, ref)))
    score = corr / norm
    j = int(np.argmax(score))
    return lag + j - search, float(score[j])


@dataclass(frozen=True)
class Placement:
    """Where each chime of a recording sits compared with its place in the reference."""

    errors: list[int]
    """Per chime: its offset in the recording minus the first chime's, in samples (0 = no drift)."""
    scores: list[float]
    """Per chime: normalised correlation with the reference (near 1 = the same sound was found)."""

    @property
    def worst(self) -> int:
        """The largest absolute error in samples."""
        return max(abs(e) for e in self.errors)

    def describe(self) -> str:
        """A one-line summary for assertion messages."""
        ms = [round(e * 1000 / RATE, 3) for e in self.errors]
        return (f"max |error| {self.worst} samples ({self.worst * 1000 / RATE:.3f} ms); "
                f"errors per chime (ms) {ms}; correlation {[round(s, 3) for s in self.scores]}")


def chime_placement(recording: Signal, reference: Signal, starts: list[int], search: int = 2400) -> Placement:
    """Align ``recording`` to ``reference`` globally, then find each chime within ±``search`` samples."""
    lag = global_lag(recording, reference)
    found = [local_lag(recording, reference, s, lag, search) for s in starts]
    first = found[0][0]
    return Placement([f[0] - first for f in found], [f[1] for f in found])


def window_rms(x: Signal, window: int = RATE // 100) -> Signal:
    """RMS of consecutive ``window``-sample windows (the tail that does not fill a window is dropped)."""
    n = len(x) // window
    blocks = x[:n * window].reshape(n, window)
    rms: Signal = np.sqrt(np.mean(blocks * blocks, axis=1))
    return rms


@dataclass(frozen=True)
class Fade:
    """The end of a recording measured against the reference it should follow."""

    gains: list[float]
    """Recorded RMS over reference RMS, per 10 ms window from 500 ms before the recording falls silent to the
    first window after it where the reference still sounds (windows where the reference itself is near
    silent, as between words, are left out)."""
    where: list[int]
    """The window index of each gain."""
    seconds: float
    """From the first window below 0.9 gain to the end of sound."""
    tail_ratio: float
    """RMS of the last 50 ms of sound over the loudest 10 ms of the last 500 ms."""

    def falls(self) -> list[tuple[float, float]]:
        """Level drops of more than 0.15 faster than 0.075 per 10 ms, as (before, after): a 0.4 s linear fade
        falls 0.025 per 10 ms; across a pause between words the drop is spread over the pause."""
        pairs = zip(self.gains, self.gains[1:], self.where, self.where[1:], strict=False)
        return [(round(a, 2), round(b, 2)) for a, b, i, j in pairs if a - b > 0.15 and (a - b) / (j - i) > 0.075]

    def problems(self, longest: float = 0.5) -> list[str]:
        """What is wrong with this as a fade-out of at most ``longest`` seconds (empty if nothing)."""
        found = []
        if len(self.gains) < 10:
            found.append(f"only {len(self.gains)} windows with sound in the reference to judge by")
            return found
        rises = [round(b - a, 3) for a, b in zip(self.gains, self.gains[1:], strict=False) if b > a + 0.1]
        if rises:
            found.append(f"the level rises during the fade by {rises}")
        for before, after in self.falls():
            found.append(f"the level falls from {before:.2f} to {after:.2f} at once (a cut, not a fade)")
        if self.gains[-1] > 0.2:
            found.append(f"the sound ends at {self.gains[-1]:.2f} of full level (a cut, not a fade)")
        if max(self.gains) < 0.8:
            found.append(f"never near full level in the last 500 ms (max gain {max(self.gains):.2f})")
        if self.seconds > longest + 0.011:
            found.append(f"the fade takes {self.seconds:.3f} s, more than {longest} s")
        if self.tail_ratio > 0.3:
            found.append(f"the last 50 ms are still at {self.tail_ratio:.2f} of the level before (abrupt end)")
        return found


def end_lag(recording: Signal, reference: Signal) -> int:
    """The lag (as :func:`global_lag`'s) that fits the recording's last second of sound before its final 0.5 s:
    an underrun earlier on moves what follows by the frames it lost until the player has made them up in a quiet
    stretch, so a fade at the end is judged against the reference where the end really is. Searched within
    0.14 s of the global lag (less than half a syllable of the fake voice, which repeats itself)."""
    lag = global_lag(recording, reference)
    loud = np.flatnonzero(window_rms(recording) > SILENCE_RMS)
    if not len(loud):
        return lag
    end = (int(loud[-1]) + 1) * (RATE // 100)
    at = end - lag - RATE * 3 // 2
    if at - RATE // 2 < 0:
        return lag
    found, _ = local_lag(recording, reference, at, lag, RATE // 7, before=RATE // 2, after=RATE // 2)
    return found


def measure_fade(recording: Signal, reference: Signal, lag: int, window: int = RATE // 100) -> Fade:
    """Compare the recording's last 500 ms of sound with the reference aligned at ``lag``.

    The judged stretch runs on past the recording's last sound to the first window where the reference
    still sounds: a fade that is still under way when the reference dips between two words ends there at
    a low level, where a cut ends at the level it was cut at."""
    rec_rms = window_rms(segment(recording, lag, lag + len(reference)), window)
    ref_rms = window_rms(reference, window)
    loud = np.flatnonzero(rec_rms > SILENCE_RMS)
    assert len(loud), "the recording is silent"
    end = int(loud[-1]) + 1
    first = max(0, end - RATE // 2 // window)
    later = [w for w in range(end, min(len(ref_rms), len(rec_rms), end + RATE // 2 // window)) if ref_rms[w] > 0.02]
    last = later[0] if later else end - 1
    gains, where = [], []
    for w in range(first, last + 1):
        if ref_rms[w] > REF_SOUND:
            gains.append(float(rec_rms[w] / ref_rms[w]))
            where.append(w)
    below = [w for w, g in zip(where, gains, strict=True) if g < 0.9]
    seconds = (end - below[0]) * window / RATE if below and below[0] < end else 0.0
    tail = rec_rms[max(first, end - 5):end]
    peak = float(rec_rms[first:end].max())
    return Fade(gains, where, seconds, float(np.sqrt(np.mean(tail * tail))) / peak)


def check_kept_answer(entry: dict[str, object], journal_folder: Path, recognizer: str, spoken: Signal,
                      spoken_rate: int, model: str | Path | None = None, same_words: bool = True) -> str:
    """A journal row made by a live session, checked without trusting a recognizer's luck.

    Its recognizer is ``recognizer`` (as the row names it: ``sphinx``, ``faster-whisper/tiny.en``); its words
    are exactly what ``voiceguide transcribe`` (a fresh process, as the live run had) gives for the answer audio
    the journal kept; and that audio is most of the answer that was spoken (``spoken``, at ``spoken_rate``),
    found in it by cross-correlation. How many of the words a recognizer gets right is its benchmark's
    business (``benchmarks.stt``), not a test's.

    ``same_words=False`` only asks for some words both times: Whisper is not bound to give the same words for
    the kept audio (16-bit FLAC) as for the audio it heard live (seen: 'I would say a seven.' live, 'I would say
    a 7.' from the kept file). Returns what the recognizer made of the kept audio."""
    import soxr

    assert entry["recognizer"] == recognizer, entry
    assert isinstance(entry["audio_path"], str), entry
    path = journal_folder / entry["audio_path"]
    name, _, packaged = recognizer.partition("/")  # faster-whisper/tiny.en: the packaged model tiny.en
    model = model or packaged or None
    command = ["transcribe", path, "--recognizer", name, *(["--model", str(model)] if model else [])]
    done = run_voiceguide(*command, timeout=300)
    assert done.returncode == 0, done.stderr
    again = done.stdout.strip()
    if same_words:
        assert entry["transcript"] == again, f"live {entry['transcript']!r}, from the kept audio {again!r}"
    else:
        assert entry["transcript"] and again, f"live {entry['transcript']!r}, from the kept audio {again!r}"
    kept, rate = soundfile.read(str(path), dtype="float64")
    reference = np.asarray(soxr.resample(np.asarray(spoken, dtype=np.float64), spoken_rate, rate), dtype=np.float64)
    # the kept answer is trimmed to the speech it heard: find it inside what was spoken
    assert len(kept) >= len(reference) * 0.6, (len(kept) / rate, len(reference) / rate)
    lag = global_lag(reference, kept)
    aligned = segment(reference, lag, lag + len(kept))
    score = float(np.dot(aligned, kept) / np.sqrt(np.dot(aligned, aligned) * np.dot(kept, kept) + 1e-20))
    assert score > 0.5, f"the kept audio does not hold the spoken answer (correlation {score:.2f} at lag {lag})"
    return again


def wait_until_quiet(path: Path, seconds: float = 0.3, at_least: float = 0.5, timeout: float = 5.0) -> None:
    """While ``path`` is being recorded (``Pulse.record``), wait ``at_least`` s and then until its last
    ``seconds`` are silence, at most ``timeout`` s in all: the tail of a fade can still be on its way to the
    monitor after the player has exited, the more so on a busy machine, and a recording stopped before it
    arrives looks like a cut."""
    deadline = time.monotonic() + timeout
    time.sleep(at_least)
    tail = int(seconds * RATE) * 2
    while time.monotonic() < deadline:
        time.sleep(0.1)
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            if size < 44 + tail:
                continue
            handle.seek(size - tail - (size - 44) % 2)
            samples = np.frombuffer(handle.read(tail), dtype="<i2").astype(np.float64) / 32768.0
        if float(np.sqrt(np.mean(samples * samples))) < SILENCE_RMS:
            return


def heard_fade_problems(live: Signal, stream: Signal, start: int, end: int) -> list[str]:
    """What the sink's recording ``live`` shows wrong about a fade the tee saw the player hand out: ``stream`` is
    what it handed (NaN where the output lost frames), the fade runs from stream frame ``start`` to ``end``.

    Only what the real path can show is asked, nothing sample for sample: the sound server does not promise that.
    Seen around an underrun during a fade: the recording held 50 ms of the voice at full level where the player
    had handed it at 0.7, and went on 0.1 s past the fade's end (the Ctrl-C fade failed on that as "0.55, then
    1.82 of the reference"). So: the player's sound in the second before the fade is in the recording (found
    quarter by quarter near the recording's end); after the fade began nothing is louder than the player's level
    in that second (no jump); the sound ends softly (its last 50 ms at most 0.3 of that level: a cut at full level
    ends at full level); and 0.5 s after the fade's end the recording is silent."""
    handed = np.nan_to_num(stream)
    before = handed[max(0, start - RATE):start]
    problems = []
    if len(before) < RATE // 2 or float(np.sqrt(np.mean(before * before))) < 0.01:
        return [f"the player handed too little sound in the second before the fade ({len(before)} frames)"]
    sounding = np.flatnonzero(window_rms(live) > SILENCE_RMS)
    if not len(sounding):
        return ["the recording is silent"]
    guess = (int(sounding[-1]) + 1) * (RATE // 100) - end  # the recording's sound ends where the fade does
    lags, fits = [], []
    for k in range(1, 5):  # the second before the fade, in quarters found one by one (a gap moves one only)
        at = start - k * RATE // 4
        lag, fit = _find(live, handed[at:at + RATE // 4], at + guess, RATE * 6 // 10)
        fits.append(round(fit, 3))
        if fit > 0.9:
            lags.append(lag - at)
    if len(lags) < 2:
        return [f"the player's sound in the second before the fade is not in the recording (fits {fits})"]
    lag = int(np.median(lags))
    playing = float(window_rms(before).max())
    after = window_rms(live[max(0, start + lag):])
    loud = np.flatnonzero(after > SILENCE_RMS)
    if not len(loud):
        return [*problems, "the recording is silent from the fade's start on"]
    if float(after.max()) > 1.25 * playing + SILENCE_RMS:
        problems.append(f"after the fade began the recording got louder ({float(after.max()):.3f}) than the "
                        f"player's level before it ({playing:.3f})")
    last = int(loud[-1]) + 1
    tail = after[max(0, last - 5):last]
    if float(np.sqrt(np.mean(tail * tail))) > 0.3 * playing:
        problems.append(f"the sound ends at {float(np.sqrt(np.mean(tail * tail))):.3f}, more than 0.3 of the "
                        f"playing level {playing:.3f} (a cut, not a fade)")
    late = (last * (RATE // 100) - (end - start)) / RATE
    if late > 0.5:
        problems.append(f"the recording sounds on {late:.2f} s after the fade's end")
    return problems


def _find(live: Signal, piece: Signal, near: int, search: int) -> tuple[int, float]:
    """Where ``piece`` best fits in ``live`` within ``search`` samples of ``near``, and how well (normalised
    correlation there)."""
    region = segment(live, near - search, near + len(piece) + search)
    at = global_lag(region, piece)
    got = segment(region, at, at + len(piece))
    fit = float(np.dot(got, piece) / np.sqrt(np.dot(got, got) * np.dot(piece, piece) + 1e-20))
    return near - search + at, fit


def judge_fade(tee: Path, live: Signal, reference: Signal, what: str, stream: int = -1) -> float:
    """A stop's fade-out, judged where each thing is exact: on the tee (``tee.py``: what the player handed output
    stream ``stream``), the fade's shape sample for sample against the render ``reference`` (the gain only falls,
    never faster than a whole fade in 50 ms, to silence within 0.5 s); in the sink's recording ``live``, that
    this fade reached the sound server and nothing sounded after it (:func:`heard_fade_problems`). The same
    judgement must call a cut during the fade, where the render sounds, a cut. Returns the fade's length in seconds."""
    from .tee import Handed, Teed, handed_fade

    handed = Teed(tee).streams[stream]
    fade = handed_fade(handed, reference)
    assert fade.problems() == [], f"{what}: not a clean fade-out in what the player handed: {fade.problems()}"
    heard = heard_fade_problems(live, handed.stream, fade.start, fade.end)
    assert heard == [], f"{what}: the fade as the sink recorded it: {heard}"
    # cut where the fade is under way and the render sounds (a cut in a pause between words cannot be heard)
    under_way = fade.frames[(fade.frames >= fade.start) & (fade.gains > 0.2) & (fade.gains < 0.8)]
    assert len(under_way), f"{what}: the fade crosses no loud stretch of the render between 0.8 and 0.2 of full gain"
    cut = handed.stream.copy()
    cut[int(under_way[0]) + 1:] = 0.0
    assert handed_fade(Handed(cut, handed.losses), reference).problems(), f"{what}: a cut mid-fade passed"
    return fade.seconds


class ExitClock:
    """How long a process takes to exit after a signal, and how much of that the machine kept it waiting for a
    CPU: Linux's run-queue wait per thread (``/proc/PID/task/TID/schedstat``, second field), of the thread that
    waited most. A bound on ``wall - waited`` judges the program's own exit path (the fade, the drain, closing)
    and not the load of whatever else runs: seen beside a busy loop with other lanes' tests (load 10.9), a Ctrl-C
    exit took 1.88 s of wall time."""

    def __init__(self, pid: int) -> None:
        """Start timing now (just before the signal is sent)."""
        self.pid = pid
        self.started = time.monotonic()
        self.first = self._waits()
        self.last = dict(self.first)
        self.ended = self.started

    def _waits(self) -> dict[str, int]:
        waits = {}
        for stat in Path(f"/proc/{self.pid}/task").glob("*/schedstat"):
            try:
                waits[stat.parent.name] = int(stat.read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the thread ended meanwhile
        return waits

    def wait(self, proc: subprocess.Popen[str], timeout: float) -> int:
        """Wait for ``proc`` to exit, reading the waits every 10 ms; its exit code (fail after ``timeout`` s)."""
        while proc.poll() is None:
            if time.monotonic() - self.started > timeout:
                proc.kill()
                proc.wait()
                pytest.fail(f"still running {timeout} s after the signal")
            self.last.update(self._waits())
            time.sleep(0.01)
        self.ended = time.monotonic()
        return proc.returncode

    @property
    def wall(self) -> float:
        """Seconds from the signal to the exit."""
        return self.ended - self.started

    @property
    def waited(self) -> float:
        """Seconds the thread that waited most spent runnable but without a CPU meanwhile."""
        return max((n - self.first.get(t, 0) for t, n in self.last.items()), default=0) / 1e9

    def describe(self) -> str:
        """For messages."""
        return f"{self.wall:.2f} s, {self.waited:.2f} s of it waiting for a CPU"


class LiveRecording:
    """A recording being made (:meth:`Pulse.record`), read while it grows, with a clock that places its samples
    in wall-clock time (``time.time()``, the clock ``mosquitto_sub -F %U`` stamps messages with).

    A thread notes the file's length every 10 ms. Sample ``n`` reached the file no earlier than the sink played
    it, so each note (t, frames) says the stream began at ``t - frames / RATE`` or before; a note taken late
    (this process or parec kept waiting by a busy machine) only says "or before" by more. The earliest of these
    bounds is the clock: one prompt note among hundreds is enough, so the test's own scheduling does not move
    it (it is late by parec's fragment, 20 ms, at most, plus the sound server's latency to its monitor)."""

    HEADER = 44
    """Bytes of the WAV header parec writes before the samples."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._origin = float("inf")
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.01):
            size = self.path.stat().st_size if self.path.exists() else 0
            now = time.time()
            if size > self.HEADER:
                with self._lock:
                    self._origin = min(self._origin, now - (size - self.HEADER) // 2 / RATE)

    def close(self) -> None:
        self._done.set()
        self._thread.join()

    def samples(self) -> Signal:
        """What has been recorded so far."""
        data = self.path.read_bytes()[self.HEADER:]
        return np.frombuffer(data[:len(data) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0

    def time_of(self, index: int) -> float:
        """When sample ``index`` of the recording sounded in the sink (``time.time()``)."""
        with self._lock:
            return self._origin + index / RATE

    def index_at(self, when: float) -> int:
        """The recording's sample that sounded at ``when`` (``time.time()``)."""
        with self._lock:
            return int(round((when - self._origin) * RATE))

    def wait(self, test: Callable[[Signal], bool], what: str, timeout: float = 60) -> None:
        """Until ``test(samples so far)`` is true; fails after ``timeout`` s saying that ``what`` was not heard."""
        deadline = time.monotonic() + timeout
        while not test(self.samples()):
            if time.monotonic() > deadline:
                pytest.fail(f"{what} was not heard in the sink within {timeout} s")
            time.sleep(0.05)


def loud_windows(x: Signal) -> npt.NDArray[np.intp]:
    """The indexes of the 10 ms windows of ``x`` that are not silence (:data:`SILENCE_RMS`)."""
    return np.flatnonzero(window_rms(x) > SILENCE_RMS)


def quiet_from(x: Signal, start: int, hold: float) -> int | None:
    """The first sample at or after ``start`` from which ``x`` stays silent for ``hold`` s (10 ms windows), or
    None if it never does (within the recording)."""
    window = RATE // 100
    rms = window_rms(x)
    need = int(round(hold * 100))
    run = 0
    for w in range(max(0, start // window), len(rms)):
        run = run + 1 if rms[w] <= SILENCE_RMS else 0
        if run >= need:
            return (w - need + 1) * window
    return None


def sound_from(x: Signal, start: int) -> int | None:
    """The first sample at or after ``start`` where a 10 ms window of ``x`` sounds, or None."""
    window = RATE // 100
    loud = loud_windows(x)
    later = loud[loud >= max(0, start // window)]
    return int(later[0]) * window if len(later) else None


def chance_of_as_many(control: int, disturbed: int) -> float:
    """The chance that ``disturbed`` or more of the ``control + disturbed`` underruns fall in the disturbed
    one of two sessions played side by side, each underrun falling in either with the same chance (a one-sided
    sign test). Side by side, a busy machine weighs on both; only what is done to one process falls on it."""
    import math

    n = control + disturbed
    return sum(math.comb(n, k) for k in range(disturbed, n + 1)) / (1 << n)

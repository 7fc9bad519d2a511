"""A person at the real audio path: hears what a session plays (the null sink's monitor, read as it comes) and
speaks into a virtual microphone (a second null sink, fed without a break by ``pacat``), on one clock.

The voice is written in 10 ms blocks, :data:`AHEAD` seconds ahead of time, so a busy machine that holds this
process back for less than that never puts a gap into it. When it was really heard is not taken from when it
was written: the microphone's null sink is recorded too, like the session's, and each recording's start on
``time.monotonic`` is the earliest ``arrival - samples so far / rate`` seen, which a late read cannot move. With
both on one clock, "answer 0.5 s before the listening cue ends" is measured, however busy the machine is.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Audio = npt.NDArray[np.float32]
MIC_RATE = 16000
"""The voice is written at the rate the answers are recorded at."""
OUT_RATE = 48000
BLOCK = 160
"""10 ms of voice per write."""
AHEAD = 0.3
"""Seconds of voice written ahead of time, at least (the voice's buffer: a stall shorter than this leaves no
gap). More may wait in the pipe to ``pacat``; the latency measured at the start covers it."""


def _pactl(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Person:
    """Speaks into ``mic`` (a null sink) and listens to ``out`` (another one); see the module docstring."""

    env: dict[str, str]
    out: str
    mic: str
    heard: list[Audio] = field(default_factory=list, repr=False)
    origin: float | None = None
    """``time.monotonic`` of the first sample heard."""
    voice: list[Audio] = field(default_factory=list, repr=False)
    """What reached the microphone (its null sink's monitor, 16 kHz)."""
    voice_origin: float | None = None
    """``time.monotonic`` of the first sample of :attr:`voice`."""
    latency: float = 0.0
    """Seconds from a block's planned time to its arrival at the microphone (measured at the start)."""
    _queue: list[tuple[float, Audio]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _watchers: list[Callable[[Audio, int], None]] = field(default_factory=list)

    def say(self, audio: Audio, at: float) -> None:
        """Speak ``audio`` (16 kHz) so that it reaches the microphone at ``at`` (``time.monotonic``), give or take
        a few milliseconds: written :attr:`latency` earlier."""
        with self._lock:
            self._queue.append((at - self.latency, np.asarray(audio, dtype=np.float32)))
            self._queue.sort(key=lambda item: item[0])

    def when_heard(self, watcher: Callable[[Audio, int], None]) -> None:
        """Call ``watcher(block, samples before it)`` with each block heard from now on (on the reading thread)."""
        self._watchers.append(watcher)

    def time_of(self, sample: int) -> float:
        """``time.monotonic`` at which output sample ``sample`` (48 kHz, counted from the first) was heard."""
        assert self.origin is not None, "nothing heard yet"
        return self.origin + sample / OUT_RATE

    def recording(self) -> Audio:
        """All that was heard so far."""
        return np.concatenate(self.heard) if self.heard else np.zeros(0, dtype=np.float32)

    def _measure_latency(self) -> float:
        """From a block's planned time to its arrival at the microphone: a 50 ms chirp, said and found."""
        t = np.arange(MIC_RATE // 20) / MIC_RATE
        chirp = (0.3 * np.sin(2 * np.pi * (300 + 20000 * t) * t)).astype(np.float32)
        planned = time.monotonic() + 0.5
        with self._lock:
            self._queue.append((planned, chirp))
        deadline = planned + 8.0  # the voice's pipe to pacat may hold a second or more while pacat starts
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if self.voice and find(np.concatenate(self.voice), chirp)[1] > 0.8:
                break
        return self.said_at(chirp) - planned

    def said_at(self, audio: Audio) -> float:
        """``time.monotonic`` at which ``audio`` (an utterance said, 16 kHz) reached the microphone."""
        assert self.voice_origin is not None, "the microphone recorded nothing"
        onset = int(np.argmax(np.abs(audio) > 0.05))  # its first loud quarter second: clear, and too short to drift
        at, score = find(np.concatenate(self.voice), audio[onset:onset + MIC_RATE // 4])
        assert score > 0.8, f"the utterance was not found at the microphone ({score:.2f})"
        return self.voice_origin + (at - onset) / MIC_RATE

    def as_heard(self, audio: Audio) -> Audio:
        """What the microphone carried where ``audio`` was said (its length, from :meth:`said_at`): the truth an
        answer's kept audio is judged against. On a busy machine the person's feed can stall, and the microphone
        then carries a gap that the clip has not; the product keeps what the microphone heard."""
        assert self.voice_origin is not None, "the microphone recorded nothing"
        start = max(0, round((self.said_at(audio) - self.voice_origin) * MIC_RATE))
        return np.concatenate(self.voice)[start:start + len(audio)]

    def _speak(self, stop: threading.Event, feeder: subprocess.Popen[bytes]) -> None:
        assert feeder.stdin is not None
        planned = time.monotonic()
        playing: Audio | None = None
        silence = np.zeros(BLOCK, dtype=np.float32)
        while not stop.is_set():
            with self._lock:
                if self._queue and self._queue[0][0] <= planned:
                    _, playing = self._queue.pop(0)
            if playing is not None and len(playing):
                block, playing = playing[:BLOCK], playing[BLOCK:]
                if len(block) < BLOCK:
                    block = np.concatenate([block, silence[:BLOCK - len(block)]])
            else:
                block = silence
            try:
                feeder.stdin.write(block.tobytes())
                feeder.stdin.flush()
            except (BrokenPipeError, ValueError):
                return
            planned += BLOCK / MIC_RATE
            wait = planned - AHEAD - time.monotonic()
            if wait > 0:
                time.sleep(wait)

    def _listen(self, stop: threading.Event, recorder: subprocess.Popen[bytes]) -> None:
        assert recorder.stdout is not None
        total = 0
        while not stop.is_set():
            data = recorder.stdout.read(OUT_RATE // 50 * 2)
            if not data:
                return
            block = np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768
            now = time.monotonic()
            total += len(block)
            start = now - total / OUT_RATE
            self.origin = start if self.origin is None else min(self.origin, start)
            self.heard.append(block)
            for watcher in self._watchers:
                watcher(block, total - len(block))

    def _hear_self(self, stop: threading.Event, recorder: subprocess.Popen[bytes]) -> None:
        assert recorder.stdout is not None
        total = 0
        while not stop.is_set():
            data = recorder.stdout.read(MIC_RATE // 50 * 2)
            if not data:
                return
            block = np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768
            total += len(block)
            start = time.monotonic() - total / MIC_RATE
            self.voice_origin = start if self.voice_origin is None else min(self.voice_origin, start)
            self.voice.append(block)


@contextmanager
def person(env: dict[str, str]) -> Iterator[Person]:
    """Two null sinks of our own (the session's output and the microphone) and a person at them; ``env`` reaches
    the server. Run the session with ``PULSE_SINK=person.out`` and ``PULSE_SOURCE=person.mic + '.monitor'``."""
    tag = f"{os.getpid()}_{threading.get_ident() % 10000}"
    out, mic = f"vg_person_out_{tag}", f"vg_person_mic_{tag}"
    modules = [_pactl(env, "load-module", "module-null-sink", f"sink_name={name}", f"rate={OUT_RATE}")
               for name in (out, mic)]
    stop = threading.Event()
    procs: list[subprocess.Popen[bytes]] = []
    threads: list[threading.Thread] = []
    try:
        who = Person(env, out, mic)
        feeder = subprocess.Popen(["pacat", "--playback", f"--device={mic}", "--latency-msec=100",
                                   f"--rate={MIC_RATE}", "--channels=1", "--format=float32le", "--raw"],
                                  stdin=subprocess.PIPE, env=env)
        recorder = subprocess.Popen(["parec", f"--device={out}.monitor", "--format=s16le", f"--rate={OUT_RATE}",
                                     "--channels=1", "--latency-msec=20", "--raw"], stdout=subprocess.PIPE, env=env)
        self_recorder = subprocess.Popen(["parec", f"--device={mic}.monitor", "--format=s16le",
                                          f"--rate={MIC_RATE}", "--channels=1", "--latency-msec=20", "--raw"],
                                         stdout=subprocess.PIPE, env=env)
        procs += [feeder, recorder, self_recorder]
        threads += [threading.Thread(target=who._speak, args=(stop, feeder), daemon=True),
                    threading.Thread(target=who._listen, args=(stop, recorder), daemon=True),
                    threading.Thread(target=who._hear_self, args=(stop, self_recorder), daemon=True)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while (who.origin is None or who.voice_origin is None) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert who.origin is not None and who.voice_origin is not None, "parec recorded nothing"
        time.sleep(2.0)  # parec and PortAudio lose the first second or two of a stream: settle before timing
        who.latency = who._measure_latency()
        yield who
    finally:
        stop.set()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for thread in threads:
            thread.join(10)
        for module in modules:
            _pactl(env, "unload-module", module)


def find(recording: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]) -> tuple[int, float]:
    """Where ``reference`` fits best, wholly inside ``recording`` (its first sample's index), and the normalised
    correlation there (1.0: the same sound), by FFT cross-correlation; (0, 0.0) if it is longer."""
    scores = fits(recording, reference)
    if not len(scores):
        return 0, 0.0
    lag = int(np.argmax(scores))
    return lag, float(scores[lag])


def fits(recording: npt.NDArray[np.floating], reference: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """The normalised correlation of ``reference`` with ``recording`` at each place it fits wholly inside (empty if
    it is longer), by FFT cross-correlation."""
    rec = np.asarray(recording, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if len(ref) == 0 or len(rec) < len(ref):
        return np.zeros(0)
    n = 1 << int(np.ceil(np.log2(len(rec) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(ref, n)), n)[:len(rec) - len(ref) + 1]
    energy = np.concatenate(([0.0], np.cumsum(rec * rec)))
    window = energy[len(ref):] - energy[:-len(ref)]
    scores: npt.NDArray[np.float64] = corr / np.sqrt(np.maximum(window, 1e-20) * float(np.dot(ref, ref)))
    scores[window < 1e-9 * len(ref)] = 0.0  # digital silence matches nothing
    return scores


def wait_for_sound(who: Person, reference: npt.NDArray[np.floating], after: int = 0, timeout: float = 60.0) -> int:
    """Wait until ``reference`` (48 kHz) is heard after output sample ``after``; the sample just past its end."""
    return wait_for_start(who, reference, after, timeout) + len(reference)


def wait_for_start(who: Person, reference: npt.NDArray[np.floating], after: int = 0, timeout: float = 60.0,
                   score: float = 0.9) -> int:
    """Wait until ``reference`` (48 kHz) is heard after output sample ``after`` (a fit above ``score``); the sample
    where it first begins. Only what came in since the last look is searched (every 50 ms), so waiting through a long
    session costs little CPU (searching the whole recording each time cost 23 CPU-seconds in a one-minute test).
    A sound of 0.2 s or more is also taken as heard where its second half fits: the sink's recording can hold a gap
    that nobody reports (seen inside the listening cue: its whole fit fell to 0.82-0.90, and a fresh-clone run waited
    60 s for a question that had been asked again); the place is then the second half's, less the first half's
    length."""
    deadline = time.monotonic() + timeout
    used, total = 0, 0  # blocks of who.heard taken, and their samples
    window = np.zeros(0, dtype=np.float32)  # the samples from total - len(window) on, none before ``after``
    best = 0.0
    half = len(reference) // 2
    pieces = [(reference, 0)] + ([(reference[half:], half)] if half >= OUT_RATE // 10 else [])
    while time.monotonic() < deadline:
        new = who.heard[used:]
        used += len(new)
        if new:
            window = np.concatenate([window, *new])
            total += sum(map(len, new))
            window = window[max(0, after - (total - len(window))):]
            if len(window) >= len(reference):
                starts = []
                for piece, offset in pieces:  # the whole sound, or its second half after a gap in the first
                    found, fit = _first_fit(window, piece, score)
                    best = max(best, fit) if offset == 0 else best
                    if found is not None and found >= offset:
                        starts.append(found - offset)
                if starts:
                    return total - len(window) + min(starts)
                window = window[len(window) - len(reference) + 1:]
        time.sleep(0.05)
    raise AssertionError(f"{len(reference) / OUT_RATE:.2f} s of expected sound not heard within {timeout} s "
                         f"(best fit {best:.3f})")


COARSE = 0.5
"""A fit of every 4th sample above this is looked at closely, at the full rate, which decides. Every 4th sample of
both sounds compares them up to 2 samples apart where the sound's place is not a multiple of 4 (a 2 kHz tone then
fits at 0.87), and sound above 6 kHz folds over: the rough fit is lower than the true one."""


def _first_fit(window: npt.NDArray[np.floating], reference: npt.NDArray[np.floating],
               score: float) -> tuple[int | None, float]:
    """Where ``reference`` first fits ``window`` above ``score`` (None if nowhere), and the best full-rate fit seen.
    Every 4th sample first (the sounds waited for lie far below 6 kHz; 25 times less CPU), then at the full rate
    near each place that fits roughly (a sound that repeats, as the fake voice does, fits later too, and may fit a
    little better there: the first place is taken, at its best fit within 20 ms)."""
    coarse = fits(window[::4], reference[::4])
    best, looked = 0.0, -1
    for at in np.flatnonzero(coarse > COARSE):
        first = max(0, 4 * int(at) - 8)
        if first <= looked:
            continue  # inside the stretch just looked at
        near = fits(window[first:first + len(reference) + OUT_RATE // 100], reference)
        looked = first + OUT_RATE // 100 - 8
        if len(near):
            best = max(best, float(near.max()))
            if near.max() > score:  # its best fit within 20 ms of where it first fits (a tone fits a period early)
                begin = first + int(np.flatnonzero(near > score)[0])
                peak = fits(window[begin:begin + len(reference) + OUT_RATE // 50], reference)
                return begin + int(np.argmax(peak)), max(best, float(peak.max()))
    return None, best




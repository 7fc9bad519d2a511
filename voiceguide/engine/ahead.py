"""Speech rendered ahead: compile a session on a worker thread and start playing as soon as it is safe.

Safe means: for every step still to come, its speech will be synthesised before playback reaches it.
The check uses a dry compile with the fake voice (instant; gives each step's length and amount of
speech), the speech cache (lines already rendered cost nothing), and the real-time factor measured
on the lines synthesised so far. Playback then never waits on synthesis mid-session; if an estimate
was wrong, the player waits in silence and counts it (``Player.starved``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from voiceguide.backends.fake import FakeSpeaker, FakeTimer
from voiceguide.engine.compile import DEFAULT_SAMPLE_RATE, compile_session, compile_steps
from voiceguide.engine.timeline import Timeline
from voiceguide.script.model import Session
from voiceguide.seams import Clip, Speaker, SpeechParams, Voice

log = logging.getLogger(__name__)

SAFETY = 1.5
"""Synthesis is assumed to take this much longer than measured so far."""
MARGIN_SECONDS = 1.0
"""Extra lead kept between the synthesis frontier and playback."""
PUBLISH_SECONDS = 0.5
"""Once playing, a longer timeline is handed to the player at most this often (and at the end)."""


class _Timed:
    """A speaker wrapper measuring wall time per second of audio on lines that were not cached."""

    def __init__(self, inner: Speaker) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds_spent = 0.0
        self.audio_seconds = 0.0

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        cached = _is_cached(self.inner, text, params)
        began = time.monotonic()
        clip = self.inner.synthesize(text, params)
        if not cached:
            self.seconds_spent += time.monotonic() - began
            self.audio_seconds += clip.seconds
        return clip

    def voices(self) -> list[Voice]:
        return self.inner.voices()

    def resolve_voice(self, params: SpeechParams) -> str:
        return self.inner.resolve_voice(params)

    def recording(self, text: str, params: SpeechParams) -> Clip | None:
        """The inner speaker's recording of ``text`` (a voice pack's take), if it has one."""
        find: Callable[[str, SpeechParams], Clip | None] | None = getattr(self.inner, "recording", None)
        return find(text, params) if find is not None else None

    def close(self) -> None:
        self.inner.close()

    @property
    def real_time_factor(self) -> float:
        """Seconds of work per second of speech; pessimistically 1.0 until something was measured."""
        return self.seconds_spent / self.audio_seconds if self.audio_seconds > 0.5 else 1.0


def _is_cached(speaker: Speaker, text: str, params: SpeechParams) -> bool:
    check: Callable[[str, SpeechParams], bool] | None = getattr(speaker, "is_cached", None)
    return bool(check(text, params)) if check is not None else False


def safe_to_start(rest: list[tuple[float, float]], prefix_seconds: float, real_time_factor: float) -> bool:
    """Whether playback starting now stays ahead of synthesis for every step still to compile.

    ``rest`` holds (length, seconds of speech to synthesise) of each remaining step, in order;
    ``prefix_seconds`` is how much is compiled already. Step j starts playing after the prefix and
    the steps before it; its speech is ready after the speech of every remaining step up to j.
    """
    rtf = real_time_factor * SAFETY
    reach = prefix_seconds  # when playback reaches the next step, in seconds from now
    work = 0.0  # when synthesis finishes it
    for length, speech in rest:
        work += rtf * speech
        if work + MARGIN_SECONDS > reach:
            return False
        reach += length
    return prefix_seconds >= min(MARGIN_SECONDS, prefix_seconds + sum(length for length, _ in rest))


class Ahead:
    """Compiles ``session`` in the background; ``wait_ready`` returns the first playable timeline."""

    def __init__(self, session: Session, speaker: Speaker, sample_rate: int = DEFAULT_SAMPLE_RATE,
                 day: dt.date | None = None, listening: bool = False) -> None:
        self.session = session
        self._speaker = _Timed(speaker)
        self._rate = sample_rate
        self._day = day or dt.date.today()  # pinned: a later compile (see compile) picks the same affirmations
        self._listening = listening
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._latest: tuple[Timeline, bool] | None = None
        self._listeners: list[Callable[[Timeline, bool], None]] = []
        self.error: BaseException | None = None
        self.started_after: float | None = None
        """Seconds of compiling before playback could start."""
        self.finished_after: float | None = None
        """Seconds the whole compile took."""
        self._plan = self._dry_run()
        self._thread = threading.Thread(target=self._run, name="voiceguide-ahead", daemon=True)
        self._thread.start()

    def _dry_run(self) -> list[tuple[float, float]]:
        """Per step: (estimated length in seconds, estimated seconds of speech still to synthesise)."""
        fake = FakeTimer()
        plan: list[tuple[float, float]] = []
        seen: set[tuple[str, SpeechParams]] = set()
        before, previous_end = 0, 0
        for built in compile_steps(self.session, fake, 8000, self._day, self._listening):
            speech = 0.0
            for text, params in fake.calls[before:]:
                if (text, params) not in seen and not _is_cached(self._speaker.inner, text, params):
                    speech += FakeSpeaker.seconds(text, params)
                seen.add((text, params))
            before = len(fake.calls)
            plan.append(((built.cursor - previous_end) / 8000, speech))
            previous_end = built.cursor
        return plan

    def _safe_to_start(self, done: int, prefix_seconds: float) -> bool:
        return safe_to_start(self._plan[done:], prefix_seconds, self._speaker.real_time_factor)

    def _run(self) -> None:
        began = time.monotonic()
        last_publish = 0.0
        built = None
        try:
            steps = compile_steps(self.session, self._speaker, self._rate, self._day, self._listening)
            for done, built in enumerate(steps, start=1):
                now = time.monotonic()
                if not self._ready.is_set():
                    if self._safe_to_start(done, built.cursor / self._rate):
                        self.started_after = now - began
                        self._publish(built.timeline(final=False), False)
                        last_publish = now
                elif now - last_publish >= PUBLISH_SECONDS:
                    self._publish(built.timeline(final=False), False)
                    last_publish = now
            assert built is not None
            self.finished_after = time.monotonic() - began
            if self.started_after is None:
                self.started_after = self.finished_after
            self._publish(built.timeline(final=True), True)
            log.info("speech ready: playing after %.2f s, all compiled after %.2f s (rtf %.3f)",
                     self.started_after, self.finished_after, self._speaker.real_time_factor)
        except BaseException as exc:  # reported to whoever waits; never lost on the worker thread
            self.error = exc
            if self._ready.is_set() and built is not None:  # already playing: end after what is ready
                log.error("preparing the rest of the session failed: %s", exc)
                self._publish(built.timeline(final=True), True)
            self._ready.set()

    def _publish(self, timeline: Timeline, final: bool) -> None:
        with self._lock:
            self._latest = (timeline, final)
            listeners = list(self._listeners)
        self._ready.set()
        for listener in listeners:
            listener(timeline, final)

    def wait_ready(self, timeout: float | None = None) -> tuple[Timeline, bool]:
        """Block until playback can start; the first timeline and whether it is complete."""
        self._ready.wait(timeout)
        if self.error is not None and self._latest is None:
            raise self.error
        with self._lock:
            assert self._latest is not None, "ready without a timeline"
            return self._latest

    def follow(self, listener: Callable[[Timeline, bool], None]) -> None:
        """Call ``listener(timeline, final)`` with every later version; at once if one is newer already."""
        with self._lock:
            self._listeners.append(listener)
            latest = self._latest
        if latest is not None:
            listener(*latest)

    def compile(self, session: Session) -> Timeline:
        """Another version of the session (e.g. slowed), compiled exactly as this one is: the same voice,
        sample rate, day and listening, so the parts they share come out sample for sample the same."""
        return compile_session(session, self._speaker, self._rate, day=self._day, listening=self._listening)

    def result(self) -> Timeline:
        """The complete timeline (waits for the worker)."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self._latest is not None and self._latest[1]
        return self._latest[0]

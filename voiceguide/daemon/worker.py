"""The session worker: one thread that prepares and plays one session at a time, and renders ahead.

It blocks on its job queue while idle. A session is compiled (speech from the cache), then played by the
daemon's :class:`~voiceguide.live.runner.Runner` (the one ``voiceguide run`` plays with), which takes the
daemon's commands (stop, pause, resume, and the voice commands skip, repeat and slower) and tells its state
from the player. An audio server
that is not up yet (at boot) is retried with backoff, re-scanning PortAudio's devices each time. An output
lost in the middle of a session ends that session; the worker then waits for the output to come back the
same way (while idle, until a new job comes), so the daemon itself stays up.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from voiceguide.daemon.events import Ended, Event, Prepared, StartRequest
from voiceguide.daemon.ramp import RampedOutput
from voiceguide.engine.timeline import Timeline
from voiceguide.errors import AudioUnavailable, OutputLost, VoiceguideError
from voiceguide.live.events import RunState
from voiceguide.live.runner import Runner
from voiceguide.playback.control import Command, PlayResult, Snapshot
from voiceguide.script.model import Session
from voiceguide.seams import AudioOutput, Clock

log = logging.getLogger(__name__)

RETRY_FIRST = 1.0
"""First wait before trying an unavailable output again; it doubles each time ..."""
RETRY_LONGEST = 30.0
"""... up to this ..."""
RETRY_GIVE_UP = 300.0
"""... and a session is given up after waiting this long in total (the server never came)."""

Prepare = Callable[[StartRequest], tuple[Session, Timeline]]
OpenOutput = Callable[[StartRequest], tuple[AudioOutput, Clock]]
Compiler = Callable[[StartRequest, Timeline], Callable[[Session], Timeline]]
"""Given the request and its prepared timeline, how the rest is compiled again on "slower" (see ``slowing``)."""


@dataclass(frozen=True)
class Stage:
    """What the daemon sets up for each session it plays: the rest is the runner's."""

    prepare: Prepare
    """Compiles the requested session (speech from the cache)."""
    open_output: OpenOutput
    """Opens the output and its clock (``AudioUnavailable`` while the sound server is not there)."""
    compiler: Compiler | None = None
    """How "slower" compiles the rest again (None: "slower" is not acted on)."""


TRANSCRIBE_WAIT = 120.0
"""Seconds the worker waits, after a session, for its answers' words before it takes the next job."""
Job = tuple[Literal["play", "prepare"], StartRequest] | None


def backoff(first: float = RETRY_FIRST, longest: float = RETRY_LONGEST,
            give_up: float = RETRY_GIVE_UP) -> Iterator[float]:
    """Waits between attempts: 1, 2, 4 ... capped at ``longest``, ending once they add up to ``give_up``."""
    total = 0.0
    for n in itertools.count():
        delay = min(longest, first * 2 ** n)
        if total + delay > give_up:
            return
        total += delay
        yield delay


def refresh_portaudio() -> None:
    """Make PortAudio scan devices again: it lists none if the sound server was down when it started."""
    try:
        from voiceguide.backends.sounddevice_out import import_sounddevice

        sd = import_sounddevice()
        sd._terminate()
        sd._initialize()
    except Exception as exc:  # ours, PortAudioError (known only once imported), or a sounddevice without these
        log.debug("could not re-initialise PortAudio: %s", exc)


def _finish(request: StartRequest, runner: Runner) -> None:
    """Wait (a while) for the words of the session's answers."""
    if not runner.finish(timeout=TRANSCRIBE_WAIT):
        log.warning("%s: some answers are not transcribed yet; 'voiceguide journal retranscribe' can finish them",
                    request.session)


class Worker:
    """Prepares and plays sessions on one thread; the daemon talks to it through :meth:`submit` and
    :meth:`command` and hears back through ``post`` (:class:`Prepared`, :class:`Ended`)."""

    def __init__(self, post: Callable[[Event], None], stage: Stage, runner: Runner, *, threaded: bool = True,
                 refresh: Callable[[], None] = refresh_portaudio,
                 retry: Callable[[], Iterator[float]] = backoff) -> None:
        """``stage``: how a session is prepared and its output opened; ``runner``: what plays it (its live
        session's clock also times the waits for an output; it is closed after the last job)."""
        self._post = post
        self._stage = stage
        self.runner = runner
        self._wait_clock = runner.live.clock
        self._refresh = refresh
        self._retry = retry
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._news = threading.Event()
        """Set when a job is queued or the worker is closed: ends a wait for a lost output."""
        self._lost: StartRequest | None = None
        """The session whose output went away, while the output has not come back."""
        self._released = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._loop, name="voiceguide-session", daemon=True)
            self._thread.start()

    @property
    def state(self) -> RunState:
        """What the session under way is doing (read from its player)."""
        return self.runner.state

    @property
    def snapshot(self) -> Snapshot | None:
        """The player's position, state and timeline (None while not playing)."""
        return self.runner.snapshot()

    @property
    def sample_rate(self) -> int:
        """The sample rate of the session playing (0 while none plays)."""
        snapshot = self.runner.snapshot()
        return snapshot.timeline.sample_rate if snapshot is not None else 0

    # --- the daemon's side ---------------------------------------------------------------------
    def submit(self, kind: Literal["play", "prepare"], request: StartRequest) -> None:
        """Queue a job; without a thread (tests), run it now."""
        if kind == "play":
            self.runner.begin()
        if self._thread is None:
            self._do((kind, request))
        else:
            self._jobs.put((kind, request))
            self._news.set()

    def command(self, command: Command) -> RunState:
        """Pass a command to the session being played (a stop also cancels one still being prepared); the
        state it led to."""
        return self.runner.command(command)

    def close(self, timeout: float = 0.0) -> None:
        """Ask the thread to finish after its job; wait up to ``timeout`` seconds for it."""
        self.runner.cancelled.set()
        self._jobs.put(None)
        self._news.set()
        if self._thread is None:
            self._closed()
        elif timeout > 0:
            self._thread.join(timeout)

    # --- the worker thread -----------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while True:
                if self._lost is not None:
                    self._await_output(self._lost)
                job = self._jobs.get()
                if job is None:
                    return
                self._do(job)
        finally:
            self._closed()

    def _closed(self) -> None:
        """Release what the jobs used (once), after the last of them."""
        if not self._released:
            self._released = True
            self.runner.close()

    def _do(self, job: Job) -> None:
        assert job is not None
        kind, request = job
        try:
            if kind == "prepare":
                _, timeline = self._stage.prepare(request)
                log.info("prepared %s ahead (%.0f s)", request.session, timeline.seconds)
            else:
                self._play(request)
        except VoiceguideError as exc:
            log.error("%s %s: %s", "preparing" if kind == "prepare" else "playing", request.session, exc)
            if kind == "play":
                self._post(Ended(request, error=str(exc)))
        except Exception as exc:  # a bug must not take the bedside daemon down with it
            log.exception("unexpected error with %s", request.session)
            if kind == "play":
                self._post(Ended(request, error=f"unexpected {type(exc).__name__}: {exc}"))

    def _play(self, request: StartRequest) -> None:
        runner = self.runner
        try:
            session, timeline = self._stage.prepare(request)
        except BaseException:
            runner.end()
            raise
        if runner.cancelled.is_set():
            runner.end()
            self._post(Ended(request, stopped_early=True))
            return
        self._post(Prepared(request, timeline.seconds))
        if self._stage.compiler is not None:
            runner.slow_with(session, self._stage.compiler(request, timeline))
        if timeline.gates:
            self._listen(request, session)
        try:
            result = self._play_retrying(request, timeline)
        except OutputLost as exc:  # the session ends here; the daemon goes on and waits for the output
            self._lost = request
            log.error("%s: %s", request.session, exc)
            runner.release()
            self._post(Ended(request, True, exc.result.frames / timeline.sample_rate,
                             error="the sound output went away"))
            _finish(request, runner)
            return
        except BaseException:
            _finish(request, runner)
            raise
        runner.release()  # the session has ended for the daemon; the words may still be coming
        if result is None:
            self._post(Ended(request, stopped_early=True))
        else:
            self._post(Ended(request, result.stopped_early, result.frames / timeline.sample_rate))
        _finish(request, runner)

    def _listen(self, request: StartRequest, session: Session) -> None:
        """Take the answers of ``session`` (said in the log if they cannot be: the questions then pass)."""
        if self.runner.live.microphone is None:
            log.warning("%s: not listening; each question is followed at once by the rest", request.session)
            return
        try:
            self.runner.listen(session)
        except VoiceguideError as exc:
            log.error("%s: cannot take answers: %s", request.session, exc)
            log.warning("%s: not listening; each question is followed at once by the rest", request.session)
            return
        log.info("%s: answers go to the journal %s", request.session, self.runner.live.journal.path)

    def _play_retrying(self, request: StartRequest, timeline: Timeline) -> PlayResult | None:
        delays = self._retry()
        while True:
            try:
                output, clock = self._stage.open_output(request)
                if request.ramp is not None and request.ramp.seconds > 0:
                    output = RampedOutput(output, request.ramp)
                self._lost = None
                return self.runner.play(timeline, output, clock)
            except OutputLost:
                raise
            except AudioUnavailable as exc:
                delay = next(delays, None)
                if delay is None:
                    raise
                log.warning("audio output not ready, trying again in %g s: %s", delay, str(exc).split(". ")[0])
                if self._wait_clock.wait(self.runner.cancelled, delay):
                    return None
                self._refresh()

    def _await_output(self, request: StartRequest) -> None:
        """After a lost output: try it again with the boot-time backoff (then every :data:`RETRY_LONGEST`)
        until it opens, or until a job comes (a play job retries by itself)."""
        log.info("waiting for the sound output to come back")
        for delay in itertools.chain(self._retry(), itertools.repeat(RETRY_LONGEST)):
            self._news.clear()
            if not self._jobs.empty() or self._wait_clock.wait(self._news, delay):
                return
            self._refresh()
            try:
                self._stage.open_output(request)
            except AudioUnavailable as exc:
                log.debug("the sound output is not back yet: %s", exc)
                continue
            log.info("the sound output is back")
            self._lost = None
            return

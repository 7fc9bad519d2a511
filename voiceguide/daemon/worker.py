"""The session worker: one thread that prepares and plays one session at a time, and renders ahead.

It blocks on its job queue while idle. A session is compiled (speech from the cache), then played with
:func:`voiceguide.playback.loop.play` and a control queue the daemon feeds (stop, pause, resume, and the voice
commands skip, repeat and slower). An audio server
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
from typing import Literal, Protocol

from voiceguide.daemon.events import Ended, Event, Prepared, StartRequest
from voiceguide.daemon.ramp import RampedOutput
from voiceguide.engine.timeline import Timeline
from voiceguide.errors import AudioUnavailable, OutputLost, VoiceguideError
from voiceguide.playback.control import Command, Snapshot
from voiceguide.playback.loop import PlayResult, play
from voiceguide.playback.player import Player
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
MakeSlower = Callable[[StartRequest, Session, Timeline], Callable[[Player], None]]
"""Given the request and its prepared session and timeline, what acts on "slower" (see ``slowing``)."""


class AnswerListener(Protocol):
    """Captures the answers at a session's listen windows (``voiceguide.listen.answers.SessionListener``)."""

    def on_hold(self, step: int, over: threading.Event) -> None:
        """The player holds at the listen window of ``step``: capture, then release it (unless ``over``)."""

    def close(self, timeout: float = 30.0) -> bool:
        """Finish the transcriptions still queued; True if all were done."""


MakeListener = Callable[[StartRequest, Session, "queue.SimpleQueue[Command]"], AnswerListener | None]
"""Given the request, its session and the player's control queue, what captures its answers (None: nothing)."""

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


def _finish(request: StartRequest, listener: AnswerListener | None) -> None:
    """Wait (a while) for the words of the session's answers."""
    if listener is not None and not listener.close(timeout=TRANSCRIBE_WAIT):
        log.warning("%s: some answers are not transcribed yet; 'voiceguide journal retranscribe' can finish them",
                    request.session)


class Worker:
    """Prepares and plays sessions on one thread; the daemon talks to it through :meth:`submit` and
    :meth:`command` and hears back through ``post`` (:class:`Prepared`, :class:`Ended`)."""

    def __init__(self, post: Callable[[Event], None], prepare: Prepare, open_output: OpenOutput,
                 wait_clock: Clock, *, threaded: bool = True, refresh: Callable[[], None] = refresh_portaudio,
                 retry: Callable[[], Iterator[float]] = backoff, slower: MakeSlower | None = None,
                 on_tick: Callable[[Snapshot], None] | None = None, listen: MakeListener | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        """``slower``: how "slower" is acted on (None: it is not); ``on_tick``: called with each player
        snapshot, a few times a second while a session plays (the speaking gate of voice commands);
        ``listen``: what captures answers when the timeline was compiled with listen windows;
        ``on_close``: what to release once the last job is done (the daemon's session builder)."""
        self._post = post
        self._prepare = prepare
        self._open_output = open_output
        self._wait_clock = wait_clock
        self._refresh = refresh
        self._retry = retry
        self._slower = slower
        self._on_tick = on_tick
        self._listen = listen
        self._on_close = on_close
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._controls: queue.SimpleQueue[Command] | None = None
        self._cancel = threading.Event()
        self._news = threading.Event()
        """Set when a job is queued or the worker is closed: ends a wait for a lost output."""
        self._lost: StartRequest | None = None
        """The session whose output went away, while the output has not come back."""
        self.snapshot: Snapshot | None = None
        """The player's last reported position and state (None while not playing)."""
        self.sample_rate = 0
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._loop, name="voiceguide-session", daemon=True)
            self._thread.start()

    # --- the daemon's side ---------------------------------------------------------------------
    def submit(self, kind: Literal["play", "prepare"], request: StartRequest) -> None:
        """Queue a job; without a thread (tests), run it now."""
        if kind == "play":
            self._cancel.clear()
            self._controls = queue.SimpleQueue()
        if self._thread is None:
            self._do((kind, request))
        else:
            self._jobs.put((kind, request))
            self._news.set()

    def command(self, command: Command) -> None:
        """Pass a command to the session being played; a stop also cancels one still being prepared."""
        if command is Command.STOP:
            self._cancel.set()
        controls = self._controls
        if controls is not None:
            controls.put(command)

    def close(self, timeout: float = 0.0) -> None:
        """Ask the thread to finish after its job; wait up to ``timeout`` seconds for it."""
        self._cancel.set()
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
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def _do(self, job: Job) -> None:
        assert job is not None
        kind, request = job
        try:
            if kind == "prepare":
                _, timeline = self._prepare(request)
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
        controls = self._controls if self._controls is not None else queue.SimpleQueue()
        session, timeline = self._prepare(request)
        if self._cancel.is_set():
            self._post(Ended(request, stopped_early=True))
            return
        self.sample_rate = timeline.sample_rate
        self._post(Prepared(request, timeline.seconds))
        on_slower = self._slower(request, session, timeline) if self._slower is not None else None
        listener = self._listen(request, session, controls) if self._listen is not None and timeline.gates else None
        if timeline.gates and listener is None:
            log.warning("%s: not listening; each question is followed at once by the rest", request.session)
        try:
            result = self._play_retrying(request, timeline, controls, on_slower,
                                         listener.on_hold if listener is not None else None)
        except OutputLost as exc:  # the session ends here; the daemon goes on and waits for the output
            self.snapshot = None
            self._lost = request
            log.error("%s: %s", request.session, exc)
            self._post(Ended(request, True, exc.result.frames / timeline.sample_rate,
                             error="the sound output went away"))
            _finish(request, listener)
            return
        except BaseException:
            self.snapshot = None
            _finish(request, listener)
            raise
        self.snapshot = None
        if result is None:
            self._post(Ended(request, stopped_early=True))
        else:
            self._post(Ended(request, result.stopped_early, result.frames / timeline.sample_rate))
        _finish(request, listener)  # the session has ended for the daemon; the words may still be coming

    def _play_retrying(self, request: StartRequest, timeline: Timeline, controls: queue.SimpleQueue[Command],
                       on_slower: Callable[[Player], None] | None,
                       on_hold: Callable[[int, threading.Event], None] | None) -> PlayResult | None:
        delays = self._retry()
        while True:
            try:
                output, clock = self._open_output(request)
                if request.ramp is not None and request.ramp.seconds > 0:
                    output = RampedOutput(output, request.ramp)
                self._lost = None
                return play(timeline, output, clock, controls, on_tick=self._tick, on_hold=on_hold,
                            on_slower=on_slower)
            except OutputLost:
                raise
            except AudioUnavailable as exc:
                delay = next(delays, None)
                if delay is None:
                    raise
                log.warning("audio output not ready, trying again in %g s: %s", delay, str(exc).split(". ")[0])
                if self._wait_clock.wait(self._cancel, delay):
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
                self._open_output(request)
            except AudioUnavailable as exc:
                log.debug("the sound output is not back yet: %s", exc)
                continue
            log.info("the sound output is back")
            self._lost = None
            return

    def _tick(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        if self._on_tick is not None:
            self._on_tick(snapshot)

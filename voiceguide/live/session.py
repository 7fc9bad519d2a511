"""One live-session assembly for ``voiceguide run`` and the daemon: the parts the runner plays with.

A session played live needs more than its timeline: the speaking gate (so the session's own voice is not
taken for a spoken command), the microphone held open while a listening session plays (so the first words
of an answer are not lost to a cold start), the answer listener (journal rows, words in the background)
and "slower" (the rest compiled again, slower, with the same builder). :class:`LiveSession` wires these the
same way for both; :class:`~voiceguide.live.runner.Runner` plays sessions with them. What differs stays with
them: ``run`` keeps its view, keys and printing; the daemon its triggers, scheduling and retries.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from voiceguide.engine.builder import SessionBuilder
from voiceguide.engine.compile import DEFAULT_RATE
from voiceguide.engine.timeline import Timeline
from voiceguide.errors import AudioUnavailable, VoiceguideError
from voiceguide.listen.gate import SpeakingGate
from voiceguide.listen.shared_input import SharedInput
from voiceguide.playback.control import Command, Snapshot
from voiceguide.playback.slowing import Slower
from voiceguide.script.model import Session
from voiceguide.seams import Clock, Recognizer

if TYPE_CHECKING:
    from voiceguide.journal.db import Journal
    from voiceguide.listen.answers import SessionListener

log = logging.getLogger(__name__)


class HeldListener:
    """A session's :class:`SessionListener`, with the microphone held open from now until :meth:`release`
    (opened only at each question, the first second or two of an answer could be lost: see
    ``SharedInput.held``)."""

    def __init__(self, listener: SessionListener, microphone: SharedInput) -> None:
        from voiceguide.listen.capture import SAMPLE_RATE

        self.listener = listener
        self._held = ExitStack()
        self._held.enter_context(microphone.held(SAMPLE_RATE))

    @property
    def entries(self) -> list[int]:
        """Journal ids of the answers kept, in order."""
        return self.listener.entries

    def on_hold(self, step: int, over: threading.Event, heard_at: float | None = None,
                thanks_over: threading.Event | None = None) -> None:
        """Take the answer at the listen window of ``step`` (until ``over``; the rest: see ``SessionListener``)."""
        self.listener.on_hold(step, over, heard_at, thanks_over)

    def release(self) -> None:
        """Keep the answers still being taken (see ``SessionListener.settle``), then let go of the microphone
        (closing its stream may raise ``AudioError`` if the server went away)."""
        try:
            self.listener.settle()
        finally:
            self._held.close()

    def close(self, timeout: float = 30.0) -> bool:
        """Let go of the microphone, then finish the transcriptions (True if all were done)."""
        try:
            self.release()
        finally:
            done = self.listener.close(timeout)
        return done


class LiveSession:
    """The speaking gate, the held microphone, the answer listener and "slower", built the same way for
    every session played live with ``builder`` (None: "slower" is given its own compile) on ``clock``.

    ``microphone`` (None: no listening), ``journal`` (opened at the first answer listener, then kept) and
    ``recognizer`` (given a session language; one is kept per language) are what answers need."""

    def __init__(self, builder: SessionBuilder | None, clock: Clock, microphone: SharedInput | None = None,
                 journal: Callable[[], Journal] | None = None,
                 recognizer: Callable[[str], Recognizer] | None = None,
                 notify: Callable[[str], None] | None = None, threaded: bool = True) -> None:
        """``notify`` tells the person what the listener has to say (no microphone, an unsaved answer);
        ``threaded=False`` takes answers and slows down on the caller's thread (tests with a fake clock)."""
        self.builder = builder
        self.clock = clock
        self.microphone = microphone
        self.gate = SpeakingGate()
        """True while the session's own voice may be in the microphone (for the voice commands)."""
        self._open_journal = journal
        self._make_recognizer = recognizer
        self._notify = notify or (lambda text: log.warning("%s", text))
        self.threaded = threaded
        """False: answers are taken and "slower" compiles on the caller's thread (a fake clock)."""
        self._journal: Journal | None = None
        self._recognizers: dict[str, Recognizer] = {}

    def microphone_problem(self) -> AudioUnavailable | None:
        """Why answers cannot be taken now (no microphone configured, or it is not there), or None."""
        if self.microphone is None or self._open_journal is None or self._make_recognizer is None:
            return AudioUnavailable("listening is off")
        try:
            self.microphone.check()
        except AudioUnavailable as exc:
            return exc
        return None

    @property
    def journal(self) -> Journal:
        """The journal answers go to (opened on first use)."""
        if self._journal is None:
            assert self._open_journal is not None, "no journal to open"
            self._journal = self._open_journal()
        return self._journal

    def recognizer(self, language: str) -> Recognizer:
        """The recognizer for answers in ``language`` (made on first use, then kept until :meth:`close`)."""
        if language not in self._recognizers:
            assert self._make_recognizer is not None, "no recognizer to make"
            self._recognizers[language] = self._make_recognizer(language)
        return self._recognizers[language]

    def listener(self, session: Session, controls: queue.SimpleQueue[Command]) -> HeldListener:
        """The answer listener of ``session``, holding the microphone from now on. Opens the journal and the
        recognizer for its language if they are not open yet (a :class:`VoiceguideError` if they cannot be)."""
        from voiceguide.listen.answers import SessionListener  # loaded only when a session listens

        assert self.microphone is not None, "listening without a microphone"
        journal, recognizer = self.journal, self.recognizer(session.language)
        return HeldListener(SessionListener(session, self.microphone, self.clock, recognizer, journal, controls,
                                            self._notify, threaded=self.threaded), self.microphone)

    def slower(self, session: Session, build: Callable[[Session], Timeline] | None = None,
               ready: Callable[[], object] = lambda: None, say: Callable[[str], None] | None = None,
               run_in: Callable[[Callable[[], None]], object] | None = None) -> Slower:
        """What acts on "slower" during ``session``: ``build`` (default: the builder's) compiles the rest
        again, exactly as the playing version was compiled (``ready`` waits for that first compile)."""
        if build is None:
            assert self.builder is not None, "no builder to compile the rest again"
            build = self.builder.build
        return Slower(session, build, DEFAULT_RATE, ready=ready, say=say, run_in=run_in)

    def tick(self, snapshot: Snapshot) -> None:
        """The player's position, a few times a second: the speaking gate follows it."""
        self.gate.update(snapshot)

    def close(self) -> None:
        """Close the builder's speech engines and the recognizers (the journal closes with its rows)."""
        if self.builder is not None:
            self.builder.close()
        recognizers, self._recognizers = list(self._recognizers.values()), {}
        for recognizer in recognizers:
            try:
                recognizer.close()
            except VoiceguideError as exc:
                log.warning("closing the recognizer %s failed: %s", recognizer.name, exc)

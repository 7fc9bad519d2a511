"""Spoken answers in the sessions the daemon plays: the same listener ``voiceguide run`` uses.

A session with listen steps is compiled with listen windows when answers are on (``[journal] answers``)
and a microphone is there; at each window the player holds while :class:`SessionListener` takes the
answer, writes the journal row at once and fills in the words in the background. The microphone is
the daemon's one shared stream (the wake phrase listens on it too); the journal is the one
``voiceguide journal`` reads; the recogniser and its model come from ``[speech]`` and run in a
low-priority worker process for each session language (``listen.stt_worker``). Without a
microphone, questions are followed by a quiet pause, as with ``voiceguide run --no-listen``.
"""

from __future__ import annotations

import logging
import queue
import threading
from contextlib import ExitStack

from ..errors import AudioUnavailable, VoiceguideError
from ..journal.db import JOURNAL_FILE, Journal
from ..listen.capture import SAMPLE_RATE
from ..listen.shared_input import SharedInput
from ..listen.stt_worker import off_audio_path
from ..listening import SessionListener
from ..model import Session
from ..playback.control import Command
from ..seams import Clock, Recognizer
from .config import DaemonConfig
from .events import StartRequest

log = logging.getLogger(__name__)


class Answers:
    """Decides whether a session listens, and makes its listener."""

    def __init__(self, config: DaemonConfig, microphone: SharedInput, clock: Clock, threaded: bool = True) -> None:
        """``threaded=False`` takes answers on the player's thread (tests with a fake clock)."""
        self.config = config
        self._threaded = threaded
        self._mic = microphone
        self._clock = clock
        self._journal: Journal | None = None
        self._recognizers: dict[str, Recognizer] = {}
        self._said_no_mic = False

    def listening(self, session: Session) -> bool:
        """Whether ``session`` should be compiled with listen windows: it asks something, answers are
        on, and a microphone is there (said once in the log when it is not)."""
        if not self.config.answers or not session.asks:
            return False
        try:
            self._mic.check()
        except AudioUnavailable as exc:
            if not self._said_no_mic:
                log.warning("no microphone (%s): questions are followed by a quiet pause", str(exc).split(". ")[0])
                self._said_no_mic = True
            return False
        self._said_no_mic = False
        return True

    def listener(self, request: StartRequest, session: Session,
                 controls: queue.SimpleQueue[Command]) -> HeldListener | None:
        """The listener for one playing session, or None if the journal or recogniser cannot be had.
        Called on the session worker's thread only; the journal and recogniser are opened once."""
        try:
            if self._journal is None:
                self._journal = Journal(self.config.journal / JOURNAL_FILE)
            if session.language not in self._recognizers:  # one worker per language, each exits when idle
                speech = self.config.speech
                self._recognizers[session.language] = off_audio_path(speech.recognizer, speech.model,
                                                                     session.language)
            journal, recognizer = self._journal, self._recognizers[session.language]
        except VoiceguideError as exc:
            log.error("%s: cannot take answers: %s", request.session, exc)
            return None
        log.info("%s: answers go to the journal %s", request.session, journal.path)
        return HeldListener(SessionListener(session, self._mic, self._clock, recognizer, journal, controls,
                                            log.warning, threaded=self._threaded), self._mic)


class HeldListener:
    """A session's :class:`SessionListener`, with the microphone held open from now until :meth:`close`
    (opened only at each question, the first second or two of an answer could be lost: see
    ``SharedInput.held``)."""

    def __init__(self, listener: SessionListener, microphone: SharedInput) -> None:
        self.listener = listener
        self._held = ExitStack()
        self._held.enter_context(microphone.held(SAMPLE_RATE))

    def on_hold(self, step: int, over: threading.Event) -> None:
        """Take the answer at the listen window of ``step`` (until ``over``: see ``SessionListener``)."""
        self.listener.on_hold(step, over)

    def close(self, timeout: float = 30.0) -> bool:
        """Let go of the microphone, then finish the transcriptions (True if all were done)."""
        self._held.close()
        return self.listener.close(timeout)

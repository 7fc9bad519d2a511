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

from voiceguide.daemon.config import DaemonConfig
from voiceguide.engine.builder import SessionBuilder
from voiceguide.journal.db import JOURNAL_FILE, Journal
from voiceguide.listen.shared_input import SharedInput
from voiceguide.listen.stt_worker import off_audio_path
from voiceguide.live.session import LiveSession
from voiceguide.script.model import Session
from voiceguide.seams import Clock, Recognizer

log = logging.getLogger(__name__)


def live_session(config: DaemonConfig, builder: SessionBuilder, microphone: SharedInput, clock: Clock,
                 threaded: bool = True) -> LiveSession:
    """The daemon's live-session assembly: answers go to the configured journal, recognised by the
    ``[speech]`` recognizer in a worker process per language (``threaded=False``: tests with a fake clock)."""

    def journal() -> Journal:
        return Journal(config.journal / JOURNAL_FILE)

    def recognizer(language: str) -> Recognizer:
        return off_audio_path(config.speech.recognizer, config.speech.model, language)

    return LiveSession(builder, clock, microphone, journal=journal, recognizer=recognizer, threaded=threaded)


class Answers:
    """Decides whether a session listens (its listener is the runner's, through the daemon's
    :class:`LiveSession`)."""

    def __init__(self, config: DaemonConfig, live: LiveSession) -> None:
        self.config = config
        self.live = live
        self._said_no_mic = False

    def listening(self, session: Session) -> bool:
        """Whether ``session`` should be compiled with listen windows: it asks something, answers are
        on, and a microphone is there (said once in the log when it is not)."""
        if not self.config.answers or not session.asks:
            return False
        problem = self.live.microphone_problem()
        if problem is not None:
            if not self._said_no_mic:
                log.warning("no microphone (%s): questions are followed by a quiet pause", str(problem).split(". ")[0])
                self._said_no_mic = True
            return False
        self._said_no_mic = False
        return True

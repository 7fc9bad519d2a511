"""From options to a timeline: load and shape a session, and compile it with speakers kept for their life.

:func:`load_session` finds a session, applies the speech options and shapes its breathing and sound;
:class:`SessionBuilder` compiles sessions with one speech engine per backend, made the first time it is
needed and closed with the builder. ``voiceguide show``, ``render`` and ``run`` make one for their one
session; the daemon holds one for its whole life, across every session, "slower" and prepare.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from voiceguide import backends
from voiceguide.engine.compile import compile_session
from voiceguide.engine.options import ShapingOptions, SpeechOptions
from voiceguide.engine.timeline import Timeline
from voiceguide.script import adjust, library, parse
from voiceguide.script.model import Session
from voiceguide.seams import Speaker, SpeechParams

log = logging.getLogger(__name__)


def load_session(ref: str, speech: SpeechOptions, shaping: ShapingOptions, *, relative: bool = True) -> Session:
    """The session ``ref`` (an id or a script path) with ``speech`` applied and shaped by ``shaping``;
    ``relative=False`` refuses a path relative to the working folder (see :func:`library.find`)."""
    session = parse.load(library.find(ref, relative=relative))
    return shaped(dataclasses.replace(session, **speech.session_changes()), shaping)


def shaped(session: Session, shaping: ShapingOptions) -> Session:
    """``session`` with the breathing and sound options applied (``minutes`` last: it fits the result)."""
    if shaping.cycles is not None:
        session = adjust.with_cycles(session, shaping.cycles)
    if shaping.bpm is not None:
        session = adjust.with_bpm(session, shaping.bpm)
    if shaping.no_holds:
        session = adjust.without_holds(session)
    session = adjust.with_ambient(session, shaping.ambient, shaping.ambient_volume)
    if shaping.minutes is not None:
        session = adjust.with_minutes(session, shaping.minutes, estimate_minutes(session) * 60)
    return session


def estimate_minutes(session: Session) -> float:
    """Session length with the fake voice (speech timed from word count and rate): for listings."""
    from voiceguide.backends.fake import FakeTimer

    return compile_session(session, FakeTimer(), sample_rate=8000).seconds / 60.0


def _close(speaker: Speaker) -> None:
    try:
        speaker.close()
    except Exception:  # one engine failing to shut down must not keep the others open
        log.warning("closing the %s speech engine failed", speaker.name, exc_info=True)


class SessionBuilder:
    """Compiles sessions spoken as ``speech`` at ``sample_rate``; owns its speech engines until :meth:`close`.

    One engine per backend name: a session whose voice (or language) picks another backend than the last
    one gets that backend's engine, made once and kept. Safe to use from several threads (a "slower"
    compiles while the first compile may still run)."""

    def __init__(self, speech: SpeechOptions, sample_rate: int,
                 notify: Callable[[str], None] | None = None) -> None:
        """``notify`` tells the person when a session falls back to another backend (default: the log)."""
        self.speech = speech
        self.sample_rate = sample_rate
        self._notify = notify or (lambda text: log.warning("%s", text))
        self._cache: Path = speech.cache_dir if speech.cache_dir is not None else library.cache_dir()
        self._lock = threading.Lock()
        self._speakers: dict[str, Speaker] = {}
        self._names: dict[str | None, str] = {}

    def _get(self, name: str) -> Speaker:
        with self._lock:
            if name not in self._speakers:
                self._speakers[name] = backends.speaker(name, self._cache)
            return self._speakers[name]

    def speaker(self, session: Session) -> Speaker:
        """The speaker for ``session``: the backend named in the options, or the one that has its voice, or
        the default one (with a note to the person when a named backend has no voice for its language)."""
        voice = session.voice
        name = self.speech.tts
        if voice:  # asking backends for a voice loads them: once per voice
            if voice not in self._names:
                self._names[voice] = backends.tts_for(name, voice)
            name = self._names[voice]
        params = SpeechParams(session.language, voice)
        chosen, note = backends.speaker_for(name, params, get=self._get)
        if note is not None:  # e.g. Piper has no voice for the session's language
            self._notify(note)
        return chosen

    def build(self, session: Session, listening: bool = False) -> Timeline:
        """``session`` (already shaped) compiled: its voice, the sample rate and, with ``listening``, listen
        windows. The same call compiles a slowed version of it later, sample for sample alike."""
        return compile_session(session, self.speaker(session), self.sample_rate, listening=listening)

    @property
    def open_speakers(self) -> int:
        """How many speech engines are open now."""
        return len(self._speakers)

    def close(self) -> None:
        """Close every speech engine made so far (a later build makes new ones)."""
        with self._lock:
            speakers, self._speakers = list(self._speakers.values()), {}
        for speaker in speakers:
            _close(speaker)

    def __enter__(self) -> SessionBuilder:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

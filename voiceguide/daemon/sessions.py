"""Build what a request plays with the very code ``voiceguide run`` uses (``engine.builder``), from the config.

The config's ``[speech]`` and ``[audio]`` fill the same :class:`SpeechOptions` and :class:`ShapingOptions`
the command line fills from its arguments, so rate, volume, voice, ``minutes`` and the speech cache behave
exactly as on the command line. :class:`Sessions` holds one :class:`SessionBuilder` (one speech engine per
backend) for the daemon's life: every prepare and every "slower" compiles with it, and it is closed once,
when the daemon exits.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from types import TracebackType

from voiceguide.daemon import isolated
from voiceguide.daemon.config import DaemonConfig
from voiceguide.daemon.events import StartRequest
from voiceguide.engine.builder import SessionBuilder, load_session
from voiceguide.engine.options import ShapingOptions, SpeechOptions
from voiceguide.engine.timeline import Timeline
from voiceguide.script.model import Session

log = logging.getLogger(__name__)

SAFE_TTS = frozenset({"fake"})
"""Speech backends that run in the daemon's own process: pure Python, nothing native that can crash."""


def speech_options(config: DaemonConfig) -> SpeechOptions:
    """How the config says sessions are spoken."""
    speech = config.speech
    return SpeechOptions(tts=speech.tts, voice=speech.voice, rate=speech.rate, volume=speech.volume,
                         cache_dir=speech.cache_dir)


def shaping_options(config: DaemonConfig, request: StartRequest) -> ShapingOptions:
    """How ``request`` shapes its session: fitted to its minutes, at the configured sample rate."""
    return ShapingOptions(minutes=request.minutes, sample_rate=config.audio.sample_rate)


def builder(config: DaemonConfig) -> SessionBuilder:
    """A session builder for this config (its fallback notes go to the log)."""
    return SessionBuilder(speech_options(config), config.audio.sample_rate, notify=log.warning)


class Sessions:
    """Prepares the daemon's sessions with one builder, kept until :meth:`close`."""

    def __init__(self, config: DaemonConfig, build: SessionBuilder | None = None) -> None:
        """``build``: the builder to compile with (default: one for ``config``); it is closed with this."""
        self.config = config
        self.builder = build if build is not None else builder(config)

    def load(self, request: StartRequest) -> Session:
        """The session of ``request``, shaped as configured, with this device's ways to stop it."""
        session = load_session(request.session, self.builder.speech, shaping_options(self.config, request),
                               relative=False)  # the daemon's working folder is nobody's choice
        return dataclasses.replace(session, stop_ways=stop_ways(self.config))

    def prepare(self, request: StartRequest,
                listens: Callable[[Session], bool] | None = None) -> tuple[Session, Timeline]:
        """The session and its compiled timeline; speech comes from (and goes into) the on-disk cache.
        When ``listens(session)``, listen steps get listen windows (the player holds while the answer is
        taken); otherwise each question is followed by a quiet pause.

        With a real speech engine the speech is first rendered in a child process (:func:`render_speech`,
        :mod:`isolated`): an engine that crashes or hangs there is a :class:`SpeechError` the worker
        reports, and the daemon stays up."""
        session = self.load(request)
        listening = listens is not None and listens(session)
        return session, self._isolating(request, listening)(session)

    def compiler(self, request: StartRequest, timeline: Timeline) -> Callable[[Session], Timeline]:
        """How a session of ``request`` compiles exactly as :meth:`prepare` compiled it into ``timeline``
        (for "slower", which compiles the rest again, slower)."""
        return self._isolating(request, bool(timeline.gates))

    def _isolating(self, request: StartRequest, listening: bool) -> Callable[[Session], Timeline]:
        """The builder's compile, with the speech first rendered in a child process when the engine is a
        real one."""

        def build(session: Session) -> Timeline:
            return self.builder.build(session, listening)

        if self.config.speech.tts in SAFE_TTS:
            return build

        def safe(session: Session) -> Timeline:
            isolated.run(functools.partial(render_speech, self.config, session, listening),
                         f"preparing {request.session}")
            return build(session)

        return safe

    def close(self) -> None:
        """Close the builder's speech engines."""
        self.builder.close()

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def prepare(config: DaemonConfig, request: StartRequest,
            listens: Callable[[Session], bool] | None = None) -> tuple[Session, Timeline]:
    """One session prepared as :meth:`Sessions.prepare` does, with a builder of its own closed after it."""
    with Sessions(config) as sessions:
        return sessions.prepare(request, listens)


def render_speech(config: DaemonConfig, session: Session, listening: bool) -> None:
    """Compile ``session`` as the daemon will, for the side effect: every line of its speech is rendered
    into the on-disk cache. Run in a child process (with a builder of its own), so that the daemon's own
    compile of the same session finds every line cached and never calls the engine."""
    with builder(config) as build:
        build.build(session, listening)


def stop_ways(config: DaemonConfig) -> tuple[str, ...]:
    """How a person can stop a session on this device, for the script's spoken ``{stop}``: the button (a
    short or a long press, as configured) and the word "stop" when the wake phrase hears voice commands."""
    ways: list[str] = []
    button = config.button
    if button is not None and button.short_press == "stop":
        ways.append("button")
    if button is not None and button.long_press == "stop":
        ways.append("hold-button")
    if config.wake is not None and config.wake.commands:
        ways.append("voice")
    return tuple(ways)


"""Build what a request plays with the very code ``voiceguide run`` uses (``commands``), from the config.

``commands`` reads its options from an ``argparse.Namespace``; :func:`run_options` makes one from the
daemon's config with the ``run`` subcommand's own parser, so rate, volume, voice, ``--minutes`` and the
speech cache behave exactly as on the command line. This is the only module that knows that shape.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
from collections.abc import Callable

from .. import backends, commands
from ..compile import DEFAULT_RATE
from ..errors import VoiceguideError
from ..model import Session
from ..player import Player
from ..seams import AudioOutput, Clock
from ..slowing import Slower
from ..timeline import Timeline
from . import isolated
from .config import DaemonConfig
from .events import StartRequest

log = logging.getLogger(__name__)

SAFE_TTS = frozenset({"fake"})
"""Speech backends that run in the daemon's own process: pure Python, nothing native that can crash."""


def run_options(config: DaemonConfig, request: StartRequest) -> argparse.Namespace:
    """The options ``voiceguide run SESSION`` would get for this request and config (parsed by the real
    parser, so options added to ``run`` later get their defaults here too)."""
    from ..cli import build_parser

    speech, audio = config.speech, config.audio
    argv = ["run", request.session, "--tts", speech.tts, "--sample-rate", str(audio.sample_rate)]
    for flag, value in (("--voice", speech.voice), ("--rate", speech.rate), ("--volume", speech.volume),
                        ("--cache-dir", speech.cache_dir), ("--device", audio.output),
                        ("--minutes", request.minutes)):
        if value is not None:
            argv += [flag, str(value)]
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed why; the config was validated, so this is a bug
        raise VoiceguideError(f"cannot build the options for {request.session}: {argv}") from exc


def prepare(config: DaemonConfig, request: StartRequest,
            listens: Callable[[Session], bool] | None = None) -> tuple[Session, Timeline]:
    """The session and its compiled timeline; speech comes from (and goes into) the on-disk cache.
    When ``listens(session)``, listen steps get listen windows (the player holds while the answer is
    taken); otherwise each question is followed by a quiet pause.

    With a real speech engine the speech is first rendered in a child process (:func:`render_speech`,
    :mod:`isolated`): an engine that crashes or hangs there is a :class:`SpeechError` the worker reports,
    and the daemon stays up."""
    options = run_options(config, request)
    session = commands._adjusted(options, commands._session(options))
    session = dataclasses.replace(session, stop_ways=stop_ways(config))
    listening = listens is not None and listens(session)
    return session, _isolating(config, request, listening, commands._builder(options, listening))(session)


def render_speech(config: DaemonConfig, request: StartRequest, session: Session, listening: bool) -> None:
    """Compile ``session`` as the daemon will, for the side effect: every line of its speech is rendered
    into the on-disk cache. Run in a child process, so that the daemon's own compile of the same session
    finds every line cached and never calls the engine."""
    commands._builder(run_options(config, request), listening)(session)


def _isolating(config: DaemonConfig, request: StartRequest, listening: bool,
               build: Callable[[Session], Timeline]) -> Callable[[Session], Timeline]:
    """``build``, with the speech first rendered in a child process when the engine is a real one."""
    if config.speech.tts in SAFE_TTS:
        return build

    def safe(session: Session) -> Timeline:
        isolated.run(functools.partial(render_speech, config, request, session, listening),
                     f"preparing {request.session}")
        return build(session)

    return safe


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


def slower(config: DaemonConfig, request: StartRequest, session: Session, timeline: Timeline,
           run_in: Callable[[Callable[[], None]], object] | None = None) -> Callable[[Player], None]:
    """What acts on "slower" during ``session`` (as prepared for ``request`` into ``timeline``): the rest
    is compiled again slower, exactly as :func:`prepare` compiled it, and taken over at the next breath
    or part (``run_in``: where that work runs; default a background thread)."""
    listening = bool(timeline.gates)
    build = _isolating(config, request, listening, commands._builder(run_options(config, request), listening))
    return Slower(session, build, DEFAULT_RATE, say=lambda text: log.info("%s: %s", request.session, text),
                  run_in=run_in).request


def open_output(config: DaemonConfig, request: StartRequest) -> tuple[AudioOutput, Clock]:
    """The configured output, checked (``AudioUnavailable`` if it is not there yet), and the system clock.

    Not ``commands._output``: it calls ``backends.system_clock()``, which works only once per process (the
    first call imports the submodule of the same name, which then shadows the function).
    """
    from ..backends.system_clock import SystemClock

    out = backends.output("sounddevice", config.audio.output)
    check = getattr(out, "check", None)
    if check is not None:
        check()
    return out, SystemClock()

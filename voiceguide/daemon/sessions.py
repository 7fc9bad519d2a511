"""Build what a request plays with the very code ``voiceguide run`` uses (``commands``), from the config.

``commands`` reads its options from an ``argparse.Namespace``; :func:`run_options` makes one from the
daemon's config with the ``run`` subcommand's own parser, so rate, volume, voice, ``--minutes`` and the
speech cache behave exactly as on the command line. This is the only module that knows that shape.
"""

from __future__ import annotations

import argparse
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
from .config import DaemonConfig
from .events import StartRequest

log = logging.getLogger(__name__)


def run_options(config: DaemonConfig, request: StartRequest) -> argparse.Namespace:
    """The options ``voiceguide run SESSION`` would get for this request and config (parsed by the real
    parser, so options added to ``run`` later get their defaults here too)."""
    from ..cli import build_parser

    speech, audio = config.speech, config.audio
    argv = ["run", request.session, "--sample-rate", str(audio.sample_rate)]
    for flag, value in (("--tts", speech.tts), ("--voice", speech.voice), ("--rate", speech.rate),
                        ("--volume", speech.volume), ("--cache-dir", speech.cache_dir), ("--device", audio.output),
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
    taken); otherwise each question is followed by a quiet pause."""
    options = run_options(config, request)
    session = commands._adjusted(options, commands._session(options))
    return session, commands._builder(options, listens is not None and listens(session))(session)


def slower(config: DaemonConfig, request: StartRequest, session: Session, timeline: Timeline,
           run_in: Callable[[Callable[[], None]], object] | None = None) -> Callable[[Player], None]:
    """What acts on "slower" during ``session`` (as prepared for ``request`` into ``timeline``): the rest
    is compiled again slower, exactly as :func:`prepare` compiled it, and taken over at the next breath
    or part (``run_in``: where that work runs; default a background thread)."""
    build = commands._builder(run_options(config, request), listening=bool(timeline.gates))
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

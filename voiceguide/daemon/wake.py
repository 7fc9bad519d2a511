"""The wake phrase as a daemon trigger: a thin adapter over ``voiceguide.listen.voice_commands``.

Keyword spotting itself (one long-lived pocketsphinx decoder fed by ``backends/sounddevice_in.py``) is
built in the listening package. This trigger only starts it with the configured phrase, sensitivity and
microphone and posts a :class:`Start` when the phrase is heard. While that package is not there, the
trigger reports itself unavailable (the daemon logs it and runs without it; ``voiceguide doctor`` says so).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from typing import Any

from ..errors import BackendError
from .config import DaemonConfig, Wake
from .events import Event, Start, StartRequest

log = logging.getLogger(__name__)

MODULE = "voiceguide.listen.voice_commands"
"""Where the keyword spotter lives."""
SPOTTER = "KeywordSpotter"
"""The class this adapter uses: ``KeywordSpotter(phrases, sensitivity=, device=, on_heard=)`` with
``start()`` and ``close()``; ``on_heard(phrase)`` is called on the spotter's thread."""


def unavailable() -> str | None:
    """Why the wake phrase cannot work in this installation, or None if it can."""
    try:
        spec = importlib.util.find_spec(MODULE)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return (f"voice keyword spotting ({MODULE}) is not part of this version of voiceguide yet; "
                "set enabled = false under [wake], or use the button or 'voiceguide ctl start'")
    try:
        module = importlib.import_module(MODULE)
    except ImportError as exc:
        return f"{MODULE} cannot be loaded: {exc}"
    if not callable(getattr(module, SPOTTER, None)):
        return f"{MODULE} has no {SPOTTER}; this daemon and the listening package do not match"
    return None


class WakeTrigger:
    """Starts the configured session when the wake phrase is heard."""

    name = "wake phrase"

    def __init__(self, wake: Wake, config: DaemonConfig) -> None:
        self.wake = wake
        self.config = config
        self._spotter: Any = None

    def start(self, post: Callable[[Event], None]) -> None:
        """Load the spotter and start listening; :class:`BackendError` if it cannot."""
        reason = unavailable()
        if reason is not None:
            raise BackendError(reason)
        spotter_class = getattr(importlib.import_module(MODULE), SPOTTER)
        request = StartRequest(self.wake.session, "wake", self.wake.minutes)

        def heard(phrase: str) -> None:
            log.info("heard the wake phrase %r", phrase)
            post(Start(request))

        try:
            self._spotter = spotter_class([self.wake.phrase], sensitivity=self.wake.sensitivity,
                                          device=self.config.audio.input, on_heard=heard)
            self._spotter.start()
        except TypeError as exc:
            raise BackendError(f"{MODULE}.{SPOTTER} does not take the expected arguments: {exc}") from exc

    def close(self) -> None:
        """Stop listening and release the microphone."""
        spotter, self._spotter = self._spotter, None
        if spotter is not None:
            spotter.close()

"""The wake phrase as a daemon trigger: a thin adapter over the voice-command listener.

Keyword spotting itself is built in :mod:`voiceguide.listen.voice_commands` (one long-lived pocketsphinx
decoder in keyword search, fed 16 kHz blocks from ``backends/sounddevice_in.py`` on a worker thread, with
its isolation test: the phrase must be said on its own). This trigger starts that listener with the
configured phrase, sensitivity and microphone, and posts a :class:`Start` each time the phrase is heard.

Listening costs CPU all the time (the decoder runs on every block), unlike the rest of the idle daemon.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import queue
from collections.abc import Callable
from typing import Any

from ..errors import BackendError, VoiceguideError
from ..player import Command
from ..seams import AudioInput
from .config import DaemonConfig, Wake
from .events import Event, Start, StartRequest

log = logging.getLogger(__name__)

MODULE = "voiceguide.listen.voice_commands"
"""Where the keyword spotting lives."""
TOKEN = Command.RESUME
"""The listener speaks in player commands; the phrase is mapped to this one and read as 'heard'."""


def unavailable() -> str | None:
    """Why the wake phrase cannot work in this installation, or None if it can."""
    try:
        spec = importlib.util.find_spec(MODULE)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return (f"voice keyword spotting ({MODULE}) is not part of this version of voiceguide; "
                "set enabled = false under [wake], or use the button or 'voiceguide ctl start'")
    try:
        importlib.import_module(MODULE)
        importlib.import_module("pocketsphinx")
    except ImportError as exc:
        return f"keyword spotting cannot load ({exc}); pip install 'voiceguide[listen]'"
    return None


class _Heard(queue.SimpleQueue[Command]):
    """The listener's output queue: every put is the phrase, heard."""

    def __init__(self, heard: Callable[[], None]) -> None:
        super().__init__()
        self._heard = heard

    def put(self, item: Command, block: bool = True, timeout: float | None = None) -> None:
        self._heard()


class WakeTrigger:
    """Starts the configured session when the wake phrase is heard (not while a session plays)."""

    name = "wake phrase"

    def __init__(self, wake: Wake, config: DaemonConfig, playing: Callable[[], bool] = lambda: False,
                 microphone: AudioInput | None = None, commands: Any = None) -> None:
        self.wake = wake
        self.config = config
        self._playing = playing
        self._microphone = microphone
        self._commands = commands
        self._listener: Any = None

    @property
    def listening(self) -> bool:
        """True while the microphone is open."""
        return self._listener is not None

    def start(self, post: Callable[[Event], None]) -> None:
        """Load the spotter and open the microphone; :class:`BackendError` if it cannot."""
        reason = unavailable()
        if reason is not None:
            raise BackendError(reason)
        vc = importlib.import_module(MODULE)
        request = StartRequest(self.wake.session, "wake", self.wake.minutes)

        def heard() -> None:
            log.info("heard the wake phrase '%s'", self.wake.phrase)
            post(Start(request))

        config = vc.CommandConfig(words={self.wake.phrase: TOKEN},
                                  sensitivity={self.wake.phrase: self.wake.sensitivity},
                                  while_speaking=frozenset())
        microphone = self._microphone
        if microphone is None:
            from ..backends.sounddevice_in import SoundDeviceInput

            microphone = SoundDeviceInput(self.config.audio.input)
        listener = vc.CommandListener(microphone, _Heard(heard), is_speaking=self._playing, config=config,
                                      commands=self._commands)
        try:
            listener.start()
        except VoiceguideError as exc:
            raise BackendError(f"cannot listen for the wake phrase: {exc}") from exc
        self._listener = listener
        log.info("listening for '%s' (sensitivity %.2f)", self.wake.phrase, self.wake.sensitivity)

    def close(self) -> None:
        """Stop listening and release the microphone."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.stop()
            except Exception as exc:  # the listener re-raises what stopped it; we are closing anyway
                log.warning("the wake phrase listener had failed: %s", exc)

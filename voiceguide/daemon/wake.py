"""The wake phrase as a daemon trigger: a thin adapter over the voice-command listener.

Keyword spotting itself is built in :mod:`voiceguide.listen.voice_commands` (one long-lived pocketsphinx
decoder in keyword search, fed 16 kHz blocks from ``backends/sounddevice_in.py`` on a worker thread, with
its isolation test: the phrase must be said on its own). This trigger starts that listener with the
configured phrase, sensitivity and microphone, and posts a :class:`Start` each time the phrase is heard
while nothing plays. With ``commands`` on (the default) the same listener, on the same microphone
stream, also hears the voice commands; while a session plays, each is posted as a :class:`Control`,
except while the session's own voice is in the air (the speaking gate, as in ``voiceguide run``). Words taught
in any language (``voiceguide commands teach``) are heard beside the English ones (``command_choice.for_daemon``).

Listening costs CPU all the time (the decoder runs on every block), unlike the rest of the idle daemon.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import queue
from collections.abc import Callable
from typing import Any

from voiceguide.daemon.config import DaemonConfig, Wake
from voiceguide.daemon.events import Control, Event, Start, StartRequest
from voiceguide.errors import BackendError, VoiceguideError
from voiceguide.playback.control import Command
from voiceguide.seams import AudioInput

log = logging.getLogger(__name__)

MODULE = "voiceguide.listen.voice_commands"
"""Where the keyword spotting lives."""
TOKEN = Command.TOGGLE
"""The listener speaks in player commands; the phrase is mapped to this one (no spoken word is) and
read as 'the phrase was heard'."""


def unavailable(spotter: str = "pocketsphinx") -> str | None:
    """Why the wake phrase cannot work in this installation with ``spotter``, or None if it can."""
    try:
        spec = importlib.util.find_spec(MODULE)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return (f"voice keyword spotting ({MODULE}) is not part of this version of voiceguide; "
                "set enabled = false under [wake], or use the button or 'voiceguide ctl start'")
    try:
        importlib.import_module(MODULE)
        if spotter == "pocketsphinx":
            importlib.import_module("pocketsphinx")
    except ImportError as exc:
        return f"keyword spotting cannot load ({exc}); pip install 'voiceguide[listen]'"
    return None


def listen_config(wake: Wake) -> Any:
    """What the listener hears: the phrase, and the voice commands when ``wake.commands``."""
    from voiceguide.listen.command_config import DEFAULT_SENSITIVITY, DEFAULT_WORDS, CommandConfig

    words, sensitivity = {wake.phrase: TOKEN}, {wake.phrase: wake.sensitivity}
    if wake.commands:
        words.update(DEFAULT_WORDS)
        sensitivity.update(DEFAULT_SENSITIVITY)
    return CommandConfig(words=words, sensitivity=sensitivity, while_speaking=frozenset(), spotter=wake.spotter)


class _Heard(queue.SimpleQueue[Command]):
    """The listener's output queue: every put is a word heard (the phrase is :data:`TOKEN`)."""

    def __init__(self, heard: Callable[[Command], None]) -> None:
        super().__init__()
        self._heard = heard

    def put(self, item: Command, block: bool = True, timeout: float | None = None) -> None:
        self._heard(item)


class WakeTrigger:
    """Starts the configured session when the wake phrase is heard (not while a session plays), and
    passes on voice commands while one does."""

    name = "wake phrase"

    def __init__(self, wake: Wake, config: DaemonConfig, playing: Callable[[], bool] = lambda: False,
                 microphone: AudioInput | None = None, commands: Any = None,
                 speaking: Callable[[], bool] | None = None) -> None:
        """``playing`` tells whether a session is on; ``speaking`` whether its own voice may be in the
        microphone (default: all the time it plays); ``commands`` replaces the real spotting (tests)."""
        self.wake = wake
        self.config = config
        self._playing = playing
        self._speaking = speaking or playing
        self._microphone = microphone
        self._commands = commands
        self._listener: Any = None

    @property
    def listening(self) -> bool:
        """True while the microphone is open."""
        return self._listener is not None

    def start(self, post: Callable[[Event], None]) -> None:
        """Load the spotter and open the microphone; :class:`BackendError` if it cannot."""
        reason = unavailable(self.wake.spotter)
        if reason is not None:
            raise BackendError(reason)
        vc = importlib.import_module(MODULE)
        request = StartRequest(self.wake.session, "wake", self.wake.minutes)

        def heard(word: Command) -> None:
            playing = self._playing()
            if word is TOKEN and not playing:
                log.info("heard the wake phrase '%s'", self.wake.phrase)
                post(Start(request))
            elif word is not TOKEN and playing:
                log.info("heard '%s'", word.value)
                post(Control(word, "voice"))
            else:
                log.debug("heard %s, which means nothing %s", "the wake phrase" if word is TOKEN else word.value,
                          "during a session" if playing else "with nothing playing")

        def gated() -> bool:  # while idle the phrase is always heard; in a session, not over its voice
            return self._playing() and self._speaking()
        microphone = self._microphone
        if microphone is None:
            from voiceguide.backends.sounddevice_in import SoundDeviceInput

            microphone = SoundDeviceInput(self.config.audio.input)
        config, commands = listen_config(self.wake), self._commands
        if commands is None and self.wake.commands:  # the words taught in any language are heard too
            from voiceguide.listen.command_choice import for_daemon

            try:
                commands = for_daemon(config)
            except VoiceguideError as exc:
                raise BackendError(f"cannot listen for the wake phrase: {exc}") from exc
        listener = vc.CommandListener(microphone, _Heard(heard), is_speaking=gated, config=config, commands=commands)
        try:
            listener.start()
        except VoiceguideError as exc:
            raise BackendError(f"cannot listen for the wake phrase: {exc}") from exc
        self._listener = listener
        log.info("listening for '%s' (sensitivity %.2f)%s", self.wake.phrase, self.wake.sensitivity,
                 ", and for voice commands during sessions" if self.wake.commands else "")

    def close(self) -> None:
        """Stop listening and release the microphone."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.stop()
            except Exception as exc:  # the listener re-raises what stopped it; we are closing anyway
                log.warning("the wake phrase listener had failed: %s", exc)

"""A GPIO push button (gpiozero, the ``voiceguide[pi]`` extra): a short press and a long press.

Wire the button between the pin and ground; the pin's internal pull-up is used. gpiozero calls us on
its own threads; we only post events. A press that was held past ``hold_time`` is a long press (it acts
while still held down) and its release does nothing more.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable
from typing import Any

from voiceguide.daemon.config import Button
from voiceguide.daemon.events import Control, Event, Start, StartRequest
from voiceguide.errors import BackendError
from voiceguide.playback.control import Command

log = logging.getLogger(__name__)


def action_event(action: str, button: Button, playing: bool) -> Event | None:
    """The event a press with ``action`` posts (``playing``: whether a session is on, for ``toggle``)."""
    start = Start(StartRequest(button.session, "button", button.minutes))
    if action == "start":
        return start
    if action == "toggle":
        return Control(Command.TOGGLE, "button") if playing else start
    if action == "stop":
        return Control(Command.STOP, "button")
    if action == "pause":
        return Control(Command.TOGGLE, "button")
    return None


class ButtonTrigger:
    """Posts the configured actions when the button is pressed briefly or held."""

    name = "button"

    def __init__(self, config: Button, playing: Callable[[], bool] = lambda: False,
                 pin_factory: Any = None) -> None:
        self.config = config
        self._playing = playing
        self._pin_factory = pin_factory
        self._device: Any = None
        self._held = threading.Event()
        self._post: Callable[[Event], None] | None = None

    def start(self, post: Callable[[Event], None]) -> None:
        """Claim the pin and start reacting to presses."""
        try:
            from gpiozero import Button as GpioButton
            from gpiozero.exc import GPIOZeroError
        except ImportError as exc:
            raise BackendError("the button needs gpiozero: pip install 'voiceguide[pi]'") from exc
        self._post = post
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # gpiozero warns for each pin library it falls back from
                self._device = GpioButton(self.config.pin, pull_up=True, bounce_time=self.config.bounce_time,
                                          hold_time=self.config.hold_time, pin_factory=self._pin_factory)
        except (GPIOZeroError, OSError, ValueError, ImportError) as exc:
            raise BackendError(f"cannot use GPIO pin {self.config.pin} for the button: {exc}") from exc
        self._device.when_pressed = self._pressed
        self._device.when_held = self._long
        self._device.when_released = self._released
        log.info("button on pin %s (short: %s, long: %s)", self.config.pin, self.config.short_press,
                 self.config.long_press)

    def close(self) -> None:
        """Release the pin."""
        device, self._device = self._device, None
        if device is not None:
            device.close()

    def _pressed(self) -> None:
        self._held.clear()

    def _long(self) -> None:
        self._held.set()
        log.info("button held")
        self._act(self.config.long_press)

    def _released(self) -> None:
        if self._held.is_set():
            return
        log.info("button pressed")
        self._act(self.config.short_press)

    def _act(self, action: str) -> None:
        event = action_event(action, self.config, self._playing())
        if event is not None and self._post is not None:
            self._post(event)

"""The GPIO button through gpiozero's MockFactory: a short press starts breathing, a long press stops."""

from __future__ import annotations

import datetime as dt
import queue
import threading

import pytest
from gpiozero.pins.mock import MockFactory

from tests.helpers import FollowsCommands
from voiceguide.daemon.button import ButtonTrigger, action_event
from voiceguide.daemon.clock import FakeWallClock
from voiceguide.daemon.config import Button, DaemonConfig
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.events import Control, Event, Start, StartRequest
from voiceguide.errors import BackendError
from voiceguide.live.events import RunState
from voiceguide.playback.control import Command, Snapshot

PIN = 17


class Recorder(FollowsCommands):
    snapshot: Snapshot | None = None
    sample_rate = 0

    def __init__(self) -> None:
        self.jobs: list[StartRequest] = []
        self.commands: list[Command] = []

    def submit(self, kind: str, request: StartRequest) -> None:
        self.jobs.append(request)
        self.submitted(kind)

    def command(self, command: Command) -> RunState:
        self.commands.append(command)
        return self.commanded(command)

    def close(self, timeout: float = 0.0) -> None:
        pass


@pytest.fixture
def factory() -> object:
    return MockFactory()


def start_button(factory: object, config: Button) -> tuple[ButtonTrigger, Daemon, Recorder, list[Event]]:
    worker = Recorder()
    daemon = Daemon(DaemonConfig(button=config), queue.SimpleQueue(), worker, FakeWallClock(dt.datetime(2026, 1, 1)))
    posted: list[Event] = []

    def post(event: Event) -> None:  # what the daemon loop would do with each event, at once
        posted.append(event)
        daemon.handle(event)

    trigger = ButtonTrigger(config, playing=lambda: daemon.current is not None, pin_factory=factory)
    trigger.start(post)
    return trigger, daemon, worker, posted


def test_a_short_press_starts_five_minutes_of_breathing(factory: object) -> None:
    trigger, daemon, worker, _ = start_button(factory, Button(PIN, bounce_time=None, hold_time=1.0))
    pin = factory.pin(PIN)  # type: ignore[attr-defined]
    pin.drive_low()   # pressed (the pin is pulled up; the button connects it to ground)
    assert worker.jobs == [], "nothing happens until the press ends (it might become a long press)"
    pin.drive_high()  # released
    assert worker.jobs == [StartRequest("coherent", "button", 5.0)]
    assert daemon.current == StartRequest("coherent", "button", 5.0)
    trigger.close()


def test_a_long_press_stops_the_session(factory: object) -> None:
    trigger, daemon, worker, posted = start_button(factory, Button(PIN, bounce_time=None, hold_time=0.05))
    daemon.handle(Start(StartRequest("bedtime", "schedule")))
    held = threading.Event()
    original = trigger._long

    def long_press() -> None:
        original()
        held.set()

    trigger._device.when_held = long_press
    pin = factory.pin(PIN)  # type: ignore[attr-defined]
    pin.drive_low()
    assert held.wait(5), "gpiozero reported no hold"
    pin.drive_high()
    assert worker.commands == [Command.STOP]
    assert posted == [Control(Command.STOP, "button")], "the release after a hold is not also a short press"
    assert daemon.phase == "stopping"
    trigger.close()


def test_settings_reach_gpiozero_and_the_pin_is_released(factory: object) -> None:
    trigger, *_ = start_button(factory, Button(PIN, bounce_time=0.2, hold_time=3.0))
    device = trigger._device
    assert device.hold_time == 3.0 and device.pin.bounce == pytest.approx(0.2)
    trigger.close()
    again = ButtonTrigger(Button(PIN), pin_factory=factory)
    again.start(lambda e: None)  # would fail with "pin already in use" had the first one kept it
    again.close()


def test_a_pin_in_use_is_a_clear_error(factory: object) -> None:
    first = ButtonTrigger(Button(PIN), pin_factory=factory)
    first.start(lambda e: None)
    with pytest.raises(BackendError, match="GPIO pin 17"):
        ButtonTrigger(Button(PIN), pin_factory=factory).start(lambda e: None)
    first.close()


def test_actions() -> None:
    button = Button(PIN, session="box", minutes=None)
    assert action_event("start", button, playing=True) == Start(StartRequest("box", "button", None))
    assert action_event("toggle", button, playing=False) == Start(StartRequest("box", "button", None))
    assert action_event("toggle", button, playing=True) == Control(Command.TOGGLE, "button")
    assert action_event("pause", button, playing=True) == Control(Command.TOGGLE, "button")
    assert action_event("stop", button, playing=False) == Control(Command.STOP, "button")
    assert action_event("none", button, playing=True) is None

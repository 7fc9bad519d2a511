"""The player tells its control loop what to act on as events (a hold began, "slower" was asked), in order."""

from __future__ import annotations

import queue
import threading

import numpy as np

from tests.helpers import one_clip_timeline, position_ramp
from voiceguide.backends.fake import FakeClock, FakeOutput
from voiceguide.engine.timeline import Timeline
from voiceguide.playback.control import SLOWER_ASKED, Command, HoldBegan, PlayerEvent
from voiceguide.playback.loop import play
from voiceguide.playback.player import Player

RATE = 8000
GATE = 20000


def gated() -> Timeline:
    tl = one_clip_timeline(position_ramp(4 * RATE), (0, 24000), RATE)
    return Timeline(tl.sample_rate, tl.events, tl.clips, tl.step_starts, tl.length, tl.title, (GATE,))


def drained(player: Player) -> list[PlayerEvent]:
    out: list[PlayerEvent] = []
    while not player.events.empty():
        out.append(player.events.get_nowait())
    return out


def test_the_player_puts_each_slower_and_each_hold_in_order_and_wakes_the_loop() -> None:
    player = Player(gated())
    player.controls.put(Command.SLOWER)
    player.controls.put(Command.SLOWER)
    block = np.zeros(500, np.float32)
    player.fill(block)
    assert player.wake.is_set()
    assert drained(player) == [SLOWER_ASKED, SLOWER_ASKED]
    player.wake.clear()
    while player.position < GATE:
        player.fill(block)
    assert player.wake.is_set()
    events = drained(player)
    assert events == [HoldBegan(GATE, player.hold_over)], "one event for the hold, carrying its own 'over'"
    player.controls.put(Command.RELEASE)
    player.fill(block)
    assert isinstance(events[0], HoldBegan) and events[0].over.is_set()
    assert drained(player) == []


def test_the_loop_acts_on_every_slower_even_two_in_one_block() -> None:
    clock = FakeClock()
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    asked: list[int] = []
    held: list[int] = []

    def two_at_once() -> None:
        controls.put(Command.SLOWER)
        controls.put(Command.SLOWER)

    def on_hold(step: int, over: threading.Event) -> None:
        held.append(step)
        controls.put(Command.RELEASE)

    clock.at(0.5, two_at_once)
    result = play(gated(), FakeOutput(clock, blocksize=256), clock, controls,
                  on_hold=on_hold, on_slower=lambda p: asked.append(p.position))
    assert len(asked) == 2, "each request reaches the loop (a counter read once per wake saw one)"
    assert held == [1], "the hold is handed over once, with the step that asked"
    assert not result.stopped_early

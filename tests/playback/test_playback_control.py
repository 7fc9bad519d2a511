"""run.play takes any timeline source: a compiled Timeline as it is, or one that grows while it plays."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.engine.compile import compile_session
from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Timeline
from voiceguide.playback.control import TimelineSource
from voiceguide.playback.loop import play
from voiceguide.script import parse

RATE = 8000
SCRIPT = ('[session]\ntitle = "Test"\n'
          '[[step]]\nsay = "Welcome to this practice."\n'
          '[[step]]\nbreathe = { inhale = 3, hold = 1, exhale = 4 }\ncycles = 2\ncue = "tone"\n'
          '[[step]]\nchime = "bell"\n')


def _timeline() -> Timeline:
    return compile_session(parse.loads(SCRIPT, name="test.toml"), FakeSpeaker(), RATE)


class Growing:
    """A hand-written source: the first step is ready at once, the whole session once fake time reaches ``at``."""

    def __init__(self, full: Timeline, clock: FakeClock, at: float) -> None:
        cut = full.step_starts[1]
        self.first = dataclasses.replace(full, events=tuple(e for e in full.events if e.end <= cut),
                                         step_starts=full.step_starts[:1], length=cut, gates=())
        self.full, self.clock, self.at = full, clock, at
        self.listeners: list[Callable[[Timeline, bool], None]] = []

    def wait_ready(self) -> tuple[Timeline, bool]:
        return self.first, False

    def follow(self, listener: Callable[[Timeline, bool], None]) -> None:
        self.listeners.append(listener)
        self.clock.at(self.at, lambda: listener(self.full, True))


def test_a_compiled_timeline_is_a_source_that_is_ready_and_final() -> None:
    timeline = _timeline()
    source: TimelineSource = timeline
    heard: list[tuple[Timeline, bool]] = []
    assert source.wait_ready() == (timeline, True)
    source.follow(lambda t, final: heard.append((t, final)))
    assert heard == []  # a compiled timeline never grows


def test_play_follows_a_source_that_grows_while_it_plays() -> None:
    full = _timeline()
    clock = FakeClock()
    output = FakeOutput(clock, blocksize=256)
    source = Growing(full, clock, at=0.5)
    assert source.first.length < full.length and full.step_starts[1] > 0.5 * RATE  # grows before its end
    result = play(source, output, clock)
    assert len(source.listeners) == 1
    assert result.timeline is full
    assert result.starved == 0 and not result.stopped_early
    assert result.events == list(full.events)
    np.testing.assert_array_equal(output.audio()[:full.length], Mixer(full).render())

"""Speech rendered ahead: the start rule, the background compile, and a player following a growing timeline."""

from __future__ import annotations

import collections

import numpy as np

from voiceguide.backends.fake import FakeSpeaker
from voiceguide.engine.ahead import Ahead, safe_to_start
from voiceguide.engine.compile import compile_session, compile_steps
from voiceguide.engine.mix import Mixer
from voiceguide.playback.player import Player
from voiceguide.script import parse

SCRIPT = ('[session]\ntitle = "a"\nambient = "pink"\n'
          '[[step]]\nchime = "soft-bell"\n'
          '[[step]]\nsay = "Welcome, take your time to arrive here."\n'
          '[[step]]\nbreathe = "box"\ncycles = 2\n'
          '[[step]]\nsay = "Notice the floor under you, and the air on your skin."\n'
          '[[step]]\npause = 12\n'
          '[[step]]\nchime = "bell"\n')
RATE = 8000


def test_start_waits_until_synthesis_stays_ahead_of_every_later_step() -> None:
    rest = [(3.0, 3.0), (30.0, 0.0), (4.0, 4.0)]  # a line, a long pause, a line
    assert safe_to_start(rest, prefix_seconds=3.5, real_time_factor=0.01)
    assert not safe_to_start(rest, prefix_seconds=3.5, real_time_factor=1.0)   # the first line is not ready in time
    assert safe_to_start(rest, prefix_seconds=10.0, real_time_factor=1.0)      # with enough lead it is
    assert not safe_to_start([(1.0, 0.0)], prefix_seconds=0.2, real_time_factor=0.0)  # keep a little lead
    assert safe_to_start([], prefix_seconds=0.2, real_time_factor=0.0)        # everything is compiled


def test_background_compile_gives_the_same_timeline_as_compiling_at_once() -> None:
    session = parse.loads(SCRIPT)
    whole = compile_session(session, FakeSpeaker(), RATE)
    ahead = Ahead(session, FakeSpeaker(), RATE)
    first, _ = ahead.wait_ready(timeout=30)
    result = ahead.result()
    assert first.length <= result.length == whole.length and result.step_starts == whole.step_starts
    def placed(tl: object) -> list[tuple[object, ...]]:  # clip numbering may differ; placement may not
        return [(e.kind, e.start, e.end, e.gain, e.text) for e in tl.events]  # type: ignore[attr-defined]
    assert placed(result) == placed(whole)
    np.testing.assert_array_equal(Mixer(result).render(), Mixer(whole).render())
    assert ahead.started_after is not None and ahead.finished_after is not None
    assert ahead.started_after <= ahead.finished_after


def test_player_follows_a_growing_timeline_and_counts_any_wait() -> None:
    session = parse.loads(SCRIPT)
    steps = compile_steps(session, FakeSpeaker(), RATE)
    for _ in range(3):
        builder = next(steps)
    prefix = builder.timeline(final=False)  # chime, welcome line and the breathing
    builder = collections.deque(steps, maxlen=1)[0]  # run to the end
    whole = builder.timeline(final=True)  # the same builder, as in the background worker
    player = Player(prefix, final=False)
    out = np.zeros(prefix.length + 3 * 512, dtype=np.float32)
    for i in range(0, len(out), 512):
        player.fill(out[i:i + 512])
    assert player.position == prefix.length and player.starved > 0 and not player.done.is_set()
    starved = player.starved
    player.extend(whole, final=True)
    rest = np.zeros(whole.length - prefix.length + 1024, dtype=np.float32)
    for i in range(0, len(rest), 512):
        player.fill(rest[i:i + 512])
    assert player.done.is_set() and player.starved == starved
    render = Mixer(whole).render()
    played = np.concatenate([out[:prefix.length], rest[:whole.length - prefix.length]])
    np.testing.assert_array_equal(played, render)  # the swap is seamless, bed included
    assert not out[prefix.length:prefix.length + starved].any()


def test_compile_makes_another_version_exactly_as_the_worker_did() -> None:
    """What "slower" builds on: the same session compiled again comes out the same, affirmations (chosen
    by the day, pinned when the worker started) included."""
    session = parse.loads(SCRIPT + '[[step]]\naffirm = 3\npersonal = false\n')
    ahead = Ahead(session, FakeSpeaker(), RATE)
    result = ahead.result()
    again = ahead.compile(session)
    def placed(tl: object) -> list[tuple[object, ...]]:  # clip numbering may differ; placement may not
        return [(e.kind, e.start, e.end, e.gain, e.text) for e in tl.events]  # type: ignore[attr-defined]
    affirmations = [e.text for e in again.events if e.kind == "speech" and e.step == 7]
    assert len(affirmations) == 3 and placed(again) == placed(result)
    np.testing.assert_array_equal(Mixer(again).render(), Mixer(result).render())

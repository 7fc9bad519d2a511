"""After an underrun the player gets back on the plan: the lost time comes out of the next quiet stretch
(a pause, a rest, the gap between lines), never out of speech or a cue. Fake output and clock throughout."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import HEADER, TWENTY_MINUTES, compiled, max_jump
from voiceguide.backends.fake import FakeClock, FakeOutput
from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Event, Timeline
from voiceguide.playback.catchup import CUES, MIN_QUIET_SECONDS, QuietIndex
from voiceguide.playback.control import Command
from voiceguide.playback.loop import play
from voiceguide.playback.player import Player
from voiceguide.seams import Samples

RATE = 8000
BLOCK = 256
BODY = ('[[step]]\nsay = "Welcome to this practice, take a moment to arrive."\n'
        '[[step]]\npause = 2\n'
        '[[step]]\nsay = "Notice how you feel."\n'
        '[[step]]\nchime = "bell"\n'
        '[[step]]\nsay = "Thank you."\n')
STALL = 0.2
TOLERANCE = int(0.002 * RATE)
"""2 ms."""


def cues(timeline: Timeline) -> list[Event]:
    return [e for e in timeline.events if e.kind in CUES]


def errors(timeline: Timeline, audio: Samples, after: int) -> list[int]:
    """Per cue starting after sample ``after``: where its first 0.1 s of the planned mix (the render) sits in
    ``audio`` minus where the plan put it, found by least squares within ±0.5 s."""
    reference = Mixer(timeline).render().astype(np.float64)
    found = []
    for e in cues(timeline):
        if e.start <= after:
            continue
        head = reference[e.start:e.start + RATE // 10]
        best, where = np.inf, 0
        for k in range(max(0, e.start - RATE // 2), e.start + RATE // 2):
            piece = audio[k:k + len(head)].astype(np.float64)
            if len(piece) < len(head):
                break
            err = float(np.sum((piece - head) ** 2))
            if err < best:
                best, where = err, k
        found.append(where - e.start)
    return found


def played_with_stall(timeline: Timeline, at: float, seconds: float = STALL) -> tuple[Samples, int]:
    """What the fake device played with one underrun of ``seconds`` at fake time ``at``, and the frames lost."""
    clock = FakeClock()
    output = FakeOutput(clock, blocksize=BLOCK)
    output.stall(at, seconds)
    result = play(timeline, output, clock)
    assert not result.stopped_early
    assert result.lost >= seconds * RATE - BLOCK
    return output.audio(), result.lost


def test_cues_after_the_next_pause_are_back_on_plan() -> None:
    tl = compiled(BODY, rate=RATE)
    audio, lost = played_with_stall(tl, at=1.0)
    first_speech = cues(tl)[0]
    assert first_speech.start < RATE < first_speech.end, "the stall hits the first spoken line"
    late = errors(tl, audio, after=tl.step_starts[1])
    assert late and all(abs(e) <= TOLERANCE for e in late), f"cues after the pause off by {late} samples"
    # the line that was playing went on after the gap, whole: nothing was cut out of speech
    clip = tl.clips[first_speech.clip or 0]
    start = first_speech.start
    np.testing.assert_array_equal(audio[start + RATE + BLOCK + lost:start + len(clip) + lost],
                                  clip[RATE + BLOCK:])
    assert abs(len(audio) - tl.length) <= 2 * BLOCK + 0.25 * RATE, "the session ends on time"


def test_without_catching_up_every_later_cue_stays_late() -> None:
    """The measurement itself: with the catch-up switched off, the same stall leaves later cues late."""
    tl = compiled(BODY, rate=RATE)
    clock = FakeClock()
    output = FakeOutput(clock, blocksize=BLOCK)
    output.stall(1.0, STALL)
    player_fill = Player.fill

    def no_catch_up(self: Player, out: Samples, lost: int = 0) -> None:
        self.catch_up.debt = 0
        player_fill(self, out, lost)
        self.catch_up.debt = 0

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Player, "fill", no_catch_up)
        play(tl, output, clock)
    late = errors(tl, output.audio(), after=tl.step_starts[1])
    assert late and all(e >= STALL * RATE - BLOCK for e in late), late


def test_the_jump_is_faded_under_an_ambient_bed() -> None:
    tl = compiled(BODY, rate=RATE, header=HEADER + 'ambient = "drone"\nambient_volume = 0.5\n')
    assert any(e.kind == "ambient" for e in tl.events)
    audio, _ = played_with_stall(tl, at=1.0)
    late = errors(tl, audio, after=tl.step_starts[1])
    assert late and all(abs(e) <= TOLERANCE for e in late), late
    reference = Mixer(tl).render()
    assert max_jump(audio) <= max_jump(reference) * 1.5 + 0.01, "no click where the bed was jumped"


def test_a_twenty_minute_session_with_many_underruns_ends_on_time() -> None:
    tl = compiled(TWENTY_MINUTES, rate=RATE)
    clock = FakeClock()
    output = FakeOutput(clock, blocksize=1024, record=False)
    for minute in range(1, 11):  # box breathing has rests; the coherent breathing after the pause has none
        output.stall(minute * 60.0 + 0.3, STALL)
    result = play(tl, output, clock)
    assert not result.stopped_early
    assert result.lost >= 10 * (STALL * RATE - 1024)
    assert result.frames - tl.length < 2 * 1024 + 0.25 * RATE, \
        f"ended {(result.frames - tl.length) / RATE:.2f} s late after {result.lost / RATE:.1f} s of underruns"


def test_a_device_that_dropped_audio_waits_in_the_next_pause() -> None:
    """A negative loss (the device threw away more than it waited): the next quiet stretch gets longer."""
    tl = compiled(BODY, rate=RATE)
    player = Player(tl)
    out = np.zeros(tl.length + RATE, dtype=np.float32)
    player.fill(out[:RATE])
    player.fill(out[RATE:RATE + BLOCK], lost=-800)  # 800 frames of ours were dropped by the device
    i = RATE + BLOCK
    while i < len(out):
        player.fill(out[i:i + BLOCK])
        i += BLOCK
    assert player.catch_up.debt == 0 and player.catch_up.paid == -800
    device = np.concatenate((out[:RATE - 800], out[RATE:]))  # what it played: 800 frames before the call are gone
    late = errors(tl, device, after=tl.step_starts[2])
    assert all(abs(e) <= TOLERANCE for e in late), late


def test_quiet_stretches_leave_cues_and_gates_alone() -> None:
    tl = compiled(BODY, rate=RATE)
    quiet = QuietIndex.of(tl)
    assert quiet.starts, "a pause and the gaps between steps are quiet"
    for a, b in zip(quiet.starts, quiet.ends, strict=True):
        assert b - a >= MIN_QUIET_SECONDS * RATE
        assert not any(e.start < b and a < e.end for e in cues(tl))
    assert quiet.find(tl.step_starts[1] + RATE) >= 0, "inside the pause"
    assert quiet.find(cues(tl)[0].start + 10) == -1, "inside speech"


def test_a_pause_absorbs_what_was_owed() -> None:
    tl = compiled(BODY, rate=RATE)
    player = Player(tl)
    block = np.zeros(BLOCK, dtype=np.float32)
    player.fill(block)
    player.fill(block, lost=400)
    assert player.catch_up.debt == 400
    player.controls.put(Command.PAUSE)
    for _ in range(40):
        player.fill(block)
    assert player.catch_up.debt == 0

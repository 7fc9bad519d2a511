"""The listen window opens where the person hears the cue end, not where the microphone's buffers stand.

Through real streams the output plays the gate's frame some time after the player reaches it, and the microphone
delivers a sound some time after it reaches the converter; the window's mark, taken as what the microphone had
delivered when the player reached the gate, was early by both (0.06-0.20 s through ALSA's ``pulse`` device
here, docs/benchmarks.md). With both streams' PortAudio time stamps, the mark is the microphone sample recorded
as the gate was heard. Fake clock; the fake microphone stamps each block with its place in time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from tests.listen.test_capture import RATE, said
from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.listen.answers import window_mark
from voiceguide.listen.capture import BEFORE, capture_answer
from voiceguide.listen.shared_input import SharedInput
from voiceguide.listen.vad import EndReason
from voiceguide.seams import Samples

BUFFERED = 0.3
"""How long after a sound reaches the fake microphone it is delivered (its buffers and the output's)."""


class StampedInput(FakeInput):
    """A fake microphone that says, like PortAudio's ``inputBufferAdcTime``, when each block was recorded: the
    stream time is fake time, and a block is delivered :data:`BUFFERED` after it was recorded."""

    block_time: float | None = None

    @contextmanager
    def open(self, sample_rate: int, deliver: Callable[[Samples], None]) -> Iterator[object]:
        def stamped(block: Samples) -> None:
            self.block_time = self.delivered / sample_rate - len(block) / sample_rate - BUFFERED
            deliver(block)

        with super().open(sample_rate, stamped) as stream:
            yield stream


def test_the_mark_is_the_sample_recorded_when_the_gate_is_heard() -> None:
    clock = FakeClock()
    mic = SharedInput(StampedInput(clock, blocksize=320))
    with mic.held(RATE):
        clock.wait(threading.Event(), 3.0)
        heard = mic.heard
        assert heard is not None
        # delivered so far: what was recorded up to 2.7 s; the gate will be heard at 3.1 s
        assert mic.heard_at(3.1) == pytest.approx(heard + round(0.4 * RATE), abs=1)
        assert window_mark(mic, 3.1) == mic.heard_at(3.1)


def test_without_time_stamps_or_with_stamps_that_disagree_the_mark_is_what_was_delivered() -> None:
    clock = FakeClock()
    plain = SharedInput(FakeInput(clock, blocksize=320))
    with plain.held(RATE):
        clock.wait(threading.Event(), 1.0)
        assert plain.heard_at(1.0) is None
        assert window_mark(plain, 1.0) == plain.heard
    stamped = SharedInput(StampedInput(clock, blocksize=320))
    with stamped.held(RATE):
        clock.wait(threading.Event(), 1.0)
        assert window_mark(stamped, None) == stamped.heard
        assert window_mark(stamped, clock.now + 60.0) == stamped.heard  # another clock: not believed


@pytest.mark.parametrize("start", [-0.5, 0.0, 0.5])
def test_an_answer_is_placed_from_where_the_cue_was_heard(start: float) -> None:
    # the gate is heard at 3.0 s of stream time; the microphone has then delivered only what was recorded up to
    # 2.7 s (its recording is delivered BUFFERED late: the sound at 3.0 s is 3.3 s into it)
    clock = FakeClock()
    mic = SharedInput(StampedInput(clock, said(3.0 + BUFFERED + start, 2.0, 8.0), blocksize=320))
    with mic.held(RATE):
        clock.wait(threading.Event(), 3.0)
        since = window_mark(mic, 3.0)
        assert since is not None and mic.heard is not None and since > mic.heard
        answer = capture_answer(mic, clock, timeout=6.0, trailing_silence=1.2, before=BEFORE, since=since)
    assert answer is not None and answer.ended_by is EndReason.SILENCE
    # counted from what was delivered at the gate, it would be start + BUFFERED
    assert answer.offset + answer.speech_start == pytest.approx(start, abs=0.03)
    onset = round(answer.speech_start * RATE)
    assert answer.speech_start >= 0.25  # the pre-roll is there
    assert np.abs(answer.clip.samples[onset:onset + 800]).max() > 0.1


def test_the_timeout_counts_from_where_the_cue_was_heard() -> None:
    # speech 2.2 s after the gate is heard, with a 2.0 s timeout: none
    clock = FakeClock()
    mic = SharedInput(StampedInput(clock, said(5.2 + BUFFERED, 1.0, 8.0), blocksize=320))
    with mic.held(RATE):
        clock.wait(threading.Event(), 3.0)
        assert capture_answer(mic, clock, timeout=2.0, before=0.5, since=window_mark(mic, 3.0)) is None
    # and 1.8 s after it is kept
    clock = FakeClock()
    mic = SharedInput(StampedInput(clock, said(4.8 + BUFFERED, 1.0, 8.0), blocksize=320))
    with mic.held(RATE):
        clock.wait(threading.Event(), 3.0)
        answer = capture_answer(mic, clock, timeout=2.0, before=0.5, since=window_mark(mic, 3.0))
    assert answer is not None and answer.offset + answer.speech_start == pytest.approx(1.8, abs=0.03)

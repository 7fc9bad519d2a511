"""capture_answer with a fake microphone on the fake clock: minutes of listening in milliseconds."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.errors import AudioUnavailable, MicrophoneSilent
from voiceguide.listen.capture import PRE_ROLL, capture_answer
from voiceguide.listen.vad import EndReason
from voiceguide.seams import Samples

RATE = 16000


def room(seconds: float, seed: int = 0) -> Samples:
    return np.random.default_rng(seed).normal(0.0, 0.001, int(seconds * RATE)).astype(np.float32)


def voice(seconds: float) -> Samples:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.2 * np.sin(2 * np.pi * 170 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def said(before: float, speech: float, after: float) -> Samples:
    signal = np.concatenate([room(before), voice(speech), room(after, 1)])
    signal[int(before * RATE):int((before + speech) * RATE)] += room(speech, 2)[:int(speech * RATE)]
    return signal


def test_answer_is_cut_around_the_speech_with_pre_roll() -> None:
    clock = FakeClock()
    mic = FakeInput(clock, said(2.0, 3.0, 5.0))
    answer = capture_answer(mic, clock, timeout=8.0, trailing_silence=1.2)
    assert answer is not None
    assert answer.ended_by is EndReason.SILENCE
    assert answer.offset + answer.speech_start == pytest.approx(2.0, abs=0.03)
    assert answer.offset + answer.speech_end == pytest.approx(5.0, abs=0.03)
    assert answer.speech_start == pytest.approx(PRE_ROLL, abs=0.001)
    assert answer.clip.seconds == pytest.approx(3.0 + 0.6, abs=0.05)
    assert answer.clip.sample_rate == RATE
    # the clip holds the actual audio: silence, then the voice starting at speech_start
    start = round(answer.speech_start * RATE)
    assert np.abs(answer.clip.samples[:start - 480]).max() < 0.01 < np.abs(answer.clip.samples[start:start + 800]).max()
    # it stopped listening once the trailing silence had passed, and closed the microphone
    assert clock.now == pytest.approx(5.0 + 1.2, abs=0.3)
    assert not mic.is_open and mic.opened == 1


def test_a_minute_long_answer_is_limited_and_fast_to_test() -> None:
    clock = FakeClock()
    began = time.perf_counter()
    answer = capture_answer(FakeInput(clock, said(1.0, 90.0, 2.0)), clock, timeout=5.0, limit=60.0)
    assert time.perf_counter() - began < 2.0
    assert answer is not None and answer.ended_by is EndReason.LIMIT
    assert answer.speech_end - answer.speech_start == pytest.approx(60.0, abs=0.05)
    assert clock.now == pytest.approx(61.0, abs=0.3)


def test_nobody_speaks_times_out_with_none() -> None:
    clock = FakeClock()
    assert capture_answer(FakeInput(clock, room(30.0)), clock, timeout=6.0) is None
    assert clock.now == pytest.approx(6.0, abs=0.3)


def test_muted_microphone_all_zeros_times_out_and_says_so() -> None:
    clock = FakeClock()
    with pytest.raises(MicrophoneSilent, match="no sound at all came from the microphone in 60 s; it may be muted"):
        capture_answer(FakeInput(clock, None, then="silence"), clock, timeout=60.0)
    assert clock.now == pytest.approx(60.0, abs=0.3)


def test_dead_microphone_delivering_nothing_times_out_and_says_so() -> None:
    clock = FakeClock()
    mic = FakeInput(clock, None, then="nothing")
    with pytest.raises(MicrophoneSilent, match="sent no audio in 10 s"):
        capture_answer(mic, clock, timeout=10.0)
    assert mic.delivered == 0
    assert clock.now == pytest.approx(10.0, abs=0.3)


def test_a_single_faint_sample_is_not_taken_for_a_muted_microphone() -> None:
    clock = FakeClock()
    audio = np.zeros(RATE * 2, dtype=np.float32)
    audio[RATE] = 1e-4  # one LSB-sized sample: a live, very quiet microphone
    assert capture_answer(FakeInput(clock, audio), clock, timeout=6.0) is None


def test_microphone_dying_mid_answer_keeps_what_was_said() -> None:
    clock = FakeClock()
    mic = FakeInput(clock, np.concatenate([room(1.0), voice(2.0)]), then="nothing")
    answer = capture_answer(mic, clock, timeout=8.0)
    assert answer is not None and answer.ended_by is EndReason.INPUT_STOPPED
    assert answer.speech_end - answer.speech_start == pytest.approx(2.0, abs=0.05)


def test_speech_right_after_the_timeout_is_not_taken() -> None:
    clock = FakeClock()
    assert capture_answer(FakeInput(clock, said(4.0, 2.0, 2.0)), clock, timeout=3.0) is None


def test_unavailable_microphone_raises() -> None:
    clock = FakeClock()
    with pytest.raises(AudioUnavailable):
        capture_answer(FakeInput(clock, unavailable=True), clock)


# An answer begun as the cue ends: the microphone is held open (as in a session that asks questions), the
# window opens at 3 s, and the person starts 0.5 s before it, at it, or 0.5 s after it.
@pytest.mark.parametrize("start", [-0.5, 0.0, 0.5])
def test_an_answer_begun_around_the_window_opening_is_kept_from_its_first_word(start: float) -> None:
    from voiceguide.listen.capture import BEFORE
    from voiceguide.listen.shared_input import SharedInput

    clock = FakeClock()
    opens = 3.0
    mic = SharedInput(FakeInput(clock, said(opens + start, 2.0, 6.0), blocksize=320))
    with mic.held(RATE):
        clock.wait(threading.Event(), opens)  # the question and its cue play
        answer = capture_answer(mic, clock, timeout=6.0, trailing_silence=1.2, before=BEFORE)
    assert answer is not None and answer.ended_by is EndReason.SILENCE
    assert answer.offset + answer.speech_start == pytest.approx(start, abs=0.03)
    assert answer.offset + answer.speech_end == pytest.approx(start + 2.0, abs=0.03)
    onset = round((answer.speech_start) * RATE)
    assert np.abs(answer.clip.samples[onset:onset + 800]).max() > 0.1  # the first word is in the clip


# The listener may open the microphone well after the window opened (a busy machine, a thread that starts
# late, PulseAudio holding callbacks back): the look-back counts from the window's moment on the
# microphone's clock, so the delay costs nothing. Counted from the opening, a 1.2 s delay lost the first
# 0.7-1.2 s of these answers.
@pytest.mark.parametrize("start", [-0.5, 0.0, 0.5])
@pytest.mark.parametrize("late", [0.3, 1.2, 2.5])
def test_an_answer_is_kept_whole_however_late_the_listener_opens(start: float, late: float) -> None:
    from voiceguide.listen.capture import BEFORE
    from voiceguide.listen.shared_input import SharedInput

    clock = FakeClock()
    opens = 3.0
    mic = SharedInput(FakeInput(clock, said(opens + start, 3.0, 8.0), blocksize=320))
    with mic.held(RATE):
        clock.wait(threading.Event(), opens)  # the question and its cue play
        since = mic.heard
        assert since == round(opens * RATE)
        clock.wait(threading.Event(), late)  # the listener gets going only now
        answer = capture_answer(mic, clock, timeout=6.0, trailing_silence=1.2, before=BEFORE, since=since)
    assert answer is not None and answer.ended_by is EndReason.SILENCE
    assert answer.offset + answer.speech_start == pytest.approx(start, abs=0.03)
    assert answer.offset + answer.speech_end == pytest.approx(start + 3.0, abs=0.03)
    onset = round(answer.speech_start * RATE)
    assert answer.speech_start >= 0.25  # the pre-roll is there too
    assert np.abs(answer.clip.samples[onset:onset + 800]).max() > 0.1  # the first word is in the clip


def test_the_timeout_counts_from_the_window_not_from_a_late_listener() -> None:
    from voiceguide.listen.shared_input import SharedInput

    clock = FakeClock()
    mic = SharedInput(FakeInput(clock, said(5.6, 1.0, 8.0), blocksize=320))  # 2.6 s into a 2 s window
    with mic.held(RATE):
        clock.wait(threading.Event(), 3.0)
        since = mic.heard
        clock.wait(threading.Event(), 1.0)
        assert capture_answer(mic, clock, timeout=2.0, before=0.5, since=since) is None


def test_sound_that_ended_before_the_window_opened_is_not_an_answer() -> None:
    from voiceguide.listen.capture import BEFORE
    from voiceguide.listen.shared_input import SharedInput

    clock = FakeClock()
    cue = said(2.6, 0.35, 0.05)  # a chime heard by the microphone, over just before the window opens
    mic = SharedInput(FakeInput(clock, np.concatenate([cue, said(1.5, 1.5, 5.0)]), blocksize=320))
    with mic.held(RATE):
        clock.wait(threading.Event(), 3.0)
        answer = capture_answer(mic, clock, timeout=8.0, trailing_silence=1.2, before=BEFORE)
    assert answer is not None
    assert answer.offset + answer.speech_start > 1.0  # the real answer, not the chime


def test_the_endpointer_can_start_in_speech() -> None:
    clock = FakeClock()
    mic = FakeInput(clock, said(0.0, 2.0, 4.0))
    answer = capture_answer(mic, clock, timeout=6.0, trailing_silence=1.2)
    assert answer is not None and answer.offset + answer.speech_start == pytest.approx(0.0, abs=0.03)

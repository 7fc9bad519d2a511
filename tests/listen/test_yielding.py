"""The person's speech over the session's own voice: counted above the voice's echo, never the echo itself."""

from __future__ import annotations

import numpy as np
import pytest

from tests.listen.test_capture import RATE, room, voice
from voiceguide.listen.yielding import ECHO_MARGIN_DB, SpeechOverVoice, measure_echo


def echoed(seconds: float, gain: float, seed: int = 3) -> np.ndarray:
    """The session's voice as a microphone across the room hears it: quieter, smeared by the room."""
    rng = np.random.default_rng(seed)
    dry = voice(seconds) * gain
    tail = np.exp(-np.arange(int(0.05 * RATE)) / (0.015 * RATE)) * rng.normal(0, 1, int(0.05 * RATE))
    wet = np.convolve(dry, tail / np.sqrt(np.sum(tail * tail)))[:len(dry)]  # as loud as it was, smeared
    return (wet + room(seconds, seed)).astype(np.float32)


def feed(detector: SpeechOverVoice, audio: np.ndarray, block: int = 1600) -> int | None:
    for i in range(0, len(audio), block):
        onset = detector.feed(audio[i:i + block])
        if onset is not None:
            return onset
    return None


@pytest.mark.parametrize("gain", [0.05, 0.2, 1.0])
def test_the_sessions_own_voice_is_never_taken_for_the_person(gain: float) -> None:
    question = np.concatenate([echoed(2.5, gain), room(0.5)])  # the question's echo, then the cue's quiet
    detector = SpeechOverVoice(measure_echo(question, RATE), RATE)
    thanks = np.concatenate([room(0.2, 5), echoed(1.0, gain, 7), room(1.0, 6)])
    assert feed(detector, thanks) is None


@pytest.mark.parametrize("gain", [0.0, 0.05])
def test_the_person_speaking_over_the_thanks_is_heard_within_a_fifth_of_a_second(gain: float) -> None:
    question = np.concatenate([echoed(2.5, gain) if gain else room(2.5), room(0.5)])
    echo = measure_echo(question, RATE)
    detector = SpeechOverVoice(echo, RATE)
    person = voice(1.5) * 0.8  # nearer the microphone than the speaker is
    thanks = np.concatenate([room(0.2, 5) + (echoed(0.2, gain, 7) if gain else 0), room(1.5, 6)])
    thanks[int(0.4 * RATE):int(0.4 * RATE) + len(person)] += person[:len(thanks) - int(0.4 * RATE)]
    onset = feed(detector, thanks)
    assert onset is not None
    assert 0.38 <= onset / RATE <= 0.42  # where the person began (detected 0.12 s of speech later)


def test_a_click_is_not_speech() -> None:
    detector = SpeechOverVoice(measure_echo(room(3.0), RATE), RATE)
    thanks = room(1.0, 4)
    thanks[8000:8000 + 320] += 0.5  # one loud frame
    assert feed(detector, thanks) is None


def test_the_margin_is_over_the_echo_not_the_floor() -> None:
    loud = measure_echo(echoed(3.0, 0.5), RATE)
    quiet = measure_echo(room(3.0), RATE)
    assert loud.threshold_db == pytest.approx(loud.voice_db + ECHO_MARGIN_DB)
    assert quiet.threshold_db < loud.threshold_db - 20

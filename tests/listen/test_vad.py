"""Endpointing on arrays: synthetic bursts for the rules, LibriVox speech in noise for accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from voiceguide.listen.vad import Endpointer, EndReason, EventKind, VadConfig, VadEvent
from voiceguide.seams import Samples

RATE = 16000
SPEECH_SPANS = {
    "0870": (0.235689, 6.761690), "0880": (0.250750, 2.773918), "0890": (0.260118, 5.056508),
    "0920": (0.245997, 5.812651), "0930": (0.269115, 3.036561),
}
"""Where speech starts and ends in each LibriVox clip (seconds), from the ``.lab`` files in pocketsphinx's archive."""


def noise(seconds: float, rms: float, seed: int = 0) -> Samples:
    return np.random.default_rng(seed).normal(0.0, rms, int(seconds * RATE)).astype(np.float32)


def burst(seconds: float, amplitude: float = 0.2, pitch: float = 180.0) -> Samples:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * pitch * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


def run(signal: Samples, config: VadConfig | None = None, block: int = 1600) -> list[VadEvent]:
    ep = Endpointer(config)
    events: list[VadEvent] = []
    for i in range(0, len(signal), block):
        events += ep.feed(signal[i:i + block])
    return events


def test_speech_in_quiet_room_starts_and_ends_near_truth() -> None:
    signal = np.concatenate([noise(1.0, 0.001), burst(2.0), noise(3.0, 0.001, 1)])
    signal[RATE:3 * RATE] += noise(2.0, 0.001, 2)
    events = run(signal)
    assert [e.kind for e in events] == [EventKind.STARTED, EventKind.ENDED]
    assert abs(events[0].sample - RATE) <= 0.03 * RATE
    assert abs(events[1].sample - 3 * RATE) <= 0.03 * RATE
    assert events[1].reason is EndReason.SILENCE


def test_trailing_silence_is_configurable_and_short_gaps_do_not_end() -> None:
    gap = noise(0.8, 0.001, 3)
    signal = np.concatenate([noise(0.5, 0.001), burst(1.0), gap, burst(1.0), noise(3.0, 0.001, 4)])
    long_wait = run(signal, VadConfig(trailing_silence=1.2))
    assert [e.kind for e in long_wait] == [EventKind.STARTED, EventKind.ENDED]
    assert long_wait[1].sample == pytest.approx(3.3 * RATE, abs=0.03 * RATE)
    short_wait = run(signal, VadConfig(trailing_silence=0.5))
    assert short_wait[1].sample == pytest.approx(1.5 * RATE, abs=0.03 * RATE)


def test_the_end_event_comes_only_after_the_trailing_silence() -> None:
    ep = Endpointer(VadConfig(trailing_silence=1.0))
    assert [e.kind for e in ep.feed(np.concatenate([noise(0.5, 0.001), burst(1.0)]))] == [EventKind.STARTED]
    assert ep.feed(noise(0.9, 0.001)) == []
    assert [e.kind for e in ep.feed(noise(0.2, 0.001))] == [EventKind.ENDED]
    assert ep.finished and ep.feed(burst(1.0)) == []


def test_silence_times_out_and_so_does_a_dead_microphone() -> None:
    for signal in (noise(10.0, 0.002), np.zeros(10 * RATE, dtype=np.float32)):
        events = run(signal, VadConfig(timeout=4.0))
        assert [e.kind for e in events] == [EventKind.TIMED_OUT]
        assert events[0].reason is EndReason.TIMEOUT
        assert events[0].sample == 4 * RATE


def test_faint_hum_on_a_muted_microphone_is_not_speech() -> None:
    signal = np.concatenate([np.zeros(RATE, dtype=np.float32), burst(2.0, amplitude=0.0005)])
    assert [e.kind for e in run(signal, VadConfig(timeout=2.5))] == [EventKind.TIMED_OUT]


def test_a_click_is_not_the_start_of_speech() -> None:
    signal = noise(3.0, 0.001)
    signal[RATE:RATE + 160] += 0.5
    assert [e.kind for e in run(signal, VadConfig(timeout=2.5))] == [EventKind.TIMED_OUT]


def test_noise_floor_adapts_to_steady_noise_after_a_loud_start() -> None:
    ep = Endpointer()
    ep.feed(noise(0.02, 0.05))  # the first frame sets the floor high
    ep.feed(noise(2.0, 0.002, 5))
    assert ep.noise_floor_db is not None and ep.noise_floor_db < -45.0
    assert ep.start is None


def test_limit_cuts_a_long_answer() -> None:
    events = run(np.concatenate([noise(0.5, 0.001), burst(10.0)]), VadConfig(limit=3.0))
    assert events[-1].kind is EventKind.ENDED and events[-1].reason is EndReason.LIMIT
    assert events[-1].sample - events[0].sample == 3 * RATE


def test_odd_block_sizes_give_the_same_events() -> None:
    signal = np.concatenate([noise(1.0, 0.001), burst(1.5), noise(2.0, 0.001, 6)])
    assert run(signal, block=1600) == run(signal, block=333) == run(signal, block=RATE * 5)


def test_librivox_speech_in_noise() -> None:
    """Start and end errors on five read sentences at several signal-to-noise ratios (white noise).

    Truth is ``SPEECH_SPANS``. Measured figures are in docs/benchmarks.md.
    """
    from tests.speech_data import librivox_or_skip

    rng = np.random.default_rng(0)
    errors: dict[str, list[tuple[float, float]]] = {}
    for clip in librivox_or_skip():
        audio = sf.read(clip.path, dtype="float32")[0]
        onset, offset = SPEECH_SPANS[clip.name[-4:]]
        speech = audio[int(onset * RATE):int(offset * RATE)]
        room = np.concatenate([audio[:int(onset * RATE) - 800], audio[int(offset * RATE) + 800:]])
        speech_rms, room_rms = float(np.sqrt(np.mean(speech**2))), float(np.sqrt(np.mean(room**2)))
        for label, snr in (("clean", None), ("30 dB", 30.0), ("20 dB", 20.0), ("10 dB", 10.0)):
            rms = room_rms if snr is None else max(room_rms, speech_rms / 10 ** (snr / 20))
            signal = np.concatenate([np.zeros(2 * RATE, np.float32), audio, np.zeros(3 * RATE, np.float32)])
            signal += rng.normal(0.0, rms, len(signal)).astype(np.float32)
            events = run(signal)
            assert [e.kind for e in events] == [EventKind.STARTED, EventKind.ENDED], (clip.name, label)
            errors.setdefault(label, []).append((events[0].sample / RATE - 2 - onset,
                                                 events[1].sample / RATE - 2 - offset))
    for label, pairs in errors.items():
        starts, ends = np.array(pairs).T
        print(f"{label}: start error mean {1000 * starts.mean():+.0f} ms, worst {1000 * np.abs(starts).max():.0f} ms;"
              f" end error mean {1000 * ends.mean():+.0f} ms, worst {1000 * np.abs(ends).max():.0f} ms")
        # the pre-roll (0.3 s) and post-roll (0.3 s) must cover the errors
        assert starts.max() < 0.3 and ends.min() > -0.3, label

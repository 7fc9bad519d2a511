"""Golden render tests: each clip lands at exactly its start sample, and chunked mixing equals one-shot."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.helpers import compiled
from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Event, Timeline
from voiceguide.seams import Samples

# Non-overlapping audible events: speech lines (gap after each), a chime, pacing tones only.
BODY = ('[[step]]\nchime = "soft-bell"\n'
        '[[step]]\nsay = "Welcome to a short practice."\nvolume = 0.5\n'
        '[[step]]\npause = 0.5\n'
        '[[step]]\nbreathe = { inhale = 1.3, hold = 0.6, exhale = 1.7, rest = 0.5 }\ncycles = 2\ncue = "tone"\n'
        '[[step]]\nchime = "bell"\nvolume = 0.7\n'
        '[[step]]\nsay = "Thank you."\n')


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return compiled(BODY, rate=8000)


@pytest.fixture(scope="module")
def rendered(timeline: Timeline) -> Samples:
    return Mixer(timeline).render()


def expected_clip(timeline: Timeline, ev: Event) -> Samples:
    clip = timeline.clips[ev.clip or 0]
    return clip if ev.gain == 1.0 else (clip * np.float32(ev.gain)).astype(np.float32)


def test_events_do_not_overlap(timeline: Timeline) -> None:
    audible = timeline.audible()
    assert {e.kind for e in audible} == {"speech", "chime", "tone"}
    for a, b in itertools.pairwise(audible):
        assert a.end <= b.start


def test_each_clip_is_at_exactly_its_start_sample(timeline: Timeline, rendered: Samples) -> None:
    assert rendered.dtype == np.float32
    assert len(rendered) == timeline.length
    for ev in timeline.audible():
        want = expected_clip(timeline, ev)
        assert len(want) == ev.end - ev.start
        assert np.abs(want).max() > 0.01  # a shifted clip could not match
        np.testing.assert_array_equal(rendered[ev.start:ev.end], want, err_msg=f"{ev.kind} at {ev.start}")


def test_a_clip_one_sample_off_would_be_caught(timeline: Timeline, rendered: Samples) -> None:
    ev = timeline.audible()[1]
    want = expected_clip(timeline, ev)
    assert not np.array_equal(rendered[ev.start + 1:ev.end + 1], want)
    assert not np.array_equal(rendered[ev.start - 1:ev.end - 1], want)


def test_silence_where_nothing_plays(timeline: Timeline, rendered: Samples) -> None:
    covered = np.zeros(timeline.length, dtype=bool)
    for ev in timeline.audible():
        covered[ev.start:ev.end] = True
    assert not covered.all()
    assert (~covered).sum() > 8000  # the pause, the speech gaps and the rests
    assert np.all(rendered[~covered] == 0.0)
    pause = next(e for e in timeline.events if e.kind == "pause")
    assert np.all(rendered[pause.start:pause.end] == 0.0)


@pytest.mark.parametrize("block", [7, 1000, 4096, 65536, 100_003])
def test_chunked_mix_equals_render(timeline: Timeline, rendered: Samples, block: int) -> None:
    mixer = Mixer(timeline)
    out = np.full(timeline.length, 9.0, dtype=np.float32)  # stale data must be overwritten
    for start in range(0, timeline.length, block):
        mixer.mix_into(start, out[start:start + block])
    np.testing.assert_array_equal(out, rendered)


def test_irregular_blocks_equal_render(timeline: Timeline, rendered: Samples) -> None:
    mixer = Mixer(timeline)
    rng = np.random.default_rng(7)
    out = np.empty(timeline.length, dtype=np.float32)
    start = 0
    while start < timeline.length:
        n = int(rng.integers(1, 5000))
        mixer.mix_into(start, out[start:start + n])
        start += n
    np.testing.assert_array_equal(out, rendered)


def test_single_samples_around_every_boundary(timeline: Timeline, rendered: Samples) -> None:
    mixer = Mixer(timeline)
    one = np.empty(1, dtype=np.float32)
    for ev in timeline.audible():
        for edge in (ev.start, ev.end):
            for pos in range(max(0, edge - 20), min(timeline.length, edge + 20)):
                mixer.mix_into(pos, one)
                assert one[0] == rendered[pos], (ev.kind, pos)


def test_beyond_the_end_is_silence(timeline: Timeline) -> None:
    out = np.ones(500, dtype=np.float32)
    Mixer(timeline).mix_into(timeline.length + 10, out)
    assert np.all(out == 0.0)


def hand_timeline() -> Timeline:
    up = np.linspace(0.1, 0.6, 100, dtype=np.float32)
    spike = np.array([0.9, -0.9, 0.9], dtype=np.float32)
    events = (
        Event("speech", 10, 110, 1, 0, 1.0, "a"),
        Event("tone", 60, 160, 1, 0, 0.5),
        Event("chime", 150, 153, 2, 1, 1.0, "spike"),
        Event("chime", 151, 154, 2, 1, 1.0, "spike"),
        Event("phase", 0, 200, 1, None, 1.0, phase="inhale"),  # markers are silent
    )
    return Timeline(1000, events, (up, spike), (0, 150), 200, "hand")


def test_overlapping_events_add_and_clip() -> None:
    tl = hand_timeline()
    up, spike = tl.clips
    want = np.zeros(200, dtype=np.float64)
    want[10:110] += up
    want[60:160] += up * np.float32(0.5)
    want[150:153] += spike
    want[151:154] += spike
    want = np.clip(want, -1.0, 1.0)
    got = Mixer(tl).render()
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got.max() == 1.0  # the spike on top of the tone is clipped
    assert np.all(got[:10] == 0.0) and np.all(got[160:] == 0.0)
    for block in (1, 3, 17):
        out = np.empty(200, dtype=np.float32)
        m = Mixer(tl)
        for start in range(0, 200, block):
            m.mix_into(start, out[start:start + block])
        np.testing.assert_array_equal(out, got)


def test_no_audible_events_renders_silence() -> None:
    tl = Timeline(8000, (Event("pause", 0, 800, 1),), (), (0,), 800)
    out = Mixer(tl).render()
    assert len(out) == 800 and not out.any()

"""The compiler: every sound placed at an exact sample offset, breathing without drift."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import TWENTY_MINUTES, compiled, session_of
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.engine.compile import CUE_WORDS, DEFAULT_RATE, compile_session
from voiceguide.engine.timeline import AUDIBLE, Event, Timeline
from voiceguide.script.library import data_dir
from voiceguide.script.model import Breathe
from voiceguide.script.patterns import PATTERNS
from voiceguide.seams import SpeechParams
from voiceguide.sound import sounds


def kinds(timeline: Timeline, kind: str) -> list[Event]:
    return [e for e in timeline.events if e.kind == kind]


def fake_length(text: str, speech_rate: int, sample_rate: int) -> int:
    """How long FakeSpeaker's clip for ``text`` is once resampled to ``sample_rate``."""
    clip = FakeSpeaker().synthesize(text, SpeechParams(rate=speech_rate))
    return len(sounds.resample(sounds.normalize_speech(clip).samples, clip.sample_rate, sample_rate))


def test_say_is_placed_at_the_cursor_with_the_speech_gap() -> None:
    header = '[session]\ntitle = "T"\nspeech_gap = 0.5\n'
    tl = compiled('[[step]]\nsay = "Hello there."\n[[step]]\nsay = "Again."\n', rate=16000, header=header)
    first, second = kinds(tl, "speech")
    assert first.start == 0
    assert first.end - first.start == len(tl.clips[first.clip or 0])
    assert first.end - first.start == fake_length("Hello there.", DEFAULT_RATE, 16000)
    gap = 8000
    assert second.start == first.end + gap
    assert tl.length == second.end + gap
    assert tl.step_starts == (0, second.start)
    assert (first.text, second.text) == ("Hello there.", "Again.")
    assert (first.step, second.step) == (1, 2)


def test_speech_is_resampled_to_the_stream_rate() -> None:
    tl = compiled('[[step]]\nsay = "one two three four"\n', rate=48000)
    (ev,) = kinds(tl, "speech")
    fake_seconds = FakeSpeaker.seconds("one two three four", SpeechParams(rate=DEFAULT_RATE))
    assert abs((ev.end - ev.start) - fake_seconds * 48000) <= 3
    assert tl.clips[ev.clip or 0].dtype == np.float32


def test_pause_length_is_exact() -> None:
    tl = compiled('[[step]]\npause = 1.23456\n[[step]]\npause = 0.5\n', rate=44100)
    a, b = kinds(tl, "pause")
    assert (a.start, a.end) == (0, round(1.23456 * 44100))
    assert (b.start, b.end) == (a.end, a.end + 22050)
    assert tl.length == b.end
    assert tl.audible() == []


def test_chime_length_is_the_sound_length() -> None:
    tl = compiled('[[step]]\npause = 1\n[[step]]\nchime = "bell"\nvolume = 0.5\n[[step]]\npause = 1\n', rate=22050)
    (ev,) = kinds(tl, "chime")
    expected = sounds.load(data_dir("audio") / "bell.wav", 22050)
    assert ev.start == 22050
    assert ev.end - ev.start == len(expected)
    np.testing.assert_array_equal(tl.clips[ev.clip or 0], expected)
    assert ev.gain == 0.5
    assert ev.text == "bell"
    assert tl.step_starts == (0, 22050, 22050 + len(expected))


def test_session_volume_scales_every_gain() -> None:
    header = '[session]\ntitle = "T"\nvolume = 0.5\n'
    tl = compiled('[[step]]\nsay = "a"\nvolume = 0.5\n[[step]]\nchime = "bell"\n'
                  '[[step]]\nbreathe = "box"\ncue = "both"\n', header=header)
    gains = {(e.kind, e.phase is not None): e.gain for e in tl.events if e.kind in AUDIBLE}
    # the line's own volume 0.5 times the session's 0.5; breath cues sit at 0.8 of the session volume
    assert gains == {("speech", False): 0.25, ("chime", False): 0.5, ("tone", True): 0.5, ("speech", True): 0.4}


def test_speech_params_follow_step_then_session_then_default(speaker: FakeSpeaker) -> None:
    header = '[session]\ntitle = "T"\nrate = 120\nlanguage = "nl"\nvoice = "anna"\n'
    session = session_of('[[step]]\nsay = "a"\n[[step]]\nsay = "b"\nrate = 90\nvolume = 0.3\n', header=header)
    compile_session(session, speaker, 8000)
    (_, pa), (_, pb) = speaker.calls
    assert (pa.rate, pa.volume, pa.language, pa.voice) == (120, 1.0, "nl", "anna")
    assert (pb.rate, pb.volume) == (90, 1.0)  # rendered at full volume; the line's volume is a mixing gain
    tl = compile_session(session, FakeSpeaker(), 8000)
    assert [e.gain for e in tl.events if e.kind == "speech"] == [1.0, 0.3]
    plain = FakeSpeaker()
    compile_session(session_of('[[step]]\nsay = "a"\n'), plain, 8000)
    assert plain.calls[0][1].rate == DEFAULT_RATE


def test_repeated_lines_are_synthesised_once(speaker: FakeSpeaker) -> None:
    body = '[[step]]\nsay = "Breathe."\n' * 5 + '[[step]]\nbreathe = "box"\ncycles = 10\ncue = "voice"\n'
    tl = compile_session(session_of(body), speaker, 8000)
    texts = [text for text, _ in speaker.calls]
    assert sorted(texts) == sorted(["Breathe.", "In", "Hold", "Out", "Rest"])
    assert len(tl.clips) == 5
    assert len(kinds(tl, "speech")) == 5 + 40


@pytest.mark.parametrize(("pattern", "rate"), [
    ({"inhale": 4.3, "exhale": 5.7}, 44100),
    ({"inhale": 1.1, "hold": 0.7, "exhale": 2.3, "rest": 0.55}, 44100),
    ({"inhale": 4.3, "exhale": 5.7}, 22050),
    ({"inhale": 3.33, "exhale": 4.44}, 48000),
])
def test_breathing_has_no_drift(pattern: dict[str, float], rate: int) -> None:
    inline = ", ".join(f"{k} = {v}" for k, v in pattern.items())
    body = f'[[step]]\nbreathe = {{ {inline} }}\ncycles = 100\ncue = "tone"\n[[step]]\npause = 1\n'
    tl = compiled(body, rate=rate)
    phases = kinds(tl, "phase")
    assert len(phases) == 100 * len(pattern)
    assert phases[0].start == 0
    for before, after in itertools.pairwise(phases):
        assert after.start == before.end  # contiguous: no gaps, no overlaps
    total = Fraction(100) * sum(Fraction(str(v)) for v in pattern.values())
    end = round(total * rate)
    assert phases[-1].end == end
    assert tl.step_starts == (0, end)
    assert tl.length == end + rate
    # every boundary is the exactly rounded cumulative time, so no phase is more than one sample off
    cum = Fraction(0)
    seconds = [Fraction(str(v)) for v in pattern.values()]
    for i, ev in enumerate(phases):
        assert ev.start == round(cum * rate)
        cum += seconds[i % len(seconds)]
        assert abs((ev.end - ev.start) - seconds[i % len(seconds)] * rate) <= 1


def test_bundled_fractional_pattern_has_no_drift() -> None:
    tl = compiled('[[step]]\nbreathe = "coherent"\ncycles = 100\ncue = "tone"\n', rate=44100)
    assert tl.length == round(100 * PATTERNS["coherent"].cycle_seconds * 44100)


@pytest.mark.parametrize(("cue", "speech", "tones"), [("voice", True, False), ("tone", False, True),
                                                       ("both", True, True)])
def test_cue_modes(cue: str, speech: bool, tones: bool) -> None:
    tl = compiled(f'[[step]]\nbreathe = "box"\ncycles = 2\ncue = "{cue}"\n', rate=8000)
    phases = kinds(tl, "phase")
    assert [p.phase for p in phases] == ["inhale", "hold", "exhale", "rest"] * 2
    assert [(p.start, p.end) for p in phases] == [(i * 32000, (i + 1) * 32000) for i in range(8)]
    spoken = kinds(tl, "speech")
    tone = kinds(tl, "tone")
    if speech:
        words = CUE_WORDS["en"]
        assert [(e.start, e.text, e.phase) for e in spoken] == [(p.start, words[p.phase or ""], p.phase)
                                                                 for p in phases]
        assert all(e.gain == pytest.approx(0.8) for e in spoken)
    else:
        assert spoken == []
    if tones:  # no tone on the silent rest
        assert [(e.start, e.end, e.phase) for e in tone] == [(p.start, p.end, p.phase) for p in phases
                                                             if p.phase != "rest"]
    else:
        assert tone == []


def test_pacing_tone_clips_match_their_phase() -> None:
    tl = compiled('[[step]]\nbreathe = "4-7-8"\ncue = "tone"\n', rate=8000)
    for ev in kinds(tl, "tone"):
        clip = tl.clips[ev.clip or 0]
        assert len(clip) == ev.end - ev.start
        np.testing.assert_array_equal(clip, sounds.pacing_tone(ev.phase or "", len(clip) / 8000, 8000))


def test_listen_speaks_the_prompt_then_waits() -> None:
    tl = compiled('[[step]]\nlisten = "How do you feel?"\ntimeout = 2.5\n[[step]]\npause = 1\n', rate=8000)
    (prompt,) = kinds(tl, "speech")
    (wait,) = kinds(tl, "listen")
    assert prompt.start == 0
    assert wait.start == prompt.end + round(0.6 * 8000)
    assert wait.end - wait.start == 20000
    assert tl.step_starts == (0, wait.end)


def test_step_starts_and_ordering() -> None:
    body = ('[[step]]\nchime = "soft-bell"\n[[step]]\nsay = "Welcome."\n[[step]]\npause = 2\n'
            '[[step]]\nbreathe = "box"\ncycles = 2\n[[step]]\nsay = "Bye."\n')
    tl = compiled(body, rate=8000)
    assert len(tl.step_starts) == 5
    assert list(tl.step_starts) == sorted(tl.step_starts)
    for number, start in enumerate(tl.step_starts, start=1):
        assert min(e.start for e in tl.events if e.step == number) == start
    assert [e.start for e in tl.events] == sorted(e.start for e in tl.events)
    assert tl.title == "Test"
    assert tl.seconds == tl.length / 8000


def test_progress_is_reported_per_step(speaker: FakeSpeaker) -> None:
    seen: list[tuple[int, int]] = []
    compile_session(session_of('[[step]]\npause = 1\n' * 3), speaker, 8000, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_timeline_json_shape(tmp_path: Path) -> None:
    tl = compiled('[[step]]\nsay = "Hi."\n[[step]]\nbreathe = "box"\ncue = "both"\n[[step]]\nchime = "bell"\n',
                  rate=8000)
    path = tmp_path / "t.json"
    tl.write_json(str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["sample_rate"] == 8000
    assert data["length"] == tl.length / 8000
    assert len(data["events"]) == len(tl.events)
    for item, ev in zip(data["events"], tl.events, strict=True):
        assert item["kind"] == ev.kind
        assert item["start"] == ev.start / 8000 and item["end"] == ev.end / 8000
        assert item["start_sample"] == ev.start and item["end_sample"] == ev.end
        assert ("text" in item) == (ev.kind == "speech")
        if ev.kind == "speech":
            assert item["text"] == ev.text


def test_twenty_minute_session_compiles_exactly() -> None:
    body = TWENTY_MINUTES
    tl = compiled(body, rate=8000)
    assert tl.seconds > 20 * 60
    session = session_of(body)
    breathe = session.steps[3].action
    assert isinstance(breathe, Breathe)
    assert tl.step_starts[4] - tl.step_starts[3] == round(50 * breathe.pattern.cycle_seconds * 8000)
    assert tl.step_starts[2] - tl.step_starts[1] == 40 * 16 * 8000

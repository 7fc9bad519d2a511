"""Recording a voice pack with fakes: the walk's keys, resuming, bad takes, a full disk, and the recorder's
endings (speech then quiet, nothing heard, a take that would run for half an hour) on the fake clock.

Takes are real human speech (a LibriVox clip from pocketsphinx's source archive) so trimming and loudness are
judged on a voice, not a tone.
"""

from __future__ import annotations

import errno
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voiceguide.backends import voice_pack
from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.engine.pack_lines import Line, session_lines
from voiceguide.live import record_walk
from voiceguide.live.record_walk import WalkIO, walk
from voiceguide.live.take_recorder import COUNT_IN, END_SILENCE, MAX_SECONDS, RATE, Recorded, TakeRecorder
from voiceguide.script import library, parse
from voiceguide.sound import sounds, takes

LINES = [Line("Hello, and welcome.", "line"), Line("Let your shoulders soften.", "line"),
         Line("Rest here a while.", "line")]


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    """A LibriVox clip at 48 kHz, with a second of quiet room before and after (as a microphone hears it)."""
    from tests.speech_data import librivox_or_skip

    clip = next(c for c in librivox_or_skip() if c.name.endswith("0880"))
    data, rate = sf.read(clip.path, dtype="float32")
    speech = sounds.resample(np.asarray(data, np.float32), int(rate), RATE) * 0.3
    room = np.random.default_rng(3).normal(0, 2e-4, RATE).astype(np.float32)
    return np.concatenate([room, speech, room]).astype(np.float32)


class Script:
    """Keys and takes for one walk, and everything it showed and played."""

    def __init__(self, keys: list[str], takes_: list[Recorded]) -> None:
        self.keys: Iterator[str] = iter(keys)
        self.takes: Iterator[Recorded] = iter(takes_)
        self.shown: list[str] = []
        self.played: list[np.ndarray] = []
        self.asked = 0

    def io(self) -> WalkIO:
        def ask(prompt: str, choices: str) -> str:
            self.asked += 1
            return next(self.keys)

        return WalkIO(ask=ask, show=self.shown.append, record=lambda: next(self.takes), play=self.played.append)


def _pack(tmp_path: Path) -> voice_pack.Pack:
    return voice_pack.open_pack("mine", tmp_path / "packs", create=True)


def test_keep_skip_and_stop_then_resume_where_left(tmp_path: Path, voice: np.ndarray) -> None:
    pack = _pack(tmp_path)
    run = Script(["", "k", "s", "q"], [Recorded(voice)])
    result = walk(pack, "s1", LINES, run.io())
    assert (result.kept, result.skipped, result.left, result.stopped) == (1, 1, 1, True)
    assert len(run.played) == 1 and len(run.played[0]) > RATE  # the take was played back before keeping
    again = voice_pack.open_pack("mine", tmp_path / "packs")  # from disk, as a later run sees it
    assert again.has(LINES[0].text) and not again.has(LINES[1].text)
    assert again.coverage("s1") == (1, 3)
    assert stat.S_IMODE(again.folder.stat().st_mode) == stat.S_IMODE(again.folder.parent.stat().st_mode) == 0o700
    for path in again.folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    resumed = Script(["", "k"], [Recorded(voice)])
    result = walk(again, "s1", LINES, resumed.io())
    assert [line for line in resumed.shown if line.startswith("[")] == [f"[1/1] {LINES[2].text}"]  # only what is left
    assert (result.kept, result.left) == (1, 0) and again.coverage("s1") == (2, 3)
    assert "Pack 'mine' now has 2 of 3 lines of s1." in resumed.shown


def test_a_kept_take_is_trimmed_and_at_the_synthetic_loudness(tmp_path: Path, voice: np.ndarray) -> None:
    pack = _pack(tmp_path)
    walk(pack, "s1", LINES[:1], Script(["", "k"], [Recorded(voice)]).io())
    stored = pack.load(LINES[0].text)
    assert stored is not None
    levels = takes.frame_levels(stored, RATE)
    first_loud = int(np.argmax(levels > levels.max() - 30)) * takes.FRAME
    assert first_loud <= 0.2  # a second of room before the voice, cut to at most 0.2 s
    assert len(stored) < len(voice) - RATE  # both quiet ends trimmed
    assert abs(takes.loudness(stored, RATE) - takes.TARGET_LUFS) <= 1.0


def test_silence_is_not_kept_and_says_why(tmp_path: Path, voice: np.ndarray) -> None:
    pack = _pack(tmp_path)
    quiet = np.random.default_rng(1).normal(0, 1e-4, 3 * RATE).astype(np.float32)
    run = Script(["", "", "k"], [Recorded(quiet, heard_speech=False), Recorded(voice)])
    result = walk(pack, "s1", LINES[:1], run.io())
    assert "Nothing was heard: is the microphone on and close by?" in run.shown
    assert result.kept == 1 and len(run.played) == 1  # the silent take was never played back nor kept


def test_a_clipped_take_is_named_and_can_be_redone(tmp_path: Path, voice: np.ndarray) -> None:
    pack = _pack(tmp_path)
    clipped = np.clip(voice * 20, -1.0, 1.0).astype(np.float32)
    run = Script(["", "r", "k"], [Recorded(clipped), Recorded(voice)])
    walk(pack, "s1", LINES[:1], run.io())
    about = [line for line in run.shown if line.startswith("About this take")]
    assert len(about) == 1 and "clipped (too loud)" in about[0]
    assert len(run.played) == 2 and pack.has(LINES[0].text)


def test_a_half_hour_take_is_dropped_with_a_message(tmp_path: Path, voice: np.ndarray) -> None:
    pack = _pack(tmp_path)
    walk(pack, "s1", LINES[:1], Script(["", "k"], [Recorded(voice)]).io())
    before = (pack.folder / f"{voice_pack.line_key(LINES[0].text)}.flac").read_bytes()
    run = Script(["", "s"], [Recorded(np.zeros(0, np.float32), too_long=True)])
    walk(pack, "s2", LINES[1:2], run.io())
    assert "That take ran past 2 minutes, so it was stopped and not kept." in run.shown
    assert (pack.folder / f"{voice_pack.line_key(LINES[0].text)}.flac").read_bytes() == before


def test_a_full_disk_loses_nothing_kept(tmp_path: Path, voice: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _pack(tmp_path)
    walk(pack, "s1", LINES, Script(["", "k", "q"], [Recorded(voice)]).io())
    kept = pack.take_path(voice_pack.line_key(LINES[0].text))
    kept_bytes, manifest = kept.read_bytes(), (pack.folder / voice_pack.MANIFEST).read_text()

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sf, "write", full)
    run = Script(["", "k"], [Recorded(voice)])
    result = walk(pack, "s1", LINES, run.io())
    assert result.stopped and result.kept == 0
    said = [line for line in run.shown if line.startswith("This take could not be saved")]
    assert len(said) == 1 and "No space left on device" in said[0] and "Every take kept before is safe" in said[0]
    assert kept.read_bytes() == kept_bytes
    assert (pack.folder / voice_pack.MANIFEST).read_text() == manifest
    assert not [p for p in pack.folder.iterdir() if p.name.endswith(".part")]  # no half-written file left
    assert voice_pack.open_pack("mine", tmp_path / "packs").coverage("s1") == (1, 3)


def test_unknown_keys_are_asked_again(tmp_path: Path, voice: np.ndarray) -> None:
    run = Script(["x", "", "?", "k"], [Recorded(voice)])
    assert walk(_pack(tmp_path), "s1", LINES[:1], run.io()).kept == 1
    assert run.asked == 4


def test_record_and_voices_say_which_lines_stay_synthetic(tmp_path: Path) -> None:
    session = parse.load(library.find("bedtime"))
    lines = session_lines(session)
    synthetic = [line for line in lines if not line.recordable]
    assert synthetic and all("how to stop" in line.note for line in synthetic)
    assert any(line.kind == "affirmation" for line in lines)
    intro = record_walk.intro(lines, _pack(tmp_path), "bedtime")
    assert any("will always be spoken by the synthetic voice" in text for text in intro)


# --- the recorder on the fake clock ---------------------------------------------------------------------------

def test_the_recorder_stops_after_speech_and_a_pause(voice: np.ndarray) -> None:
    clock = FakeClock()
    count_in = np.zeros(int(COUNT_IN * 0.6 * RATE), np.float32)  # the person reads once the count is done
    mic = FakeInput(clock, np.concatenate([count_in, voice]), sample_rate=RATE, blocksize=RATE // 10)
    beats: list[int] = []
    with TakeRecorder(mic, clock, beat=beats.append) as recorder:
        recorded = recorder.record()
    assert beats == [3, 2, 1] and recorded.heard_speech and not recorded.too_long
    speech_end = len(voice) - RATE  # the room after the voice is one second long
    assert speech_end / RATE < len(recorded.samples) / RATE <= len(voice) / RATE + END_SILENCE


def test_a_thirty_minute_take_stops_at_the_limit(voice: np.ndarray) -> None:
    clock = FakeClock()
    speech = voice[RATE:-RATE]
    talk = np.tile(speech, int(30 * 60 * RATE / len(speech)) + 1)  # half an hour of someone reading on
    mic = FakeInput(clock, talk, sample_rate=RATE, blocksize=RATE // 10)
    with TakeRecorder(mic, clock) as recorder:
        recorded = recorder.record()
    assert recorded.too_long and len(recorded.samples) == 0
    assert mic.delivered <= (MAX_SECONDS + 5) * RATE  # stopped at two minutes, never took the half hour in


def test_nothing_said_gives_up_after_the_wait() -> None:
    clock = FakeClock()
    mic = FakeInput(clock, np.zeros(0, np.float32), sample_rate=RATE, blocksize=RATE // 10)
    with TakeRecorder(mic, clock) as recorder:
        recorded = recorder.record()
    assert not recorded.heard_speech

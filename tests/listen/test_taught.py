"""Taught voice commands on arrays: features, time warping, the segmenter, the spotter behind the command
filter, the store on disk, the teaching flow with a fake microphone, and the choice of spotter by language.

The "words" are synthetic (sequences of harmonic tones at chosen pitches), so these tests need no voice and
no luck: a word said slower or faster is the same sequence stretched, another word is another sequence."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.taught_match import THRESHOLD_FLOOR, THRESHOLD_SCALE, Matcher, distance, features, threshold
from voiceguide.backends.taught_spotter import Segmenter, TaughtSpotter
from voiceguide.errors import BackendError, InputFileError
from voiceguide.listen import command_choice, taught_store
from voiceguide.listen.command_config import CommandConfig
from voiceguide.listen.taught_teach import Teacher, confusable, problem, teach
from voiceguide.listen.voice_commands import VoiceCommands
from voiceguide.playback.control import Command
from voiceguide.seams import Samples

RATE = 16000
PATTERNS = {"pauze": (220, 330, 180), "verder": (400, 260, 520), "stop": (150, 600)}


def word(name: str, stretch: float = 1.0, level: float = 0.2, seed: int = 0) -> Samples:
    """The synthetic word ``name``: a harmonic tone per part, each 0.15 s times ``stretch``."""
    rng = np.random.default_rng(seed)
    parts = []
    for f0 in PATTERNS[name]:
        t = np.arange(int(0.15 * stretch * RATE)) / RATE
        tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
        parts.append(tone * np.hanning(len(t)) ** 0.3)
    audio = np.concatenate(parts) * level / 2.0
    return (audio + rng.normal(0, 0.002, len(audio))).astype(np.float32)


def room(seconds: float, seed: int = 1) -> Samples:
    return np.random.default_rng(seed).normal(0.0, 0.001, int(seconds * RATE)).astype(np.float32)


def taught_takes() -> dict[str, list[np.ndarray]]:
    return {name: [features(word(name, s, seed=i)) for i, s in enumerate((0.9, 1.0, 1.1))] for name in PATTERNS}


def blocks(audio: Samples, size: int = 1600) -> list[Samples]:
    return [audio[i:i + size] for i in range(0, len(audio), size)]


def test_features_are_mean_normalised_frames_and_ignore_loudness() -> None:
    f = features(word("pauze"))
    assert f.shape[1] == 12 and 40 <= len(f) <= 50
    assert np.allclose(f.mean(axis=0), 0.0, atol=1e-4)
    assert distance(f, features(word("pauze") * 0.2)) < 0.1  # the same word, softer


def test_distance_is_zero_for_the_same_word_small_when_stretched_and_large_for_another() -> None:
    a = features(word("pauze"))
    assert distance(a, a) == pytest.approx(0.0, abs=0.01)
    same = distance(a, features(word("pauze", 1.3, seed=5)))
    other = distance(a, features(word("verder", seed=5)))
    assert same * 3 < other
    assert distance(a, features(word("verder"))) == pytest.approx(distance(features(word("verder")), a))
    assert distance(a[:5], a) == float("inf")  # more than twice as long: no path


def test_threshold_follows_the_spread_of_the_takes_with_a_floor() -> None:
    takes = taught_takes()["verder"]
    spread = float(np.mean([distance(a, b) for i, a in enumerate(takes) for b in takes[i + 1:]]))
    assert threshold(takes) == pytest.approx(max(THRESHOLD_FLOOR, THRESHOLD_SCALE * spread))
    assert threshold([takes[0], takes[0]]) == THRESHOLD_FLOOR


def test_matcher_accepts_a_new_saying_and_turns_down_a_word_never_taught() -> None:
    matcher = Matcher(taught_takes())
    for name in PATTERNS:
        assert matcher.match(word(name, 1.2, seed=9)).word == name
    hum = np.sin(2 * np.pi * 90 * np.arange(8000) / RATE).astype(np.float32) * 0.2
    result = matcher.match(hum)
    assert result.word is None and result.distance > result.threshold


def test_segmenter_finds_a_short_word_on_its_own_with_its_edges() -> None:
    audio = np.concatenate([room(1.0), word("pauze"), room(1.0)])
    seg = Segmenter()
    found = [s for b in blocks(audio) for s in seg.feed(b)]
    assert len(found) == 1 and found[0].word_like
    assert abs(found[0].start / RATE - 1.0) < 0.03 and abs(found[0].end / RATE - 1.45) < 0.05


def test_segmenter_turns_down_running_sound_and_a_word_right_after_other_sound() -> None:
    seg = Segmenter()
    long = np.concatenate([room(1.0), np.tile(word("verder"), 5), room(1.0)])
    found = [s for b in blocks(long) for s in seg.feed(b)]
    assert [s.word_like for s in found] == [False]
    seg = Segmenter()
    close = np.concatenate([room(1.0), word("verder"), room(0.4), word("stop"), room(1.0)])
    found = [s for b in blocks(close) for s in seg.feed(b)]
    assert [s.quiet_before for s in found] == [True, False]


def filter_with_taught() -> VoiceCommands:
    taught = taught_store.TaughtCommands("nl", {"pauze": Command.PAUSE, "verder": Command.RESUME,
                                                "stop": Command.STOP}, taught_takes())
    return VoiceCommands(command_choice.taught_config(CommandConfig(), taught),
                         spotter=TaughtSpotter(dict(taught.takes)))


def test_the_taught_spotter_behind_the_filter_gives_commands_soon_after_the_word() -> None:
    vc = filter_with_taught()
    audio = np.concatenate([room(1.5), word("pauze", 1.1, seed=3), room(1.5), word("verder", 0.9, seed=4),
                            room(1.5)])
    heard: list[tuple[Command, float]] = []
    fed = 0
    for b in blocks(audio):
        fed += len(b)
        heard += [(c, fed / RATE) for c in vc.feed(b)]
    assert [c for c, _ in heard] == [Command.PAUSE, Command.RESUME]
    pause_end = 1.5 + 0.45 * 1.1
    assert heard[0][1] - pause_end < 0.7  # within the 1 s promise, with room for the device


def test_the_taught_spotter_is_gated_while_the_session_speaks() -> None:
    vc = filter_with_taught()
    audio = np.concatenate([room(1.5), word("stop"), room(1.5)])
    assert [c for b in blocks(audio) for c in vc.feed(b, speaking=True)] == []


def test_store_keeps_takes_privately_and_reads_them_back(tmp_path: Path) -> None:
    taught = taught_store.TaughtCommands("nl", {"pauze": Command.PAUSE, "sla over": Command.SKIP},
                                         {"pauze": taught_takes()["pauze"], "sla over": taught_takes()["stop"]})
    path = taught_store.save(taught, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    back = taught_store.load("nl-NL", tmp_path)
    assert back is not None and back.words == taught.words
    assert all(np.array_equal(a, b) for a, b in zip(back.takes["sla over"], taught.takes["sla over"], strict=True))
    assert taught_store.taught_languages(tmp_path) == ["nl"]
    assert taught_store.forget("nl", tmp_path) and not taught_store.forget("nl", tmp_path)
    assert taught_store.load("nl", tmp_path) is None


def test_store_refuses_damaged_large_and_odd_files(tmp_path: Path) -> None:
    path = taught_store.path_for("nl", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match="teach them again"):
        taught_store.load("nl", tmp_path)
    with open(path, "wb") as out:
        out.truncate(taught_store.LIMIT + 1)
    with pytest.raises(InputFileError):
        taught_store.load("nl", tmp_path)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(InputFileError):
        taught_store.load("nl", tmp_path)
    with pytest.raises(InputFileError):
        taught_store.path_for("../x", tmp_path)


def test_store_refuses_a_take_of_the_wrong_shape(tmp_path: Path) -> None:
    bad = taught_store.TaughtCommands("nl", {"pauze": Command.PAUSE}, {"pauze": [np.zeros((10, 5), np.float32)]})
    taught_store.save(bad, tmp_path)
    with pytest.raises(InputFileError, match="shape"):
        taught_store.load("nl", tmp_path)


def test_teaching_cuts_takes_turns_down_a_long_one_calmly_and_asks_again() -> None:
    clock = FakeClock()
    gap = room(1.5)
    parts = [room(2.0)]
    for name in ("pauze", "stop"):
        for i in range(3):
            parts += [word(name, 1.0 + 0.1 * i, seed=i), gap]
            if name == "stop" and i == 0:
                parts += [np.tile(word("verder"), 4), gap]  # rambling: turned down
    said: list[str] = []
    microphone = FakeInput(clock, np.concatenate(parts))
    with Teacher(microphone, clock) as teacher:
        taught = teach(teacher, "nl", {"pauze": Command.PAUSE, "stop": Command.STOP}, said.append)
    assert taught is not None and [len(t) for t in taught.takes.values()] == [3, 3]
    assert any("longer than one short word" in s for s in said)
    assert sum(s.startswith("Say 'stop'") for s in said) == 4
    assert confusable(taught) == []


def test_teaching_gives_up_gently_when_nothing_is_heard() -> None:
    clock = FakeClock()
    said: list[str] = []
    with Teacher(FakeInput(clock, room(1.0)), clock, wait=1.0) as teacher:
        assert teach(teacher, "nl", {"pauze": Command.PAUSE}, said.append) is None
    assert said[1] == problem(None) and "nothing was changed" in said[-1]


def test_the_spotter_is_chosen_by_language(tmp_path: Path) -> None:
    assert command_choice.choose("en", tmp_path).name == "pocketsphinx"
    none = command_choice.choose("nl", tmp_path)
    assert none.name is None and "teach --language nl" in none.note
    with pytest.raises(BackendError):
        command_choice.build(none, base=tmp_path)
    taught_store.save(taught_store.TaughtCommands("nl", {"pauze": Command.PAUSE}, {"pauze": taught_takes()["pauze"]}),
                      tmp_path)
    choice = command_choice.choose("nl-BE", tmp_path)
    assert choice.name == "taught" and not choice.says_stop  # {stop} does not say "zeg stop" then
    assert command_choice.choose("en", tmp_path).says_stop
    built = command_choice.build(choice, base=tmp_path)
    assert isinstance(built.spotter, TaughtSpotter) and built.config.words == {"pauze": Command.PAUSE}
    taught_store.save(taught_store.TaughtCommands("nl", {"stop": Command.STOP}, {"stop": taught_takes()["stop"]}),
                      tmp_path)
    assert command_choice.choose("nl", tmp_path).says_stop


def test_one_registry_of_spotters_builds_the_taught_one_and_the_choice_only_names_it(tmp_path: Path) -> None:
    """``taught`` is an entry of ``backends.SPOTTERS`` like pocketsphinx and fake; ``command_choice`` keeps no
    registry of its own, names a spotter by language and ``--spotter``, and its unknown-name error is the
    registry's."""
    from voiceguide import backends
    from voiceguide.backends.fake_spotter import ToneSpotter

    assert not hasattr(command_choice, "SPOTTERS")
    assert backends.SPOTTERS.names("taught") == [command_choice.TAUGHT]
    with pytest.raises(BackendError, match="none are taught"):
        backends.SPOTTERS.make("taught", {"pauze": 0.5})
    takes = {w: taught_takes()[w] for w in ("pauze", "verder")}
    spotter = backends.SPOTTERS.make("taught", {}, takes=takes)
    assert isinstance(spotter, TaughtSpotter) and set(spotter.matcher.takes) == {"pauze", "verder"}
    assert command_choice.choose("en", tmp_path, named="fake").name == "fake"
    assert command_choice.choose("nl", tmp_path, named="fake").name is None  # fake's words are the English ones
    with pytest.raises(BackendError, match="unknown keyword spotter 'nope'; known: pocketsphinx, fake, taught"):
        command_choice.choose("en", tmp_path, named="nope")
    with pytest.raises(BackendError, match="unknown keyword spotter 'nope'"):
        command_choice.build(command_choice.Choice("nope", "en"), base=tmp_path)
    built = command_choice.build(command_choice.choose("en", tmp_path, named="fake"), base=tmp_path)
    assert isinstance(built.spotter, ToneSpotter) and built.config.spotter == "fake"
    with pytest.raises(BackendError, match="no voice commands are taught for 'en'"):
        command_choice.build(command_choice.choose("en", tmp_path, named="taught"), base=tmp_path)
    taught_store.save(taught_store.TaughtCommands("nl", {"pauze": Command.PAUSE}, {"pauze": takes["pauze"]}), tmp_path)
    assert command_choice.choose("nl", tmp_path, named="fake").name == "taught"  # taught words come first


def test_the_daemon_hears_taught_words_beside_the_english_ones(tmp_path: Path) -> None:
    pytest.importorskip("pocketsphinx")
    english = CommandConfig()
    assert command_choice.for_daemon(english, tmp_path) is None  # nothing taught: the usual filter
    taught_store.save(taught_store.TaughtCommands("nl", {"pauze": Command.PAUSE, "verder": Command.RESUME},
                                                  {w: taught_takes()[w] for w in ("pauze", "verder")}), tmp_path)
    vc = command_choice.for_daemon(english, tmp_path)
    assert vc is not None and vc.unchecked == {"pauze", "verder"} and vc.checker is not None
    assert vc.config.words["pauze"] is Command.PAUSE and vc.config.words["stop"] is Command.STOP
    audio = np.concatenate([room(1.5), word("pauze", 1.1, seed=3), room(1.5)])
    assert Command.PAUSE in [c for b in blocks(audio) for c in vc.feed(b)]
    taught_store.path_for("de", tmp_path).write_bytes(b"damaged")  # left out, with a warning; the rest is heard
    again = command_choice.for_daemon(english, tmp_path)
    assert again is not None and again.unchecked == {"pauze", "verder"}

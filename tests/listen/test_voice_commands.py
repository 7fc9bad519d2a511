"""Voice command filtering with a scripted spotter: isolation, the speaking gate, overlaps, the check, repeats,
threading."""

from __future__ import annotations

import itertools
import queue
import threading

import numpy as np
import pytest

from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.levels import frame_db
from voiceguide.backends.spotter import PocketsphinxChecker, Spotted, threshold_for
from voiceguide.listen import voice_commands
from voiceguide.listen.voice_commands import CommandConfig, CommandListener, VoiceCommands
from voiceguide.playback.control import Command
from voiceguide.seams import Samples

RATE = 16000


class ScriptedSpotter:
    """Reports each (word, start s, end s) once the audio fed has passed the word's end by ``lag`` seconds."""

    def __init__(self, words: list[tuple[str, float, float]], lag: float = 0.2) -> None:
        self.words = sorted(words, key=lambda w: w[2])
        self.lag = lag
        self.fed = 0
        self.restarts = 0
        self.due = False

    def feed(self, block: Samples) -> list[Spotted]:
        self.fed += len(block)
        out = []
        while self.words and self.fed >= (self.words[0][2] + self.lag) * RATE:
            word, start, end = self.words.pop(0)
            out.append(Spotted(word, int(start * RATE), int(end * RATE)))
        return out

    def restart_due(self) -> bool:
        return self.due

    def restart(self) -> None:
        self.restarts += 1
        self.due = False


def quiet(seconds: float, seed: int = 0) -> Samples:
    return np.random.default_rng(seed).normal(0.0, 0.001, int(seconds * RATE)).astype(np.float32)


def loud(seconds: float, amplitude: float = 0.2) -> Samples:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 160 * t) * (0.7 + 0.3 * np.sin(2 * np.pi * 5 * t))).astype(np.float32)


def feed(vc: VoiceCommands, audio: Samples, speaking: tuple[float, float] | None = None) -> list[Command]:
    heard: list[Command] = []
    for i in range(0, len(audio), 1600):
        t = i / RATE
        talking = speaking is not None and speaking[0] <= t < speaking[1]
        heard += vc.feed(audio[i:i + 1600], talking)
    return heard


def word_at(start: float, length: float = 0.5, total: float = 4.0, amplitude: float = 0.2) -> Samples:
    audio = quiet(total)
    audio[int(start * RATE):int((start + length) * RATE)] += loud(length, amplitude)
    return audio


def test_a_word_said_on_its_own_becomes_its_command() -> None:
    for word, command in (("pause", Command.PAUSE), ("slower", Command.SLOWER), ("repeat", Command.REPEAT)):
        vc = VoiceCommands(spotter=ScriptedSpotter([(word, 1.0, 1.5)]))
        assert feed(vc, word_at(1.0)) == [command]


def test_a_keyword_inside_running_speech_is_ignored() -> None:
    audio = quiet(5.0)
    audio[RATE:4 * RATE] += loud(3.0)
    vc = VoiceCommands(spotter=ScriptedSpotter([("pause", 2.0, 2.5)]))
    assert feed(vc, audio) == []
    assert vc.ignored and "not said on its own" in vc.ignored[-1][1]


def test_a_keyword_in_steady_noise_is_ignored() -> None:
    audio = np.random.default_rng(1).normal(0.0, 0.05, 4 * RATE).astype(np.float32)
    vc = VoiceCommands(spotter=ScriptedSpotter([("skip", 1.0, 1.4)]))
    assert feed(vc, audio) == []


def test_while_the_session_speaks_commands_are_ignored_unless_allowed() -> None:
    vc = VoiceCommands(spotter=ScriptedSpotter([("stop", 1.0, 1.5)]))
    assert feed(vc, word_at(1.0), speaking=(0.0, 3.0)) == []
    assert vc.ignored[-1] == ("stop", "the session was speaking")
    stop_allowed = CommandConfig(while_speaking=frozenset({Command.STOP}))
    vc = VoiceCommands(stop_allowed, ScriptedSpotter([("pause", 1.0, 1.5), ("stop", 2.5, 3.0)]))
    assert feed(vc, word_at(1.0) + word_at(2.5), speaking=(0.0, 4.0)) == [Command.STOP]


def test_the_gate_has_a_margin_after_the_speech_ends() -> None:
    config = CommandConfig(gate_margin=0.5)
    vc = VoiceCommands(config, ScriptedSpotter([("pause", 1.0, 1.5)]))
    assert feed(vc, word_at(1.0), speaking=(0.0, 0.6)) == []  # speech ended 0.4 s before the word
    vc = VoiceCommands(config, ScriptedSpotter([("pause", 1.5, 2.0)]))
    assert feed(vc, word_at(1.5), speaking=(0.0, 0.6)) == [Command.PAUSE]


def test_the_gate_can_let_other_commands_through() -> None:
    config = CommandConfig(while_speaking=frozenset({Command.STOP, Command.PAUSE}))
    vc = VoiceCommands(config, ScriptedSpotter([("pause", 1.0, 1.5)]))
    assert feed(vc, word_at(1.0), speaking=(0.0, 3.0)) == [Command.PAUSE]


def test_of_overlapping_detections_the_longest_word_wins() -> None:
    spotter = ScriptedSpotter([("skip", 1.0, 1.2), ("repeat", 1.05, 1.55)], lag=0.0)
    vc = VoiceCommands(spotter=spotter)
    assert feed(vc, word_at(1.0, 0.55)) == [Command.REPEAT]


class FakeChecker:
    """Hears ``word`` in whatever audio it is given, and keeps that audio."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.heard: list[Samples] = []

    def best(self, audio: Samples) -> str:
        self.heard.append(np.array(audio, copy=True))
        return self.word


def test_a_word_the_check_agrees_with_becomes_its_command() -> None:
    checker = FakeChecker("pause")
    vc = VoiceCommands(spotter=ScriptedSpotter([("pause", 1.0, 1.5)]), checker=checker)
    assert feed(vc, word_at(1.0)) == [Command.PAUSE]
    assert len(checker.heard) == 1
    assert vc.ignored == []


def test_a_word_the_check_hears_as_another_word_is_dropped() -> None:
    checker = FakeChecker("resume")
    vc = VoiceCommands(spotter=ScriptedSpotter([("pause", 1.0, 1.5)]), checker=checker)
    assert feed(vc, word_at(1.0)) == []
    assert len(checker.heard) == 1
    assert vc.ignored == [("pause", "the check heard 'resume'")]
    vc = VoiceCommands(spotter=ScriptedSpotter([("pause", 1.0, 1.5)]), checker=FakeChecker(""))
    assert feed(vc, word_at(1.0)) == []
    assert "the check heard" in vc.ignored[-1][1]


def test_of_overlapping_detections_the_check_decides() -> None:
    spots = [("skip", 1.0, 1.45), ("stop", 1.05, 1.3)]  # "skip" is the longer: without a check it would win
    assert feed(VoiceCommands(spotter=ScriptedSpotter(spots)), word_at(1.0, 0.45)) == [Command.SKIP]
    checker = FakeChecker("stop")
    vc = VoiceCommands(spotter=ScriptedSpotter(spots), checker=checker)
    assert feed(vc, word_at(1.0, 0.45)) == [Command.STOP]
    assert len(checker.heard) == 1  # one check for the cluster
    vc = VoiceCommands(spotter=ScriptedSpotter(spots), checker=FakeChecker("pause"))  # neither of the two
    assert feed(vc, word_at(1.0, 0.45)) == []
    assert vc.ignored[-1] == ("skip", "the check heard 'pause'")


def test_a_word_not_said_on_its_own_is_not_checked() -> None:
    audio = quiet(5.0)
    audio[RATE:4 * RATE] += loud(3.0)
    checker = FakeChecker("pause")
    vc = VoiceCommands(spotter=ScriptedSpotter([("pause", 2.0, 2.5)]), checker=checker)
    assert feed(vc, audio) == []
    assert checker.heard == []


def test_the_check_hears_the_grown_word_and_the_padding_around_it() -> None:
    # The second configuration decides the word sooner (0.15 + 0.1 s after it) than the check's 0.4 s pad:
    # the command waits for the pad.
    for config, (start, end) in itertools.product((CommandConfig(check_pad=(0.3, 0.4)),
                                                   CommandConfig(check_pad=(0.3, 0.4), isolation_context=0.1)),
                                                  ((1.0, 1.2), (1.3, 1.5))):  # spotted: the first/last 0.2 s
        checker = FakeChecker("repeat")
        vc = VoiceCommands(config, ScriptedSpotter([("repeat", start, end)]), checker)
        assert feed(vc, word_at(1.0, 0.5)) == [Command.REPEAT]
        [audio] = checker.heard
        assert len(audio) == pytest.approx((0.3 + 0.5 + 0.4) * RATE, abs=2 * 160)
        loud_frames = np.flatnonzero(frame_db(audio) > -40.0)
        assert loud_frames[0] == pytest.approx(30, abs=1)  # the word starts after the 0.3 s pad ...
        assert loud_frames[-1] + 1 == pytest.approx(80, abs=1)  # ... and ends 0.4 s before the end


def test_a_given_spotter_without_a_given_checker_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_checker(words: object) -> PocketsphinxChecker:
        raise AssertionError("no checker should be made")

    monkeypatch.setattr(voice_commands, "PocketsphinxChecker", no_checker)
    vc = VoiceCommands(CommandConfig(check=True), ScriptedSpotter([("skip", 1.0, 1.45), ("stop", 1.05, 1.3)]))
    assert vc.checker is None
    assert feed(vc, word_at(1.0, 0.45)) == [Command.SKIP]


def test_without_a_given_spotter_the_config_decides_the_check() -> None:
    assert isinstance(VoiceCommands(CommandConfig(words={"pause": Command.PAUSE})).checker, PocketsphinxChecker)
    assert VoiceCommands(CommandConfig(words={"pause": Command.PAUSE}, check=False)).checker is None


def test_the_same_command_twice_in_quick_succession_counts_once() -> None:
    audio = quiet(5.0)
    audio[RATE:int(1.4 * RATE)] += loud(0.4)
    audio[int(1.9 * RATE):int(2.3 * RATE)] += loud(0.4)
    spotter = ScriptedSpotter([("pause", 1.0, 1.4), ("pause", 1.9, 2.3)])
    assert feed(VoiceCommands(spotter=spotter), audio) == [Command.PAUSE]
    spotter = ScriptedSpotter([("pause", 1.0, 1.4), ("pause", 1.9, 2.3)])
    assert feed(VoiceCommands(CommandConfig(refractory=0.3), spotter), audio) == [Command.PAUSE, Command.PAUSE]


def test_the_decision_waits_for_the_audio_after_the_word() -> None:
    vc = VoiceCommands(spotter=ScriptedSpotter([("stop", 1.0, 1.4)], lag=0.0))
    audio = word_at(1.0, 0.4)
    assert feed(vc, audio[:int(1.6 * RATE)]) == []
    assert feed(vc, audio[int(1.6 * RATE):int(2.0 * RATE)]) == [Command.STOP]


def test_the_utterance_is_restarted_only_when_quiet_and_nothing_is_pending() -> None:
    spotter = ScriptedSpotter([])
    vc = VoiceCommands(spotter=spotter)
    spotter.due = True
    feed(vc, loud(0.5, 0.3))
    assert spotter.restarts == 0
    feed(vc, quiet(0.5))
    assert spotter.restarts == 1


def test_sensitivity_maps_to_pocketsphinx_thresholds() -> None:
    assert threshold_for(0.0) == pytest.approx(1e-10)
    assert threshold_for(0.5) == pytest.approx(1e-30)
    assert threshold_for(2.0) == pytest.approx(1e-50)
    assert CommandConfig(sensitivity={"stop": 0.7}).word_sensitivity()["stop"] == 0.7
    assert CommandConfig(sensitivity={}).word_sensitivity()["skip"] == 0.4


def test_listener_thread_puts_commands_on_the_control_queue() -> None:
    clock = FakeClock()
    mic = FakeInput(clock, np.concatenate([word_at(1.0), word_at(1.0)]))
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    spotter = ScriptedSpotter([("pause", 1.0, 1.5), ("resume", 5.0, 5.5)])
    listener = CommandListener(mic, controls, commands=VoiceCommands(spotter=spotter))
    with listener:
        assert mic.is_open
        clock.wait(_never(), 9.0)
    assert not mic.is_open
    assert [controls.get_nowait(), controls.get_nowait()] == [Command.PAUSE, Command.RESUME]
    assert listener.heard == [Command.PAUSE, Command.RESUME]
    assert listener.audio_seconds == pytest.approx(9.0, abs=0.1)


def test_listener_consults_is_speaking_for_each_block() -> None:
    clock = FakeClock()
    mic = FakeInput(clock, word_at(1.0))
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    calls: list[bool] = []

    def speaking() -> bool:
        calls.append(True)
        return True

    listener = CommandListener(mic, controls, is_speaking=speaking,
                               commands=VoiceCommands(spotter=ScriptedSpotter([("pause", 1.0, 1.5)])))
    with listener:
        clock.wait(_never(), 4.0)
    assert controls.empty() and len(calls) == 40


def test_listener_reports_a_worker_failure_on_stop() -> None:
    class Broken(ScriptedSpotter):
        def feed(self, block: Samples) -> list[Spotted]:
            raise RuntimeError("decoder exploded")

    clock = FakeClock()
    listener = CommandListener(FakeInput(clock, quiet(1.0)), queue.SimpleQueue(),
                               commands=VoiceCommands(spotter=Broken([])))
    listener.start()
    clock.wait(_never(), 1.0)
    with pytest.raises(RuntimeError, match="exploded"):
        listener.stop()


def _never() -> threading.Event:
    return threading.Event()


def test_command_words_are_matched_in_lowercase() -> None:
    config = CommandConfig(words={"Pause": Command.PAUSE, "STOP": Command.STOP}, sensitivity={"Pause": 0.3})
    assert config.words == {"pause": Command.PAUSE, "stop": Command.STOP}
    assert config.word_sensitivity()["pause"] == 0.3
    vc = VoiceCommands(config, ScriptedSpotter([("pause", 1.0, 1.5)]))
    assert feed(vc, word_at(1.0)) == [Command.PAUSE]

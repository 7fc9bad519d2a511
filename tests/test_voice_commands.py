"""Voice command filtering with a scripted spotter: isolation, the speaking gate, overlaps, repeats, threading."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.listen.spotter import Spotted, threshold_for
from voiceguide.listen.voice_commands import CommandConfig, CommandListener, VoiceCommands
from voiceguide.player import Command
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

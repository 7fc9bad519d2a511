"""The wake phrase trigger over the voice-command listener, with a fake microphone and a fake spotter."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.spotter import SAMPLE_RATE, Spotted
from voiceguide.daemon import wake as wake_module
from voiceguide.daemon.config import DaemonConfig, Wake
from voiceguide.daemon.events import Control, Event, Start, StartRequest
from voiceguide.daemon.wake import WakeTrigger
from voiceguide.errors import BackendError
from voiceguide.listen.command_config import DEFAULT_SENSITIVITY, DEFAULT_WORDS
from voiceguide.listen.voice_commands import CommandConfig, VoiceCommands
from voiceguide.playback.control import Command

PHRASE = "hello guide"
WORD = (SAMPLE_RATE, SAMPLE_RATE * 3 // 2)
"""Where the phrase is in the fake recording: 1.0-1.5 s, with quiet around it."""


class FakeSpotter:
    """Reports ``word`` (the phrase) once the audio past it has been fed (like the decoder does)."""

    def __init__(self, word: str = PHRASE) -> None:
        self.word = word
        self.fed = 0
        self.reported = False

    def feed(self, block: np.ndarray) -> list[Spotted]:
        self.fed += len(block)
        if not self.reported and self.fed >= WORD[1]:
            self.reported = True
            return [Spotted(self.word, *WORD)]
        return []

    def restart_due(self) -> bool:
        return False

    def restart(self) -> None:
        pass


def _recording() -> np.ndarray:
    audio = np.full(SAMPLE_RATE * 3, 0.001, dtype=np.float32)
    t = np.arange(WORD[1] - WORD[0]) / SAMPLE_RATE
    audio[WORD[0]:WORD[1]] = 0.3 * np.sin(2 * np.pi * 220 * t)
    return audio


def _trigger(playing: bool = False, word: str = PHRASE,
             speaking: bool | None = None) -> tuple[WakeTrigger, FakeClock]:
    """A trigger hearing ``word`` at 1.0-1.5 s; ``speaking`` None: the default gate (while playing)."""
    clock = FakeClock()
    config = DaemonConfig(wake=Wake(PHRASE, 0.6, "right-now", 2.0))
    assert config.wake is not None
    listen = wake_module.listen_config(config.wake)
    commands = VoiceCommands(CommandConfig(words=listen.words, sensitivity=listen.sensitivity, check=False),
                             spotter=FakeSpotter(word))
    trigger = WakeTrigger(config.wake, config, playing=lambda: playing,
                          microphone=FakeInput(clock, _recording()), commands=commands,
                          speaking=None if speaking is None else (lambda: speaking))
    return trigger, clock


def _heard(trigger: WakeTrigger, clock: FakeClock) -> list[Event]:
    """What the trigger posts while the fake microphone delivers its 3 s."""
    posted: list[Event] = []
    trigger.start(posted.append)
    clock.wait(threading.Event(), 3.0)
    trigger.close()  # joins the listener's thread: every block has been processed
    return posted


def test_hearing_the_phrase_starts_the_configured_session() -> None:
    trigger, clock = _trigger()
    posted: list[Event] = []
    heard = threading.Event()
    trigger.start(lambda e: (posted.append(e), heard.set()))
    assert trigger.listening
    clock.wait(threading.Event(), 3.0)  # the fake microphone delivers 3 s of audio
    assert heard.wait(10), "the phrase was not heard"
    trigger.close()
    assert posted == [Start(StartRequest("right-now", "wake", 2.0))]
    assert not trigger.listening


def test_the_phrase_is_not_taken_while_a_session_plays() -> None:
    trigger, clock = _trigger(playing=True)
    posted: list[Event] = []
    trigger.start(posted.append)
    clock.wait(threading.Event(), 3.0)
    trigger.close()  # joins the listener's thread: every block has been processed
    assert posted == []


def test_without_keyword_spotting_the_trigger_says_how_to_turn_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wake_module, "MODULE", "voiceguide.listen.no_such_module")
    reason = wake_module.unavailable()
    assert reason is not None and "enabled = false" in reason
    trigger = WakeTrigger(Wake(PHRASE), DaemonConfig())
    with pytest.raises(BackendError, match=r"enabled = false"):
        trigger.start(lambda e: None)


def test_keyword_spotting_is_available_in_this_installation() -> None:
    assert wake_module.unavailable() is None


def test_the_listener_hears_the_phrase_and_the_voice_commands() -> None:
    config = wake_module.listen_config(Wake(PHRASE, 0.6))
    assert config.words == {PHRASE: wake_module.TOKEN, **DEFAULT_WORDS}
    assert config.sensitivity[PHRASE] == 0.6 and config.sensitivity["stop"] == DEFAULT_SENSITIVITY["stop"]
    assert wake_module.TOKEN not in DEFAULT_WORDS.values(), "the phrase's token must not be a spoken command"
    assert wake_module.listen_config(Wake(PHRASE, 0.6, commands=False)).words == {PHRASE: wake_module.TOKEN}


@pytest.mark.parametrize(("word", "command"), [("stop", Command.STOP), ("pause", Command.PAUSE),
                                               ("slower", Command.SLOWER)])
def test_a_voice_command_during_a_session_goes_to_the_daemon(word: str, command: Command) -> None:
    assert _heard(*_trigger(playing=True, word=word, speaking=False)) == [Control(command, "voice")]


def test_voice_commands_are_not_taken_over_the_sessions_voice_or_with_nothing_playing() -> None:
    assert _heard(*_trigger(playing=True, word="stop", speaking=True)) == []
    assert _heard(*_trigger(playing=False, word="stop")) == []


def test_the_phrase_in_a_quiet_moment_of_a_session_starts_nothing() -> None:
    assert _heard(*_trigger(playing=True, speaking=False)) == []

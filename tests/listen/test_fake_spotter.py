"""The fake keyword spotter (``backends.fake_spotter``): hears each word's test tone and nothing else, and is
chosen by name like the other fakes (``--spotter fake``, ``spotter = "fake"`` under the daemon's ``[wake]``)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from voiceguide import backends
from voiceguide.backends.fake import FakeSpeaker
from voiceguide.backends.fake_spotter import ToneSpotter, tone, tone_hz
from voiceguide.backends.spotter import SAMPLE_RATE, Spotted
from voiceguide.errors import BackendError
from voiceguide.listen.command_config import DEFAULT_WORDS, CommandConfig
from voiceguide.listen.voice_commands import VoiceCommands
from voiceguide.playback.control import Command
from voiceguide.seams import Samples, SpeechParams

WORDS = [*DEFAULT_WORDS, "hello guide"]


def _silence(seconds: float) -> Samples:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def _feed(spotter: ToneSpotter | VoiceCommands, audio: Samples, block: int = 1600) -> list:  # type: ignore[type-arg]
    found: list = []  # type: ignore[type-arg]
    for at in range(0, len(audio), block):
        found += spotter.feed(audio[at:at + block])
    return found


def test_every_word_has_a_tone_of_its_own_and_is_spotted_where_it_sounds() -> None:
    assert len({tone_hz(w) for w in WORDS}) == len(WORDS)
    parts, expected, at = [], [], 0
    for word in WORDS:
        parts += [_silence(0.7), tone(word)]
        at += round(0.7 * SAMPLE_RATE)
        expected.append((word, at, at + len(parts[-1])))
        at += len(parts[-1])
    spotted = _feed(ToneSpotter(WORDS), np.concatenate([*parts, _silence(0.5)]), block=1234)
    assert [s.word for s in spotted] == WORDS
    for s, (word, start, end) in zip(spotted, expected, strict=True):
        assert isinstance(s, Spotted) and s.word == word
        assert abs(s.start - start) <= 800 and abs(s.end - end) <= 800, (s, start, end)


def test_short_tones_other_tones_voices_and_noise_are_not_words() -> None:
    rng = np.random.default_rng(1)
    speech = FakeSpeaker().synthesize("Let the breath be slow and easy, and rest.", SpeechParams()).samples
    other = (0.3 * np.sin(2 * np.pi * 1050.0 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)
    audio = np.concatenate([tone("stop", seconds=0.2), _silence(0.5), speech, _silence(0.5), other, _silence(0.5),
                            rng.normal(0, 0.1, SAMPLE_RATE).astype(np.float32), _silence(0.5),
                            tone("stop") + rng.normal(0, 0.2, round(0.5 * SAMPLE_RATE)).astype(np.float32)])
    assert _feed(ToneSpotter(WORDS), audio) == []


def test_words_whose_tones_coincide_are_refused() -> None:
    clash = next(w for w in (f"word{i}" for i in range(100)) if tone_hz(w) == tone_hz("stop"))
    with pytest.raises(BackendError, match="coincide"):
        ToneSpotter(["stop", clash])


def test_chosen_by_name_its_tones_pass_the_filter_as_commands_and_the_gate_still_holds() -> None:
    config = CommandConfig(spotter="fake")
    vc = VoiceCommands(config)
    assert isinstance(vc.spotter, ToneSpotter) and vc.checker is None
    audio = np.concatenate([_silence(1.0), tone("stop"), _silence(1.5)])
    assert _feed(vc, audio) == [Command.STOP]
    gated = VoiceCommands(config)
    heard = [c for at in range(0, len(audio), 1600) for c in gated.feed(audio[at:at + 1600], speaking=True)]
    assert heard == []


def test_the_registry_knows_it_and_an_unknown_name_is_an_error_that_lists_the_names() -> None:
    assert set(backends.SPOTTERS) >= {"pocketsphinx", "fake", "taught"}
    with pytest.raises(BackendError, match="unknown keyword spotter 'nope'; known: pocketsphinx, fake, taught"):
        VoiceCommands(CommandConfig(spotter="nope"))


def test_run_refuses_an_unknown_spotter_before_it_plays() -> None:
    from voiceguide.cli.arguments import run_options
    from voiceguide.cli.main import build_parser

    args = build_parser().parse_args(["run", "right-now", "--spotter", "nope"])
    with pytest.raises(BackendError, match="unknown keyword spotter"):
        run_options(args)
    assert run_options(build_parser().parse_args(["run", "x", "--spotter", "fake"])).listening.spotter == "fake"
    assert isinstance(args, argparse.Namespace)


def test_the_daemon_config_takes_the_spotter_under_wake() -> None:
    from voiceguide.daemon.config_read import loads_config
    from voiceguide.daemon.wake import listen_config
    from voiceguide.errors import ConfigError

    assert loads_config('[wake]\nphrase = "hello guide"\n').wake.spotter == "pocketsphinx"  # type: ignore[union-attr]
    wake = loads_config('[wake]\nphrase = "hello guide"\nspotter = "fake"\n').wake
    assert wake is not None and wake.spotter == "fake"
    assert listen_config(wake).spotter == "fake"
    with pytest.raises(ConfigError, match=r"\[wake\].*spotter 'nope' is not one of pocketsphinx, fake, taught"):
        loads_config('[wake]\nphrase = "hello guide"\nspotter = "nope"\n')
    with pytest.raises(ConfigError, match=r"\[wake\].*spotter 'taught' hears only taught words"):
        loads_config('[wake]\nphrase = "hello guide"\nspotter = "taught"\n')

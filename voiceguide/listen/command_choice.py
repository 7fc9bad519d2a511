"""Which keyword spotter hears the voice commands of a session, chosen by the session's language.

- ``taught``: the person's own takes of each word (``voiceguide commands teach``), for any language;
  used whenever the session's language has taught commands (so English may use them too).
- ``pocketsphinx``: the built-in English words ("pause", "stop" ...), for English sessions otherwise.

Any other language without taught commands has no voice commands (the keys and button still work):
pocketsphinx's only model here is English, and would hear Dutch speech as English words.

The daemon's one listener (the wake phrase and the commands, for sessions of any language) hears both: the
pocketsphinx words and the taught words of every language (:func:`for_daemon`).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.backends.registry import Registry
from voiceguide.errors import BackendError, InputFileError
from voiceguide.listen import taught_store
from voiceguide.listen.command_config import CommandConfig
from voiceguide.listen.voice_commands import VoiceCommands
from voiceguide.playback.control import Command

log = logging.getLogger(__name__)

POCKETSPHINX_LANGUAGES = frozenset({"en"})
"""Languages the built-in spotter has a model and words for."""


def _pocketsphinx(config: CommandConfig, language: str, base: Path | None) -> VoiceCommands:
    return VoiceCommands(config)


def taught_config(config: CommandConfig, taught: taught_store.TaughtCommands) -> CommandConfig:
    """``config`` for taught words: their commands, no pocketsphinx check, and the word's edges as cut
    (the segmenter's edges are exact: growing them would only wait longer after the word)."""
    return dataclasses.replace(config, words=dict(taught.words), sensitivity={}, check=False, isolation_grow=0.0)


def _taught(config: CommandConfig, language: str, base: Path | None) -> VoiceCommands:
    from voiceguide.listen.taught_spotter import TaughtSpotter

    taught = taught_store.load(language, base)
    if taught is None:
        raise BackendError(f"no voice commands are taught for '{language}'")
    return VoiceCommands(taught_config(config, taught), spotter=TaughtSpotter(dict(taught.takes)))


SPOTTERS: Registry[VoiceCommands] = Registry("keyword spotter", {"pocketsphinx": _pocketsphinx, "taught": _taught})
"""Keyword spotters by name, each building the whole command filter around it; given the filter settings,
the language and the data folder (None: the user's)."""


@dataclass(frozen=True)
class Choice:
    """The spotter for a session's voice commands."""

    name: str | None
    """The spotter's name in :data:`SPOTTERS`, or None: no voice commands in this language."""
    language: str
    """The session's language without its region."""
    says_stop: bool = True
    """Whether the word "stop" stops (what a script's ``{stop}`` tells the person to say)."""

    @property
    def note(self) -> str:
        """What to tell the person when there are none (empty otherwise)."""
        if self.name is not None:
            return ""
        return (f"Voice commands in this language ({self.language}) can be taught with 'voiceguide commands "
                f"teach --language {self.language}'; the keys still work.")


def choose(language: str, base: Path | None = None) -> Choice:
    """``taught`` where ``language`` has taught commands, else ``pocketsphinx`` for English, else none."""
    code = language.split("-")[0].lower()
    try:
        taught = taught_store.path_for(code, base).exists()
    except InputFileError:
        taught = False
    if taught:
        try:
            words = (taught_store.load(code, base) or taught_store.TaughtCommands(code, {}, {})).words
        except InputFileError:  # said when the listener is built
            words = {}
        return Choice("taught", code, words.get("stop") is Command.STOP)
    return Choice("pocketsphinx" if code in POCKETSPHINX_LANGUAGES else None, code)


def build(choice: Choice, config: CommandConfig | None = None, base: Path | None = None) -> VoiceCommands:
    """The command filter with the chosen spotter (loads the templates or the decoder)."""
    if choice.name is None:
        raise BackendError(choice.note)
    return SPOTTERS.make(choice.name, config or CommandConfig(), choice.language, base)


def for_daemon(config: CommandConfig, base: Path | None = None) -> VoiceCommands | None:
    """The daemon's filter: pocketsphinx for the words in ``config`` (the wake phrase, the English commands),
    checked as usual, beside the taught words of every language (not checked: the check knows English only);
    None when nothing is taught (the usual filter then)."""
    from voiceguide import backends
    from voiceguide.backends.spotter import PocketsphinxChecker
    from voiceguide.listen.taught_spotter import BothSpotters, TaughtSpotter

    words: dict[str, Command] = {}
    takes: dict[str, list[np.ndarray]] = {}
    for language in taught_store.taught_languages(base):
        try:
            taught = taught_store.load(language, base)
        except InputFileError as exc:  # one damaged file must not take the wake phrase away
            log.warning("the voice commands taught for '%s' are left out: %s", language, exc)
            continue
        if taught is not None:
            words.update(taught.words)
            for word, its in taught.takes.items():
                takes.setdefault(word, []).extend(its)
    if not words:
        return None
    spotter = BothSpotters(backends.SPOTTERS.make(config.spotter, config.word_sensitivity()), TaughtSpotter(takes))
    checked = config.check and config.spotter == backends.DEFAULT_SPOTTER
    checker = PocketsphinxChecker(config.words) if checked else None
    return VoiceCommands(dataclasses.replace(config, words={**words, **config.words}), spotter=spotter,
                         checker=checker, unchecked=frozenset(words) - set(config.words))

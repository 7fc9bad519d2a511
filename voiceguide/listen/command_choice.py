"""Which keyword spotter hears the voice commands of a session, chosen by the session's language: a name in the
one registry of spotters, ``backends.SPOTTERS``, and the command filter built around it.

- ``taught``: the person's own takes of each word (``voiceguide commands teach``), for any language;
  used whenever the session's language has taught commands (so English may use them too).
- otherwise, for English sessions, the spotter named by ``run --spotter`` (``pocketsphinx`` by default: the
  built-in English words "pause", "stop" ...; ``fake``: test tones).

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

from voiceguide import backends
from voiceguide.backends.spotter import Spotted
from voiceguide.errors import BackendError, InputFileError
from voiceguide.listen import taught_store
from voiceguide.listen.command_config import CommandConfig
from voiceguide.listen.voice_commands import Spotter, VoiceCommands
from voiceguide.playback.control import Command
from voiceguide.seams import Samples

log = logging.getLogger(__name__)

POCKETSPHINX_LANGUAGES = frozenset({"en"})
"""Languages the built-in spotter has a model and words for."""


def taught_config(config: CommandConfig, taught: taught_store.TaughtCommands) -> CommandConfig:
    """``config`` for taught words: their commands, no pocketsphinx check, and the word's edges as cut
    (the segmenter's edges are exact: growing them would only wait longer after the word)."""
    return dataclasses.replace(config, words=dict(taught.words), sensitivity={}, check=False, isolation_grow=0.0)


@dataclass(frozen=True)
class Choice:
    """The spotter for a session's voice commands."""

    name: str | None
    """The spotter's name in ``backends.SPOTTERS``, or None: no voice commands in this language."""
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


TAUGHT = "taught"
"""The spotter of taught words in ``backends.SPOTTERS``."""


def choose(language: str, base: Path | None = None, named: str = backends.DEFAULT_SPOTTER) -> Choice:
    """``taught`` where ``language`` has taught commands, else the spotter ``named`` (``run --spotter``) for
    English, else none. An unknown name is the registry's :class:`BackendError`."""
    backends.SPOTTERS.get_backend(named)
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
        return Choice(TAUGHT, code, words.get("stop") is Command.STOP)
    return Choice(named if code in POCKETSPHINX_LANGUAGES else None, code)


def build(choice: Choice, config: CommandConfig | None = None, base: Path | None = None) -> VoiceCommands:
    """The command filter around the chosen spotter from ``backends.SPOTTERS`` (loads the takes or the decoder):
    a taught spotter with the words taught for the language, any other with the words of ``config``."""
    if choice.name is None:
        raise BackendError(choice.note)
    config = config or CommandConfig()
    if not backends.SPOTTERS.get_backend(choice.name).taught:
        return VoiceCommands(dataclasses.replace(config, spotter=choice.name))
    taught = taught_store.load(choice.language, base)
    if taught is None:
        raise BackendError(f"no voice commands are taught for '{choice.language}'")
    config = taught_config(config, taught)
    spotter = backends.SPOTTERS.make(choice.name, config.word_sensitivity(), takes=dict(taught.takes))
    return VoiceCommands(config, spotter=spotter)


def for_daemon(config: CommandConfig, base: Path | None = None) -> VoiceCommands | None:
    """The daemon's filter: pocketsphinx for the words in ``config`` (the wake phrase, the English commands),
    checked as usual, beside the taught words of every language (not checked: the check knows English only);
    None when nothing is taught (the usual filter then)."""
    from voiceguide.backends.spotter import PocketsphinxChecker

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
    spotter = BothSpotters(backends.SPOTTERS.make(config.spotter, config.word_sensitivity()),
                           backends.SPOTTERS.make(TAUGHT, {word: 0.0 for word in words}, takes=takes))
    checked = config.check and config.spotter == backends.DEFAULT_SPOTTER
    checker = PocketsphinxChecker(config.words) if checked else None
    return VoiceCommands(dataclasses.replace(config, words={**words, **config.words}), spotter=spotter,
                         checker=checker, unchecked=frozenset(words) - set(config.words))


class BothSpotters:
    """Two spotters heard as one (the daemon's pocketsphinx words and the taught ones); the first says when
    to restart."""

    def __init__(self, first: Spotter, second: Spotter) -> None:
        self.first, self.second = first, second

    def feed(self, block: Samples) -> list[Spotted]:
        """What either spotted in this block."""
        return self.first.feed(block) + self.second.feed(block)

    def restart_due(self) -> bool:
        """When the first spotter wants a fresh utterance."""
        return self.first.restart_due()

    def restart(self) -> None:
        """Restart both."""
        self.first.restart()
        self.second.restart()

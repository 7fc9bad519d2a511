"""Teaching voice commands: the person says each word a few times; each take is cut, checked and kept.

The microphone stays open for the whole teaching (a capture's first second or two can be empty); each take
is the next stretch of sound the segmenter finds after the invitation. A take that is not a clear short word
(nothing heard, too long, too short, too loud) is turned down with a calm word and asked for again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack

import numpy as np

from voiceguide.backends.taught_match import SAMPLE_RATE, Matcher, features
from voiceguide.backends.taught_spotter import LONGEST, SHORTEST, Segmenter, Stretch
from voiceguide.listen.taught_store import TaughtCommands
from voiceguide.playback.control import Command
from voiceguide.seams import AudioInput, Clock, Samples

TAKES = 3
"""Takes of each word."""
ATTEMPTS = 8
"""Most tries per word before teaching stops (nothing is kept then)."""
WAIT_SECONDS = 8.0
"""How long one take is waited for."""
CLIPPED = 0.99
"""A take whose peak reaches this is too loud (clipped)."""


def problem(stretch: Stretch | None) -> str | None:
    """Why a take cannot be used, in a calm sentence; None if it can."""
    if stretch is None:
        return "Nothing came through the microphone that time. Take your time, and try again when you like."
    if stretch.peak >= CLIPPED:
        return "That was a little too loud for the microphone. A bit softer, or a little further away, is fine."
    if stretch.seconds > LONGEST:
        return "That sounded longer than one short word. Just the word on its own works best."
    if stretch.seconds < SHORTEST:
        return "That was very short. Try saying the word once more, at your own pace."
    return None


class Teacher:
    """Takes of words from one open microphone stream."""

    def __init__(self, input: AudioInput, clock: Clock, wait: float = WAIT_SECONDS) -> None:
        self.input = input
        self.clock = clock
        self.wait = wait
        self._blocks: queue.SimpleQueue[Samples] = queue.SimpleQueue()
        self._segmenter = Segmenter()
        self._exit = ExitStack()
        self._idle = threading.Event()  # never set: clock.wait on it is a pause that lets a fake clock run

    def __enter__(self) -> Teacher:
        self._exit.enter_context(self.input.open(SAMPLE_RATE, self._blocks.put))
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    def take(self) -> Stretch | None:
        """The next stretch of sound heard (None if none ended within ``wait`` seconds)."""
        while not self._blocks.empty():  # what was heard before the invitation is not the take
            self._segmenter.feed(self._blocks.get())
        deadline = self.clock.monotonic() + self.wait
        while self.clock.monotonic() < deadline:
            self.clock.wait(self._idle, 0.05)
            while not self._blocks.empty():
                found = self._segmenter.feed(self._blocks.get())
                if found:
                    return found[0]
        return None


def teach(teacher: Teacher, language: str, words: Mapping[str, Command], say: Callable[[str], None],
          takes: int = TAKES) -> TaughtCommands | None:
    """Ask for ``takes`` good takes of each word; the taught commands, or None if a word was never caught."""
    kept: dict[str, list[np.ndarray]] = {}
    for word in words:
        kept[word] = []
        for _ in range(ATTEMPTS):
            count = len(kept[word])
            if count == takes:
                break
            say(f"Say '{word}'{' once more' if count else ''} when you are ready.")
            stretch = teacher.take()
            why = problem(stretch)
            if why is not None or stretch is None:
                say(why or "")
                continue
            kept[word].append(features(stretch.audio))
            say(f"Thank you ({len(kept[word])} of {takes}).")
        if len(kept[word]) < takes:
            say(f"'{word}' did not come through clearly this time; nothing was changed. You can teach again later.")
            return None
    return TaughtCommands(language, dict(words), kept)


def confusable(taught: TaughtCommands) -> list[tuple[str, str]]:
    """Pairs of taught words that a take of one is matched to the other (leave that take out and ask),
    so the person can pick another word for one of them."""
    pairs: list[tuple[str, str]] = []
    for word, takes in taught.takes.items():
        for i in range(len(takes)):
            others = {w: (t if w != word else t[:i] + t[i + 1:]) for w, t in taught.takes.items()}
            nearest = Matcher(others).nearest(takes[i])
            if nearest != word and (word, nearest) not in pairs:
                pairs.append((word, nearest))
    return pairs

"""Voice commands: spot "pause", "resume", "skip", "repeat", "slower" and "stop" while a session plays.

One long-lived keyword spotter (see ``spotter``) is fed 16 kHz microphone blocks on a worker
thread; what it spots is filtered here before it becomes a :class:`Command` on the player's
control queue:

- **Isolation.** A command is a word said on its own (see ``isolation``): the stretch of sound
  around the spotted word must be at least ``isolation_margin_db`` louder than the audio just
  before and just after it. Keywords the decoder imagines inside running speech (the guide's
  voice, a radio, a conversation) or in steady noise fail this test.
- **The speaking gate.** While the session's own speech is playing (``is_speaking()``, checked
  for every block, with ``gate_margin`` seconds either side for device latency and echo),
  detections are ignored except for commands in ``while_speaking`` (none by default; the keys
  still work). Allowing STOP there is an option: it is then taken when said on its own, which
  the guide's own short sentences sometimes are (measured: 3 false stops in 35 minutes).
- **The check.** A second small decoder that knows only the command words hears the word with a
  little audio either side and names the word that fits best; the command is taken only if that
  word is one the spotter heard there (of overlapping spots, the check decides between "skip" and
  "stop"; without a check the longest word wins). Words the spotter imagines in other speech are
  mostly a different word to the check (see docs/benchmarks.md and ``bench_commands``).
- **Repeats.** The same command is not taken again within ``refractory`` seconds.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from typing import Protocol

import numpy as np

from voiceguide import backends
from voiceguide.backends.levels import FRAME, frame_db
from voiceguide.backends.spotter import SAMPLE_RATE, PocketsphinxChecker, Spotted
from voiceguide.listen.command_config import (
    DEFAULT_SENSITIVITY,
    DEFAULT_SENSITIVITY_OTHER,
    DEFAULT_WORDS,
    CommandConfig,
)
from voiceguide.listen.isolation import Isolation, Verdict, judge, level_db
from voiceguide.playback.control import Command
from voiceguide.seams import AudioInput, Samples

__all__ = ["DEFAULT_SENSITIVITY", "DEFAULT_SENSITIVITY_OTHER", "DEFAULT_WORDS", "Checker", "CommandConfig",
           "CommandListener", "Spotter", "VoiceCommands"]

log = logging.getLogger(__name__)

HISTORY_SECONDS = 4.0
"""Audio and gate history kept for the isolation and gate checks."""


class Spotter(Protocol):
    """What the filter needs from a keyword spotter (a fake in tests, pocketsphinx for real)."""

    def feed(self, block: Samples) -> list[Spotted]:
        """Keywords newly spotted after this block."""
        ...

    def restart_due(self) -> bool:
        """Whether a fresh utterance should be started at the next quiet moment."""
        ...

    def restart(self) -> None:
        """Start a fresh utterance."""
        ...


class Checker(Protocol):
    """A second opinion on a spotted word (pocketsphinx with a grammar of the command words)."""

    def best(self, audio: Samples) -> str:
        """Which listed word fits ``audio`` best ("" if none)."""
        ...


class VoiceCommands:
    """Turns microphone blocks into commands: spotter, isolation test, speaking gate. Not threaded."""

    def __init__(self, config: CommandConfig | None = None, spotter: Spotter | None = None,
                 checker: Checker | None = None, unchecked: frozenset[str] = frozenset()) -> None:
        """Without ``spotter``, the spotter named by ``config.spotter`` spots (pocketsphinx by default, which
        also checks if ``config.check``); a given spotter is checked only by a given ``checker``, and never for
        the words in ``unchecked`` (taught ones)."""
        self.config = config or CommandConfig()
        if spotter is None:
            spotter = backends.SPOTTERS.make(self.config.spotter, self.config.word_sensitivity())
            if checker is None and self.config.check and self.config.spotter == backends.DEFAULT_SPOTTER:
                checker = PocketsphinxChecker(self.config.words)
        self.spotter: Spotter = spotter
        self.checker = checker
        self.unchecked = unchecked
        self._audio: deque[tuple[int, Samples]] = deque()
        self._speaking: deque[tuple[int, int]] = deque()  # sample spans when the session was speaking
        self._pending: list[Spotted] = []
        self._fed = 0
        self._last: dict[Command, int] = {}
        c = self.config
        frames = SAMPLE_RATE / FRAME
        self._rule = Isolation(c.isolation_margin_db, round(c.isolation_gap * frames),
                               round(c.isolation_context * frames), round(c.isolation_bridge * frames),
                               round(c.isolation_grow * frames), round(c.isolation_longest * frames))
        self._margin = round(c.gate_margin * SAMPLE_RATE)
        self.ignored: list[tuple[str, str]] = []
        """Recent spotted words that were dropped, with why (for logs and tuning)."""

    def feed(self, block: Samples, speaking: bool = False) -> list[Command]:
        """Process one 16 kHz block heard while the session was (or was not) speaking."""
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        start, self._fed = self._fed, self._fed + len(block)
        self._audio.append((start, block))
        if speaking:
            if self._speaking and self._speaking[-1][1] == start:
                self._speaking[-1] = (self._speaking[-1][0], self._fed)
            else:
                self._speaking.append((start, self._fed))
        horizon = self._fed - round(HISTORY_SECONDS * SAMPLE_RATE)
        while self._audio and self._audio[0][0] + len(self._audio[0][1]) < horizon:
            self._audio.popleft()
        while self._speaking and self._speaking[0][1] < horizon:
            self._speaking.popleft()
        self._pending.extend(self.spotter.feed(block))
        commands = self._decide()
        if not self._pending and self.spotter.restart_due() and self._quiet(block):
            self.spotter.restart()
        return commands

    def _quiet(self, block: Samples) -> bool:
        """Whether ``block`` is near the recent noise floor and well below the recent loudest block."""
        levels = [level_db(frame_db(b)) for _, b in list(self._audio)[-20:]]
        level = level_db(frame_db(block))
        return level < min(levels) + 6.0 and level < max(levels) - 15.0

    def _decide(self) -> list[Command]:
        commands: list[Command] = []
        self._pending.sort(key=lambda s: s.start)
        while self._pending:
            cluster = [self._pending[0]]
            end = cluster[0].end
            for other in self._pending[1:]:
                if other.start < end:
                    cluster.append(other)
                    end = max(end, other.end)
            verdicts = [self._verdict(s) for s in cluster]
            if any(v.alone is None for v in verdicts):
                break  # wait for more of the audio after the word
            del self._pending[:len(cluster)]
            chosen = self._choose(cluster, verdicts)
            if chosen is not None:
                commands.append(chosen)
        return commands

    def _choose(self, cluster: list[Spotted], verdicts: list[Verdict]) -> Command | None:
        for s, v in zip(cluster, verdicts, strict=True):
            if not v.alone:
                self._drop(s, v.why)
        accepted = [(s, v) for s, v in zip(cluster, verdicts, strict=True) if v.alone]
        if not accepted:
            return None
        best, verdict = max(accepted, key=lambda sv: sv[0].end - sv[0].start)
        if self.checker is not None and best.word not in self.unchecked:
            before, after = (round(t * SAMPLE_RATE) for t in self.config.check_pad)
            start, end = self._grown(best, verdict)
            heard = self.checker.best(self._slice(start - before, end + after))
            chosen = next((s for s, _ in accepted if s.word == heard), None)
            if chosen is None:
                self._drop(best, f"the check heard '{heard}'")
                return None
            best = chosen
        command = self.config.words[best.word]
        last = self._last.get(command)
        if last is not None and best.start - last < self.config.refractory * SAMPLE_RATE:
            self._drop(best, "repeated")
            return None
        self._last[command] = best.end
        log.info("heard '%s' → %s", best.word, command.value)
        return command

    def _verdict(self, s: Spotted) -> Verdict:
        command = self.config.words.get(s.word)
        if command is None:
            return Verdict(False, "not a command word")
        if command not in self.config.while_speaking and self._gated(s):
            return Verdict(False, "the session was speaking")
        reach = self._rule.reach * FRAME
        lo = s.start - reach
        audio = self._slice(lo, s.end + reach)
        missing = max(0, min(self._fed, s.end + reach) - lo - len(audio))  # before the history (or the stream)
        frames = frame_db(np.concatenate([np.zeros(missing, np.float32), audio]))
        first, stop = reach // FRAME, (s.end - lo + FRAME - 1) // FRAME
        complete = self._fed >= s.end + reach
        verdict = judge(frames, first, stop, self._rule, complete)
        heard_after = self._grown(s, verdict)[1] + round(self.config.check_pad[1] * SAMPLE_RATE)
        if verdict.alone and self.checker is not None and self._fed < heard_after and not complete:
            return Verdict(None)  # the check is to hear a little after the word too
        return verdict

    def _grown(self, s: Spotted, verdict: Verdict) -> tuple[int, int]:
        """The samples of the word as the isolation test grew it (its frames count from ``reach`` before
        the spotted start)."""
        lo = s.start - self._rule.reach * FRAME
        return lo + verdict.first * FRAME, lo + verdict.last * FRAME

    def _gated(self, s: Spotted) -> bool:
        lo, hi = s.start - self._margin, s.end + self._margin
        return any(a < hi and b > lo for a, b in self._speaking)

    def _drop(self, s: Spotted, why: str) -> bool:
        log.debug("ignored '%s': %s", s.word, why)
        self.ignored.append((s.word, why))
        del self.ignored[:-50]
        return False

    def _slice(self, start: int, end: int) -> Samples:
        parts = [b[max(0, start - a):max(0, end - a)] for a, b in self._audio if a < end and a + len(b) > start]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


class CommandListener:
    """Listens on ``input`` on a worker thread and puts heard commands on ``controls``.

    ``start()`` loads the spotter (about 0.5 s) and opens the microphone; ``stop()`` closes both.
    Also a context manager. ``is_speaking`` is called once per block on the worker thread.
    """

    def __init__(self, input: AudioInput, controls: queue.SimpleQueue[Command],
                 is_speaking: Callable[[], bool] = lambda: False, config: CommandConfig | None = None,
                 commands: VoiceCommands | None = None) -> None:
        self.input = input
        self.controls = controls
        self.is_speaking = is_speaking
        self.config = config or CommandConfig()
        self._commands = commands
        self._blocks: queue.SimpleQueue[Samples | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._exit: ExitStack | None = None
        self.heard: list[Command] = []
        """Every command put on the queue, in order."""
        self.error: BaseException | None = None
        """What stopped the worker, if it failed."""
        self.cpu_seconds = 0.0
        """CPU time the worker thread used."""
        self.audio_seconds = 0.0
        """Audio the worker processed."""

    def start(self) -> None:
        """Load the spotter, open the microphone and start the worker thread."""
        commands = self._commands or VoiceCommands(self.config)
        exit_stack = ExitStack()
        exit_stack.enter_context(self.input.open(SAMPLE_RATE, self._blocks.put))
        self._exit = exit_stack
        self._thread = threading.Thread(target=self._work, args=(commands,), name="voice-commands", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the microphone, finish the worker, and re-raise any error it hit."""
        exit_stack, self._exit = self._exit, None
        try:
            if exit_stack is not None:
                exit_stack.close()
        finally:
            self._blocks.put(None)
            if self._thread is not None:
                self._thread.join()
                self._thread = None
        if self.error is not None:
            raise self.error

    def __enter__(self) -> CommandListener:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _work(self, commands: VoiceCommands) -> None:
        cpu0 = time.thread_time()
        try:
            while (block := self._blocks.get()) is not None:
                if self.error is None:
                    self._process(commands, block)
        finally:
            self.cpu_seconds = time.thread_time() - cpu0

    def _process(self, commands: VoiceCommands, block: Samples) -> None:
        try:
            for command in commands.feed(block, self.is_speaking()):
                self.heard.append(command)
                self.controls.put(command)
        except Exception as exc:  # reported by stop(); blocks are then drained unprocessed
            log.exception("voice commands stopped")
            self.error = exc
        self.audio_seconds += len(block) / SAMPLE_RATE

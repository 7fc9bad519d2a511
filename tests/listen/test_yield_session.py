"""Never over the person: speech during the acknowledgement makes the voice yield, and the answer goes on.

Fake clock, the session's real timeline and player, a held shared microphone. The person's second part is
placed inside the acknowledgement; the journal must hold ONE entry whose audio holds both parts. With the
session's own voice echoed into the microphone (and no second part), the voice must not yield to itself.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.backends.fake_input import FakeInput
from voiceguide.backends.fake_stt import FakeRecognizer
from voiceguide.engine.compile import compile_session
from voiceguide.engine.timeline import Timeline
from voiceguide.journal.db import Journal
from voiceguide.listen.answers import SessionListener
from voiceguide.listen.shared_input import SharedInput
from voiceguide.playback.control import Command, PlayResult
from voiceguide.playback.loop import play
from voiceguide.playback.player import Player
from voiceguide.script import parse
from voiceguide.seams import Samples

SCRIPT = ('[session]\ntitle = "Yield"\n[[step]]\nsay = "Hello, and welcome to this short session."\n'
          '[[step]]\nlisten = "What can you hear right now?"\ntimeout = 6\n'
          '[[step]]\nsay = "That is all for now."\n')
RATE = 16000
ANSWER_AT = 0.5
"""The first part begins this long after the window opens ..."""
FIRST = 1.5
"""... and lasts this long; an open question's answer ends 2.5 s after it."""


def tone(hz: float, seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * hz * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


class EchoingInput(FakeInput):
    """A fake microphone that also hears the session's own output, ``gain`` times as loud (a bedside speaker)."""

    def __init__(self, clock: FakeClock, audio: Samples, output: FakeOutput, gain: float) -> None:
        super().__init__(clock, audio, blocksize=320)
        self.output, self.gain, self._heard = output, gain, 0

    @contextmanager
    def open(self, sample_rate: int, deliver: Callable[[Samples], None]) -> Iterator[object]:
        def with_echo(block: Samples) -> None:
            played = np.concatenate(self.output.played) if self.output.played else np.zeros(0, np.float32)
            echo = played[self._heard:self._heard + len(block)]
            self._heard += len(block)
            mixed = block.copy()
            mixed[:len(echo)] += self.gain * echo
            deliver(mixed)

        with super().open(sample_rate, with_echo) as stream:
            yield stream


def timeline_of() -> tuple[Timeline, float, float]:
    """The timeline, the window's opening and the acknowledgement's length (seconds)."""
    timeline = compile_session(parse.loads(SCRIPT), FakeSpeaker(), RATE, listening=True)
    gate = timeline.gates[0]
    thanks = next(e for e in timeline.events if e.kind == "speech" and e.start == gate)
    return timeline, gate / RATE, (thanks.end - thanks.start) / RATE


def run(tmp_path: Path, person: np.ndarray, echo_gain: float = 0.0) -> tuple[PlayResult, Journal, Player]:
    timeline, _, _ = timeline_of()
    session = parse.loads(SCRIPT)
    clock = FakeClock()
    output = FakeOutput(clock, blocksize=320)
    mic = SharedInput(EchoingInput(clock, person, output, echo_gain))
    journal = Journal(tmp_path / "journal.sqlite3")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    listener = SessionListener(session, mic, clock, FakeRecognizer(texts=["one", "two"]), journal, controls,
                               lambda text: None, threaded=False)
    players: list[Player] = []

    def on_hold(step: int, over: threading.Event) -> None:  # as the runner does
        listener.on_hold(step, over, None, players[0].thanks_over)

    with mic.held(RATE):
        result = play(timeline, output, clock, controls, on_hold=on_hold,
                      started=lambda p: players.append(p) if p is not None else None)
    assert listener.close(timeout=10)
    return result, journal, players[0]


def person_saying(parts: list[tuple[float, np.ndarray]], total: float) -> np.ndarray:
    audio = np.random.default_rng(1).normal(0, 0.001, int(total * RATE)).astype(np.float32)
    for at, sound in parts:
        audio[int(at * RATE):int(at * RATE) + len(sound)] += sound
    return audio


def best_match(audio: np.ndarray, part: np.ndarray) -> float:
    """Normalised correlation of ``part`` at its best place in ``audio``."""
    c = np.correlate(audio.astype(np.float64), part.astype(np.float64), "valid")
    energy = np.sqrt(np.convolve(audio.astype(np.float64) ** 2, np.ones(len(part)), "valid"))
    return float(np.max(c / (energy * np.linalg.norm(part) + 1e-12)))


@pytest.mark.parametrize("into_thanks", [0.1, 0.4])
def test_speech_during_the_thanks_yields_and_continues_the_same_answer(tmp_path: Path, into_thanks: float) -> None:
    _, opens, thanks = timeline_of()
    assert thanks > into_thanks + 0.2
    first, second = tone(200, FIRST), tone(300, 1.0)
    thanks_starts = opens + ANSWER_AT + FIRST + 2.5  # the quiet that ends an open question's answer
    audio = person_saying([(opens + ANSWER_AT, first), (thanks_starts + into_thanks, second)], opens + 20)
    result, journal, player = run(tmp_path, audio)
    assert [h.gate for h in player.holds] == [player.timeline.gates[0]] * 2  # held again at the same window
    (entry,) = journal.all()
    path = journal.audio_file(entry)
    assert path is not None
    kept, rate = soundfile.read(str(path), dtype="float32")
    assert rate == RATE
    assert best_match(kept, first[:RATE // 2]) > 0.9 and best_match(kept, second[:RATE // 4]) > 0.9
    assert best_match(kept, second[-RATE // 4:]) > 0.9
    assert not result.stopped_early


def test_the_voice_fades_within_half_a_second_of_the_persons_onset(tmp_path: Path) -> None:
    _, opens, _ = timeline_of()
    thanks_starts = opens + ANSWER_AT + FIRST + 2.5
    onset = thanks_starts + 0.2
    audio = person_saying([(opens + ANSWER_AT, tone(200, FIRST)), (onset, tone(300, 1.0))], opens + 20)
    _, _, player = run(tmp_path, audio)
    first_hold, second_hold = player.holds
    # the microphone and the output both count fake time from 0: the second hold began where the fade ended
    thanks_began, faded = first_hold.stream_end / RATE, second_hold.stream_start / RATE
    assert thanks_began < onset
    print(f"onset to faded: {faded - onset:.3f} s")
    assert 0.12 + 0.25 <= faded - onset <= 0.12 + 0.25 + 0.1  # 0.12 s of speech heard, the fade, a block or two


@pytest.mark.parametrize("gain", [0.1, 0.5])
def test_the_voice_does_not_yield_to_its_own_echo(tmp_path: Path, gain: float) -> None:
    _, opens, _ = timeline_of()
    audio = person_saying([(opens + ANSWER_AT, tone(200, FIRST))], opens + 20)
    _, journal, player = run(tmp_path, audio, echo_gain=gain)
    assert len(player.holds) == 1  # no second hold: no yield
    assert len(journal.all()) == 1


def test_without_speech_during_the_thanks_the_answer_is_written_once_the_next_line_begins(tmp_path: Path) -> None:
    _, opens, _ = timeline_of()
    audio = person_saying([(opens + ANSWER_AT, tone(200, FIRST))], opens + 20)
    _, journal, player = run(tmp_path, audio)
    assert len(player.holds) == 1 and len(journal.all()) == 1

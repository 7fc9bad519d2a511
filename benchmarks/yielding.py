"""A list answered with thinking pauses, through the whole session on a fake clock (``tools/bench yielding``).

Like ``tools/bench turns`` (three "cards" utterances joined with 1, 2.5 or 4 s of quiet room), but played against
the session itself: its timeline, its player and a held shared microphone, so that an item begun while the
session says its acknowledgement makes the voice yield and continues the same answer. With ``echo`` > 0 the
microphone also hears the session's own output at that gain (a bedside speaker). Reported per list: journal
entries, items in the first entry (each found in its audio by correlation), yields, and how long after the last
word the session spoke again (negative: it spoke before the last word, over the person).
"""

from __future__ import annotations

import argparse
import queue
import tempfile
import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.turns import LISTS, PAUSES, RATE, ROOM_RMS, answer
from tests.listen.test_yield_session import EchoingInput
from tests.speech_clips import fetch_cards
from voiceguide.backends.fake import FakeClock, FakeOutput, FakeSpeaker
from voiceguide.backends.fake_stt import FakeRecognizer
from voiceguide.engine.compile import compile_session
from voiceguide.journal.db import Journal
from voiceguide.listen.answers import SessionListener
from voiceguide.listen.shared_input import SharedInput
from voiceguide.playback.control import Command
from voiceguide.playback.loop import play
from voiceguide.playback.player import Player
from voiceguide.script import parse

SCRIPT = ('[session]\ntitle = "List"\n[[step]]\nsay = "Hello."\n'
          '[[step]]\nlisten = "Name three things you can hear."\ntimeout = 10\n'
          '[[step]]\nsay = "That is all for now."\n')


def found_in(audio: np.ndarray, item: np.ndarray) -> bool:
    """Whether ``item``'s loudest half second is in ``audio`` (normalised correlation > 0.9)."""
    n = RATE // 2
    energy = np.convolve(item.astype(np.float64) ** 2, np.ones(n), "valid")
    piece = item[int(np.argmax(energy)):][:n].astype(np.float64)
    if len(audio) < len(piece):
        return False
    c = np.correlate(audio.astype(np.float64), piece, "valid")
    norm = np.sqrt(np.convolve(audio.astype(np.float64) ** 2, np.ones(len(piece)), "valid")) * np.linalg.norm(piece)
    return bool(np.max(c / (norm + 1e-12)) > 0.9)


def one(items: list[np.ndarray], pause: float, echo: float, folder: Path) -> tuple[int, int, int, float]:
    session = parse.loads(SCRIPT)
    timeline = compile_session(session, FakeSpeaker(), RATE, listening=True)
    opens = timeline.gates[0] / RATE
    audio, _, ends = answer(items, pause, seed=1)
    before = (np.random.default_rng(2).standard_normal(int((opens - 0.7) * RATE)) * ROOM_RMS).astype(np.float32)
    person = np.concatenate([before, audio])  # its first word 0.3 s after the window opens
    last_word = opens - 0.7 + ends[-1]
    clock = FakeClock()
    output = FakeOutput(clock, blocksize=320)
    mic = SharedInput(EchoingInput(clock, person, output, echo))
    journal = Journal(Path(tempfile.mkdtemp(dir=folder)) / "journal.sqlite3")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    listener = SessionListener(session, mic, clock, FakeRecognizer(texts=["x"]), journal, controls,
                               lambda text: None, threaded=False)
    players: list[Player] = []

    def on_hold(step: int, over: threading.Event) -> None:
        listener.on_hold(step, over, None, players[0].thanks_over)

    with mic.held(RATE):
        play(timeline, output, clock, controls, on_hold=on_hold,
             started=lambda p: players.append(p) if p is not None else None)
    listener.close(10)
    player = players[0]
    entries = journal.all()
    kept = 0
    if entries:
        path = journal.audio_file(entries[0])
        if path is not None:
            kept = sum(found_in(sf.read(str(path), dtype="float32")[0], item) for item in items)
    spoke_again = player.holds[-1].stream_end / RATE
    return len(entries), kept, len(player.holds) - 1, spoke_again - last_word


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--echo", type=float, nargs="*", default=[0.0, 0.3])
    args = parser.parse_args(argv)
    cards = {c.name: c for c in fetch_cards()}
    print("| echo | pause (s) | entries | items in the first | yields | last word to the session speaking (s) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for echo in args.echo:
            for pause in PAUSES:
                rows = []
                for names in LISTS:
                    items = [np.asarray(sf.read(cards[n].path, dtype="float32")[0]) for n in names]
                    rows.append(one(items, pause, echo, Path(folder)))
                cells = [", ".join(f"{r[i]:+.2f}" if i == 3 else str(r[i]) for r in rows) for i in range(4)]
                print(f"| {echo:g} | {pause:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

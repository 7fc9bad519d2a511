"""When is an answer over? Items kept and the wait before the session speaks again (``tools/bench turns``).

Three-item answers are made of real human speech (the pocketsphinx archive's "cards" utterances, one speaker
naming playing cards), joined with 1, 2.5 or 4 s of quiet room between the items, as a person names "three
things you can hear" and looks around between them. Each is listened to by ``capture_answer`` on a fake clock
(the endpointing is a pure function of the audio, so this is exact and fast) with each amount of quiet that
ends an answer: 1.2 s (the old default, now the rating's), 2.5 s (an open question) and 4 s (a list).

For each it reports how many items the first answer kept (the rest would have been spoken over: the session
goes on after the first answer) and how long after the last word the session speaks again (when the capture
ends; the player's 50 ms fade-in and the real path's ~0.2 s input latency come on top). A figure for a split
answer is negative: the session spoke that long before the person's last word.
"""

from __future__ import annotations

import argparse
import threading
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from tests.speech_clips import fetch_cards
from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.listen.capture import capture_answer
from voiceguide.listen.turns import LIST_QUIET, RATING_QUIET, REFLECTION_QUIET
from voiceguide.listen.vad import level_db
from voiceguide.seams import Samples

RATE = 16000
LISTS = (("001", "002", "003"), ("003", "004", "001"), ("004", "001", "002"))
"""Which cards utterances make each three-item answer."""
PAUSES = (1.0, 2.5, 4.0)
QUIETS = (RATING_QUIET, REFLECTION_QUIET, LIST_QUIET)
ROOM_RMS = 0.002
"""The quiet room between items (-54 dBFS), with a little noise like a real one."""


@dataclass(frozen=True)
class Outcome:
    """One answer listened to with one amount of quiet."""

    pause: float
    """Seconds between items."""
    quiet: float
    """Seconds of quiet that ended the answer."""
    kept: int
    """Items in the first answer (of 3)."""
    after_last_word: float
    """Seconds from the person's last word to the end of listening (negative: before it)."""


def speech_end(clip: Samples) -> float:
    """Seconds into ``clip`` of its last 20 ms frame within 35 dB of its loudest."""
    frames = len(clip) // 320
    levels = level_db(clip[:frames * 320].reshape(frames, 320).astype(np.float64))
    loud = np.flatnonzero(levels > levels.max() - 35)
    return float((loud[-1] + 1) * 320 / RATE)


def answer(items: list[Samples], pause: float, seed: int) -> tuple[Samples, list[float], list[float]]:
    """The joined answer (1 s of room first, 10 s after), and each item's start and last-word end in seconds."""
    rng = np.random.default_rng(seed)

    def room(seconds: float) -> Samples:
        return (rng.standard_normal(int(seconds * RATE)) * ROOM_RMS).astype(np.float32)

    parts, starts, ends, at = [room(1.0)], [], [], 1.0
    for i, item in enumerate(items):
        if i:
            parts.append(room(pause))
            at += pause
        starts.append(at)
        ends.append(at + speech_end(item))
        parts.append(item.astype(np.float32))
        at += len(item) / RATE
    parts.append(room(10.0))
    return np.concatenate(parts), starts, ends


def listen(audio: Samples, quiet: float) -> tuple[float, float]:
    """Listen to ``audio`` as a session does; (start of the first answer, the clock when listening ended)."""
    clock = FakeClock()
    got = capture_answer(FakeInput(clock, audio, blocksize=1600), clock, timeout=8.0, limit=60.0,
                         trailing_silence=quiet)
    assert got is not None, "nobody was heard"
    return got.offset + got.speech_start, clock.monotonic()


def measure() -> list[Outcome]:
    cards = {c.name: sf.read(c.path, dtype="float32")[0] for c in fetch_cards()}
    out = []
    for pause in PAUSES:
        for quiet in QUIETS:
            for seed, names in enumerate(LISTS):
                audio, starts, ends = answer([cards[n] for n in names], pause, seed)
                _, ended = listen(audio, quiet)
                kept = sum(1 for s in starts if s < ended - quiet)  # items begun before the quiet that ended it
                out.append(Outcome(pause, quiet, kept, ended - ends[-1]))
    return out


def table(outcomes: list[Outcome]) -> str:
    rows = ["| quiet that ends an answer | pause between items | items kept (of 3, per answer) | "
            "last word to the session speaking (s) |", "|---|---|---|---|"]
    for quiet in QUIETS:
        for pause in PAUSES:
            these = [o for o in outcomes if o.quiet == quiet and o.pause == pause]
            kept = ", ".join(str(o.kept) for o in these)
            waits = ", ".join(f"{o.after_last_word:+.2f}" for o in these)
            rows.append(f"| {quiet:g} s | {pause:g} s | {kept} | {waits} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    threading.current_thread().name = "bench-turns"
    print(table(measure()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

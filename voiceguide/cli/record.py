"""``voiceguide record SESSION... [--pack NAME]``: record your own voice pack, line by line, on the device.

The terminal shows each line and asks for keys (Enter, k, r, s, q: typed, then Enter, so the same walk works
over ssh and from a script); the microphone and the speaker are chosen by name, as for ``run``.
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from voiceguide import backends
from voiceguide.backends import voice_pack
from voiceguide.engine.pack_lines import session_lines
from voiceguide.errors import BackendError
from voiceguide.live.record_walk import WalkIO, walk
from voiceguide.live.take_recorder import RATE, TakeRecorder
from voiceguide.safe_text import terminal_safe
from voiceguide.script import library, parse
from voiceguide.seams import AudioOutput, Samples

DEFAULT_PACK = "my-voice"
"""The pack recorded into when none is named."""


def play_through(output: AudioOutput, samples: Samples, rate: int = RATE) -> None:
    """Play ``samples`` once through ``output`` and return when they have been heard."""
    done = threading.Event()
    position = 0

    def fill(out: Samples, lost: int = 0) -> None:
        nonlocal position
        n = len(out)
        piece = samples[position:position + n]
        out[: len(piece)] = piece
        out[len(piece):] = 0.0
        position += n
        if position >= len(samples) + rate // 4:  # a little silence after, so the end is not cut
            done.set()

    with output.open(rate, fill):
        done.wait(timeout=len(samples) / rate + 5.0)


def _ask(prompt: str, choices: str) -> str:
    try:
        return input(f"  {prompt}: ")
    except EOFError:
        return "q"


def _show(text: str) -> None:
    print(terminal_safe(text, multiline=True), flush=True)


def _beat(n: int) -> None:
    print(f"  {n} ...", flush=True)


def cmd_record(args: argparse.Namespace) -> int:
    try:
        import pyloudnorm  # noqa: F401  (each take's loudness; say so before anyone records a word)
    except ImportError:
        raise BackendError("recording a voice pack needs pyloudnorm: pip install 'voiceguide[record]' "
                           "(from a checkout: .venv/bin/pip install -e '.[record]')") from None
    sessions = [(ref, parse.load(library.find(ref))) for ref in args.sessions]  # every script checked first
    voice_pack.check_name(args.pack)
    mic = backends.audio_input("sounddevice", args.input)
    output = backends.output("sounddevice", args.device)
    clock = backends.system_clock()
    silence = np.zeros(0, dtype=np.float32)
    try:
        mic.check()  # both devices are there before a pack folder is made
        output.check()
        pack = voice_pack.open_pack(args.pack, create=True)
        with TakeRecorder(mic, clock, beat=_beat) as recorder:
            time.sleep(1.0)  # a capture sends nothing for its first moment; let it settle before the first take
            io = WalkIO(ask=_ask, show=_show, record=recorder.record,
                        play=lambda samples: play_through(output, samples if len(samples) else silence))
            for ref, session in sessions:
                result = walk(pack, session.id or ref, session_lines(session), io, args.redo_skipped)
                if result.stopped:
                    break
    finally:
        mic.close()
        output.close()
    _show(f"Play it with: voiceguide run SESSION --voice {pack.name}   ('voiceguide voices' shows what it covers)")
    return 0


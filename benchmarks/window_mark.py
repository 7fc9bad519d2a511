"""Where a listen window opens against where the listening cue is heard (``tools/bench mark``).

A one-question session plays through PortAudio into a null sink while the microphone (the same PortAudio,
held as a session holds it) records that sink's monitor: the microphone hears exactly what the speaker
plays, so the cue's end can be found in what the microphone recorded. At the gate the window's mark is taken
two ways: what the microphone had delivered when the player reached the gate (the old mark), and the
microphone sample recorded when the gate's frame reached the speaker by both streams' PortAudio time stamps
(``listen.answers.window_mark``, the new one). Each is reported as how long after it the cue's end lies in the
recording (positive: the mark is early). Each run is a fresh process (a fresh pair of streams).
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

RATE = 16000
SCRIPT = ('[session]\ntitle = "q"\n[[step]]\nsay = "Hello there, this is a test."\n[[step]]\n'
          'listen = "What did you read today?"\ntimeout = 5\n[[step]]\nsay = "Bye."\n')


def one_run(settle: float) -> tuple[float, float]:
    """The cue's end after the old and after the new mark (seconds), in this process's PortAudio."""
    import soxr

    from voiceguide.backends.fake import FakeSpeaker
    from voiceguide.backends.sounddevice_in import SoundDeviceInput
    from voiceguide.backends.sounddevice_out import SoundDeviceOutput
    from voiceguide.backends.system_clock import SystemClock
    from voiceguide.engine.compile import compile_session
    from voiceguide.listen.answers import window_mark
    from voiceguide.listen.shared_input import SharedInput
    from voiceguide.playback.control import Command
    from voiceguide.playback.loop import play
    from voiceguide.playback.player import Player
    from voiceguide.script import parse
    from voiceguide.sound.sounds import listen_cue

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "q.toml")
        path.write_text(SCRIPT)
        timeline = compile_session(parse.load(path), FakeSpeaker(), 48000, listening=True)
    mic = SharedInput(SoundDeviceInput("pulse"))
    out = SoundDeviceOutput("pulse")
    controls: queue.SimpleQueue[Command] = queue.SimpleQueue()
    players: list[Player] = []
    marks: list[int | None] = []
    grabbed: list[tuple[np.ndarray, int]] = []

    def on_hold(step: int, over: threading.Event) -> None:
        marks.extend((mic.heard, window_mark(mic, out.heard_at(players[0].hold_frame))))

        def later() -> None:
            time.sleep(2.5)  # the cue's end is in the recording by then
            history = mic._history  # a measurement reads the held stream's history
            assert history is not None and marks[0] is not None
            grabbed.append((history.since(marks[0] - 2 * RATE), history.heard))
            controls.put(Command.RELEASE)

        threading.Thread(target=later, daemon=True).start()

    with mic.held(RATE):
        time.sleep(settle)
        play(timeline, out, SystemClock(), controls, on_hold=on_hold,
             started=lambda p: players.append(p) if p is not None else None)
    old, new = marks
    assert old is not None and new is not None
    audio, now = grabbed[0]
    cue = soxr.resample(listen_cue(48000).astype(np.float64), 48000, RATE)
    cue_end = int(np.argmax(np.correlate(audio.astype(np.float64), cue, "valid"))) + len(cue)
    at_old = len(audio) - (now - old)
    return (cue_end - at_old) / RATE, (cue_end - at_old - (new - old)) / RATE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        old, new = one_run(args.child)
        print(f"{old:.4f} {new:.4f}")
        return
    sink = f"vg_mark_{os.getpid()}"
    module = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={sink}", "rate=48000"],
                            capture_output=True, text=True, check=True).stdout.strip()
    try:
        env = dict(os.environ, PULSE_SINK=sink, PULSE_SOURCE=f"{sink}.monitor")
        rows = []
        for i in range(args.runs):
            settle = (0.5, 1.0, 2.0)[i % 3]  # how long the microphone was held before the session began
            done = subprocess.run([sys.executable, "-m", "benchmarks.window_mark", "--child", str(settle)], env=env,
                                  capture_output=True, text=True, check=True)
            old, new = (float(x) for x in done.stdout.split()[-2:])
            rows.append((old, new))
            print(f"run {i + 1}: cue's end {old:+.3f} s after the old mark, {new:+.3f} s after the new one")
        olds, news = np.array(rows).T
        print(f"old mark: {olds.min():+.3f} .. {olds.max():+.3f} s early; "
              f"new: {news.min():+.3f} .. {news.max():+.3f} s")
    finally:
        subprocess.run(["pactl", "unload-module", module], check=False)


if __name__ == "__main__":
    main()

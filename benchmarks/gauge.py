"""How accurate the loss gauge is: the figure behind the live catch-up test's tolerance.

``python -m benchmarks.gauge [--runs 10]`` (a PulseAudio server must answer; ``tools/pulse-null`` starts one)
plays the catch-up test's bells (``tests/audio/test_faults_live.py``) into a null sink of its own, stops the
process for 200 ms during a chime, and compares, per run:

* what the output's loss gauge reported lost (``LossGauge``, from PortAudio's DAC times), with
* what the recording shows was lost: how much later than planned the rest of the interrupted chime sounded,
  against the chime's own onset;
* and, after the catch-up, how far each later chime is from the plan (the gauge's error, once paid).

Run it on a quiet machine and beside a busy loop; docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

from tests.audio.audio_helpers import RATE, Pulse
from tests.audio.tee import differing
from tests.audio.test_faults_live import Underrun, chime_errors, run_with_an_underrun
from tests.measure import find_onset

from .onsets import private_sink


def recorded_loss(run: Underrun) -> int:
    """Samples by which the interrupted chime's sound after the first loss came later than planned, from the
    recording: its stretch 0.1-0.35 s after the loss, found against the chime's own onset."""
    first_loss = run.handed.losses[0][0]
    chime = max(s for s in run.starts if s + RATE * 3 // 10 <= first_loss)
    bell = run.render[chime:chime + RATE // 4]
    first, _ = find_onset(run.live, bell, int(np.argmax(np.abs(run.live) > 0.01)), RATE, lead=RATE // 20)
    at, _ = find_onset(run.live, bell, first + chime - run.starts[0], RATE // 3, lead=RATE // 20)
    later = first_loss + RATE // 10
    piece = run.render[later:later + RATE // 4]
    if later + RATE // 4 > chime + RATE * 7 // 2:
        return 0  # the loss was not inside a chime: nothing to measure it by
    found, _ = find_onset(run.live, piece, at + later - chime, RATE // 2)
    return found - at - (later - chime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    errors_all: list[int] = []
    with private_sink("vg_gauge_bench") as monitor, tempfile.TemporaryDirectory() as tmp:
        import os

        sink = monitor.removesuffix(".monitor")
        pulse = Pulse(sink, dict(os.environ, PULSE_SINK=sink))
        cache = Path(tmp) / "cache"
        for n in range(args.runs):
            folder = Path(tmp) / f"run{n}"
            folder.mkdir()
            run = run_with_an_underrun(pulse, folder, cache)
            if not run.handed.losses:
                print(f"run {n}: no underrun reported")
                continue
            reported = run.handed.losses[0][1]
            real = recorded_loss(run)
            anchor, found = chime_errors(run)
            errors = [e for _, losses, e, _ in found if losses == 1]
            errors_all += errors
            judged = {f[0] for f in found}
            firsts = [differing(run.handed, run.render, s) for s in run.starts]
            exact = [w < 0 or w >= e for s, e, w in zip(run.starts, run.ends, firsts, strict=True) if s in judged]
            print(f"run {n}: losses {run.handed.losses}; the first: reported {reported}, the recording shows "
                  f"{real} (difference {real - reported}); after chime {anchor}, (chime, losses, error, score) "
                  f"{found}; handed on the planned sample: {exact}")
    if errors_all:
        print(f"after catch-up from one loss, over {len(errors_all)} chimes: |error| median "
              f"{statistics.median(abs(e) for e in errors_all)}, max {max(abs(e) for e in errors_all)} samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

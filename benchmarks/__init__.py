"""voiceguide's benchmarks: measurements of the product on this machine, kept out of the wheel.

Run each from the repository root as ``python -m benchmarks.<name>`` or through ``tools/bench``; the figures
and how they were taken are in ``docs/benchmarks.md``.

- :mod:`benchmarks.live`: cue-onset accuracy of the real audio path against naive play-and-sleep, time to
  first sample, CPU and memory (``tools/bench``).
- :mod:`benchmarks.onsets`: what the live benchmark shares: recording a PulseAudio monitor, a private null
  sink, locating a known clip in a recording.
- :mod:`benchmarks.stt`: word error rate and speed of the speech recognizers on public-domain clips.
- :mod:`benchmarks.listen`: listening beyond word error rate (invented answers, the worker, underruns).
- :mod:`benchmarks.commands`: detection rate and false triggers of the voice commands.
- :mod:`benchmarks.remote`: the phone remote's memory, idle CPU and a load test (``tools/bench remote``).
- :mod:`benchmarks.startup`: start-up time and peak memory of light commands and the daemon's threads and
  open files across sessions (``tools/bench startup``).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
"""The repository root: the working folder of the benchmark's own child processes (``python -m benchmarks.x``
and ``python -c`` find the package there)."""

"""Speech-to-text benchmark: WER and speed of recognize_sphinx, our kept pocketsphinx decoder, and
faster-whisper with the packaged tiny.en and base models; then (``benchmarks.listen``) invented answers on
silence and noise, end of answer to words in the worker process, underruns of the real output while
answers are transcribed, and the memory of a daemon-like process loaded and idle.

``python -m benchmarks.stt`` runs the recognizers, interleaved, on the five public-domain LibriVox clips
that ship in pocketsphinx's source archive (fetched once with ``pip download`` into a cache folder:
this developer tool uses the network, the voiceguide program never does).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.measure import wer, word_errors
from tests.speech_clips import LabeledClip, fetch_librivox, load_clip
from voiceguide.errors import VoiceguideError
from voiceguide.seams import Clip, Recognizer


@dataclass(frozen=True)
class Result:
    """How one recognizer did on the clips."""

    name: str
    """Recognizer name."""
    wer: float
    """Word error rate, 0..1."""
    seconds: float
    """Best wall-clock time for all clips over the rounds."""
    cpu_seconds: float
    """Best process CPU time for all clips over the rounds."""
    hypotheses: tuple[str, ...]
    """What it heard, clip by clip."""


def _one_round(rec: Recognizer, clips: list[tuple[LabeledClip, Clip]]) -> tuple[float, float, list[str]]:
    wall, cpu = time.perf_counter(), time.process_time()
    heard = [rec.transcribe(clip).text for _, clip in clips]
    return time.perf_counter() - wall, time.process_time() - cpu, heard


def run(recognizers: dict[str, Recognizer], clips: list[LabeledClip], rounds: int = 3,
        progress: Callable[[str], None] | None = None) -> list[Result]:
    """Each recognizer on every clip, ``rounds`` times interleaved; best times kept (least disturbed)."""
    loaded = [(c, load_clip(c.path)) for c in clips]
    best: dict[str, tuple[float, float, list[str]]] = {}
    for n in range(rounds):
        for name, rec in recognizers.items():
            wall, cpu, heard = _one_round(rec, loaded)
            if progress:
                progress(f"round {n + 1}: {name:<22} {wall:6.2f} s wall, {cpu:6.2f} s CPU")
            old = best.get(name)
            best[name] = (min(wall, old[0]) if old else wall, min(cpu, old[1]) if old else cpu, heard)
    refs = [c.reference for c in clips]
    return [Result(name, wer(list(zip(refs, heard, strict=True))), wall, cpu, tuple(heard))
            for name, (wall, cpu, heard) in best.items()]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    from voiceguide.backends import recognizer
    from voiceguide.backends.sphinx import SphinxRecognizer

    parser = argparse.ArgumentParser(prog="python -m benchmarks.stt", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; the best time counts (default 3)")
    parser.add_argument("--data", type=Path, help="cache folder for the clips (default ~/.cache/voiceguide-test-data)")
    parser.add_argument("--no-listen", action="store_true", help="only the WER table, not the listening figures")
    parser.add_argument("--device", default="pulse", help="output for the underrun measurement (default pulse)")
    parser.add_argument("--seconds", type=float, default=120.0, help="playing time for the underrun measurement")
    parser.add_argument("--answers", type=int, default=10, help="answers transcribed while it plays")
    parser.add_argument("--idle", type=float, default=10.0, help="worker idle time for the memory measurement")
    args = parser.parse_args(argv)
    try:
        clips = fetch_librivox(args.data)
        audio_seconds = sum(load_clip(c.path).seconds for c in clips)
        started = time.perf_counter()
        ours = SphinxRecognizer()
        ours.load()
        load_seconds = time.perf_counter() - started
        untuned = SphinxRecognizer(fwdflat=True, maxhmmpf=30000)  # pocketsphinx's own settings
        untuned.load()
        recs: dict[str, Recognizer] = {"sphinx (ours)": ours, "sphinx, default tuning": untuned,
                                       "recognize_sphinx": recognizer("sphinx-sr")}
        loads = {"sphinx (ours)": load_seconds}
        for model in ("tiny.en", "base"):
            whisper = recognizer("faster-whisper", model=model, language="en")
            started = time.perf_counter()
            whisper.load()  # type: ignore[attr-defined]
            loads[whisper.name] = time.perf_counter() - started
            recs[whisper.name] = whisper
        results = run(recs, clips, args.rounds, progress=lambda line: print(line, file=sys.stderr))
    except VoiceguideError as exc:
        print(f"benchmarks.stt: {exc}", file=sys.stderr)
        return 1
    base = next(r for r in results if r.name == "recognize_sphinx")
    print(f"{len(clips)} LibriVox clips, {audio_seconds:.1f} s of speech; {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}; best of {args.rounds} rounds")
    print("one-time model load (with the SHA-256 check for Whisper): "
          + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in loads.items()) + "\n")
    print("| recognizer | WER | wall s | RTF (wall) | CPU s | RTF (CPU) | speed-up (wall / CPU) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.name} | {r.wer:.1%} | {r.seconds:.2f} | {r.seconds / audio_seconds:.3f} | {r.cpu_seconds:.2f} "
              f"| {r.cpu_seconds / audio_seconds:.3f} | {base.seconds / r.seconds:.2f}x / "
              f"{base.cpu_seconds / r.cpu_seconds:.2f}x |")
    for r in results:
        print(f"\n{r.name}:")
        for c, heard in zip(clips, r.hypotheses, strict=True):
            errors, words = word_errors(c.reference, heard)
            print(f"  {c.name[-4:]}  {errors}/{words}  {heard}")
    if not args.no_listen:
        from .listen import report

        try:
            print("\n".join(report([c.path for c in clips], args.device, args.seconds, args.answers, args.idle)))
        except (VoiceguideError, OSError, subprocess.SubprocessError) as exc:
            print(f"benchmarks.stt: the listening figures failed: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

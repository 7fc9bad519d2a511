"""Speech-to-text benchmark: WER and speed of recognize_sphinx, our kept pocketsphinx decoder, and
faster-whisper with the packaged tiny.en and base models; then (``bench_listen``) invented answers on
silence and noise, end of answer to words in the worker process, underruns of the real output while
answers are transcribed, and the memory of a daemon-like process loaded and idle.

``python -m voiceguide.bench_stt`` runs the recognizers, interleaved, on the five public-domain LibriVox clips
that ship in pocketsphinx's source archive (fetched once with ``pip download`` into a cache folder:
this developer tool uses the network, the voiceguide program never does).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import VoiceguideError
from .seams import Clip, Recognizer

PACKAGE = "pocketsphinx==5.1.1"
"""The source archive whose test/data/librivox holds the clips."""

CLIP_COUNT = 5
"""How many clips it holds."""


def default_cache() -> Path:
    """``$VOICEGUIDE_TEST_DATA`` or ``~/.cache/voiceguide-test-data``."""
    return Path(os.environ.get("VOICEGUIDE_TEST_DATA") or Path.home() / ".cache" / "voiceguide-test-data")


@dataclass(frozen=True)
class LabeledClip:
    """A recording with what was said in it."""

    name: str
    """File stem, e.g. ``sense_and_sensibility_01_austen_64kb-0880``."""
    path: Path
    """The WAV file."""
    reference: str
    """The words spoken, lowercase."""


SPELLED_OUT: dict[str, str] = {"mr": "mister", "mrs": "missus", "dr": "doctor"}
"""Abbreviations Whisper writes for words the transcripts spell out ("Mr." for "mister")."""


def normalise(text: str) -> list[str]:
    """Lowercase words without punctuation (apostrophes inside words stay; "Mr." is "mister")."""
    return [SPELLED_OUT.get(w, w) for w in re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", text.lower())]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference word count): word-level edit distance."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1], len(ref)


def wer(pairs: list[tuple[str, str]]) -> float:
    """Word error rate over (reference, hypothesis) pairs: total errors / total reference words."""
    errors = words = 0
    for reference, hypothesis in pairs:
        e, n = word_errors(reference, hypothesis)
        errors, words = errors + e, words + n
    return errors / words if words else 0.0


def _clips_in(folder: Path) -> list[LabeledClip]:
    clips = []
    for wav in sorted(folder.glob("*.wav")):
        txt = wav.with_suffix(".txt")
        if txt.is_file():
            clips.append(LabeledClip(wav.stem, wav, " ".join(normalise(txt.read_text(encoding="utf-8")))))
    return clips


def pip_download(spec: str, pattern: str, cache: Path, *options: str, timeout: float = 1200.0) -> Path:
    """The file matching ``pattern`` in ``cache``, fetched there with ``pip download --no-deps OPTIONS SPEC``
    the first time; :class:`VoiceguideError` when pip cannot get it."""
    found = sorted(cache.glob(pattern))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", *options, spec, "-d", str(cache), "--quiet"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceguideError(f"cannot run pip download: {exc}") from exc
        found = sorted(cache.glob(pattern))
        if done.returncode != 0 or not found:
            raise VoiceguideError(f"pip download {spec} failed: {done.stderr.strip()[-500:]}")
    return found[0]


def fetch_librivox(cache: Path | None = None, timeout: float = 1200.0) -> list[LabeledClip]:
    """The LibriVox clips, downloading pocketsphinx's source archive with pip the first time.

    Raises :class:`VoiceguideError` when the archive cannot be had."""
    cache = cache or default_cache()
    folder = cache / "librivox"
    clips = _clips_in(folder) if folder.is_dir() else []
    if len(clips) >= CLIP_COUNT:
        return clips
    cache.mkdir(parents=True, exist_ok=True)
    archives = [pip_download(PACKAGE, "pocketsphinx-5.1.1.tar.gz", cache, "--no-binary=:all:", timeout=timeout)]
    folder.mkdir(exist_ok=True)
    try:
        with tarfile.open(archives[0]) as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if member.isfile() and parts[-2:-1] == ("librivox",) and member.name.endswith((".wav", ".txt")):
                    source = tar.extractfile(member)
                    if source is not None:
                        (folder / parts[-1]).write_bytes(source.read())
    except (OSError, tarfile.TarError) as exc:
        raise VoiceguideError(f"cannot unpack {archives[0]}: {exc}") from exc
    clips = _clips_in(folder)
    if len(clips) < CLIP_COUNT:
        raise VoiceguideError(f"{archives[0]} held {len(clips)} LibriVox clips, expected {CLIP_COUNT}")
    return clips


def load_clip(path: Path) -> Clip:
    """A WAV as a float32 mono clip."""
    from .journal.audio import load

    return load(path)


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
    from .backends import recognizer
    from .backends.sphinx import SphinxRecognizer

    parser = argparse.ArgumentParser(prog="python -m voiceguide.bench_stt", description=__doc__)
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
        print(f"bench_stt: {exc}", file=sys.stderr)
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
        from .bench_listen import report

        try:
            print("\n".join(report([c.path for c in clips], args.device, args.seconds, args.answers, args.idle)))
        except (VoiceguideError, OSError, subprocess.SubprocessError) as exc:
            print(f"bench_stt: the listening figures failed: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

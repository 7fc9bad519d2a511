"""Voice command benchmark: detection rate and false triggers of ``VoiceCommands``, now and before.

``python -m benchmarks.commands`` builds repeatable test audio with the Piper voice (the
``piper`` extra): every command word at 11 speaking rates (100-200 words per minute), each at a
random level, with 1.5-3.5 s gaps, in a quiet (-50 dBFS) and a noisy (-40 dBFS) room; and the
session speech of a few bundled scripts rendered at 16 kHz (kept in a cache folder, so later runs
hear the same audio). It feeds both to the filter as the microphone would (0.1 s blocks) and counts:
a spoken word is detected if its command comes out between the word's start and 2 s after its end;
every other command is a false trigger. Session speech is fed once without the speaking gate and once
with it (as in a session: the gate is on while the guide speaks).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.measure import matches
from tests.speech_clips import default_cache
from voiceguide.listen.voice_commands import DEFAULT_WORDS, CommandConfig, VoiceCommands
from voiceguide.playback.control import Command
from voiceguide.seams import Samples, SpeechParams

RATE = 16000
BLOCK = 1600
RATES = tuple(range(100, 201, 10))
"""Speaking rates, words per minute."""
ROOMS = {"quiet room (-50 dBFS)": 0.003, "noisy room (-40 dBFS)": 0.01}
"""Room noise, RMS."""
SESSIONS = ("body-scan-10", "grounding", "self-compassion", "letting-go", "boundaries")
"""Scripts whose speech is the false-trigger test."""

CONFIGS: dict[str, dict[str, object]] = {
    "now": {},
    "now, with stop taken while the guide speaks": {"while_speaking": frozenset({Command.STOP})},
    "before (no growth, no check)": {
        "isolation_grow": 0.0, "check": False,
        "sensitivity": {"pause": 0.25, "resume": 0.25, "skip": 0.75, "repeat": 0.25, "slower": 0.25, "stop": 0.5}},
}
"""The filter as shipped (and with its one gate option), and as it was before the word growth and the check."""

Span = tuple[str, int, int]


@dataclass(frozen=True)
class Detection:
    """One configuration on one set of spoken commands."""

    hits: int
    total: int
    extra: int
    missed: tuple[str, ...]
    cpu: float
    """CPU seconds per second of audio."""


def renderings() -> list[tuple[str, Samples]]:
    """Every command word at every rate, peak-normalised, 16 kHz."""
    import soxr

    from voiceguide.backends.piper_tts import PiperSpeaker

    speaker = PiperSpeaker(variation=0.0)  # identical renderings every run
    items = []
    for rate in RATES:
        for word in DEFAULT_WORDS:
            clip = speaker.synthesize(word, SpeechParams(rate=rate))
            audio = np.asarray(soxr.resample(clip.samples, clip.sample_rate, RATE), dtype=np.float32)
            items.append((word, audio / max(1e-6, float(np.abs(audio).max()))))
    return items


def command_set(items: list[tuple[str, Samples]], room: float, seed: int) -> tuple[Samples, list[Span]]:
    """The renderings shuffled, at random levels, with random gaps, in room noise."""
    rng = np.random.default_rng(seed)
    parts, spans, at = [np.zeros(2 * RATE, np.float32)], [], 2 * RATE
    for k in rng.permutation(len(items)):
        word, audio = items[k][0], items[k][1] * rng.uniform(0.15, 0.6)
        gap = int(rng.uniform(1.5, 3.5) * RATE)
        spans.append((word, at, at + len(audio)))
        parts += [audio, np.zeros(gap, np.float32)]
        at += len(audio) + gap
    stream = np.concatenate(parts)
    stream += rng.normal(0.0, room, len(stream)).astype(np.float32)
    return stream, spans


def session_speech(name: str, cache: Path) -> tuple[Path, Path]:
    """The WAV and timeline of ``name`` spoken by Piper at 16 kHz (rendered once into ``cache``)."""
    wav, timeline = cache / f"{name}.wav", cache / f"{name}.json"
    if not wav.exists() or not timeline.exists():
        done = subprocess.run([sys.executable, "-m", "voiceguide", "render", name, "--tts", "piper", "-o", str(wav),
                               "--timeline", str(timeline), "--sample-rate", str(RATE),
                               "--cache-dir", str(cache / "speech")], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"benchmarks.commands: rendering {name} failed: {done.stderr.strip()}")
    return wav, timeline


def _feed(config: CommandConfig, audio: Samples,
          speaking: np.ndarray | None = None) -> tuple[list[tuple[Command, int]], float]:
    vc = VoiceCommands(config)
    heard: list[tuple[Command, int]] = []
    cpu = time.process_time()
    for i in range(0, len(audio), BLOCK):
        talking = speaking is not None and bool(speaking[i:i + BLOCK].any())
        heard += [(c, i + BLOCK) for c in vc.feed(audio[i:i + BLOCK], talking)]
    return heard, (time.process_time() - cpu) / (len(audio) / RATE)


def detect(overrides: dict[str, object], stream: Samples, spans: list[Span]) -> Detection:
    """Feed one command set through one configuration."""
    heard, cpu = _feed(CommandConfig(**overrides), stream)  # type: ignore[arg-type]
    found = matches([(DEFAULT_WORDS[word], start, end) for word, start, end in spans], heard)
    missed = tuple(sorted(word for (word, _, _), ok in zip(spans, found, strict=True) if not ok))
    return Detection(sum(found), len(spans), len(heard) - sum(found), missed, cpu)


def false_triggers(overrides: dict[str, object], wav: Path, timeline: Path) -> tuple[list[str], list[str], float]:
    """Commands heard in a session's own speech: without the gate, with it; and the minutes of audio."""
    import soundfile

    audio = np.asarray(soundfile.read(str(wav), dtype="float32")[0], dtype=np.float32)
    speaking = np.zeros(len(audio), dtype=bool)
    for event in json.loads(timeline.read_text(encoding="utf-8"))["events"]:
        if event["kind"] == "speech":
            speaking[event["start_sample"]:event["end_sample"]] = True
    config = CommandConfig(**overrides)  # type: ignore[arg-type]
    ungated = [c.value for c, _ in _feed(config, audio)[0]]
    gated = [c.value for c, _ in _feed(config, audio, speaking)[0]]
    return ungated, gated, len(audio) / RATE / 60


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.commands", description=__doc__)
    parser.add_argument("--data", type=Path, help="cache folder (default ~/.cache/voiceguide-test-data)")
    parser.add_argument("--sessions", nargs="*", default=list(SESSIONS), help="scripts for the false-trigger test")
    args = parser.parse_args(argv)
    cache = (args.data or default_cache()) / "commands"
    cache.mkdir(parents=True, exist_ok=True)
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    say("building the command sets and rendering session speech (the first run takes a few minutes)")
    items = renderings()
    sets = {name: command_set(items, room, seed) for seed, (name, room) in enumerate(ROOMS.items(), start=31)}
    speech = {name: session_speech(name, cache) for name in args.sessions}
    with ProcessPoolExecutor(2) as pool:
        detections = {(c, s): pool.submit(detect, CONFIGS[c], *sets[s]) for c in CONFIGS for s in sets}
        triggers = {(c, s): pool.submit(false_triggers, CONFIGS[c], *speech[s]) for c in CONFIGS for s in speech}
        print(f"{len(RATES) * len(DEFAULT_WORDS)} spoken commands per room (Piper joe-medium, rates "
              f"{RATES[0]}-{RATES[-1]} wpm, peak 0.15-0.6)\n")
        print("| filter | room | detected | extra | missed | CPU (share of a core) |\n|---|---|---|---|---|---|")
        for (config, room), found in detections.items():
            d = found.result()
            missed = ", ".join(f"{w} x{n}" for w, n in sorted(Counter(d.missed).items())) or "-"
            print(f"| {config} | {room} | {d.hits}/{d.total} ({d.hits / d.total:.0%}) | {d.extra} | {missed} "
                  f"| {d.cpu:.1%} |")
        print("\n| filter | session (Piper) | minutes | false triggers, no gate | with the speaking gate |\n"
              "|---|---|---|---|---|")
        totals: Counter[tuple[str, str]] = Counter()
        for (config, session), heard in triggers.items():
            ungated, gated, minutes = heard.result()
            totals[(config, "min")] += round(minutes * 100)
            totals[(config, "off")] += len(ungated)
            totals[(config, "on")] += len(gated)
            print(f"| {config} | {session} | {minutes:.1f} | {len(ungated)} ({', '.join(ungated) or '-'}) "
                  f"| {len(gated)} |")
        for config in CONFIGS:
            print(f"| {config} | all | {totals[(config, 'min')] / 100:.1f} | {totals[(config, 'off')]} "
                  f"| {totals[(config, 'on')]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

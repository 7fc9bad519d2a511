"""Taught voice commands: detection, false triggers per hour, latency after the word, CPU and memory.

``python -m benchmarks.taught`` (or ``tools/bench taught``). Everything spoken here is synthetic except the
human recordings named below: no real Dutch speech is on the package registries, so espeak-ng's Dutch voice
variants (``nl+f2``, ``nl+m3`` ...) at different speeds and pitches stand in for different people and for one
person's different sayings.

1. **Detection.** For each of several "people" (an espeak-ng variant): teach the six Dutch words with three
   sayings (speeds 125/140/155 wpm), then say each word four more times (other speeds 110-170 and pitches
   35-70) with 1.5-3.5 s between them, in a quiet (-50 dBFS) and a noisy (-40 dBFS) room, fed to the whole
   filter (segmenter, templates, isolation test) in 0.1 s blocks. A word is detected if its command comes out
   between the word's start and 1 s after its end; anything else is a false command. Also "taught by one
   person, said by another" (the templates of the first variant heard from the others), the hard case.
2. **False triggers per hour** of ordinary speech that is not a command, not gated (as if another person
   talked in the room): the say lines of every bundled Dutch and English script read by other espeak-ng
   variants, sentence by sentence with 0.3-2.5 s between sentences, until at least an hour; plus the real
   human recordings in pocketsphinx 5.1.1's source archive (LibriVox read speech, the "cards" utterances,
   single words), whose clips are separated by 1 s. Counted with the isolation test and without it (the
   spotter's own output).
3. **Latency**: when the command comes out after the word's end, in the filter (the audio path adds the
   capture's block and the device's latency: measured by ``tests/audio/test_taught_mic.py``).
4. **CPU and memory**: process CPU per hour of audio fed, and the peak RSS of this process.
"""

from __future__ import annotations

import argparse
import io
import resource
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from voiceguide.backends.taught_match import features
from voiceguide.backends.taught_spotter import Segmenter, TaughtSpotter
from voiceguide.listen import command_choice
from voiceguide.listen.command_config import CommandConfig
from voiceguide.listen.taught_store import DEFAULT_WORDS, TaughtCommands
from voiceguide.listen.voice_commands import VoiceCommands
from voiceguide.playback.control import Command
from voiceguide.seams import Samples

RATE = 16000
BLOCK = 1600
ROOT = Path(__file__).resolve().parents[1]
PEOPLE = ("nl+m3", "nl+f2", "nl+m1", "nl+f4", "nl+m7")
"""espeak-ng Dutch variants standing in for people."""
TEACH = ((125, 50), (140, 50), (155, 50))
"""(speed wpm, pitch) of the three taught sayings."""
TEST = ((110, 45), (132, 65), (148, 35), (170, 70))
"""(speed, pitch) of the four held-out sayings."""
ROOMS = {"quiet room (-50 dBFS)": 0.003, "noisy room (-40 dBFS)": 0.01}
SHORT = ("ja", "nee", "oké", "goed", "dank je", "hallo", "mooi", "even", "straks", "water", "slapen", "top",
         "stof", "pauw", "paus", "verdergaan", "pauzeren", "stoppen", "herhalen", "langzaam", "sla", "over", "zo",
         "dus", "nou", "precies", "welterusten", "zeker", "helemaal", "rustig", "adem", "vader", "verder nog",
         "stop maar", "hè", "ach", "wacht", "kom", "klaar", "later")
"""Short Dutch words and phrases people say on their own, some close to the command words (pauw, paus,
stoppen, pauzeren, verdergaan, herhalen, langzaam, stop maar): each said alone by the other voices."""
OTHER_VOICES = ("nl+f3", "nl+m2", "nl+f5", "nl+m5", "en+f3", "en-us+m4", "en+m2")
"""Voices reading ordinary sentences for the false-trigger count."""


def say(text: str, voice: str, speed: int = 135, pitch: int = 50, level: float = 0.3) -> Samples:
    """espeak-ng's rendering of ``text`` at 16 kHz, peak at ``level``, without its leading/trailing silence."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                         capture_output=True, check=True).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    audio = soxr.resample(audio, rate, RATE).astype(np.float32)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    audio = audio[loud[0]:loud[-1] + 1] if len(loud) else audio
    out: Samples = (audio / max(1e-6, float(np.max(np.abs(audio)))) * level).astype(np.float32)
    return out


def room(seconds: float, rms: float, rng: np.random.Generator) -> Samples:
    return rng.normal(0.0, rms, int(seconds * RATE)).astype(np.float32)


def noisy(audio: Samples, rms: float, rng: np.random.Generator) -> Samples:
    out: Samples = (audio + rng.normal(0.0, rms, len(audio))).astype(np.float32)
    return out


def cut_take(audio: Samples, rms: float, rng: np.random.Generator) -> np.ndarray:
    """The take's features, cut by the segmenter as teaching does."""
    seg = Segmenter()
    stream = np.concatenate([room(1.0, rms, rng), noisy(audio, rms, rng),
                             room(1.0, rms, rng)])
    found = [s for i in range(0, len(stream), BLOCK) for s in seg.feed(stream[i:i + BLOCK])]
    return features(max(found, key=lambda s: s.end - s.start).audio)


def teach_person(voice: str, rms: float, seed: int) -> TaughtCommands:
    rng = np.random.default_rng(seed)
    words = dict(DEFAULT_WORDS["nl"])
    takes = {w: [cut_take(say(w, voice, s, p, float(rng.uniform(0.15, 0.6))), rms, rng) for s, p in TEACH]
             for w in words}
    return TaughtCommands("nl", words, takes)


def make_filter(taught: TaughtCommands, isolation: bool = True) -> VoiceCommands:
    config = command_choice.taught_config(CommandConfig(), taught)
    if not isolation:
        config = CommandConfig(words=config.words, sensitivity={}, check=False, isolation_grow=0.0,
                               isolation_margin_db=-200.0, isolation_longest=100.0)
    return VoiceCommands(config, spotter=TaughtSpotter(dict(taught.takes)))


@dataclass
class Count:
    hits: int = 0
    total: int = 0
    false: int = 0
    latencies: list[float] | None = None


def detection(taught: TaughtCommands, voice: str, rms: float, seed: int, count: Count) -> None:
    rng = np.random.default_rng(seed)
    items = [(w, say(w, voice, s, p, float(rng.uniform(0.15, 0.6)))) for w in taught.words for s, p in TEST]
    order = rng.permutation(len(items))
    parts, spans, at = [room(2.0, rms, rng)], [], 2 * RATE
    for k in order:
        word, audio = items[k]
        spans.append((taught.words[word], at, at + len(audio)))
        gap = room(float(rng.uniform(1.5, 3.5)), rms, rng)
        parts += [noisy(audio, rms, rng), gap]
        at += len(audio) + len(gap)
    stream = np.concatenate(parts)
    vc = make_filter(taught)
    heard: list[tuple[Command, int]] = []
    for i in range(0, len(stream), BLOCK):
        heard += [(c, i + BLOCK) for c in vc.feed(stream[i:i + BLOCK])]
    used = set()
    for command, start, end in spans:
        count.total += 1
        match = next((k for k, (c, t) in enumerate(heard)
                      if k not in used and c == command and start <= t <= end + RATE), None)
        if match is not None:
            used.add(match)
            count.hits += 1
            assert count.latencies is not None
            count.latencies.append((heard[match][1] - end) / RATE)
    count.false += len(heard) - len(used)


def sentences() -> Iterator[tuple[str, str]]:
    """(language, sentence) from the say lines of the bundled scripts."""
    for path in sorted((ROOT / "scripts").glob("*.toml")):
        language = "nl" if path.name.startswith("nl-") else "en"
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for text in _says(data):
            for part in text.replace("{stop}", "").replace("{next_rounds}", "vier").replace("{last_rounds}", "vier") \
                    .replace("!", ".").replace("?", ".").split(". "):
                if part.strip():
                    yield language, part.strip()


def _says(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "say" and isinstance(value, str):
                yield value
            else:
                yield from _says(value)
    elif isinstance(node, list):
        for item in node:
            yield from _says(item)


def ordinary_speech(minutes: float, seed: int) -> Iterator[Samples]:
    """Blocks of sentences by the other voices with pauses, until ``minutes`` of audio."""
    rng = np.random.default_rng(seed)
    lines = list(sentences())
    total, goal, k = 0, minutes * 60 * RATE, 0
    while total < goal:
        language, text = lines[k % len(lines)]
        voices = [v for v in OTHER_VOICES if v.startswith(language)]
        voice = voices[(k // len(lines)) % len(voices)]
        k += 1
        audio = say(text, voice, int(rng.integers(115, 175)), int(rng.integers(35, 70)), float(rng.uniform(0.15, 0.6)))
        gap = room(float(rng.uniform(0.3, 2.5)), 0.003, rng)
        chunk = np.concatenate([noisy(audio, 0.003, rng), gap])
        total += len(chunk)
        yield chunk


def short_words(seed: int) -> Iterator[Samples]:
    """Each of :data:`SHORT` by each other Dutch voice at three speeds, alone, 1.5-3 s apart."""
    rng = np.random.default_rng(seed)
    for voice in (v for v in OTHER_VOICES if v.startswith("nl")):
        for text in SHORT:
            for speed in (115, 140, 165):
                audio = say(text, voice, speed, int(rng.integers(35, 70)), float(rng.uniform(0.15, 0.6)))
                yield np.concatenate([noisy(audio, 0.003, rng),
                                      room(float(rng.uniform(1.5, 3.0)), 0.003, rng)])


def human_speech() -> Samples:
    """The real recordings of pocketsphinx's source archive (16 kHz), 1 s apart; empty if not fetched."""
    from tests.speech_clips import default_cache

    cache = default_cache()
    wavs = sorted((cache / "librivox").glob("*.wav")) + sorted((cache / "cards").glob("*.wav"))
    parts = []
    rng = np.random.default_rng(7)
    for wav in wavs:
        audio, rate = sf.read(wav, dtype="float32")
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        if rate != RATE:
            audio = soxr.resample(audio, rate, RATE).astype(np.float32)
        parts += [audio, room(1.0, 0.003, rng)]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def false_triggers(taughts: list[TaughtCommands], chunks: Iterator[Samples]) -> tuple[float, int, int, float, int]:
    """Every person's filter hears the same speech: (seconds fed, commands with isolation, words spotted
    without it, CPU seconds of the first full filter, candidate words it matched). Counts are summed."""
    with_iso = [make_filter(t) for t in taughts]
    without = [make_filter(t, isolation=False) for t in taughts]
    fed, heard, spotted, cpu = 0, 0, 0, 0.0
    for chunk in chunks:
        for i in range(0, len(chunk), BLOCK):
            block = chunk[i:i + BLOCK]
            t0 = time.process_time()
            heard += len(with_iso[0].feed(block))
            cpu += time.process_time() - t0
            heard += sum(len(f.feed(block)) for f in with_iso[1:])
            spotted += sum(len(f.feed(block)) for f in without)
        fed += len(chunk)
    first = with_iso[0].spotter
    return fed / RATE, heard, spotted, cpu, first.matched if isinstance(first, TaughtSpotter) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=62.0, help="minutes of ordinary speech (default 62)")
    parser.add_argument("--people", type=int, default=len(PEOPLE))
    args = parser.parse_args(argv)
    people = PEOPLE[:args.people]
    print(f"## Taught voice commands ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
    taught = {p: teach_person(p, 0.003, seed=i) for i, p in enumerate(people)}
    print("| case | room | detected | false commands | latency after the word (median / worst) |")
    print("| --- | --- | --- | --- | --- |")
    for case in ("own voice", "taught by another"):
        for r, (name, rms) in enumerate(ROOMS.items()):
            count = Count(latencies=[])
            for i, p in enumerate(people):
                teacher = p if case == "own voice" else people[0]
                if case == "taught by another" and p == people[0]:
                    continue
                detection(taught[teacher], p, rms, seed=100 + 10 * i + r, count=count)
            lat = sorted(count.latencies or [0.0])
            print(f"| {case} | {name} | {count.hits}/{count.total} ({100 * count.hits / max(1, count.total):.0f} %) "
                  f"| {count.false} | {lat[len(lat) // 2]:.2f} s / {lat[-1]:.2f} s |")
    print()
    print("| ordinary speech | minutes | commands (isolation on) | per hour | spotted without isolation | per hour "
          "| words matched | CPU % of one core |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, chunks in (("espeak-ng nl/en, bundled scripts", ordinary_speech(args.minutes, 11)),
                          ("short Dutch words said alone (480, 40 kinds)", short_words(12)),
                          ("human recordings (pocketsphinx archive)", iter([human_speech()]))):
        seconds, heard, spotted, cpu, matched = false_triggers([taught[p] for p in people], chunks)
        hours = max(seconds, 1e-9) / 3600 * len(people)
        print(f"| {label} | {seconds / 60:.1f} x {len(people)} people | {heard} | {heard / hours:.2f} | {spotted} | "
              f"{spotted / hours:.1f} | {matched} | {100 * cpu / max(seconds, 1e-9):.2f} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak RSS of the benchmark process: {peak:.0f} MB.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

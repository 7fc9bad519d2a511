"""The natural voice by default (issue 20): render time of every bundled English session, cold and warm, with
Piper and with espeak-ng, and the measured loudness of both voices' lines.

``python -m benchmarks.voices [--tts piper espeak] [--sessions ID ...] [--json FILE]`` (``tools/bench voices``).

* Render: ``voiceguide render ID -o x.wav --tts NAME`` as a child process, first into an empty speech cache
  (cold: every line synthesised) and then again with the cache it filled (warm: every line read back). Wall
  time of each child, summed over the sessions.
* Loudness: every distinct spoken line of those sessions, as the engine places it (rendered, resampled to the
  stream's 48 kHz and brought to the one speech level), measured with pyloudnorm (ITU-R BS.1770-4 / EBU R128
  integrated loudness; lines shorter than its 0.4 s block are padded with silence, which its gate ignores).
  Median, spread and the median difference between the voices.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import REPO

RATE = 48000


def english_sessions() -> list[str]:
    """The ids of the bundled English sessions."""
    from voiceguide.script import library, parse

    return [e.id for e in library.entries() if e.bundled and parse.load(e.path).language.startswith("en")]


def render(session: str, tts: str, cache: Path, out: Path) -> float:
    """Seconds ``voiceguide render`` took for ``session`` with ``tts`` and the speech cache ``cache``."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "voiceguide", "render", session, "--tts", tts, "--cache-dir", str(cache),
                    "-o", str(out)], check=True, capture_output=True, cwd=REPO, env=dict(os.environ))
    return time.monotonic() - start


def line_loudness(sessions: list[str], tts: str, cache: Path) -> list[float]:
    """Integrated loudness (LUFS) of every distinct spoken line of ``sessions`` as placed in the timeline."""
    import pyloudnorm

    from voiceguide.engine.builder import SessionBuilder, load_session
    from voiceguide.engine.options import ShapingOptions, SpeechOptions

    meter = pyloudnorm.Meter(RATE)
    speech = SpeechOptions(tts=tts, cache_dir=cache)
    seen: set[int] = set()
    out: list[float] = []
    with SessionBuilder(speech, RATE) as build:
        for session in sessions:
            timeline = build.build(load_session(session, speech, ShapingOptions()))
            for event in timeline.events:
                if event.kind != "speech" or event.clip is None:
                    continue
                clip = timeline.clips[event.clip]
                key = hash(clip.tobytes())
                if key in seen:
                    continue
                seen.add(key)
                padded = np.concatenate([clip, np.zeros(max(0, int(0.5 * RATE) - len(clip)), np.float32)])
                value = float(meter.integrated_loudness(padded.astype(np.float64)))
                if np.isfinite(value):
                    out.append(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tts", nargs="+", default=["piper", "espeak"])
    parser.add_argument("--sessions", nargs="+", default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sessions = args.sessions or english_sessions()
    figures: dict[str, Any] = {"sessions": sessions}
    with tempfile.TemporaryDirectory() as tmp:
        for tts in args.tts:
            cache = Path(tmp) / f"cache-{tts}"
            cold = {s: render(s, tts, cache, Path(tmp) / "x.wav") for s in sessions}
            warm = {s: render(s, tts, cache, Path(tmp) / "x.wav") for s in sessions}
            levels = line_loudness(sessions, tts, cache)
            figures[tts] = {"cold_s": round(sum(cold.values()), 1), "warm_s": round(sum(warm.values()), 1),
                            "cold": {s: round(t, 2) for s, t in cold.items()},
                            "warm": {s: round(t, 2) for s, t in warm.items()},
                            "lines": len(levels), "lufs_median": round(statistics.median(levels), 2),
                            "lufs_p10": round(float(np.percentile(levels, 10)), 2),
                            "lufs_p90": round(float(np.percentile(levels, 90)), 2)}
            print(tts, json.dumps({k: v for k, v in figures[tts].items() if k not in ("cold", "warm")}), flush=True)
    if len(args.tts) == 2:
        a, b = args.tts
        figures["lufs_difference"] = round(figures[a]["lufs_median"] - figures[b]["lufs_median"], 2)
        print("median difference", figures["lufs_difference"], "LU")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

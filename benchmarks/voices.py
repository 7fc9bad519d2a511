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
* ``--daemon SESSION``: ``voiceguide daemon`` with no ``tts`` set (so English is Piper's, by default) and an empty
  speech cache, into a private null sink; ``ctl start SESSION``, which renders the session's speech in a child
  process first. The RSS of the daemon and of its children (``/proc``), sampled every 0.2 s from the start until
  30 s after it plays: the daemon's peak and the children's peak.
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


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` now (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [child for child, p in parents.items() if p == parent]
        found += kids
        todo += kids
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _maps_onnx(pid: int) -> bool:
    """Whether process ``pid`` has onnxruntime loaded (Piper's runtime): the proof it speaks with Piper."""
    try:
        return "onnxruntime" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def daemon_memory(session: str) -> dict[str, Any]:
    """Peak RSS of the daemon and of its speech child while ``session`` is prepared (cold) and starts."""
    from .daemon import daemon, pulse_server
    from .onsets import private_sink
    from .startup import user_env

    with tempfile.TemporaryDirectory() as tmp, private_sink(f"vg_voices_{os.getpid()}"):
        folder = Path(tmp)
        config = f'[audio]\noutput = "pulse"\n[speech]\ncache_dir = "{folder / "speech"}"\n'
        with daemon(folder, config, user_env(folder, REPO, PULSE_SERVER=pulse_server()), REPO) as running:
            pid = running.proc.pid
            idle = _rss_mb(pid)
            peak_daemon, peak_child, peak_total, biggest_child = idle, 0.0, idle, 0.0
            onnx = False
            reply: list[str] = []
            import threading

            began = time.monotonic()
            starter = threading.Thread(target=lambda: reply.append(running.ctl("start", session)))
            starter.start()
            playing_at: float | None = None
            while time.monotonic() - began < 900:
                kids = _children(pid)
                sizes = [_rss_mb(k) for k in kids]
                child = sum(sizes)
                biggest_child = max([biggest_child, *sizes])
                onnx = onnx or any(_maps_onnx(k) for k in kids)
                own = _rss_mb(pid)
                peak_daemon, peak_child = max(peak_daemon, own), max(peak_child, child)
                peak_total = max(peak_total, own + child)
                if playing_at is None and not starter.is_alive():
                    playing_at = time.monotonic()
                if playing_at is not None and time.monotonic() - playing_at > 30:
                    break
                time.sleep(0.2)
            running.ctl("stop")
            return {"session": session, "daemon_idle_mb": round(idle, 1), "daemon_peak_mb": round(peak_daemon, 1),
                    "children_peak_mb": round(peak_child, 1), "total_peak_mb": round(peak_total, 1),
                    "prepare_s": round((playing_at or time.monotonic()) - began, 1), "reply": "".join(reply).strip(),
                    "largest_child_mb": round(biggest_child, 1), "child_loaded_onnxruntime": onnx}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tts", nargs="+", default=["piper", "espeak"])
    parser.add_argument("--sessions", nargs="+", default=None)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--daemon", metavar="SESSION", help="only the daemon's memory while SESSION is prepared")
    args = parser.parse_args(argv)
    if args.daemon:
        memory = daemon_memory(args.daemon)
        print(json.dumps(memory), flush=True)
        if args.json:
            args.json.write_text(json.dumps(memory, indent=1), encoding="utf-8")
        return 0
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

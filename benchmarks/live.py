"""Benchmark the live path against the issue's targets: cue timing, start-up, CPU and memory.

``python -m benchmarks.live [--minutes 5] [--markdown FILE]`` needs a running PulseAudio server
(``tools/bench`` starts one); it plays into a null sink of its own. The figures: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.measure import find_onset
from voiceguide.engine.compile import compile_session
from voiceguide.engine.timeline import EventKind, Timeline
from voiceguide.script import parse
from voiceguide.seams import Samples

from . import REPO
from .onsets import MonitorRecorder, private_sink

log = logging.getLogger(__name__)

RATE = 48000
INTERVALS = (6.5, 7.5, 8.5)
"""Seconds from one bell to the next, cycled (uneven so a cue cannot be mistaken for its neighbour)."""
TEMPLATE_SECONDS = 0.25
"""The bell's first quarter second is the pattern searched for in the recording ..."""
LEAD_SECONDS = 0.05
"""... after 50 ms of quiet (rejects the bell's near-repeats 47 ms in: best wrong match 0.92 instead of 0.99)."""
THRESHOLD = 1e-3
"""'Audible' for the first-sample figure: |sample| >= 1e-3 of full scale (-60 dBFS, 33 in 16 bit)."""
TARGETS = {"max_error_ms": 1.0, "first_sample_s": 0.5, "cpu_percent": 2.0, "rss_mb": 80.0}
Result = dict[str, Any]


def bench_script(minutes: float) -> str:
    """A session of bells with pacing tones between them, ``minutes`` long (40 bells for 5 minutes)."""
    lines = ['[session]', 'title = "voiceguide benchmark"', "", ""]
    count = max(2, round(minutes * 60 / (sum(INTERVALS) / len(INTERVALS))))
    for i in range(count):
        half = (INTERVALS[i % len(INTERVALS)] - 3.5) / 2  # the bundled bell lasts 3.5 s
        lines += ['[[step]]', 'chime = "bell"', '', '[[step]]',
                  f'breathe = {{ inhale = {half:g}, exhale = {half:g} }}', 'cue = "tone"', '']
    return "\n".join(lines)


def bench_timeline(minutes: float) -> tuple[Timeline, list[int], Samples]:
    """The compiled benchmark session, the planned bell onsets (samples) and the bell clip."""
    from voiceguide.backends.fake import FakeSpeaker  # the session has no speech; a speaker is still required

    session = parse.loads(bench_script(minutes), name="bench.toml")
    timeline = compile_session(session, FakeSpeaker(), RATE)
    bells = [e for e in timeline.events if e.kind == EventKind.CHIME]
    assert bells[0].clip is not None
    return timeline, [e.start for e in bells], timeline.clips[bells[0].clip]


def timing(measured: list[int], planned: list[int], scores: list[float]) -> Result:
    """Onset errors relative to the first cue, and drift."""
    err = [((m - measured[0]) - (p - planned[0])) * 1000.0 / RATE for m, p in zip(measured, planned, strict=True)]
    minutes = [(p - planned[0]) / RATE / 60.0 for p in planned]
    slope = float(np.polyfit(minutes, err, 1)[0]) if len(err) > 1 else 0.0
    return {"cues": len(err), "median_abs_ms": statistics.median(abs(e) for e in err),
            "max_abs_ms": max(abs(e) for e in err), "drift_ms": err[-1] - err[0],
            "slope_ms_per_min": slope, "min_score": min(scores), "errors_ms": err}


def locate(rec: Samples, clip: Samples, expected: list[int], search_s: float) -> tuple[list[int], list[float]]:
    """Onsets and match scores of the bell near each expected sample."""
    template = clip[: int(TEMPLATE_SECONDS * RATE)]
    found = [find_onset(rec, template, e, int(search_s * RATE), int(LEAD_SECONDS * RATE)) for e in expected]
    return [f[0] for f in found], [f[1] for f in found]



def live_child(minutes: float, device: str) -> Result:
    """Runs in a fresh process: play the session through the real path; CPU while playing, peak RSS."""
    from voiceguide.backends.sounddevice_out import SoundDeviceOutput
    from voiceguide.backends.system_clock import SystemClock
    from voiceguide.playback.loop import play

    t0 = time.monotonic()
    timeline, _, _ = bench_timeline(minutes)
    output = SoundDeviceOutput(device)
    output.check()
    setup = time.monotonic() - t0
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    result = play(timeline, output, SystemClock())
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"start": start, "wall_s": wall, "setup_s": setup, "cpu_s": cpu, "frames": result.frames,
            "session_s": timeline.seconds, "maxrss_mb": peak_rss_mb()}


def edges_lost(rec: Samples, timeline: Timeline, onset: int) -> tuple[float, float]:
    """Milliseconds of the session missing at its start and end in the recording (session sample 0 at ``onset``)."""
    from voiceguide.engine.mix import Mixer

    quiet = 2.0 / 32768  # above 16-bit rounding
    head, tail = np.zeros(RATE, dtype=np.float32), np.zeros(RATE, dtype=np.float32)
    mixer = Mixer(timeline)
    mixer.mix_into(0, head)
    mixer.mix_into(timeline.length - RATE, tail)
    heard = np.flatnonzero(np.abs(rec[onset - RATE // 10:]) > quiet) + onset - RATE // 10
    if not len(heard):
        return float("nan"), float("nan")
    start_lost = (heard[0] - onset) - np.flatnonzero(np.abs(head) > quiet)[0]
    end_lost = (timeline.length - RATE + np.flatnonzero(np.abs(tail) > quiet)[-1]) - (heard[-1] - onset)
    return float(start_lost) * 1000.0 / RATE, float(end_lost) * 1000.0 / RATE


def keep(audio_dir: Path | None, name: str, audio: Samples) -> None:
    """Save a recording for inspection when ``--keep-audio`` was given."""
    if audio_dir is not None:
        import soundfile

        audio_dir.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(audio_dir / f"{name}.wav"), audio, RATE, subtype="PCM_16")


def measure_live(minutes: float, device: str, source: str, audio_dir: Path | None = None) -> Result:
    """Items 1, 4, 5: the real path in a child process, recorded from the sink's monitor."""
    timeline, planned, clip = bench_timeline(minutes)
    cmd = [sys.executable, "-m", "benchmarks.live", "--live-child", "--minutes", str(minutes), "--device", device]
    with MonitorRecorder(source) as rec:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
        time.sleep(0.5)
    if proc.returncode != 0:
        raise RuntimeError(f"live run failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    child: Result = json.loads(proc.stdout.strip().splitlines()[-1])
    base, audio = rec.sample_at(child["start"]), rec.samples()
    keep(audio_dir, "live", audio)
    measured, scores = locate(audio, clip, [base + p for p in planned], 1.5)
    out = timing(measured, planned, scores)
    out.update(child)
    out["start_lost_ms"], out["end_lost_ms"] = edges_lost(audio, timeline, measured[0] - planned[0])
    out["startup_ms"] = (measured[0] - base) * 1000.0 / RATE
    out["cpu_percent"] = 100.0 * child["cpu_s"] / child["wall_s"]
    out["cpu_s_per_min"] = child["cpu_s"] / (child["wall_s"] / 60.0)
    out["chunk_ms"] = rec.chunk_ms()
    return out


def measure_naive(minutes: float, device: str, source: str, audio_dir: Path | None = None) -> Result:
    """Item 2: the same bells with ``sd.play(clip); sd.wait(); time.sleep(gap)``, as a simple app would."""
    import sounddevice as sd

    _, planned, clip = bench_timeline(minutes)
    calls: list[float] = []
    with MonitorRecorder(source) as rec:
        start = time.monotonic()
        for i in range(len(planned)):
            calls.append(time.monotonic())
            sd.play(clip, RATE, device=device)
            sd.wait()
            if i + 1 < len(planned):
                time.sleep((planned[i + 1] - planned[i] - len(clip)) / RATE)
        wall = time.monotonic() - start
        time.sleep(0.5)
    audio = rec.samples()
    keep(audio_dir, "naive", audio)
    measured, scores = locate(audio, clip, [rec.sample_at(t) for t in calls], 2.5)
    out = timing(measured, planned, scores)
    late = [(m - rec.sample_at(t)) * 1000.0 / RATE for m, t in zip(measured, calls, strict=True)]
    out.update({"wall_s": wall, "planned_s": (planned[-1] - planned[0] + len(clip)) / RATE,
                "call_to_sound_ms": statistics.median(late)})
    return out


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM of a process in MB: its own peak RSS since exec (``ru_maxrss`` of a child also counts the
    forking parent's memory, which would charge the benchmark's recordings to the child)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            line = next(x for x in fh if x.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 1024.0


def measure_first_sample(device: str, source: str, repeats: int) -> Result:
    """Item 3: ``voiceguide run demo`` from process start to its first audible sample in the monitor.

    All runs but the last are stopped (SIGINT, the player's faded stop) once the first sound is found;
    the last plays to the end, so its peak RSS (VmHWM, read every 0.05 s) is that of a complete run.
    """
    exe = str(Path(sys.executable).with_name("voiceguide"))
    with tempfile.TemporaryDirectory() as tmp:  # warm the default speech cache (and the OS file cache)
        subprocess.run([exe, "render", "demo", "-o", os.path.join(tmp, "demo.wav")], check=True,
                       capture_output=True)
    delays: list[float] = []
    rss = 0.0
    for run in range(repeats):
        with MonitorRecorder(source) as rec:
            time.sleep(0.3)
            spawned = time.monotonic()
            proc = subprocess.Popen([exe, "run", "demo", "--device", device], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            first = rec.sample_at(spawned)
            hit: int | None = None
            while hit is None and time.monotonic() - spawned < 20.0 and proc.poll() is None:
                time.sleep(0.02)
                above = np.flatnonzero(np.abs(rec.samples()[first:]) >= THRESHOLD)
                hit = first + int(above[0]) if len(above) else None
            if hit is not None:
                time.sleep(0.05)  # let the chunk after it arrive, so time_of(hit) is known
                delays.append(rec.time_of(hit) - spawned)
            if run < repeats - 1 and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            while proc.poll() is None:  # the last reading is at most 0.05 s before the exit
                rss = peak_rss_mb(proc.pid) or rss
                time.sleep(0.05)
            if proc.returncode != 0:
                raise RuntimeError(f"voiceguide run demo exited with {proc.returncode}")
    return {"runs": repeats, "delays_s": delays, "median_s": statistics.median(delays) if delays else None,
            "max_s": max(delays) if delays else None, "cli_maxrss_mb": rss}


def verdict(value: float | None, target: float) -> str:
    """'yes' or 'NO' against a ≤ target."""
    return "n/a" if value is None else ("yes" if value <= target else "NO")


def report(r: Result) -> str:
    """The figures as a markdown table plus details."""
    live, naive, first = r["live"], r["naive"], r["first"]
    fs = first["median_s"]
    rows = [
        ("Cue onset error, median / max (ms)", f"{live['median_abs_ms']:.3f} / {live['max_abs_ms']:.3f}",
         f"{naive['median_abs_ms']:.0f} / {naive['max_abs_ms']:.0f}", "max ≤ 1 ms",
         verdict(live["max_abs_ms"], TARGETS["max_error_ms"])),
        ("Drift, last - first cue (ms)", f"{live['drift_ms']:.3f}", f"{naive['drift_ms']:.0f}", "none",
         "yes" if abs(live["drift_ms"]) <= TARGETS["max_error_ms"] else "NO"),
        ("Drift, fitted slope (ms/min)", f"{live['slope_ms_per_min']:.4f}", f"{naive['slope_ms_per_min']:.0f}",
         "none", ""),
        ("Command start → first audible sample (s)", "n/a" if fs is None else f"{fs:.3f} (median)", "", "≤ 0.5 s",
         verdict(fs, TARGETS["first_sample_s"])),
        ("CPU while playing (s per minute)", f"{live['cpu_s_per_min']:.3f}", "", "", ""),
        ("CPU while playing (% of one core)", f"{live['cpu_percent']:.2f}", "", "≤ 2 %",
         verdict(live["cpu_percent"], TARGETS["cpu_percent"])),
        ("Peak RSS, engine live run of this session (MB)", f"{live['maxrss_mb']:.1f}", "", "≤ 80 MB",
         verdict(live["maxrss_mb"], TARGETS["rss_mb"])),
        ("Peak RSS, complete `voiceguide run demo` (MB)", f"{first['cli_maxrss_mb']:.1f}", "", "≤ 80 MB",
         verdict(first["cli_maxrss_mb"], TARGETS["rss_mb"])),
    ]
    out = ["| Figure | voiceguide (one stream) | naive sd.play loop | Target | Met |", "|---|---|---|---|---|"]
    out += [f"| {' | '.join(row)} |" for row in rows]
    delays = ", ".join(f"{d:.3f}" for d in first["delays_s"])
    out += ["", f"- Session: {live['cues']} bells over {live['session_s']:.1f} s; live wall time "
            f"{live['wall_s']:.1f} s, set-up (imports, compile, device check) {live['setup_s']:.2f} s, "
            f"{live['cpu_s']:.2f} CPU s while playing; first bell sounded {live['startup_ms']:.0f} ms after "
            f"play() was called; lowest match score {live['min_score']:.4f}.",
            f"- Live stream edges: {live['start_lost_ms']:.1f} ms of the session's start and "
            f"{live['end_lost_ms']:.1f} ms of its end never reached the sink.",
            f"- Naive loop: {naive['cues']} bells, wall time {naive['wall_s']:.1f} s for a plan of "
            f"{naive['planned_s']:.1f} s; each sd.play call sounded a median {naive['call_to_sound_ms']:.0f} ms "
            f"after it was made; lowest match score {naive['min_score']:.4f}.",
            f"- First audible sample (|x| >= {THRESHOLD:g}), each run (s): {delays}.",
            f"- Monitor chunks from parec: median {live['chunk_ms']:.1f} ms (the resolution of the first-sample "
            "and call-to-sound times; onset errors are measured in samples and do not depend on it).",
            "- Load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}; {} cores.".format(
                *r["load_before"], *r["load_after"], os.cpu_count() or 0)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the table (optionally also write it as markdown)."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.live", description=__doc__)
    p.add_argument("--minutes", type=float, default=5.0, help="session length for the timing runs (default 5)")
    p.add_argument("--device", default="pulse", help="PortAudio output device (default pulse)")
    p.add_argument("--repeats", type=int, default=5, help="runs of the first-sample measurement (default 5)")
    p.add_argument("--markdown", metavar="FILE", help="also write the table to FILE")
    p.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    p.add_argument("--keep-audio", metavar="DIR", type=Path, help="save the monitor recordings (live.wav, naive.wav)")
    p.add_argument("--live-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.live_child:
        print(json.dumps(live_child(args.minutes, args.device)))
        return 0
    results: Result = {"load_before": os.getloadavg()}
    with private_sink(f"vg_bench_{os.getpid()}", RATE) as source:
        log.info("live run: %g min through %s, recorded from %s ...", args.minutes, args.device, source)
        results["live"] = measure_live(args.minutes, args.device, source, args.keep_audio)
        log.info("naive sd.play loop: the same bells ...")
        results["naive"] = measure_naive(args.minutes, args.device, source, args.keep_audio)
        log.info("first audible sample of 'voiceguide run demo' (x%d) ...", args.repeats)
        results["first"] = measure_first_sample(args.device, source, args.repeats)
    results["load_after"] = os.getloadavg()
    text = report(results)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

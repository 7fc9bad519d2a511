"""Start-up and leaks (issue 12): how long light commands take to start and how much memory they peak at,
the peak memory of ``voiceguide run demo``, and whether the daemon's threads and open files grow per session.

``python -m benchmarks.startup [--runs 9] [--sessions 20] [--repo PATH] [--json FILE]`` (``tools/bench
startup``). Every figure is of a child process ``python -m voiceguide ...`` started in ``--repo`` (default:
this checkout), so the same benchmark measures another checkout of voiceguide, e.g. the state before a change:

* ``--version`` and ``ctl status`` (no daemon: a private, empty ``XDG_RUNTIME_DIR``): wall time from start to
  exit (median and fastest), CPU time (user + system) and peak RSS (GNU time's ``%M``, in separate runs), each
  the median of ``--runs``; a bare interpreter (``python -c pass``) for scale.
* ``run demo --backend fake`` (fake output and clock: the whole 74 s session in well under a second): peak RSS;
  with ``--real`` also ``run demo`` into a null sink of its own through the real output (twice: 2 x 74 s).
* ``voiceguide daemon`` (``[speech] tts`` = ``--tts``, playing into a private null sink) with a one-line user
  script (about 1 s long): after 1 and after ``--sessions`` sessions started with ``ctl start`` and played to
  their end, its thread count (``/proc/PID/status``), open files (``/proc/PID/fd``) and RSS.

Needs a running PulseAudio server for the daemon and ``--real`` (``tools/bench`` makes sure of one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from . import REPO
from .daemon import Running, pulse_server
from .daemon import daemon as running_daemon
from .onsets import private_sink

TINY = '[session]\ntitle = "Tiny"\n\n[[step]]\nsay = "Hello."\n'
"""The daemon's session: one short line, so that twenty sessions take seconds, not the demo's 74 s each."""

Figures = dict[str, Any]


def user_env(folder: Path, repo: Path, **extra: str) -> dict[str, str]:
    """The environment of a child: user folders (and a private 0700 runtime folder) under ``folder``,
    ``repo`` first on the import path."""
    runtime = folder / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (str(repo), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, XDG_CONFIG_HOME=str(folder / "config"), XDG_CACHE_HOME=str(folder / "cache"),
                XDG_DATA_HOME=str(folder / "data"), XDG_STATE_HOME=str(folder / "state"),
                XDG_RUNTIME_DIR=str(runtime), PYTHONPATH=path, **extra)


GNU_TIME = Path("/usr/bin/time")
"""GNU time: its ``%M`` is the peak RSS of the command alone. A child's own ``ru_maxrss`` (``wait4``) is no
good here: Linux keeps the high-water mark of the memory a process had before ``exec``, and a child
spawned by this benchmark starts as a copy of it (about 30 MB), more than a bare interpreter peaks at."""


def timed(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> tuple[float, float, int]:
    """Run ``argv`` to its end: (wall seconds from start to exit, CPU seconds (user + system), exit code)."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    return wall, usage.ru_utime + usage.ru_stime, proc.returncode


def peak_rss(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> float | None:
    """The peak RSS of ``argv`` in MB (run once more under GNU time), or None without ``/usr/bin/time``."""
    if not GNU_TIME.exists():
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        subprocess.run([str(GNU_TIME), "-f", "%M", "-o", out.name, *argv], env=env, cwd=cwd,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=timeout, check=False)
        return int(out.read().split()[-1]) / 1024.0


def median_run(argv: list[str], env: dict[str, str], cwd: Path, runs: int) -> Figures:
    """The median (and the fastest) wall time, the median CPU time and the median peak RSS of ``runs`` runs of
    ``argv`` each (after one untimed warm-up run, which fills the page cache). CPU time is the figure that
    other load on the machine changes least."""
    timed(argv, env, cwd)
    walls = [timed(argv, env, cwd) for _ in range(runs)]
    rss = [r for r in (peak_rss(argv, env, cwd) for _ in range(runs)) if r is not None]
    return {"seconds": round(statistics.median(w for w, _, _ in walls), 3),
            "fastest_seconds": round(min(w for w, _, _ in walls), 3),
            "cpu_seconds": round(statistics.median(c for _, c, _ in walls), 3),
            "peak_rss_mb": round(statistics.median(rss), 1) if rss else None,
            "exit_codes": sorted({code for _, _, code in walls}), "runs": runs}


def proc_figures(pid: int) -> Figures:
    """Threads, open file descriptors and RSS (MB) of a running process."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    fds = os.listdir(f"/proc/{pid}/fd")
    kinds: dict[str, int] = {}
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":", 1)[0] if ":" in target and not target.startswith("/") else "file"
        kinds[kind] = kinds.get(kind, 0) + 1
    return {"threads": int(fields["Threads"]), "open_files": len(fds), "by_kind": kinds,
            "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1)}


def daemon(folder: Path, repo: Path, tts: str) -> AbstractContextManager[Running]:
    """``voiceguide daemon`` speaking with ``tts`` into the default (private) sink, :data:`TINY` among its
    user scripts as ``tiny``."""
    scripts = folder / "config" / "voiceguide" / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / "tiny.toml").write_text(TINY, encoding="utf-8")
    config = f'[audio]\noutput = "pulse"\n[speech]\ntts = "{tts}"\ncache_dir = "{folder / "speech"}"\n'
    return running_daemon(folder, config, user_env(folder, repo, PULSE_SERVER=pulse_server()), repo)


def sessions(folder: Path, repo: Path, tts: str, count: int) -> Figures:
    """The daemon's figures when ready, after 1 session and after ``count`` sessions of :data:`TINY`."""
    out: Figures = {"tts": tts}
    with daemon(folder, repo, tts) as running:
        time.sleep(1.0)
        out["ready"] = proc_figures(running.proc.pid)
        began = time.perf_counter()
        for n in range(1, count + 1):
            reply = running.ctl("start", "tiny")
            if not reply.startswith("playing"):
                raise SystemExit(f"startup: ctl start tiny said {reply!r}:\n{''.join(running.log[-30:])}")
            running.wait_for("finished tiny", timeout=120, count=n)
            if n == 1:
                time.sleep(1.0)  # let what ends with a session (the output stream, workers) close
                out["after_1"] = proc_figures(running.proc.pid)
        time.sleep(1.0)
        out[f"after_{count}"] = proc_figures(running.proc.pid)
        out["seconds_per_session"] = round((time.perf_counter() - began) / count, 2)
        out["warnings"] = [line.strip() for line in running.log if "WARNING" in line or "ERROR" in line][:5]
    return out


def measure(repo: Path, runs: int, count: int, tts: list[str], real: bool) -> Figures:
    """Every figure of the module docstring, for the voiceguide in ``repo``."""
    py = sys.executable
    result: Figures = {"repo": str(repo), "python": sys.version.split()[0], "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="vg-startup-") as tmp:
        folder = Path(tmp)
        env = user_env(folder, repo)
        result["bare_python"] = median_run([py, "-c", "pass"], env, repo, runs)
        result["version"] = median_run([py, "-m", "voiceguide", "--version"], env, repo, runs)
        result["ctl_status_no_daemon"] = median_run([py, "-m", "voiceguide", "ctl", "status"], env, repo, runs)
        result["run_demo_fake"] = median_run([py, "-m", "voiceguide", "run", "demo", "--backend", "fake"], env,
                                             repo, runs)
        with private_sink(f"vg_startup_{os.getpid()}"):
            if real:
                demo = [py, "-m", "voiceguide", "run", "demo"]
                real_env = user_env(folder, repo, PULSE_SERVER=pulse_server())
                wall, _, code = timed(demo, real_env, repo)
                result["run_demo_null_sink"] = {"seconds": round(wall, 1), "exit_code": code,
                                                "peak_rss_mb": round(peak_rss(demo, real_env, repo) or 0, 1)}
            for name in tts if count > 0 else []:
                result[f"daemon_{name}"] = sessions(folder / name, repo, name, count)
    return result


def machine() -> str:
    """CPU model, core count and kernel, for the record."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    return f"{model}, {os.cpu_count()} cores, Linux {os.uname().release}, load {os.getloadavg()[0]:.2f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=9, help="runs per start-up figure (the median is kept)")
    p.add_argument("--sessions", type=int, default=20, help="sessions the daemon plays (0: no daemon)")
    p.add_argument("--tts", action="append", help="the daemon's speech backend (repeatable; default: fake)")
    p.add_argument("--real", action="store_true", help="also one 'run demo' through the real output (74 s)")
    p.add_argument("--repo", type=Path, default=REPO, help="the checkout of voiceguide to measure")
    p.add_argument("--json", metavar="FILE", type=Path, help="also write the figures as JSON")
    args = p.parse_args(argv)
    result = measure(args.repo.resolve(), args.runs, args.sessions, args.tts or ["fake"], args.real)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

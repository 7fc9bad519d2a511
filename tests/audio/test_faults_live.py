"""Faults through the real audio path: SIGTERM and SIGHUP fade out like 'q'; a sound server that dies
mid-session ends ``run`` within 2 s with exit 2 and one message, the timeline kept; an underrun (the
process stopped with SIGSTOP for 200 ms, or 500 ms if that caused none) is made up in the next pause, so
later chimes are back on plan.

The dying server is a private PulseAudio of the test's own (its own socket and runtime folder under
/tmp), never the shared one other tests use.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pytest

from tests.measure import find_onset

from .audio_helpers import (
    GAUGE_SHARE,
    RATE,
    ExitClock,
    Pulse,
    Signal,
    judge_fade,
    read_wav,
    run_voiceguide,
    voiceguide,
    wait_until_quiet,
)
from .tee import Handed, Teed, differing

pytestmark = pytest.mark.audio

class Run:
    """A running ``voiceguide -v run ...`` and its log."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.log: list[str] = []
        self.started = threading.Event()
        assert proc.stderr is not None
        threading.Thread(target=self._read, args=(proc.stderr,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.log.append(line)
            if "playing on" in line:
                self.started.set()

    def wait_started(self) -> None:
        if not self.started.wait(60):
            self.proc.kill()
            pytest.fail(f"voiceguide did not start playing within 60 s: {''.join(self.log)}")

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"voiceguide was still running {timeout} s later:\n{''.join(self.log)}")


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_fade_out_like_q(pulse: Pulse, tmp_path: Path, speech_cache: Path,
                                            number: signal.Signals) -> None:
    recording, timeline, tee = tmp_path / "box.wav", tmp_path / "played.json", tmp_path / "handed.npz"
    with pulse.record(recording):
        run = Run(voiceguide("-v", "run", "box", "--device", "pulse", "--tts", "fake", "--cache-dir", speech_cache,
                             "--timeline", timeline, env=pulse.env, tee=tee))
        run.wait_started()
        time.sleep(5.0)  # into the first spoken line
        clock = ExitClock(run.proc.pid)
        run.proc.send_signal(number)
        code = clock.wait(run.proc, 10)
        wait_until_quiet(recording)  # let the tail reach the recording
    assert code == 0, f"exit {code} after {number.name}:\n{''.join(run.log)}"
    assert clock.wall - clock.waited <= 1.5, f"took {clock.describe()} to exit after {number.name}"
    played = json.loads(timeline.read_text(encoding="utf-8"))
    assert played["events"], "the timeline of what played was written"
    live = read_wav(recording)
    wav = tmp_path / "box-ref.wav"
    done = run_voiceguide("render", "box", "-o", wav, "--tts", "fake", "--cache-dir", speech_cache)
    assert done.returncode == 0, done.stderr
    seconds = judge_fade(tee, live, read_wav(wav), number.name)
    print(f"{number.name}: exit {clock.describe()} later, fade {seconds:.3f} s")


class PrivateServer:
    """A PulseAudio server of the test's own with one null sink, on a socket of its own under /tmp."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="vgpa"))  # short: a socket path has at most 107 bytes
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = dict(os.environ, PULSE_SERVER=f"unix:{self.folder}/native", PULSE_SINK="dying")
        """The environment for a client of this server."""

    def start(self) -> None:
        own = dict(os.environ, PULSE_RUNTIME_PATH=str(self.folder / "run"),
                   PULSE_STATE_PATH=str(self.folder / "state"), HOME=str(self.folder))
        own.pop("PULSE_SERVER", None)
        self.proc = subprocess.Popen(["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
                                      "-n", "--use-pid-file=no",
                                      f"--load=module-native-protocol-unix socket={self.folder}/native",
                                      f"--load=module-null-sink sink_name=dying rate={RATE}"],
                                     env=own, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], env=self.env, capture_output=True, check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the private PulseAudio server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL this server (by its own pid; never the shared one)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()


@pytest.fixture
def own_server() -> Iterator[PrivateServer]:
    if shutil.which("pulseaudio") is None:
        pytest.skip("pulseaudio is not installed")
    server = PrivateServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()
        shutil.rmtree(server.folder, ignore_errors=True)


def test_a_sound_server_that_dies_ends_run_within_2_s_with_exit_2(own_server: PrivateServer,
                                                                   tmp_path: Path, speech_cache: Path) -> None:
    timeline = tmp_path / "played.json"
    run = Run(voiceguide("-v", "run", "box", "--device", "pulse", "--tts", "fake", "--cache-dir", speech_cache,
                         "--timeline", timeline, env=own_server.env))
    run.wait_started()
    time.sleep(4.0)  # a new stream takes up to ~2 s to start; then play a while
    killed = time.monotonic()
    own_server.kill()
    code = run.wait(30)
    took = time.monotonic() - killed
    err = "".join(run.log)
    assert code == 2, f"exit {code}\n{err}"
    assert took <= 2.5, f"exited {took:.2f} s after the server died (detection within 2 s, then closing)"
    assert "Traceback" not in err, err
    ours = [line for line in err.splitlines() if line.startswith("voiceguide:")]
    assert len(ours) == 1 and "went away" in ours[0], err
    played = json.loads(timeline.read_text(encoding="utf-8"))
    assert played["events"] and max(e["end"] for e in played["events"]) < 30, "what played until then is kept"
    print(f"server killed: exit 2 after {took:.2f} s")


CHIMES = 6
SCRIPT = '[session]\ntitle = "Bells"\n' + '[[step]]\nchime = "bell"\n[[step]]\npause = 1.5\n' * CHIMES
STOP_AT = 2
"""The process is stopped about 1 s into this chime (counted from 0), well after a new stream's uneven start."""
@dataclass(frozen=True)
class Underrun:
    """One run of the bells with the process stopped for a moment, teed and recorded."""

    starts: list[int]
    """Planned chime starts (the render's timeline)."""
    ends: list[int]
    """Planned chime ends."""
    handed: Handed
    """What the player handed the output, in the stream's sample clock."""
    render: Signal
    """The offline render: the plan, sample for sample."""
    live: Signal
    """The recording of the sink."""
    log: str
    """voiceguide's log."""


STOPS = (0.2, 0.5)
"""Seconds the process is stopped for: 200 ms first (the gauge's accuracy was measured with it, and it lost
3100-6200 frames); if nothing could be judged (no loss reported, seen once in 4 fresh-clone runs; or the
machine's own underruns around every later chime), the whole run again with a stop of 500 ms, at most twice.
A 200-ms stop that lost 3184 frames (66 ms) shows a buffer of about 0.13 s; the server may grow it after an
underrun, but not four-fold."""


def run_with_an_underrun(pulse: Pulse, folder: Path, speech_cache: Path, stop: float = STOPS[0]) -> Underrun:
    """Play :data:`SCRIPT` teed through the sink and stop the process for ``stop`` s during chime
    :data:`STOP_AT`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "bells.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    plan, wav = folder / "plan.json", folder / "plan.wav"
    done = run_voiceguide("render", script, "-o", wav, "--timeline", plan, "--tts", "fake",
                          "--cache-dir", speech_cache)
    assert done.returncode == 0, done.stderr
    events = [e for e in json.loads(plan.read_text())["events"] if e["kind"] == "chime"]
    starts, ends = [int(e["start_sample"]) for e in events], [int(e["end_sample"]) for e in events]
    recording, tee = folder / "live.wav", folder / "handed.npz"
    with pulse.record(recording):
        run = Run(voiceguide("-v", "run", script, "--device", "pulse", "--tts", "fake", "--cache-dir", speech_cache,
                            env=pulse.env, tee=tee))
        run.wait_started()
        time.sleep(starts[STOP_AT] / RATE + 1.0)  # the stream's first blocks come 0.6-1.8 s late: still in it
        run.proc.send_signal(signal.SIGSTOP)
        time.sleep(stop)
        run.proc.send_signal(signal.SIGCONT)
        code = run.wait(60)
        time.sleep(0.5)
    err = "".join(run.log)
    assert code == 0, err
    (handed,) = Teed(tee).streams
    return Underrun(starts, ends, handed, read_wav(wav), read_wav(recording), err)


def judged(run: Underrun) -> list[tuple[int, int]]:
    """The chimes to judge, as (planned start, losses before it): those after a loss, with none during them and
    a whole pause between them and the last loss before them (the player pays a loss in the first pause it
    has not paid in yet; a loss during a pause already used waits for the next one), and no more lost before
    them than the pauses since the first loss can pay (:data:`PAY_PER_PAUSE` each)."""
    out = []
    for s, end in zip(run.starts, run.ends, strict=True):
        before = [at for at, _ in run.handed.losses if at < s]
        if not before or any(s <= at < end for at, _ in run.handed.losses):
            continue
        pause = min((e for e in run.ends if e >= before[-1]), default=None)
        pauses = sum(before[0] <= e and b <= s for e, b in zip(run.ends, run.starts[1:], strict=False))
        owed = sum(n for at, n in run.handed.losses if at < s)
        if pause is not None and pause < s and owed <= pauses * PAY_PER_PAUSE:
            out.append((s, len(before)))
    return out


PAY_PER_PAUSE = RATE * 3 // 4
"""The most one of the script's 1.5-s pauses can pay back (the player takes at most half of a quiet stretch): a
chime after more losses than its pauses can pay is not judged (seen at load 7-9: 1.7 s lost before the first
chime after the stop, in six underruns of the machine's own)."""


def chime_errors(run: Underrun) -> tuple[int, list[tuple[int, int, int, float]]]:
    """In the recording, each :func:`judged` chime against the last chime before the first loss (the anchor):
    its offset from the anchor minus the plan's. Returns (anchor, [(chime, losses before it, error in
    samples, correlation score)]). Against a chime of the same stream after its start, a new stream's late
    first blocks (which the gauge cannot see) do not count."""
    first_loss = run.handed.losses[0][0]
    anchor = max(s for s in run.starts if s + RATE * 3 // 10 <= first_loss)
    bell = run.render[run.starts[0]:run.starts[0] + RATE // 4]
    first, _ = find_onset(run.live, bell, int(np.argmax(np.abs(run.live) > 0.01)), RATE, lead=RATE // 20)
    at, score = find_onset(run.live, bell, first + anchor - run.starts[0], RATE // 3, lead=RATE // 20)
    assert score > 0.9, f"the anchor chime at {anchor} is not in the recording (score {score:.3f})"
    found = []
    for s, losses in judged(run):
        onset, score = find_onset(run.live, bell, at + s - anchor, RATE // 3, lead=RATE // 20)
        found.append((s, losses, onset - at - (s - anchor), round(score, 3)))
    return anchor, found


def test_an_underrun_is_made_up_in_the_next_pause(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> None:
    tried: list[tuple[float, list[tuple[int, int]]]] = []
    for stop in (*STOPS, STOPS[-1]):
        run = run_with_an_underrun(pulse, tmp_path / f"run{len(tried)}", speech_cache, stop=stop)
        chimes = judged(run)
        tried.append((stop, run.handed.losses))
        if run.handed.losses and any(s > run.starts[STOP_AT] for s, _ in chimes):
            break
        # No loss (the server's buffer outlasted the stop: stop longer), or the machine's own underruns left no
        # chime after the stop with a whole pause between it and the last loss (seen with 15 underruns at load
        # 5-8): nothing could be judged, so cause one again rather than pass or fail on it.
        print(f"nothing to judge after a {stop} s stop (losses {run.handed.losses}); again")
    assert "ALSA lib" not in run.log, f"ALSA's own message reached the terminal:\n{run.log}"
    losses = run.handed.losses
    assert losses and "ran dry" in run.log, f"no stop caused an underrun, so nothing was tested: {tried}\n{run.log}"
    stopped = run.starts[STOP_AT]
    assert any(s > stopped for s, _ in chimes), f"no chime to judge after the stop in {len(tried)} runs: {tried}"
    # Sample for sample, in the stream's own clock: exact up to the first loss, and each judged chime exactly
    # on its planned sample: the catch-up took what the gauge measured out of the pause.
    wrong = differing(run.handed, run.render)
    assert wrong < 0 or wrong >= losses[0][0], f"handed samples differ from the render at {wrong}, before any loss"
    for s, _ in chimes:
        wrong = differing(run.handed, run.render, s)
        assert wrong < 0 or wrong >= run.ends[run.starts.index(s)], \
            f"the chime planned at {s} was not handed out on its sample (differs at {wrong}; losses {losses})"
    # Through the sink: most chimes judged after the stop are where the plan puts them, within the gauge's
    # measured accuracy (GAUGE_SHARE of the loss reported before each). Most, not all: beside a busy loop the
    # real path was seen to shift or cut sound with no underrun reported (one chime 9258 samples late and only
    # 0.88 like itself, the next ones back at -249), which the player cannot know of.
    anchor, found = chime_errors(run)
    after = [(s, error, score) for s, _, error, score in found if s > stopped]
    good = [s for s, error, score in after
            if score > 0.9 and abs(error) <= GAUGE_SHARE * sum(abs(n) for at, n in losses if anchor < at < s)]
    assert len(good) * 2 > len(after), \
        f"chimes after the stop off the plan: (chime, error, score) {after}; losses {losses}\n{run.log}"
    print(f"losses {losses}; after chime {anchor}: (chime, losses, error, score) {found}")


def test_the_daemon_outlives_a_dying_server_and_plays_again_once_it_is_back(
        own_server: PrivateServer, tmp_path: Path, speech_cache: Path) -> None:
    from .test_daemon_live import running_daemon

    with running_daemon(Pulse("dying", own_server.env), tmp_path, speech_cache) as daemon:
        assert daemon.ctl("start", "demo").returncode == 0
        daemon.wait_for("playing on")
        time.sleep(4.0)
        own_server.kill()
        daemon.wait_for("ended after", timeout=10)
        daemon.wait_for("waiting for the sound output to come back")
        assert daemon.proc.poll() is None, "the daemon is still up"
        status = daemon.ctl("status")
        assert status.returncode == 0 and "idle" in status.stdout, status.stdout + status.stderr
        own_server.start()
        daemon.wait_for("the sound output is back", timeout=60)
        assert daemon.ctl("start", "demo").returncode == 0
        daemon.wait_for("playing on", count=2)
        log = "".join(daemon.log)
    assert "Traceback" not in log, log

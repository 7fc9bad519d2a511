"""Faults through the real audio path: SIGTERM and SIGHUP fade out like 'q'; a sound server that dies
mid-session ends ``run`` within 2 s with exit 2 and one message, the timeline kept; an underrun (the
process stopped with SIGSTOP for 200 ms) is made up in the next pause, so later chimes are back on plan.

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
from pathlib import Path
from typing import IO

import numpy as np
import pytest

from tests.measure import find_onset

from .audio_helpers import RATE, Pulse, global_lag, measure_fade, read_wav, run_voiceguide, voiceguide

pytestmark = pytest.mark.audio

TOLERANCE = int(0.002 * RATE)
"""2 ms."""


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
    recording, timeline = tmp_path / "box.wav", tmp_path / "played.json"
    with pulse.record(recording):
        run = Run(voiceguide("-v", "run", "box", "--device", "pulse", "--tts", "fake", "--cache-dir", speech_cache,
                             "--timeline", timeline, env=pulse.env))
        run.wait_started()
        time.sleep(5.0)  # into the first spoken line
        sent = time.monotonic()
        run.proc.send_signal(number)
        code = run.wait(10)
        took = time.monotonic() - sent
        time.sleep(0.5)
    assert code == 0, f"exit {code} after {number.name}:\n{''.join(run.log)}"
    assert took <= 1.5, f"took {took:.2f} s to exit after {number.name}"
    played = json.loads(timeline.read_text(encoding="utf-8"))
    assert played["events"], "the timeline of what played was written"
    live = read_wav(recording)
    wav = tmp_path / "box-ref.wav"
    done = run_voiceguide("render", "box", "-o", wav, "--tts", "fake", "--cache-dir", speech_cache)
    assert done.returncode == 0, done.stderr
    reference = read_wav(wav)[:len(live)]
    fade = measure_fade(live, reference, global_lag(live, reference))
    assert fade.problems() == [], f"no clean fade-out after {number.name}: {fade.problems()}"
    print(f"{number.name}: exit {took:.2f} s later, fade {fade.seconds:.3f} s")


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


CHIMES = 5
SCRIPT = '[session]\ntitle = "Bells"\n' + '[[step]]\nchime = "bell"\n[[step]]\npause = 1.5\n' * CHIMES


def test_an_underrun_is_made_up_in_the_next_pause(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> None:
    script = tmp_path / "bells.toml"
    script.write_text(SCRIPT, encoding="utf-8")
    plan = tmp_path / "plan.json"
    wav = tmp_path / "plan.wav"
    done = run_voiceguide("render", script, "-o", wav, "--timeline", plan, "--tts", "fake",
                          "--cache-dir", speech_cache)
    assert done.returncode == 0, done.stderr
    starts = [int(e["start_sample"]) for e in json.loads(plan.read_text())["events"] if e["kind"] == "chime"]
    recording = tmp_path / "live.wav"
    with pulse.record(recording):
        run = Run(voiceguide("-v", "run", script, "--device", "pulse", "--tts", "fake", "--cache-dir", speech_cache,
                             env=pulse.env))
        run.wait_started()
        time.sleep(2.0 + starts[1] / RATE + 1.0)  # start-up, then into the second chime
        run.proc.send_signal(signal.SIGSTOP)
        time.sleep(0.2)
        run.proc.send_signal(signal.SIGCONT)
        code = run.wait(60)
        time.sleep(0.5)
    err = "".join(run.log)
    assert code == 0, err
    assert "ran dry" in err, f"the stop caused no underrun, so nothing was tested:\n{err}"
    assert "ALSA lib" not in err, f"ALSA's own message reached the terminal:\n{err}"
    live = read_wav(recording)
    bell = read_wav(wav)[starts[0]:starts[0] + RATE // 4]
    first, score = find_onset(live, bell, int(np.argmax(np.abs(live) > 0.01)), RATE, lead=RATE // 20)
    assert score > 0.9
    errors, scores = [], []
    for s in starts:
        at, score = find_onset(live, bell, first + s - starts[0], RATE // 3, lead=RATE // 20)
        errors.append(at - first - (s - starts[0]))
        scores.append(round(score, 3))
    after = errors[2:]  # the second chime was cut by the gap; the pause after it takes the time back
    assert all(abs(e) <= TOLERANCE for e in after), \
        f"chimes after the pause are off the plan by {errors} samples (scores {scores})\n{err}"
    print(f"onset errors per chime (samples): {errors}; {[line for line in run.log if 'ran dry' in line]}")


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

"""Home Assistant's side, for real: a private Mosquitto (password file, loopback port) and ``voiceguide daemon``
playing into the null sink with an ``[mqtt]`` table. A paho client in the test plays Home Assistant: it reads
the retained discovery messages, presses the buttons and watches the state sensor. Also: the broker killed and
restarted mid-session, wrong credentials, and 10,000 junk messages on the command topics.

Bounded: each test runs one or two daemons and brokers for about a minute at most; everything is on
127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.mqtt_helpers import REQUIRED, Broker, check_config, private_broker

from .audio_helpers import (
    RATE,
    LiveRecording,
    Pulse,
    Signal,
    chance_of_as_many,
    chime_placement,
    loud_windows,
    quiet_from,
    read_wav,
    run_voiceguide,
    sound_from,
    timeline_starts,
    voiceguide,
    wait_until_quiet,
)
from .tee import LSB, Teed
from .test_daemon_live import Daemon

pytestmark = pytest.mark.audio

BELL_LINE = """[session]
title = "Bell and a long line"
rate = 135

[[step]]
chime = "bell"

[[step]]
say = \"\"\"After the bell comes one long sentence that keeps on sounding for a good while, so that the test \
can pause it, resume it, take the broker away and bring it back, and send a great many messages that mean \
nothing, all while the voice goes on word after word, calmly, with nothing in it that needs to be heard or \
understood, and then a little longer still in case this machine is busy\"\"\"

[[step]]
pause = 60
"""
"""A bell, speech for about 25 s (fake voice), then a minute of quiet, kept as a user script with this title."""
TITLE = "Bell and a long line"


class HomeAssistant:
    """A paho client standing in for Home Assistant: keeps every message it sees."""

    def __init__(self, broker: Broker, password: str = Broker.PASSWORD) -> None:
        from paho.mqtt import client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.seen: list[tuple[str, bytes, bool]] = []
        self._last: dict[str, bytes] = {}
        self._cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"ha-{time.monotonic_ns()}")
        self.client.username_pw_set(Broker.USER, password)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.subscribe([("homeassistant/#", 0), ("voiceguide/#", 0)])
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._cond:
            self.seen.append((message.topic, bytes(message.payload), bool(message.retain)))
            self._last[message.topic] = bytes(message.payload)
            self._cond.notify_all()

    def wait(self, test: Any, what: str, timeout: float = 60) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: test(self.seen), timeout):
                pytest.fail(f"no {what} within {timeout} s; saw {[(t, p[:60]) for t, p, _ in self.seen][-30:]}")

    def last(self, topic: str) -> bytes | None:
        with self._cond:
            return self._last.get(topic)

    def wait_state(self, base: str, key: str, value: str, timeout: float = 60) -> None:
        self.wait(lambda seen: self.last(f"{base}/{key}") == value.encode(), f"{key} = {value}", timeout)

    def press(self, base: str, key: str, payload: str = "PRESS") -> None:
        self.client.publish(f"{base}/{key}/set", payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def mqtt_daemon(pulse: Pulse, tmp_path: Path, speech_cache: Path, broker: Broker,
                password: str = Broker.PASSWORD, tee: Path | None = None) -> Iterator[Daemon]:
    """``voiceguide daemon`` (fake voice, null sink) with an [mqtt] table for ``broker``, the password in a
    0600 file, and :data:`BELL_LINE` among its sessions; with ``tee``, what it hands the output is kept there
    when it exits (``tee.py``)."""
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    config = home / "config" / "voiceguide"
    (config / "scripts").mkdir(parents=True)
    (config / "scripts" / "bell-line.toml").write_text(BELL_LINE, encoding="utf-8")
    now = dt.datetime.now()
    quiet = (now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
    secret = tmp_path / "mqtt-password"
    secret.write_text(password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    (config / "config.toml").write_text(
        f'[audio]\noutput = "pulse"\n[speech]\ntts = "fake"\ncache_dir = "{speech_cache}"\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\nusername = "{Broker.USER}"\n'
        f'password_file = "{secret}"\nname = "Test bedroom"\n'
        # quiet hours around now: they hold back the schedule only, never a command (from Home Assistant too)
        f'[quiet_hours]\nstart = "{quiet[0]:%H:%M}"\nend = "{quiet[1]:%H:%M}"\n', encoding="utf-8")
    env = dict(pulse.env, XDG_CONFIG_HOME=str(home / "config"), XDG_RUNTIME_DIR=str(runtime),
               XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"))
    d = Daemon(voiceguide("daemon", env=env, tee=tee), env)
    try:
        d.wait_for("ready")
        yield d
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def _base(daemon: Daemon) -> str:
    return "voiceguide/" + (Path(daemon.env["XDG_DATA_HOME"]) / "voiceguide" / "device-id").read_text().strip()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    folder = tmp_path / "broker"
    folder.mkdir()
    with private_broker(folder) as b:
        yield b


@pytest.fixture
def setup(pulse: Pulse, tmp_path: Path, speech_cache: Path,
          broker: Broker) -> Iterator[tuple[Daemon, HomeAssistant, str]]:
    with mqtt_daemon(pulse, tmp_path, speech_cache, broker, tee=tmp_path / "handed.npz") as daemon:
        ha = HomeAssistant(broker)
        base = _base(daemon)
        ha.wait_state(base, "availability", "online")
        ha.wait_state(base, "state", "idle")
        try:
            yield daemon, ha, base
        finally:
            ha.close()


def _configs(seen: list[tuple[str, bytes, bool]]) -> dict[str, tuple[bytes, bool]]:
    return {t: (p, r) for t, p, r in seen if t.startswith("homeassistant/") and t.endswith("/config")}


def test_discovery_is_retained_and_valid_for_home_assistant(setup: tuple[Daemon, HomeAssistant, str],
                                                            broker: Broker) -> None:
    _daemon, _ha, base = setup
    late = HomeAssistant(broker)  # subscribes after the daemon announced: sees only what is retained
    try:
        late.wait(lambda seen: len(_configs(seen)) >= 16, "16 retained discovery configs", 20)
        configs = _configs(late.seen)
    finally:
        late.close()
    assert all(retained for _, retained in configs.values())
    kinds = sorted(topic.split("/")[1] for topic in configs)
    assert set(kinds) == set(REQUIRED) and kinds.count("button") == 5 and kinds.count("sensor") == 6
    device_ids = set()
    for topic, (payload, _) in configs.items():
        config = json.loads(payload)
        assert check_config(topic.split("/")[1], config) == [], (topic, config)
        device_ids.add(tuple(config["device"]["identifiers"]))
        assert config["device"]["name"] == "Test bedroom"
        assert config["availability_topic"] == f"{base}/availability"
    assert len(device_ids) == 1, "one device"
    select = next(json.loads(p) for t, (p, _) in configs.items() if "/select/" in t)
    assert TITLE in select["options"] and "A one-minute pause" in select["options"]
    assert not any("/mood/" in t for t in configs), "mood is off unless turned on"


def _reference(tmp_path: Path, speech_cache: Path) -> tuple[Any, list[int]]:
    script, wav, timeline = tmp_path / "bell-line.toml", tmp_path / "ref.wav", tmp_path / "ref.json"
    script.write_text(BELL_LINE, encoding="utf-8")
    done = run_voiceguide("render", script, "--tts", "fake", "--cache-dir", speech_cache, "-o", wav,
                          "--timeline", timeline)
    assert done.returncode == 0, done.stderr
    return read_wav(wav), timeline_starts(timeline)


def _start(ha: HomeAssistant, base: str) -> None:
    ha.press(base, "session", TITLE)
    ha.wait_state(base, "session", TITLE, 20)
    ha.press(base, "start")


class Witness:
    """``mosquitto_sub`` on the command topics: when the broker delivered each command, stamped by a small process
    of its own (``-F %U``, ``time.time()``'s clock), not by this busy test process's threads."""

    def __init__(self, broker: Broker, base: str) -> None:
        self.delivered: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-d", "-h", "127.0.0.1", "-p", str(broker.port),
                                      "-u", Broker.USER, "-P", Broker.PASSWORD, "-t", f"{base}/+/set",
                                      "-F", "%U %t"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._subscribed = False
        threading.Thread(target=self._read, daemon=True).start()
        with self._cond:
            if not self._cond.wait_for(lambda: self._subscribed, 30):
                pytest.fail("mosquitto_sub did not subscribe within 30 s")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            stamp, _, topic = line.strip().partition(" ")
            with self._cond:
                if "SUBACK" in line:
                    self._subscribed = True
                elif re.fullmatch(r"\d+\.\d+", stamp):
                    self.delivered.append((float(stamp), topic.split("/")[-2]))
                self._cond.notify_all()

    def when(self, key: str, nth: int = 1, timeout: float = 30) -> float:
        """When the broker delivered the ``nth`` command on ``<base>/<key>/set``."""
        with self._cond:
            if not self._cond.wait_for(lambda: sum(k == key for _, k in self.delivered) >= nth, timeout):
                pytest.fail(f"mosquitto_sub saw no {key} command (x{nth}) within {timeout} s: {self.delivered}")
            return [t for t, k in self.delivered if k == key][nth - 1]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _closest(piece: Signal, reference: Signal) -> int:
    """Where in ``reference`` ``piece`` fits best by the sum of squared differences (the fake voice is periodic
    enough that the highest cross-correlation can be a near miss, a few pitch periods off)."""
    size = 1 << (len(piece) + len(reference) - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(reference, size) * np.conj(np.fft.rfft(piece, size)), size)[:len(reference)]
    energy = np.concatenate(([0.0], np.cumsum(reference * reference)))
    k = np.arange(len(reference) - len(piece) + 1)
    ssd = energy[k + len(piece)] - energy[k] - 2 * corr[k] + float(np.dot(piece, piece))
    return int(np.argmin(ssd))


def handed_fade(stream: Signal, reference: Signal) -> tuple[float, list[str]]:
    """The stop's fade as the player handed it to the output (the tee: exact, whatever the machine's load): its
    length in seconds, and what is wrong with it as a fade (empty if nothing). The stretch 0.5-0.9 s before the
    sound ends is found sample for sample in the reference; the gain from there on must never rise, must fall
    over 0.3-0.5 s (``STOP_FADE_SECONDS`` is 0.4) and must end near zero, not at a cut."""
    x = np.nan_to_num(stream)
    end = int(np.flatnonzero(np.abs(x) > LSB)[-1]) + 1
    a, b = end - RATE * 9 // 10, end - RATE // 2
    at = _closest(x[a:b], reference)  # the reference sample handed out at stream frame a
    if at < 0 or np.abs(x[a:b] - reference[at:at + b - a]).max() > 2 * LSB:
        return 0.0, [f"the stretch before the fade is not the reference handed out as it is (at {at})"]
    ref = reference[at:at + end - a]
    sounding = np.flatnonzero(np.abs(ref) > 0.05)
    gain = x[a:end][sounding] / ref[sounding]
    found = []
    rise = float((gain - np.minimum.accumulate(gain)).max())
    if rise > 0.01:
        found.append(f"the gain rises by {rise:.3f} during the fade")
    falling = (gain > 0.1) & (gain < 0.9)  # the fade's slope, fitted: the voice's own troughs leave gaps
    seconds = 0.0
    if falling.sum() > RATE // 100:
        slope = np.polyfit(sounding[falling] / RATE, gain[falling], 1)[0]
        seconds = float(-1.0 / slope) if slope < 0 else float("inf")
    if not 0.3 <= seconds <= 0.5:
        found.append(f"the fade takes {seconds:.3f} s (from its slope)")
    after = (end - a - int(sounding[-1])) / RATE  # from the last sample judged to the end of the sound
    if gain[-1] > 0.05 + after / 0.4:  # at 0.4 s a fade falls by after/0.4 of full level in that time
        found.append(f"the sound ends at {gain[-1] - after / 0.4:.2f} of full level (a cut)")
    return seconds, found


PAUSE_WITHIN = 1.0
"""Seconds from the broker delivering pause (or pause again, to resume) to the voice quiet (or back) in the sink.
Measured 2026-12-07 in 8 runs at load 6-10 (other lanes' tests; 3 of them with a busy loop beside): quiet
0.12-0.16 s after pause, back 0.08-0.13 s after resume. With the bridge broken on purpose (1.2 s asleep before
asking the daemon to pause) it failed: quiet 1.36 s after pause. The first design slept 3 s for "the bell has
rung" and judged only the bell (it failed 2 of 4 runs at load 10-13)."""
STOP_WITHIN = 1.4
"""... from the broker delivering stop to the end of sound in the sink, the stop's fade (0.4 s) included
(measured: 0.41-0.51 s; the fade as handed out 0.393-0.395 s)."""
HELD = 1.5
"""Seconds the pause is heard as silence before resume is pressed."""


def test_start_pause_resume_stop_from_home_assistant(setup: tuple[Daemon, HomeAssistant, str], pulse: Pulse,
                                                     broker: Broker, tmp_path: Path, speech_cache: Path) -> None:
    """What a Home Assistant user meets, judged in the sink on the clock of the broker's delivery: start plays
    the bell and the voice; pause quiets within :data:`PAUSE_WITHIN`, and the quiet holds; pause again brings
    the voice back within as long; stop fades it out (a fade, not a cut) within :data:`STOP_WITHIN`. Every wait
    is for something seen (a state message, sound or silence in the sink), never a fixed sleep."""
    daemon, ha, base = setup
    reference, starts = _reference(tmp_path, speech_cache)
    speech = timeline_starts(tmp_path / "ref.json", "speech")[0]
    recording = tmp_path / "mqtt.wav"
    witness = Witness(broker, base)
    try:
        with pulse.record(recording):
            live = LiveRecording(recording)
            try:
                _start(ha, base)
                ha.wait_state(base, "state", "playing")
                ha.wait_state(base, "playing", "ON")
                ha.wait_state(base, "playing_session", TITLE, 20)

                def into_the_voice(x: Signal) -> bool:  # the bell has rung and the voice sounded for 2 s
                    loud = loud_windows(x)
                    return len(loud) > 0 and len(x) >= int(loud[0]) * RATE // 100 + speech + 2 * RATE

                live.wait(into_the_voice, "the bell and 2 s of the voice")
                ha.press(base, "pause")
                paused = witness.when("pause", 1)
                ha.wait_state(base, "state", "paused", 30)
                live.wait(lambda x: quiet_from(x, live.index_at(paused), HELD) is not None, "the pause")
                ha.press(base, "pause")  # pause/resume
                resumed = witness.when("pause", 2)
                ha.wait_state(base, "state", "playing", 30)
                live.wait(lambda x: (s := sound_from(x, live.index_at(resumed))) is not None
                          and len(x) > s + 2 * RATE, "the voice again for 2 s")
                ha.press(base, "stop")
                stopped = witness.when("stop", 1)
                ha.wait_state(base, "state", "idle", 30)
                ha.wait_state(base, "playing", "OFF", 30)
                wait_until_quiet(recording)
            finally:
                live.close()
    finally:
        witness.close()
    ha.wait(lambda seen: any(t == f"{base}/event" and b"stopped" in p for t, p, _ in seen), "a stopped event", 20)
    events = [json.loads(p) for t, p, _ in ha.seen if t == f"{base}/event"]
    assert [e["event_type"] for e in events] == ["started", "stopped"], events
    assert all(e["session"] == TITLE for e in events)
    log = "".join(daemon.log)
    assert "pausing bell-line (ctl)" in log and "resuming bell-line (ctl)" in log and "stopping bell-line" in log

    x = read_wav(recording)
    quiet = quiet_from(x, live.index_at(paused), HELD)
    assert quiet is not None
    back = sound_from(x, quiet)
    assert back is not None, "the voice never came back"
    placement = chime_placement(x[:quiet], reference, starts[:1])
    assert placement.scores[0] > 0.9, f"the first bell was not heard: {placement.describe()}"
    pause_took = live.time_of(quiet) - paused
    resume_took = live.time_of(back) - resumed
    assert back >= live.index_at(resumed) - RATE // 50, "the voice came back before resume was pressed"
    assert pause_took <= PAUSE_WITHIN, f"quiet {pause_took:.3f} s after the broker delivered pause"
    assert resume_took <= PAUSE_WITHIN, f"the voice back {resume_took:.3f} s after the broker delivered resume"
    end = int(loud_windows(x)[-1] + 1) * RATE // 100
    stop_took = live.time_of(end) - stopped
    assert 0 < stop_took <= STOP_WITHIN, f"silent {stop_took:.3f} s after the broker delivered stop"
    daemon.proc.send_signal(signal.SIGTERM)  # the tee is saved as the daemon exits
    assert daemon.proc.wait(30) == 0
    handed = Teed(tmp_path / "handed.npz").streams
    assert len(handed) == 1, "one output stream"
    fade, problems = handed_fade(handed[0].stream, reference)
    assert problems == [], f"stop, as the player handed it out: {problems}"
    print(f"from the broker's delivery: quiet {pause_took:.3f} s after pause, the voice back {resume_took:.3f} s "
          f"after resume, silent {stop_took:.3f} s after stop (fade {fade:.3f} s as handed out); "
          f"pause held {(back - quiet) / RATE:.2f} s")


ALPHA = 0.01
"""How unlikely the disturbed daemon's share of the underruns must be, were both daemons alike, for the test to
fail. Each scenario runs two daemons side by side, each with its own bridge, and plays the session in both AT
ONCE, after a warm-up start and stop in each: the control (its broker left alone, no message for it) and the
disturbed one (its broker killed and restarted; 10,000 junk messages on its command topics). Both play into the
same null sink for the same :data:`WINDOW` on the same machine, so a busy machine (other tests, other work:
single stalls of 1.8-1.9 s were measured here at load ~12) weighs on both; only what the bridge does to its own
process falls on one. Underruns are rare random events, so the counts are judged as such: were the bridge
harmless, each of the n underruns of the two daemons would be as likely to fall in either, and the test fails
when the disturbed daemon has so many of them that a fair coin would give that many heads in n tosses with a
chance below ALPHA (0/7, 1/10, 3/22 fail; 0/6, 1/9, 3/5 pass). The product's promise is that the bridge does not
hold the audio back: a bridge that did would run dry many times in the disturbed daemon only.

The first design played a control and then the disturbed session one after the other in one daemon and allowed
one underrun more; with 6 test workers the load changed between the two, and the product unchanged failed it
(2 vs 0, 4 vs 1). Side by side with that allowance it still failed once at load 12.7 (3 vs 5, junk).

Measured 2026-12-07 with this design (control/disturbed underruns), while another shell ran
``pytest -n 4 tests/daemon tests/remote tests/engine`` in a loop and a ``while True: pass`` (load 7-13), the
product unchanged, 4 runs: broker 2/3, 3/4, 3/2, 0/0; junk 2/4, 3/2, 0/1, 1/1 (all pass; 2/4 would have failed
the allowance of one). Broken on purpose (``re.match(r"(a+)+b", "a" * n)`` holds the interpreter
lock: n=22 about 0.15 s, n=23 about 0.3 s on this machine): the n=22 hold on paho's thread every 500th message
gave junk 0/20 (idle), 0/20 and 3/22 (loaded); five n=23 holds 0.5 s apart at each loss of the broker gave
2/14 (loaded, three kills; with one kill it gave 0/5 and 1/5, too few to judge, hence :data:`KILLS`). All
fail. Each test takes about 35-45 s (two daemons warmed up, one 26 s window), against about 56 s for the
one-after-the-other design. They need not run in the real-time group: the load falls on both daemons."""
WINDOW = 26.0
"""Seconds from the streams starting to the stop pressed from Home Assistant. The junk begins 2 s in and the
bridge reads it at 500 a second (about 20 s); the stop is published after it, so a bridge still behind makes the
disturbed run longer (its length is printed)."""
KILLS = 3
"""Times the disturbed daemon's broker is killed (2 s away each time) and restarted, one after the other."""
DRY = re.compile(r"the output ran dry (\d+) time")


def _underruns(daemon: Daemon, since: int) -> int:
    found = [DRY.search(line) for line in daemon.log[since:]]
    return sum(int(m.group(1)) for m in found if m)


def _wait_new(daemon: Daemon, text: str, since: int, timeout: float = 60) -> None:
    """Until the log has a line with ``text`` after its first ``since`` lines."""
    daemon.wait_for(text, count=sum(text in line for line in daemon.log[:since]) + 1, timeout=timeout)


def _warm_up(daemon: Daemon, ha: HomeAssistant, base: str) -> None:
    """One short start and stop: the session is read, its speech cached and the output opened once before the
    runs that are compared."""
    since = len(daemon.log)
    _start(ha, base)
    _wait_new(daemon, "playing on", since)
    ha.press(base, "stop")
    _wait_new(daemon, "stopped bell-line", since)
    ha.wait_state(base, "state", "idle", 30)


class Side:
    """One of the two daemons of a side-by-side comparison, with its broker and a Home Assistant on it."""

    def __init__(self, daemon: Daemon, broker: Broker, ha: HomeAssistant) -> None:
        self.daemon, self.broker, self.ha, self.base = daemon, broker, ha, _base(daemon)
        self.since = 0

    def start(self) -> None:
        """Press start (after a warm-up); mark where this run's log begins."""
        self.since = len(self.daemon.log)
        _start(self.ha, self.base)

    def wait_playing(self) -> None:
        self.ha.wait_state(self.base, "state", "playing")
        _wait_new(self.daemon, "playing on", self.since)

    def stop(self) -> None:
        self.ha.press(self.base, "stop")  # behind any junk: read when the bridge has worked through it

    def wait_stopped(self) -> int:
        """Wait for idle and the stop; the run's underruns."""
        self.ha.wait_state(self.base, "state", "idle", 90)
        _wait_new(self.daemon, "stopped bell-line", self.since)
        return _underruns(self.daemon, self.since)

    def log(self) -> str:
        return "".join(self.daemon.log[self.since:])

    def close(self) -> None:
        self.ha.close()  # the one it has at the end (the broker's restart gives it a new one)


@contextlib.contextmanager
def two_daemons(pulse: Pulse, tmp_path: Path, speech_cache: Path,
                shared_broker: bool) -> Iterator[tuple[Side, Side]]:
    """The control and the disturbed :class:`Side`, warmed up, each on its own broker (or on one shared)."""
    with contextlib.ExitStack() as stack:
        sides = []
        broker = None
        for name in ("control", "disturbed"):
            folder = tmp_path / name
            (folder / "broker").mkdir(parents=True)
            if broker is None or not shared_broker:
                broker = stack.enter_context(private_broker(folder / "broker"))
            daemon = stack.enter_context(mqtt_daemon(pulse, folder, speech_cache, broker))
            side = Side(daemon, broker, HomeAssistant(broker))
            stack.callback(side.close)
            side.ha.wait_state(side.base, "availability", "online")
            side.ha.wait_state(side.base, "state", "idle")
            sides.append(side)
        for side in sides:
            _warm_up(side.daemon, side.ha, side.base)
        yield sides[0], sides[1]


def _play_both(control: Side, disturbed: Side, disturb: Any) -> tuple[int, int, float]:
    """Play the session in both at once, call ``disturb(on)`` 2 s after both streams are on, stop both at
    :data:`WINDOW` (or when ``disturb`` returns, if later); the control's and the disturbed run's underruns and
    the seconds the disturbed one played."""
    control.start()
    disturbed.start()
    control.wait_playing()
    disturbed.wait_playing()
    on = time.monotonic()
    time.sleep(2.0)  # past the new streams' first blocks
    disturb(on)
    time.sleep(max(0.0, on + WINDOW - time.monotonic()))
    control.stop()
    disturbed.stop()
    counts = control.wait_stopped(), disturbed.wait_stopped()
    return counts[0], counts[1], time.monotonic() - on


def test_the_sign_test_fails_only_on_a_lopsided_share() -> None:
    assert chance_of_as_many(0, 0) == 1.0
    assert [chance_of_as_many(0, n) < ALPHA for n in (6, 7)] == [False, True]
    assert chance_of_as_many(3, 5) > ALPHA and chance_of_as_many(5, 3) > ALPHA
    assert chance_of_as_many(3, 22) < ALPHA and chance_of_as_many(1, 10) < ALPHA < chance_of_as_many(1, 9)


def _compare(control: Side, disturbed: Side, counts: tuple[int, int], what: str) -> None:
    chance = chance_of_as_many(*counts)
    assert chance >= ALPHA, \
        f"the output ran dry {counts[1]} time(s) {what}, {counts[0]} in the control daemon at the same time " \
        f"(chance {chance:.4f} if both were alike)\ncontrol:\n{control.log()}\ndisturbed:\n{disturbed.log()}"


def test_the_broker_going_away_mid_session(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> None:
    """Figures: :data:`ALLOWANCE`."""
    with two_daemons(pulse, tmp_path, speech_cache, shared_broker=False) as (control, disturbed):

        def disturb(on: float) -> None:
            disturbed.ha.close()
            for cycle in range(KILLS):
                disturbed.broker.kill()
                time.sleep(2.0)  # paho tries again with growing pauses meanwhile
                status = disturbed.daemon.ctl("status", "--json")
                assert json.loads(status.stdout)["state"] == "playing", "the session plays on without the broker"
                disturbed.broker.start()  # same port; persistence false: every retained message is gone
                back = f"connected to 127.0.0.1:{disturbed.broker.port} again"
                disturbed.daemon.wait_for(back, count=cycle + 1, timeout=30)  # before the next kill
            disturbed.ha = HomeAssistant(disturbed.broker)
            disturbed.ha.wait(lambda seen: len(_configs(seen)) >= 16, "the discovery configs again", 90)
            disturbed.ha.wait_state(disturbed.base, "state", "playing", 20)

        calm, dry, played = _play_both(control, disturbed, disturb)
        assert "lost the broker" in disturbed.log() and "connected to 127.0.0.1" in disturbed.log()
        assert "lost the broker" not in control.log()
        print(f"underruns at the same time: broker left alone {calm}, killed and restarted {dry} "
              f"in {played:.1f} s")
        _compare(control, disturbed, (calm, dry), "with the broker killed and restarted")


def test_ten_thousand_junk_messages_change_nothing(pulse: Pulse, tmp_path: Path, speech_cache: Path) -> None:
    """Figures: :data:`ALLOWANCE`."""
    junk = [b"", b"PRESSED", b"/etc/passwd", b"../../x.toml", b"\xff\xfe\x00", b"9" * 500, b"nan", b"-3",
            b'{"command": "stop"}', b"press"]
    keys = ["start", "stop", "pause", "skip", "slower", "volume", "minutes", "session", "nope"]
    with two_daemons(pulse, tmp_path, speech_cache, shared_broker=True) as (control, disturbed):

        def disturb(on: float) -> None:
            client = disturbed.ha.client
            for n in range(10_000):
                client.publish(f"{disturbed.base}/{keys[n % len(keys)]}/set", junk[n % len(junk)], qos=0)
            client.publish(f"{disturbed.base}/marker/set", b"end", qos=1).wait_for_publish(30)
            time.sleep(2.0)
            for side in (control, disturbed):
                status = json.loads(side.daemon.ctl("status", "--json").stdout)
                assert status["state"] == "playing" and status["session"] == "bell-line"
                assert status.get("volume", 1.0) == 1.0

        calm, dry, played = _play_both(control, disturbed, disturb)
        for side in (control, disturbed):
            log = side.log()
            assert log.count("starting bell-line") == 1 and log.count("stopping bell-line") == 1, log
            for word in ("pausing", "resuming", ": skip", ": slower", "volume 0", "volume 1"):
                assert word not in log, f"junk acted: {word}"
        assert "MQTT: ignored a message" not in "".join(control.daemon.log), "the junk went to one daemon only"
        assert "MQTT: ignored a message" in disturbed.log(), "the junk reached the bridge"
        assert disturbed.log().count("MQTT: ignored a message") <= 3, "rate-limited"
        print(f"underruns at the same time with 10,000 messages: none for the control {calm}, on the disturbed "
              f"daemon's command topics {dry} in {played:.1f} s")
        _compare(control, disturbed, (calm, dry), "with 10,000 junk messages on the command topics")


def test_wrong_credentials_give_one_clear_message(pulse: Pulse, tmp_path: Path, speech_cache: Path,
                                                  broker: Broker) -> None:
    with mqtt_daemon(pulse, tmp_path, speech_cache, broker, password="wrong") as daemon:
        daemon.wait_for("wrong user name or password", timeout=30)
        time.sleep(4.0)  # two or three more tries (back-off 1, 2, 4 s)
        assert json.loads(daemon.ctl("status", "--json").stdout)["ok"] is True, "the daemon works on"
        log = "".join(daemon.log)
    lines = [line for line in log.splitlines() if "MQTT" in line and "refused" in line]
    assert len(lines) == 1, lines
    assert "refused user 'vg'" in lines[0] and "password_file" in lines[0]
    assert "Traceback" not in log

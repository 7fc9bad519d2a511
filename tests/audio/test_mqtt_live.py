"""Home Assistant's side, for real: a private Mosquitto (password file, loopback port) and ``voiceguide daemon``
playing into the null sink with an ``[mqtt]`` table. A paho client in the test plays Home Assistant: it reads
the retained discovery messages, presses the buttons and watches the state sensor. Also: the broker killed and
restarted mid-session, wrong credentials, and 10,000 junk messages on the command topics.

Bounded: each test runs one daemon and one broker for about a minute at most; everything is on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mqtt_helpers import REQUIRED, Broker, check_config, private_broker

from .audio_helpers import Pulse, chime_placement, read_wav, run_voiceguide, timeline_starts, voiceguide
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
                password: str = Broker.PASSWORD) -> Iterator[Daemon]:
    """``voiceguide daemon`` (fake voice, null sink) with an [mqtt] table for ``broker``, the password in a
    0600 file, and :data:`BELL_LINE` among its sessions."""
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
    d = Daemon(voiceguide("daemon", env=env), env)
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
    with mqtt_daemon(pulse, tmp_path, speech_cache, broker) as daemon:
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


def test_start_pause_resume_stop_from_home_assistant(setup: tuple[Daemon, HomeAssistant, str], pulse: Pulse,
                                                     tmp_path: Path, speech_cache: Path) -> None:
    daemon, ha, base = setup
    recording = tmp_path / "mqtt.wav"
    with pulse.record(recording):
        _start(ha, base)
        ha.wait_state(base, "state", "playing")
        ha.wait_state(base, "playing", "ON")
        ha.wait_state(base, "playing_session", TITLE, 20)
        daemon.wait_for("playing on")
        time.sleep(3.0)  # the bell has rung (it is the first step)
        ha.press(base, "pause")
        ha.wait_state(base, "state", "paused", 20)
        ha.press(base, "pause")  # pause/resume
        ha.wait_state(base, "state", "playing", 20)
        ha.press(base, "stop")
        ha.wait_state(base, "state", "idle", 20)
        ha.wait_state(base, "playing", "OFF", 20)
    ha.wait(lambda seen: any(t == f"{base}/event" and b"stopped" in p for t, p, _ in seen), "a stopped event", 20)
    events = [json.loads(p) for t, p, _ in ha.seen if t == f"{base}/event"]
    assert [e["event_type"] for e in events] == ["started", "stopped"], events
    assert all(e["session"] == TITLE for e in events)
    log = "".join(daemon.log)
    assert "pausing bell-line (ctl)" in log and "resuming bell-line (ctl)" in log and "stopping bell-line" in log
    reference, starts = _reference(tmp_path, speech_cache)
    placement = chime_placement(read_wav(recording), reference, starts[:1])
    assert placement.scores[0] > 0.9, f"the first bell was not heard: {placement.describe()}"


ALLOWANCE = 1
"""Underruns a disturbed run may have beyond its control's. Each scenario plays the session twice in the same
daemon, after a warm-up start and stop, for the same :data:`WINDOW`: once as a control (the broker left alone;
the same 10,000 messages published to a topic the bridge does not subscribe to, so the broker and the publisher
do the same work), once disturbed (the broker killed and restarted; the messages on the command topics). On
these 2 cores shared with other test runs the output can run dry with no MQTT at all (measured before this
design: single stalls of 1.8-1.9 s in this file's runs and in test_remote_load.py's at the same moment, load
average ~12), so the runs are compared with each other, not with zero. The product's promise is that the bridge
does not hold the audio back: a bridge that did would run dry in the disturbed run and not in its control.
Measured 2026-12-07 (2 cores shared with other lanes, load 2-8), control/disturbed, the product unchanged, 4
runs each: broker 0/0, 0/0, 0/1, 0/0; junk 1/0, 1/0, 0/0, 1/0. Broken on purpose: junk read on paho's thread
holding the interpreter lock 0.2 s every 500th message, 0/9; the lock held 0.45 s five times, 0.5 s apart, when
the broker goes, 0/2. Both fail. Not caught (a single count is all this compares): the same five holds back to
back, one long stall counted once (2/1); the junk unthrottled, 0/1."""
WINDOW = 26.0
"""Seconds from the stream starting to the stop pressed from Home Assistant, in both runs of a scenario. The junk
begins 2 s in and the bridge reads it at 500 a second (about 20 s); the stop is published after it, so a bridge
still behind makes the disturbed run longer (its length is printed)."""
UNRELATED = "voiceguide/elsewhere"
"""Topics under this, the control's target: shaped like a device's, subscribed to by no bridge here."""
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


def _stop_at(daemon: Daemon, ha: HomeAssistant, base: str, on: float, since: int) -> float:
    """Press stop at ``on`` + :data:`WINDOW` (or now, if later); wait for idle and the stop. Seconds played."""
    time.sleep(max(0.0, on + WINDOW - time.monotonic()))
    ha.press(base, "stop")  # behind any junk: read when the bridge has worked through it (500 a second)
    ha.wait_state(base, "state", "idle", 90)
    _wait_new(daemon, "stopped bell-line", since)
    return time.monotonic() - on


def _compare(daemon: Daemon, control: int, disturbed: int, what: str) -> None:
    assert disturbed <= control + ALLOWANCE, \
        f"the output ran dry {disturbed} time(s) {what}, {control} in the control run\n{''.join(daemon.log)}"


def test_the_broker_going_away_mid_session(setup: tuple[Daemon, HomeAssistant, str], broker: Broker) -> None:
    daemon, ha, base = setup
    _warm_up(daemon, ha, base)
    ha.close()

    def run(restart: bool) -> tuple[int, float]:
        since = len(daemon.log)
        first = HomeAssistant(broker)
        try:
            _start(first, base)
            first.wait_state(base, "state", "playing")
        finally:
            first.close()
        _wait_new(daemon, "playing on", since)
        on = time.monotonic()
        time.sleep(2.0)  # past the new stream's first blocks
        if restart:
            broker.kill()
        time.sleep(4.0)  # paho tries again with growing pauses meanwhile
        status = daemon.ctl("status", "--json")
        assert json.loads(status.stdout)["state"] == "playing", "the session plays on without the broker"
        if restart:
            broker.start()  # same port; persistence false: every retained message is gone
        fresh = HomeAssistant(broker)
        try:
            fresh.wait(lambda seen: len(_configs(seen)) >= 16, "the discovery configs again", 90)
            fresh.wait_state(base, "state", "playing", 20)
            played = _stop_at(daemon, fresh, base, on, since)
        finally:
            fresh.close()
        log = "".join(daemon.log[since:])
        if restart:
            assert "lost the broker" in log and "connected to 127.0.0.1" in log, log
        else:
            assert "lost the broker" not in log, log
        return _underruns(daemon, since), played

    control, control_s = run(restart=False)
    disturbed, disturbed_s = run(restart=True)
    print(f"underruns: broker left alone {control} in {control_s:.1f} s, "
          f"killed and restarted {disturbed} in {disturbed_s:.1f} s")
    _compare(daemon, control, disturbed, "with the broker killed and restarted")


def test_ten_thousand_junk_messages_change_nothing(setup: tuple[Daemon, HomeAssistant, str]) -> None:
    daemon, ha, base = setup
    junk = [b"", b"PRESSED", b"/etc/passwd", b"../../x.toml", b"\xff\xfe\x00", b"9" * 500, b"nan", b"-3",
            b'{"command": "stop"}', b"press"]
    keys = ["start", "stop", "pause", "skip", "slower", "volume", "minutes", "session", "nope"]
    _warm_up(daemon, ha, base)

    def run(target: str) -> tuple[int, float]:
        since = len(daemon.log)
        _start(ha, base)
        ha.wait_state(base, "state", "playing")
        _wait_new(daemon, "playing on", since)
        on = time.monotonic()
        time.sleep(2.0)  # past the new stream's first blocks
        for n in range(10_000):
            ha.client.publish(f"{target}/{keys[n % len(keys)]}/set", junk[n % len(junk)], qos=0)
        ha.client.publish(f"{target}/marker/set", b"end", qos=1).wait_for_publish(30)
        time.sleep(2.0)
        status = json.loads(daemon.ctl("status", "--json").stdout)
        assert status["state"] == "playing" and status["session"] == "bell-line"
        assert status.get("volume", 1.0) == 1.0
        played = _stop_at(daemon, ha, base, on, since)
        log = "".join(daemon.log[since:])
        assert log.count("starting bell-line") == 1 and log.count("stopping bell-line") == 1, log
        for word in ("pausing", "resuming", ": skip", ": slower", "volume 0", "volume 1"):
            assert word not in log, f"junk acted: {word}"
        assert log.count("MQTT: ignored a message") <= 3, "rate-limited"
        return _underruns(daemon, since), played

    control, control_s = run(UNRELATED)
    assert "MQTT: ignored a message" not in "".join(daemon.log), "the control's topics reach no bridge"
    disturbed, disturbed_s = run(base)
    assert "MQTT: ignored a message" in "".join(daemon.log), "the junk reached the bridge"
    print(f"underruns with 10,000 messages: to another topic {control} in {control_s:.1f} s, "
          f"to the command topics {disturbed} in {disturbed_s:.1f} s")
    _compare(daemon, control, disturbed, "with 10,000 junk messages on the command topics")


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

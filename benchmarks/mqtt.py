"""Benchmark Home Assistant over MQTT: the daemon's memory and idle CPU with and without ``[mqtt]``, and the
latency of a command from Home Assistant (publish on a command topic -> the state sensor's new value).

``python -m benchmarks.mqtt [--cycles 20]`` (``tools/bench mqtt``) needs a running PulseAudio server and
Debian's ``mosquitto``: it starts a private broker (password file, a free loopback port, no persistence) and
``voiceguide daemon`` (fake voice, a null sink of its own) twice, without the table and with it. While a
session plays, a paho client standing in for Home Assistant presses *Pause / resume* ``--cycles`` times each
way and times each press until the state topic says ``paused`` / ``playing``. The daemon's log is read for
underruns. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from .daemon import Running, fake_voice_daemon, free_port, idle

USER, PASSWORD = "vg", "bench-secret"


@contextmanager
def broker(folder: Path) -> Iterator[int]:
    """A private Mosquitto on a free loopback port; yields the port."""
    tool = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    passwd = shutil.which("mosquitto_passwd") or "/usr/sbin/mosquitto_passwd"
    if not Path(tool).exists():
        raise SystemExit("bench: mosquitto is missing (apt-get install mosquitto mosquitto-clients)")
    port = free_port()
    subprocess.run([passwd, "-c", "-b", str(folder / "passwd"), USER, PASSWORD], check=True, timeout=30)
    (folder / "passwd").chmod(0o600)
    import getpass

    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {folder / 'passwd'}\n"
                    f"persistence false\nuser {getpass.getuser()}\n", encoding="utf-8")
    proc = subprocess.Popen([tool, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        give_up = time.monotonic() + 10
        while True:
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > give_up:
                raise SystemExit("bench: mosquitto did not start")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def daemon(folder: Path, port: int | None) -> Iterator[Running]:
    extra = ""
    if port is not None:
        secret = folder / "mqtt-password"
        secret.write_text(PASSWORD, encoding="utf-8")
        secret.chmod(0o600)
        extra = (f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\nusername = "{USER}"\npassword_file = "{secret}"\n'
                 'name = "Bench"\n')
    with fake_voice_daemon(folder, extra) as running:
        yield running


class Watcher:
    """Home Assistant's side: a paho client that notes when each state value arrives."""

    def __init__(self, port: int, base: str) -> None:
        from paho.mqtt import client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.base = base
        self.state: str | None = None
        self.changed = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.username_pw_set(USER, PASSWORD)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"{base}/state", qos=1)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self.changed:
            self.state = bytes(message.payload).decode()
            self.changed.notify_all()

    def press(self, key: str, payload: str, then: str, timeout: float = 30.0) -> float:
        """Publish ``payload`` on ``key``'s command topic; seconds until the state is ``then``."""
        with self.changed:
            began = time.perf_counter()
            self.client.publish(f"{self.base}/{key}/set", payload, qos=1)
            if not self.changed.wait_for(lambda: self.state == then, timeout):
                raise SystemExit(f"bench: the state did not become {then!r} within {timeout} s")
            return time.perf_counter() - began

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _latency(running: Running, port: int, cycles: int) -> dict[str, Any]:
    device = (Path(running.env["XDG_DATA_HOME"]) / "voiceguide" / "device-id").read_text().strip()
    watcher = Watcher(port, f"voiceguide/{device}")
    try:
        watcher.client.publish(f"{watcher.base}/session/set", "Coherent breathing, 10 min", qos=1)
        time.sleep(1.0)
        start = watcher.press("start", "PRESS", "playing", timeout=120)
        running.wait_for("playing on")
        time.sleep(2.0)
        pauses, resumes = [], []
        for _ in range(cycles):
            pauses.append(watcher.press("pause", "PRESS", "paused"))
            time.sleep(0.5)
            resumes.append(watcher.press("pause", "PRESS", "playing"))
            time.sleep(0.5)
        watcher.press("stop", "PRESS", "idle")
    finally:
        watcher.close()
    running.wait_for("stopped coherent-10")
    time.sleep(1.0)
    dry = [int(m[1]) for line in running.log if (m := re.search(r"ran dry (\d+) time", line))]
    both = sorted(pauses + resumes)
    return {"start_to_playing_s": round(start, 3), "commands": len(both),
            "median_ms": round(1000 * statistics.median(both), 1),
            "p95_ms": round(1000 * both[int(0.95 * (len(both) - 1))], 1), "max_ms": round(1000 * both[-1], 1),
            "underruns": sum(dry)}


def _baseline(running: Running, cycles: int) -> dict[str, Any]:
    """The same pauses and resumes through ``ctl`` without MQTT: underruns the machine's load causes anyway."""
    running.ctl("start", "coherent-10")
    running.wait_for("playing on")
    time.sleep(2.0)
    for _ in range(cycles):
        running.ctl("pause")
        time.sleep(0.5)
        running.ctl("pause")
        time.sleep(0.5)
    running.ctl("stop")
    running.wait_for("stopped coherent-10")
    time.sleep(1.0)
    dry = [int(m[1]) for line in running.log if (m := re.search(r"ran dry (\d+) time", line))]
    return {"underruns": sum(dry)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.mqtt", description=__doc__)
    p.add_argument("--cycles", type=int, default=20, help="pause/resume pairs to time")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)
    from .onsets import private_sink

    result: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp, private_sink(f"vg_mqtt_bench_{os.getpid()}"):
        folder = Path(tmp)
        (folder / "broker").mkdir()
        with broker(folder / "broker") as port:
            with daemon(folder, None) as plain:
                result["without_mqtt"] = idle(plain, children=False)
                result["baseline_ctl"] = _baseline(plain, args.cycles)
            with daemon(folder, port) as running:
                running.wait_for("MQTT: connecting")
                result["with_mqtt"] = idle(running, children=False)
                result["latency"] = _latency(running, port, args.cycles)
    result["added_rss_mb"] = round(result["with_mqtt"]["rss_mb"] - result["without_mqtt"]["rss_mb"], 1)
    result["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0 if result["latency"]["underruns"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

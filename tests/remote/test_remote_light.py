"""The phone remote's process loads no sound code: importing it, reading every bundled session (as its session
list does) and checking an uploaded script import no numpy, soundfile or engine, so the process costs what a
small web server costs (docs/benchmarks.md, "the remote in its own process")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEAVY = ("numpy", "soundfile", "soxr", "sounddevice", "voiceguide.seams", "voiceguide.sound.sounds",
         "voiceguide.sound.ambient", "voiceguide.engine")
"""Module names (and their submodules) the remote's process must not load."""


def test_the_remote_process_modules_import_no_numpy() -> None:
    done = subprocess.run([sys.executable, "-I", "-X", "importtime", "-m", "voiceguide.remote.process", "--help"],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and "--socket" in done.stdout
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"voiceguide.remote.server", "voiceguide.daemon.config_read", "voiceguide.script.parse"} <= modules
    assert sorted(m for m in modules if m.startswith(HEAVY)) == []


def test_reading_sessions_and_checking_an_upload_import_no_numpy(tmp_path: Path) -> None:
    code = f"""
import sys
import voiceguide.remote.process
from voiceguide.remote import catalog
from voiceguide.script import library, parse
loaded = [parse.load(entry.path) for entry in library.entries() if entry.bundled]
assert any(s.ambient for s in loaded) and any(type(step.action).__name__ == "Chime" for s in loaded for step in s.steps)
items = catalog.items()
from voiceguide.daemon.config_read import loads_config
config = loads_config('[speech]\\ntts = "fake"\\nrecognizer = "fake"\\n[remote]\\nport = 8765\\n', name="config.toml")
assert config.remote is not None
import pkgutil, importlib, voiceguide.remote
for module in pkgutil.iter_modules(voiceguide.remote.__path__):
    importlib.import_module("voiceguide.remote." + module.name)
raw = open(library.find("box"), "rb").read()
checked = catalog.check_and_save(raw, "my-box", folder=__import__("pathlib").Path({str(tmp_path)!r}))
print(len(loaded), len(items), checked.problems == () and checked.saved is not None)
print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    counts, heavy = done.stdout.splitlines()
    sessions, items, saved = counts.split()
    assert int(sessions) >= 50 and int(items) >= 50 and saved == "True"
    assert heavy == "[]"


def test_the_running_remote_serves_its_pages_without_numpy(tmp_path: Path) -> None:
    pytest.importorskip("httpx")
    import httpx

    from voiceguide.remote.devices import Devices
    from voiceguide.remote.guard import csrf_for

    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_STATE_HOME=str(tmp_path / "state"))
    token = Devices(tmp_path / "data" / "voiceguide" / "remote").add_token("test")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "config" / "voiceguide" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[speech]\ntts = "fake"\n[remote]\nlisten = "127.0.0.1"\nport = {port}\n', encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-m", "voiceguide.remote.process", "--config", str(config),
                              "--socket", str(tmp_path / "no-daemon.sock")], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, cwd=Path(__file__).resolve().parents[2])
    try:
        # a generous timeout: the remote runs at nice 10 and yields its core to anything else that is busy
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"vg_remote": token}, timeout=60) as client:
            for _ in range(600):  # until it listens (the interpreter and Starlette take about a second)
                try:
                    client.get("/static/remote.css")
                    break
                except httpx.TransportError:
                    assert child.poll() is None, child.stderr.read() if child.stderr else ""
                    time.sleep(0.1)
            pages = ("/", "/api/status", "/journal", "/mood?by=day", "/schedule", "/static/remote.css")
            assert [client.get(page).status_code for page in pages] == [200] * len(pages)
            upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                       "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
            assert client.get("/", headers=upgrade).status_code == 200  # no WebSocket server: a plain page
            script = (Path(__file__).resolve().parents[2] / "scripts" / "box.toml").read_text(encoding="utf-8")
            upload = client.post(f"/sessions?csrf={csrf_for(token)}", data={"name": "my-box", "text": script},
                                 headers={"Origin": f"http://127.0.0.1:{port}"}, follow_redirects=False)
            assert upload.status_code == 303, upload.text  # checked (like validate) and saved
        assert (tmp_path / "config" / "voiceguide" / "scripts" / "my-box.toml").is_file()
        maps = Path(f"/proc/{child.pid}/maps").read_text()
        assert "python" in maps  # the child's own map was read
        assert "numpy" not in maps and "soundfile" not in maps and "libsndfile" not in maps
    finally:
        child.terminate()
        child.communicate(timeout=10)

"""Issue 18's pairing attacks against a real ``voiceguide daemon`` (a subprocess, no audio needed while idle)
serving the remote over HTTPS on loopback with the certificate it made for itself. Two clients are told apart
by their loopback source address (127.0.0.1 guesses, the owner's phone is 127.0.0.2).

- a sniffed pairing URL carries no code: everything ``voiceguide remote pair`` prints or draws;
- the fingerprint it prints is the one of the certificate the daemon serves (and logs);
- a fresh code still pairs from the owner's phone after another client's wrong codes;
- the cookie is ``__Host-vg_remote``, Secure, and opens the API of the real daemon.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("cryptography")

REPO = Path(__file__).resolve().parents[2]
OWNER = "127.0.0.2"
"""The owner's phone: another loopback address (Linux routes all of 127.0.0.0/8 to lo)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Daemon:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc = subprocess.Popen([sys.executable, "-m", "voiceguide", "daemon"], env=env, text=True, cwd=REPO,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log: list[str] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.log.append(line)
                self._seen.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> str:
        with self._seen:
            if not self._seen.wait_for(lambda: any(text in line for line in self.log), timeout):
                pytest.fail(f"the daemon did not log {text!r} within {timeout} s:\n{''.join(self.log)}")
            return next(line for line in self.log if text in line)

    def voiceguide(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "voiceguide", *args], env=self.env, text=True, cwd=REPO,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[_Daemon, int]]:
    port = _free_port()
    home = tmp_path / "home"
    config = home / "config" / "voiceguide" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[speech]\ntts = "fake"\n\n[remote]\nlisten = "127.0.0.1"\nport = {port}\nhttps = true\n',
                      encoding="utf-8")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"), XDG_RUNTIME_DIR=str(runtime))
    d = _Daemon(env)
    try:
        d.wait_for("ready")
        yield d, port
    finally:
        d.proc.kill()
        d.proc.wait()


def _client(context: ssl.SSLContext, port: int, source: str) -> httpx.Client:
    return httpx.Client(base_url=f"https://127.0.0.1:{port}", timeout=30,
                        transport=httpx.HTTPTransport(verify=context, local_address=source))


def _try(client: httpx.Client, port: int, code: str) -> httpx.Response:
    pre = re.search(r'action="/pair\?csrf=([^"]+)"', client.get("/pair").text)
    assert pre is not None
    return client.post(f"/pair?csrf={pre[1]}", data={"code": code, "name": "owner's phone"},
                       headers={"Origin": f"https://127.0.0.1:{port}"})


def test_pairing_attacks_against_a_real_daemon(daemon: tuple[_Daemon, int]) -> None:
    d, port = daemon
    served = d.wait_for("phone remote on https://")
    paired = d.voiceguide("remote", "pair")
    assert paired.returncode == 0, paired.stderr
    out = paired.stdout
    code = re.search(r"pairing code: (\d{6})", out)
    printed = re.search(r"certificate SHA-256: ([0-9A-F:]{95})", out)
    assert code is not None and printed is not None, out

    # what a watcher could see: the printed address (and the QR code drawn from it) names no code
    assert re.findall(r"\w+://\S+", out) == [f"https://127.0.0.1:{port}/pair"]
    assert code[1] not in out.replace(f"pairing code: {code[1]}", "")

    # the fingerprint printed is the certificate served, and the one the daemon logged
    der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", port)))
    assert printed[1] == ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert printed[1] in served

    cert = Path(d.env["XDG_DATA_HOME"]) / "voiceguide" / "remote" / "tls-cert.pem"
    context = ssl.create_default_context(cafile=str(cert))  # trusts exactly this certificate, name checked
    with _client(context, port, "127.0.0.1") as attacker, _client(context, port, OWNER) as owner:
        statuses = [_try(attacker, port, f"{(int(code[1]) + 1 + n) % 1000000:06d}").status_code for n in range(8)]
        assert statuses[:4] == [400] * 4 and set(statuses[4:]) == {429}, statuses
        assert _try(attacker, port, code[1]).status_code == 429, "the guesser stays refused, right code or not"
        fresh = re.search(r"pairing code: (\d{6})", d.voiceguide("remote", "pair", "--no-qr").stdout)
        assert fresh is not None
        reply = _try(owner, port, fresh[1])
        assert reply.status_code == 303, reply.text
        cookie = reply.headers["set-cookie"]
        assert cookie.startswith("__Host-vg_remote=") and "Secure" in cookie and "HttpOnly" in cookie
        status = owner.get("/api/status")
        assert status.status_code == 200 and status.json()["state"] == "idle", "the real daemon answers"
        assert attacker.get("/api/status").status_code == 401
    assert "owner's phone" in d.voiceguide("remote", "devices").stdout

"""``voiceguide remote pair | devices | revoke | token`` through main(argv), and TLS from ``[remote]``."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from voiceguide.cli.main import main
from voiceguide.daemon.config_read import load_config
from voiceguide.remote.devices import Devices


def test_pair_prints_a_code_that_pairs_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remote", "pair", "--no-qr"]) == 0
    code = re.search(r"pairing code: (\d{6})", capsys.readouterr().out)
    assert code is not None
    devices = Devices()
    assert devices.redeem(code[1], "phone") is not None
    assert devices.redeem(code[1], "phone") is None


def test_pair_draws_a_qr_code_with_the_page_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[remote]\nlisten = "192.168.1.20"\n')
    assert main(["remote", "pair", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "page: https://192.168.1.20:8470/pair" in out, "HTTPS by default on a LAN address"
    assert re.search(r"certificate SHA-256: ([0-9A-F]{2}:){31}[0-9A-F]{2}\n", out)
    assert len([line for line in out.splitlines() if "█" in line or "▀" in line]) > 10, "a QR code in the terminal"


def test_devices_and_revoke(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remote", "devices"]) == 0
    assert "no paired devices" in capsys.readouterr().out
    devices = Devices()
    token = devices.add_token("kitchen\x1b[31m tablet")
    assert main(["remote", "devices"]) == 0
    listed = capsys.readouterr().out
    assert "kitchen" in listed and "\x1b" not in listed, "control characters never reach the terminal"
    device = devices.list()[0]
    assert main(["remote", "revoke", device.id]) == 0
    assert devices.find(token) is None
    assert main(["remote", "revoke", "nosuch"]) == 1
    assert "no paired device" in capsys.readouterr().err


def test_token_is_printed_once_and_works(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remote", "token", "home assistant"]) == 0
    token = capsys.readouterr().out.strip()
    assert Devices().find(token) is not None and len(token) >= 40


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_tls_serves_https_with_a_secure_cookie(tmp_path: Path) -> None:
    from voiceguide.remote.server import RemoteServer

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(f'[remote]\nport = {port}\ncertificate = "cert.pem"\nkey = "key.pem"\n')
    server = RemoteServer(load_config(config), tmp_path / "ctl.sock")
    server.start(lambda event: None)
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        context.check_hostname = False
        reply = httpx.get(f"https://127.0.0.1:{port}/pair", verify=context, timeout=10)
        assert reply.status_code == 200
        assert "Secure" in reply.headers["set-cookie"]
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/pair", timeout=5)
    finally:
        server.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_an_own_certificates_fingerprint_and_end_are_read_like_openssl_does(tmp_path: Path) -> None:
    from voiceguide.remote import cert

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
                    "/CN=voiceguide", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    said = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "cert.pem"), "-noout", "-fingerprint",
                           "-sha256", "-enddate"], check=True, capture_output=True, text=True).stdout
    own = cert.own(tmp_path / "cert.pem", tmp_path / "key.pem")
    assert f"={own.fingerprint}\n" in said
    end = cert.not_after(cert.first_der((tmp_path / "cert.pem").read_bytes()))
    assert f"notAfter={end:%b} {end.day:>2} {end:%H:%M:%S %Y} GMT" in said, said

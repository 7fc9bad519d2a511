"""Pairing over HTTPS in a real browser (Debian's Chromium driven by Playwright) at a phone's size, against the
real remote server serving the certificate the device made for itself: the browser is told to accept exactly
that certificate (its public key's SHA-256, as a person would after checking the fingerprint), the page
explains the warning and shows the same fingerprint as ``voiceguide remote pair``, the typed code pairs, and
the cookie is ``__Host-`` Secure HttpOnly.

The daemon is stood in for by a control socket that answers like an idle daemon: the web side is what is
tested here (tests/audio/test_remote_browser.py drives a real daemon over loopback HTTP).
``VOICEGUIDE_SCREENSHOTS=docs`` also writes the screenshots into docs/.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cryptography")

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from voiceguide.cli.main import main
from voiceguide.daemon.config_read import load_config
from voiceguide.daemon.ctl_socket import ControlServer
from voiceguide.daemon.events import Event
from voiceguide.remote.devices import remote_dir
from voiceguide.remote.server import RemoteServer

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _idle_daemon(event: Event) -> None:
    """Answers every ctl request like an idle daemon."""
    reply = getattr(event, "reply", None)
    if reply is not None:
        reply({"ok": True, "state": "idle", "volume": 0.8})


@pytest.fixture
def sync_api() -> Any:
    api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but {CHROMIUM} is missing (apt-get install chromium; tools/test does it)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return api


@pytest.fixture
def https_remote(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The remote on loopback with HTTPS turned on, its control socket answered by a stand-in daemon."""
    port = _free_port()
    config = tmp_path / "config.toml"
    config.write_text(f'[remote]\nlisten = "127.0.0.1"\nport = {port}\nhttps = true\n', encoding="utf-8")
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    control = ControlServer(run / "ctl.sock")
    control.start(_idle_daemon)
    server = RemoteServer(load_config(config), run / "ctl.sock", folder=remote_dir())
    server.start(lambda event: None)
    try:
        yield port, config
    finally:
        server.close()
        control.close()


def _spki_hash(pem: Path) -> str:
    """What Chromium's --ignore-certificate-errors-spki-list takes: base64 of the public key's SHA-256."""
    key = x509.load_pem_x509_certificate(pem.read_bytes()).public_key()
    return base64.b64encode(hashlib.sha256(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
                            .digest()).decode()


def _shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"remote-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("VOICEGUIDE_SCREENSHOTS") == "docs":
        shutil.copy(path, REPO / "docs" / path.name)
    return path


def test_pairing_over_https_in_chromium(https_remote: tuple[int, Path], sync_api: Any, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    port, config = https_remote
    assert main(["remote", "pair", "--no-qr", "--config", str(config)]) == 0
    printed = capsys.readouterr().out
    code = re.search(r"pairing code: (\d{6})", printed)
    fingerprint = re.search(r"certificate SHA-256: ([0-9A-F:]{95})", printed)
    assert code is not None and fingerprint is not None, printed
    base = f"https://127.0.0.1:{port}"
    assert f"page: {base}/pair" in printed
    certificate = remote_dir() / "tls-cert.pem"
    with sync_api.sync_playwright() as p:
        untold = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            with pytest.raises(sync_api.Error, match="ERR_CERT"):
                untold.new_page().goto(base + "/pair")  # a browser that was not told: the warning
        finally:
            untold.close()
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", f"--ignore-certificate-errors-spki-list={_spki_hash(certificate)}"])
        try:
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            page = context.new_page()
            page.goto(base + "/")
            assert page.url == base + "/pair"
            assert page.evaluate("window.isSecureContext") is True
            explained = page.inner_text("#certificate")
            assert "not private" in explained and fingerprint[1] in explained, explained
            _shot(page, tmp_path, "pair-https")
            page.fill("input[name=code]", code[1])
            page.fill("input[name=name]", "bedside phone")
            page.click("button:has-text('Pair')")
            assert page.url == base + "/"
            cookies = {c["name"]: c for c in context.cookies()}
            assert set(cookies) == {"__Host-vg_remote"}, cookies
            cookie = cookies["__Host-vg_remote"]
            assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/" and cookie["sameSite"] == "Strict"
            page.goto(base + "/devices")
            listed = page.inner_text("main")
            assert "bedside phone · this phone" in listed and "Last used" in listed, listed
            _shot(page, tmp_path, "devices")
        finally:
            browser.close()

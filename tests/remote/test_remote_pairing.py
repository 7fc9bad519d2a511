"""Pairing that a watcher cannot steal and a guesser cannot block (issue 18, items 3 and 4): codes per client
and per code, no code in any URL, ``__Host-`` Secure cookies over HTTPS, tokens that expire unused, and when
each device was last used."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient

from tests.remote_helpers import CONFIG, FakeDaemon, make_remote, seed_journal
from voiceguide.cli.main import main
from voiceguide.daemon.config import Remote
from voiceguide.remote.attempts import Attempts, client_key
from voiceguide.remote.context import Context
from voiceguide.remote.devices import CODE_TRIES, IDLE_DAYS, Devices
from voiceguide.remote.guard import COOKIE
from voiceguide.remote.link import Link
from voiceguide.remote.site import create_app

DAY = 86400.0


def _pre(client: TestClient) -> str:
    found = re.search(r'action="/pair\?csrf=([^"]+)"', client.get("/pair").text)
    assert found is not None
    return found[1]


def _try(client: TestClient, code: str, origin: str = "http://testserver") -> Any:
    return client.post(f"/pair?csrf={_pre(client)}", data={"code": code, "name": "phone"},
                       headers={"Origin": origin}, follow_redirects=False)


def _wrong(code: str, n: int) -> str:
    return f"{(int(code) + 1 + n) % 1000000:06d}"


def _clients(tmp_path: Path, base: str = "http://testserver", clock: Any = None) -> tuple[Context, Any]:
    """The app, and a factory of test clients each from its own address."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    seed_journal(tmp_path / "journal").close()
    devices = Devices(tmp_path / "remote", clock=clock) if clock else Devices(tmp_path / "remote")
    ctx = Context(Remote(), config, tmp_path / "journal", Link(FakeDaemon()), devices, Attempts(), None,
                  doctor=lambda: [], names=("testserver",), fingerprint="AB:CD")
    app = create_app(ctx)

    def client(address: str) -> TestClient:
        return TestClient(app, base_url=base, client=(address, 50000))

    return ctx, client


def test_a_fresh_code_still_pairs_after_another_clients_wrong_codes(tmp_path: Path) -> None:
    """Lock-out: an attacker's wrong codes (until it is refused) must not stop the owner's phone."""
    ctx, client = _clients(tmp_path)
    attacker, owner = client("192.168.1.66"), client("192.168.1.20")
    code = ctx.devices.new_code()
    statuses = [_try(attacker, _wrong(code, n)).status_code for n in range(12)]
    assert statuses[:4] == [400] * 4 and set(statuses[4:]) == {429}, statuses
    fresh = ctx.devices.new_code()
    reply = _try(owner, fresh)
    assert reply.status_code == 303, reply.text
    assert owner.cookies.get(COOKIE) and COOKIE not in attacker.cookies
    # the attacker's address stays refused, even with a right code
    assert _try(attacker, ctx.devices.new_code()).status_code == 429


def test_a_code_dies_after_its_wrong_tries_from_many_clients(tmp_path: Path) -> None:
    """Many addresses together still get only CODE_TRIES guesses at one code."""
    ctx, client = _clients(tmp_path)
    code = ctx.devices.new_code()
    for n in range(CODE_TRIES):
        assert _try(client(f"10.0.0.{n + 1}"), _wrong(code, n)).status_code == 400
    reply = _try(client("10.0.1.1"), code)
    assert reply.status_code == 400 and "no longer valid" in reply.text
    assert not ctx.devices.pairing_file.exists()
    assert _try(client("10.0.1.2"), ctx.devices.new_code()).status_code == 303


def test_wrong_codes_are_counted_per_client_and_rest_only_for_a_while() -> None:
    now = [0.0]
    attempts = Attempts(clock=lambda: now[0], limit=5, window=900.0)
    for _ in range(5):
        attempts.wrong("192.168.1.66")
    assert attempts.locked("192.168.1.66") == pytest.approx(900.0)
    assert attempts.locked("192.168.1.20") == 0.0
    # one IPv6 machine can hold a whole /64: its addresses count together
    for n in range(5):
        attempts.wrong(f"2001:db8:0:1::{n + 1}")
    assert attempts.locked("2001:db8:0:1::ffff") > 0 and attempts.locked("2001:db8:0:2::1") == 0.0
    assert client_key("::ffff:192.168.1.66") == "192.168.1.66"
    now[0] = 901.0
    assert attempts.locked("192.168.1.66") == 0.0


def test_a_pairing_url_carries_no_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A watcher on the network sees URLs; whatever the CLI prints or draws as a QR code names no code."""
    import segno

    drawn: list[str] = []
    real = segno.make
    monkeypatch.setattr(segno, "make", lambda content, **kw: (drawn.append(str(content)), real(content, **kw))[1])
    config = tmp_path / "config.toml"
    config.write_text('[remote]\nlisten = "192.168.1.20"\n')
    assert main(["remote", "pair", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    code = re.search(r"pairing code: (\d{6})", out)
    assert code is not None
    assert drawn == ["https://192.168.1.20:8470/pair"], drawn
    urls = re.findall(r"\w+://\S+", out)
    assert urls == ["https://192.168.1.20:8470/pair"]
    assert all(code[1] not in u for u in urls + drawn)
    # the page takes no code from its address either (an old link or a guess cannot fill it in)
    (tmp_path / "app").mkdir()
    remote = make_remote(tmp_path / "app")
    try:
        page = remote.client.get(f"/pair?code={code[1]}").text
        assert code[1] not in page
        assert re.search(r'name="code"[^>]*value=', page) is None
    finally:
        remote.ctx.close()


def test_over_https_the_cookie_is_host_prefixed_and_secure(tmp_path: Path) -> None:
    ctx, client = _clients(tmp_path, base="https://testserver")
    phone = client("192.168.1.20")
    page = phone.get("/pair")
    pre_cookie = page.headers["set-cookie"]
    assert pre_cookie.startswith("__Host-vg_pair=") and "Secure" in pre_cookie and "Path=/" in pre_cookie
    assert "AB:CD" in page.text and "not private" in page.text, "the certificate is explained, with its fingerprint"
    reply = _try(phone, ctx.devices.new_code(), origin="https://testserver")
    assert reply.status_code == 303
    cookie = next(v for k, v in reply.headers.multi_items() if k == "set-cookie" and "vg_remote" in v)
    assert cookie.startswith(f"__Host-{COOKIE}=")
    assert all(part in cookie for part in ("Secure", "HttpOnly", "Path=/", "SameSite=strict"))
    assert "domain" not in cookie.lower()
    token = phone.cookies[f"__Host-{COOKIE}"]
    assert phone.get("/api/status").status_code == 200
    # the same token under the plain name is not taken over HTTPS
    other = client("192.168.1.21")
    other.cookies.set(COOKIE, token)
    assert other.get("/api/status").status_code == 401


def test_over_loopback_http_the_cookie_is_plain(tmp_path: Path) -> None:
    ctx, client = _clients(tmp_path)
    phone = client("127.0.0.1")
    page = phone.get("/pair")
    assert "not private" not in page.text
    assert _try(phone, ctx.devices.new_code()).status_code == 303
    assert phone.cookies.get(COOKIE) and "Secure" not in phone.cookies.jar.__repr__()


def test_a_token_unused_for_90_days_is_refused_and_forgotten(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    ctx, client = _clients(tmp_path, clock=lambda: now[0])
    phone = client("192.168.1.20")
    assert _try(phone, ctx.devices.new_code()).status_code == 303
    now[0] += (IDLE_DAYS - 1) * DAY
    assert phone.get("/api/status").status_code == 200, "used within 90 days: still paired"
    now[0] += (IDLE_DAYS - 1) * DAY
    assert phone.get("/api/status").status_code == 200, "each use starts the 90 days again"
    now[0] += IDLE_DAYS * DAY + 60
    assert phone.get("/api/status").status_code == 401
    assert phone.get("/", follow_redirects=False).headers["location"] == "/pair"
    assert ctx.devices.list() == [], "an expired device is forgotten"


def test_last_use_is_written_at_most_hourly(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    devices = Devices(tmp_path, clock=lambda: now[0])
    token = devices.add_token("script")
    stamp = devices.devices_file.stat().st_mtime_ns
    now[0] += 600
    device, written = devices.use(token)
    assert device is not None and not written and devices.devices_file.stat().st_mtime_ns == stamp
    now[0] += 3600
    device, written = devices.use(token)
    assert device is not None and written and device.idle_since() == pytest.approx(now[0], abs=1)


def test_the_device_list_shows_when_each_was_last_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = [1_796_000_000.0]  # 2026-11-30
    ctx, client = _clients(tmp_path, clock=lambda: now[0])
    ctx.devices.add_token("kitchen tablet")
    now[0] += 3 * DAY
    phone = client("192.168.1.20")
    assert _try(phone, ctx.devices.new_code()).status_code == 303
    page = phone.get("/devices")
    assert page.status_code == 200
    assert re.search(r"kitchen tablet.*?Last used 30 Nov 2026", page.text, re.S), page.text
    assert re.search(r"phone</b> · this phone.*?Last used 3 Dec 2026", page.text, re.S), page.text
    # forgetting another device from the page
    kitchen = next(d for d in ctx.devices.list() if d.name == "kitchen tablet")
    csrf = re.search(r"csrf=([0-9a-f]{32})", page.text)
    assert csrf is not None
    reply = phone.post(f"/devices/{kitchen.id}/forget?csrf={csrf[1]}", headers={"Origin": "http://testserver"},
                       follow_redirects=False)
    assert reply.status_code == 303 and [d.name for d in ctx.devices.list()] == ["phone"]
    # but not this phone itself, nor all at once, by a tap
    me = ctx.devices.list()[0]
    for target in (me.id, "all"):
        phone.post(f"/devices/{target}/forget?csrf={csrf[1]}", headers={"Origin": "http://testserver"})
    assert ctx.devices.list() == [me] and phone.get("/api/status").status_code == 200


def test_the_cli_device_list_shows_last_use(capsys: pytest.CaptureFixture[str]) -> None:
    devices = Devices()
    token = devices.add_token("home assistant")
    assert main(["remote", "devices"]) == 0
    assert re.search(r"home assistant  \(last used 20\d\d-\d\d-\d\dT", capsys.readouterr().out)
    assert devices.find(token) is not None


def test_on_every_address_the_page_is_the_outward_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """listen = "0.0.0.0": the printed page (and the certificate's names) use the address the phone reaches."""
    from cryptography import x509

    from voiceguide.remote import cert
    from voiceguide.remote.devices import remote_dir

    monkeypatch.setattr(cert, "outward_address", lambda: "192.168.1.33")
    config = tmp_path / "config.toml"
    config.write_text('[remote]\nlisten = "0.0.0.0"\nport = 9000\n')
    assert main(["remote", "pair", "--no-qr", "--config", str(config)]) == 0
    assert "page: https://192.168.1.33:9000/pair\n" in capsys.readouterr().out
    made = x509.load_pem_x509_certificate((remote_dir() / cert.CERT_FILE).read_bytes())
    alt = made.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "192.168.1.33" in {str(a) for a in alt.get_values_for_type(x509.IPAddress)}

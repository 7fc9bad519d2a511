"""The phone remote refuses everyone who has not paired, every forged request, and every path out."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from tests.remote_helpers import ORIGIN, make_remote
from voiceguide.journal.db import JOURNAL_FILE
from voiceguide.remote.devices import Devices, digest
from voiceguide.remote.guard import COOKIE


@pytest.fixture
def remote(tmp_path: Path):  # type: ignore[no-untyped-def]
    r = make_remote(tmp_path)
    yield r
    r.ctx.close()


PAGES = ["/", "/schedule", "/sessions", "/journal", "/journal/1", "/journal/1/audio", "/journal/export/json",
         "/mood", "/health"]


@pytest.mark.parametrize("path", PAGES)
def test_no_cookie_is_refused(remote, path: str) -> None:  # type: ignore[no-untyped-def]
    reply = remote.client.get(path, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/pair"
    assert "River" not in reply.text and "river" not in reply.text


def test_no_cookie_api_and_posts_are_401(remote) -> None:  # type: ignore[no-untyped-def]
    assert remote.client.get("/api/status").status_code == 401
    reply = remote.client.post("/now/stop?csrf=x", headers={"Origin": ORIGIN})
    assert reply.status_code == 401
    assert remote.daemon.sent == []


def test_a_made_up_cookie_is_refused(remote) -> None:  # type: ignore[no-untyped-def]
    remote.client.cookies.set(COOKIE, "not-a-token")
    assert remote.client.get("/api/status").status_code == 401


def test_pairing_gives_an_httponly_strict_cookie_and_stores_only_a_hash(remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = remote.ctx.devices.new_code()
    page = remote.client.get("/pair")
    pre = page.text.split('action="/pair?csrf=')[1].split('"')[0]
    reply = remote.client.post(f"/pair?csrf={pre}", data={"code": code, "name": "bedside"},
                               headers={"Origin": ORIGIN}, follow_redirects=False)
    assert reply.status_code == 303
    cookie = next(v for k, v in reply.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    token = remote.client.cookies[COOKIE]
    assert len(token) >= 40
    stored = (tmp_path / "remote" / "devices.json").read_text()
    assert token not in stored and digest(token) in stored and code not in stored
    for name in ("devices.json",):
        assert stat.S_IMODE((tmp_path / "remote" / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "remote").stat().st_mode) == 0o700
    assert remote.client.get("/api/status").json()["ok"] is True
    # the code was used up
    assert remote.ctx.devices.redeem(code, "again") is None


def test_an_expired_code_does_not_pair(tmp_path: Path) -> None:
    now = [1000.0]
    devices = Devices(tmp_path, clock=lambda: now[0])
    code = devices.new_code()
    now[0] += 601
    assert devices.redeem(code, "late") is None


def test_six_wrong_codes_pause_that_client_even_for_the_right_code(remote) -> None:  # type: ignore[no-untyped-def]
    code = remote.ctx.devices.new_code()
    pre = remote.client.get("/pair").text.split('action="/pair?csrf=')[1].split('"')[0]
    statuses = []
    for attempt in range(6):
        wrong = f"{(int(code) + 1 + attempt) % 1000000:06d}"
        reply = remote.client.post(f"/pair?csrf={pre}", data={"code": wrong}, headers={"Origin": ORIGIN})
        statuses.append(reply.status_code)
    assert statuses[:4] == [400] * 4 and statuses[4:] == [429, 429]
    reply = remote.client.post(f"/pair?csrf={pre}", data={"code": code}, headers={"Origin": ORIGIN},
                               follow_redirects=False)
    assert reply.status_code == 429 and COOKIE not in remote.client.cookies


def test_pairing_needs_its_own_csrf_and_origin(remote) -> None:  # type: ignore[no-untyped-def]
    code = remote.ctx.devices.new_code()
    remote.client.get("/pair")
    assert remote.client.post("/pair?csrf=wrong", data={"code": code}, headers={"Origin": ORIGIN}).status_code == 403
    pre = remote.client.get("/pair").text.split('action="/pair?csrf=')[1].split('"')[0]
    reply = remote.client.post(f"/pair?csrf={pre}", data={"code": code}, headers={"Origin": "http://evil.example"})
    assert reply.status_code == 403
    assert COOKIE not in remote.client.cookies


@pytest.mark.parametrize("how", ["missing", "wrong", "other-origin", "no-origin"])
def test_state_changes_need_csrf_and_origin(remote, how: str) -> None:  # type: ignore[no-untyped-def]
    remote.pair()
    good = remote.csrf()
    url = "/now/stop" if how == "missing" else f"/now/stop?csrf={'0' * 32 if how == 'wrong' else good}"
    headers = {"Origin": "http://evil.example"} if how == "other-origin" else {} if how == "no-origin" \
        else {"Origin": ORIGIN}
    sent = len(remote.daemon.sent)
    assert remote.client.post(url, headers=headers).status_code == 403
    assert remote.client.post("/api/control", json={"action": "stop"}, headers=headers).status_code == 403
    assert [m for m in remote.daemon.sent[sent:] if m["command"] == "stop"] == []
    assert remote.client.post(f"/now/stop?csrf={good}", headers={"Origin": ORIGIN},
                              follow_redirects=False).status_code == 303
    assert remote.daemon.sent[-1] == {"command": "stop"}


def test_a_revoked_token_is_refused(remote) -> None:  # type: ignore[no-untyped-def]
    remote.pair()
    assert remote.client.get("/api/status").status_code == 200
    device = remote.ctx.devices.list()[0]
    assert remote.ctx.devices.revoke(device.id) == device
    assert remote.client.get("/api/status").status_code == 401
    assert remote.client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("path", ["/static/../config.toml", "/static/%2e%2e/config.toml", "/static/..%2fapp.py",
                                  "/static/%2e%2e%2f%2e%2e%2fjournal/journal.sqlite3", "/static//etc/passwd",
                                  "/journal/export/..%2f..%2fconfig.toml", "/journal/export/sqlite3",
                                  "/journal/1/audio/../../journal.sqlite3", "/journal/..%2fjournal.sqlite3/audio"])
def test_path_traversal_is_404(remote, path: str) -> None:  # type: ignore[no-untyped-def]
    remote.pair()
    reply = remote.client.get(path, follow_redirects=False)
    assert reply.status_code == 404, (path, reply.status_code)
    assert "SQLite" not in reply.text and "[[schedule]]" not in reply.text and "root:" not in reply.text


def test_audio_outside_the_journal_folder_is_404(remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    remote.pair()
    assert remote.client.get("/journal/1/audio").status_code == 200  # the real recording plays
    secret = tmp_path / "secret.flac"
    secret.write_bytes(b"fLaC not yours")
    db = sqlite3.connect(tmp_path / "journal" / JOURNAL_FILE)
    for path in ("../secret.flac", str(secret), "audio/../../secret.flac", "/etc/passwd", "journal.sqlite3"):
        db.execute("UPDATE entries SET audio_path = ? WHERE id = 1", (path,))
        db.commit()
        reply = remote.client.get("/journal/1/audio")
        assert reply.status_code == 404, path
        assert b"not yours" not in reply.content
    db.close()


def test_security_headers_and_no_cors(remote) -> None:  # type: ignore[no-untyped-def]
    remote.pair()
    for reply in (remote.client.get("/"), remote.client.get("/pair"), remote.client.get("/static/remote.css"),
                  remote.client.get("/api/status", headers={"Origin": "http://evil.example"})):
        assert reply.headers["content-security-policy"].startswith("default-src 'self'")
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert not any(k.lower().startswith("access-control-") for k in reply.headers)
    preflight = remote.client.options("/api/control", headers={"Origin": "http://evil.example",
                                                                "Access-Control-Request-Method": "POST"})
    assert preflight.status_code in (401, 403, 405)
    assert "access-control-allow-origin" not in preflight.headers


XSS = '<script>alert(1)</script>'


def test_journal_text_is_escaped(remote) -> None:  # type: ignore[no-untyped-def]
    journal = remote.ctx.journal()
    entry = journal.add(f"Prompt {XSS}", transcript=f"I said {XSS}", session_title=f"Title {XSS}")
    remote.pair()
    for path in ("/journal", f"/journal/{entry}", f"/journal/{entry}/delete", f"/journal?q={XSS}"):
        text = remote.client.get(path).text
        assert XSS not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_uploaded_script_text_and_title_are_escaped(remote) -> None:  # type: ignore[no-untyped-def]
    remote.pair()
    broken = f'[session]\ntitle = "{XSS}"\n[[step]]\nsay = "{XSS}"\nbogus = 1\n'
    reply = remote.post("/sessions", {"name": "xss", "text": broken})
    assert reply.status_code == 400
    assert XSS not in reply.text and "&lt;script&gt;" in reply.text
    fine = f'[session]\ntitle = "{XSS}"\n[[step]]\nsay = "Hello."\n'
    assert remote.post("/sessions", {"name": "xss", "text": fine}).status_code == 303
    for path in ("/", "/sessions", "/schedule"):
        text = remote.client.get(path).text
        assert XSS not in text and "&lt;script&gt;" in text, path


def test_the_journal_can_be_turned_off(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, journal=False)
    remote.pair()
    for path in ("/journal", "/journal/1", "/journal/1/audio", "/journal/export/json", "/mood"):
        assert remote.client.get(path).status_code == 404, path
    assert remote.client.get("/api/mood").status_code == 404
    assert 'href="/journal"' not in remote.client.get("/").text


@pytest.mark.parametrize(("host", "known"), [("192.168.1.20:8470", True), ("[::1]:8470", True),
                                             ("localhost:8470", True), ("127.0.0.1", True),
                                             ("evil.example:8470", False), ("192.168.1.20.evil.example", False)])
def test_only_this_devices_names_are_served(remote, host: str, known: bool) -> None:  # type: ignore[no-untyped-def]
    """DNS rebinding: a page whose name was pointed at the device must not count as the remote's origin."""
    reply = remote.client.get("/pair", headers={"Host": host})
    assert (reply.status_code == 200) is known, (host, reply.status_code)
    if not known:
        assert reply.status_code == 421
        code = remote.ctx.devices.new_code()
        pre = remote.client.get("/pair").text.split('action="/pair?csrf=')[1].split('"')[0]
        forged = remote.client.post(f"/pair?csrf={pre}", data={"code": code},
                                    headers={"Host": host, "Origin": f"http://{host}"}, follow_redirects=False)
        assert forged.status_code == 421 and COOKIE not in remote.client.cookies

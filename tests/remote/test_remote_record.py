"""The Record page (a voice pack recorded from the phone) through Starlette's TestClient: a take made here as
the browser makes it (a 16-bit PCM WAV of real human speech) is checked and kept by the same code as
``voiceguide record``; a too quiet one, an oversized one, one for a line the session does not have and one
without the CSRF token or Origin are refused, and nothing of theirs reaches the pack."""

from __future__ import annotations

import importlib.util
import io
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("starlette")
pytest.importorskip("pyloudnorm")

from tests.remote_helpers import ORIGIN, make_remote
from voiceguide.backends import voice_pack
from voiceguide.remote import recording
from voiceguide.sound import sounds, takes

SESSION = "demo"


@pytest.fixture
def remote(tmp_path: Path):  # type: ignore[no-untyped-def]
    r = make_remote(tmp_path)
    r.pair()
    yield r
    r.ctx.close()


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """A LibriVox clip at 44.1 kHz (a phone's rate: the device resamples), a second of quiet room around it."""
    from tests.speech_data import librivox_or_skip

    clip = next(c for c in librivox_or_skip() if c.name.endswith("0880"))
    data, rate = sf.read(clip.path, dtype="float32")
    voice = sounds.resample(np.asarray(data, np.float32), int(rate), 44100) * 0.3
    room = np.random.default_rng(5).normal(0, 2e-4, 44100).astype(np.float32)
    return np.concatenate([room, voice, room]).astype(np.float32)


def wav(samples: np.ndarray, rate: int = 44100) -> bytes:
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def first_line(remote: Any, pack: str = "phone") -> tuple[str, str, str]:
    """(key, text, csrf) of the line the page offers next."""
    page = remote.client.get(f"/record?session={SESSION}&pack={pack}").text
    key = re.search(r'data-key="([0-9a-f]*)"', page)
    text = re.search(r'<blockquote id="line">([^<]*)</blockquote>', page)
    csrf = re.search(r'data-csrf="([0-9a-f]{32})"', page)
    assert key is not None and text is not None and csrf is not None, page
    return key[1], text[1], csrf[1]


def send(remote: Any, key: str, body: bytes, csrf: str | None, origin: str | None = ORIGIN, pack: str = "phone",
         anyway: bool = False) -> Any:
    query = f"session={SESSION}&pack={pack}&key={key}" + ("&anyway=1" if anyway else "")
    headers = {"Content-Type": "audio/wav"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    if origin is not None:
        headers["Origin"] = origin
    return remote.client.post(f"/record/take?{query}", content=body, headers=headers)


def test_the_page_shows_the_next_line_and_alone_may_use_the_microphone(remote: Any) -> None:
    page = remote.client.get("/record")
    assert page.status_code == 200 and 'href="/record"' in page.text and 'value="demo"' in page.text
    assert "microphone=(self)" in page.headers["permissions-policy"]
    assert "microphone=()" in remote.client.get("/").headers["permissions-policy"]
    key, text, _ = first_line(remote)
    assert key == voice_pack.line_key(text.replace("&#39;", "'").replace("&amp;", "&"))
    assert '<script src="/static/record.js"' in remote.client.get(f"/record?session={SESSION}").text
    assert remote.client.get("/static/record.js").status_code == 200


def test_a_take_is_kept_as_the_terminal_walk_keeps_it(remote: Any, speech: np.ndarray) -> None:
    key, _text, csrf = first_line(remote)
    reply = send(remote, key, wav(speech), csrf)
    assert reply.status_code == 200, reply.text
    assert reply.json()["kept"] is True
    pack = voice_pack.open_pack("phone")
    assert key in pack.lines
    path = pack.take_path(key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(pack.folder.stat().st_mode) == 0o700
    data, rate = sf.read(path, dtype="float32")
    assert rate == voice_pack.SAMPLE_RATE
    assert abs(takes.loudness(data, rate) - takes.TARGET_LUFS) < 1.0
    assert len(data) / rate < len(speech) / 44100 - 1.2, "the quiet second at each end was trimmed"
    next_key, _, _ = first_line(remote)
    assert next_key != key, "the page moves on to the next line (resume)"
    assert "1 of" in remote.client.get(f"/record?session={SESSION}&pack=phone").text


def test_a_too_quiet_take_is_refused_with_the_walks_message_and_can_be_kept_anyway(remote: Any,
                                                                                    speech: np.ndarray) -> None:
    key, _text, csrf = first_line(remote)
    quiet = wav(speech * 0.15)
    reply = send(remote, key, quiet, csrf)
    assert reply.status_code == 422
    body = reply.json()
    assert body["kept"] is False and body["redo"] is True and "very quiet" in body["message"], body
    assert body["anyway"] is True, "a take that was heard may be kept as it is"
    assert key not in voice_pack.open_pack("phone").lines
    kept = send(remote, key, quiet, csrf, anyway=True)
    assert kept.status_code == 200 and key in voice_pack.open_pack("phone").lines


def test_silence_is_never_kept(remote: Any) -> None:
    key, _text, csrf = first_line(remote)
    reply = send(remote, key, wav(np.zeros(44100 * 3, np.float32)), csrf, anyway=True)
    assert reply.status_code == 422 and "Nothing was heard" in reply.json()["message"]
    assert reply.json()["anyway"] is False
    assert key not in voice_pack.open_pack("phone").lines


def test_oversized_and_overlong_takes_are_refused(remote: Any) -> None:
    key, _text, csrf = first_line(remote)
    reply = send(remote, key, b"\0" * (recording.MAX_BYTES + 1), csrf)
    assert reply.status_code == 413 and "2 minutes" in reply.json()["message"]
    long_take = wav(np.zeros(8000 * 121, np.float32), 8000)  # small in bytes, yet longer than 2 minutes
    reply = send(remote, key, long_take, csrf)
    assert reply.status_code == 422 and "2 minutes" in reply.json()["message"], reply.text
    reply = send(remote, key, b"RIFF....not a wav", csrf)
    assert reply.status_code == 422 and "could not be read" in reply.json()["message"]
    assert voice_pack.open_pack("phone").lines == {}


def test_a_take_needs_the_csrf_token_and_the_origin(remote: Any, speech: np.ndarray) -> None:
    key, _text, csrf = first_line(remote)
    body = wav(speech)
    assert send(remote, key, body, None).status_code == 403
    assert send(remote, key, body, "0" * 32).status_code == 403
    assert send(remote, key, body, csrf, origin=None).status_code == 403
    assert send(remote, key, body, csrf, origin="http://evil.example").status_code == 403
    assert voice_pack.open_pack("phone").lines == {}


def test_only_the_sessions_own_lines_can_be_kept(remote: Any, speech: np.ndarray) -> None:
    _key, _text, csrf = first_line(remote)
    reply = send(remote, voice_pack.line_key("anything I like"), wav(speech), csrf)
    assert reply.status_code == 422 and "not one of this session's lines" in reply.json()["message"]
    bad = send(remote, "x", wav(speech), csrf, pack="../escape")
    assert bad.status_code == 422 and "cannot name a voice pack" in bad.json()["message"]
    assert voice_pack.open_pack("phone").lines == {}


def test_skip_moves_on_and_is_remembered(remote: Any) -> None:
    key, _text, _csrf = first_line(remote)
    reply = remote.post(f"/record/skip?session={SESSION}&pack=phone&key={key}")
    assert reply.status_code == 303 and "Skipped" in remote.client.get(reply.headers["location"]).text
    assert key in voice_pack.open_pack("phone").skipped
    assert first_line(remote)[0] != key


def test_without_the_record_extra_the_page_says_so_once(remote: Any, monkeypatch: pytest.MonkeyPatch,
                                                        speech: np.ndarray) -> None:
    key, _text, csrf = first_line(remote)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyloudnorm" else real(name, *a))
    page = remote.client.get(f"/record?session={SESSION}").text
    assert page.count("voiceguide[record]") == 1 and 'id="missing"' in page and 'id="record"' not in page
    reply = send(remote, key, wav(speech), csrf)
    assert reply.status_code == 422 and "voiceguide[record]" in reply.json()["message"]


HEAVY = ("pyloudnorm", "scipy", "soundfile", "soxr", "voiceguide.engine.pack_lines", "voiceguide.sound.takes",
         "voiceguide.backends.voice_pack")


def test_the_remote_loads_the_pack_modules_only_when_the_page_is_used_and_never_a_takes(tmp_path: Path) -> None:
    """In a fresh interpreter: nothing of the pack's at start; after the page and a take, only what listing
    the lines needs (the take is made ready in a child process)."""
    code = f"""
import sys
from pathlib import Path
from tests.remote_helpers import ORIGIN, make_remote
heavy = {HEAVY!r}
print(sorted(m for m in heavy if m in sys.modules))
r = make_remote(Path({str(tmp_path)!r})); r.pair()
page = r.client.get("/record?session=demo").text
import re
key, csrf = re.search('data-key="([0-9a-f]*)"', page)[1], re.search('data-csrf="([0-9a-f]{{32}})"', page)[1]
import io, wave
buffer = io.BytesIO()
with wave.open(buffer, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(bytes(64000))
wav = buffer.getvalue()
reply = r.client.post("/record/take?session=demo&key=" + key, content=wav,
                      headers={{"X-CSRF-Token": csrf, "Origin": ORIGIN, "Content-Type": "audio/wav"}})
print(reply.status_code, reply.json()["message"])
print(sorted(m for m in heavy if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    before, reply, after = out.stdout.strip().splitlines()
    assert before == "[]"
    assert reply.startswith("422 Nothing was heard"), reply
    loaded = eval(after)
    assert "voiceguide.engine.pack_lines" in loaded, "the page listed the session's lines"
    assert not {"pyloudnorm", "scipy"} & set(loaded), loaded


def test_a_wrong_session_or_pack_name_is_said_on_the_page(remote: Any) -> None:
    page = remote.client.get("/record?session=no-such-session").text
    assert 'role="alert"' in page and "no-such-session" in page and 'id="record"' not in page
    page = remote.client.get(f"/record?session={SESSION}&pack=Bad Name!").text
    assert "cannot name a voice pack" in page and 'id="record"' not in page

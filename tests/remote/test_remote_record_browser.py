"""Recording a voice-pack line from a phone-sized Chromium over HTTPS, against the real remote server with the
certificate the device made for itself: the microphone is Chromium's fake device playing a real human speech
clip (LibriVox, tests/speech_clips.py), the page records it, plays it back, keeps it, and the pack on disk then
holds the take, trimmed and at the synthetic voices' loudness.

The test waits for the page to have *received* enough audio (the page counts it), never for wall-clock time, so
a busy machine makes it slower, not wrong. ``VOICEGUIDE_SCREENSHOTS=docs`` also writes the screenshot to docs/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("pyloudnorm")
pytest.importorskip("cryptography")

from tests.remote.test_remote_https_browser import CHROMIUM, PHONE, _shot, _spki_hash, https_remote, sync_api
from voiceguide.backends import voice_pack
from voiceguide.cli.main import main
from voiceguide.remote.devices import remote_dir
from voiceguide.sound import sounds, takes

__all__ = ["https_remote", "sync_api"]  # the fixtures, shared with the pairing test

RATE = 48000


@pytest.fixture
def microphone(tmp_path: Path) -> tuple[Path, float]:
    """A WAV for Chromium's fake microphone: a LibriVox clip with a second of quiet room before and after,
    and its length in seconds."""
    from tests.speech_data import librivox_or_skip

    clip = next(c for c in librivox_or_skip() if c.name.endswith("0880"))
    data, rate = sf.read(clip.path, dtype="float32")
    voice = sounds.resample(np.asarray(data, np.float32), int(rate), RATE) * 0.3
    room = np.random.default_rng(9).normal(0, 3e-4, RATE).astype(np.float32)
    samples = np.concatenate([room, voice, room])
    path = tmp_path / "microphone.wav"
    sf.write(path, samples, RATE, subtype="PCM_16")
    return path, len(samples) / RATE


def test_record_a_line_from_the_phone_over_https(https_remote: tuple[int, Path], sync_api: Any,
                                                 microphone: tuple[Path, float], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    port, config = https_remote
    clip, seconds = microphone
    assert main(["remote", "pair", "--no-qr", "--config", str(config)]) == 0
    code = re.search(r"pairing code: (\d{6})", capsys.readouterr().out)
    assert code is not None
    base = f"https://127.0.0.1:{port}"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={clip}",
            f"--ignore-certificate-errors-spki-list={_spki_hash(remote_dir() / 'tls-cert.pem')}"])
        try:
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/pair")
            page.fill("input[name=code]", code[1])
            page.fill("input[name=name]", "phone")
            page.click("button:has-text('Pair')")
            page.click("nav a:has-text('Record')")
            page.select_option("select[name=session]", "demo")
            page.fill("input[name=pack]", "phone")
            page.click("button:has-text('Show the next line')")
            line = page.inner_text("#line")
            key = page.get_attribute("#record", "data-key")
            assert key == voice_pack.line_key(line), (line, key)
            assert page.is_visible("#rec-start") and not page.is_visible("#rec-keep")
            page.click("#rec-start")  # a first take, redone: the second records on the same audio context
            page.wait_for_function("() => Number(document.getElementById('record').dataset.seconds) >= 1")
            page.click("#rec-stop")
            page.click("#rec-redo")
            assert page.is_visible("#rec-start") and not page.is_visible("#rec-keep")
            page.click("#rec-start")
            # one whole pass of the clip and a little more, counted in audio the page received
            page.wait_for_function("(enough) => Number(document.getElementById('record').dataset.seconds) >= enough",
                                   arg=seconds + 0.5, timeout=120_000)
            page.click("#rec-stop")
            assert "Recorded" in page.inner_text("#rec-status")
            visible = [b for b in ("start", "stop", "play", "keep", "anyway", "redo") if page.is_visible(f"#rec-{b}")]
            assert visible == ["play", "keep", "redo"], visible
            page.locator("#line").scroll_into_view_if_needed()
            page.click("#rec-play")
            _shot(page, tmp_path, "record")
            page.click("#rec-keep")
            page.wait_for_url(re.compile(r".*/record\?.*said=Kept.*"), timeout=60_000)
            assert "Kept" in page.inner_text("p.said")
            assert page.inner_text("#line") != line, "the page moved on to the next line"
            assert errors == []
        finally:
            browser.close()
    pack = voice_pack.open_pack("phone")
    assert list(pack.lines) == [key]
    data, rate = sf.read(pack.take_path(key), dtype="float32")
    assert abs(takes.loudness(data, rate) - takes.TARGET_LUFS) < 1.0
    assert len(data) / rate < seconds + 0.5, "the quiet room at the ends was trimmed"
    levels = takes.frame_levels(data, rate)
    assert float(np.percentile(levels, 90)) > -35.0, "the take holds the voice, not the room"

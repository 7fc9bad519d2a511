"""pyttsx3 speech: the system's voices (SAPI5 on Windows, NSSpeechSynthesizer on macOS; espeak-ng on Linux).

Where espeak-ng is installed the default backend is ``espeak`` (:mod:`.espeak_tts`) instead: inside one
process espeak-ng renders the same sentence to a slightly different length each time (measured through
pyttsx3: 115292, 115841, 115852 ... samples), and a crash of it would take our process down. pyttsx3 stays
for the platforms without espeak-ng, and for whoever asks for it with ``--tts pyttsx3``.

pyttsx3 is not thread-safe and caches engines weakly, so one engine lives on one dedicated thread
for the life of this object, holding a strong reference. Each line is rendered with
``save_to_file`` + ``runAndWait`` to a temporary WAV that we read ourselves: pyttsx3 is never
allowed to play audio (on Linux it shells out to ``aplay`` and cannot choose a device).
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide.errors import BackendError, SpeechError
from voiceguide.seams import Clip, SpeechParams, Voice

log = logging.getLogger(__name__)

MIN_CLIP_SECONDS = 0.1
"""Anything shorter is a failed synthesis, never cached."""
FINISH_TIMEOUT = 30.0
CLOSE_TIMEOUT = 5.0
"""Longest :meth:`Pyttsx3Speaker.close` waits for the engine thread to finish its line and end."""
IDLE_TIMEOUT = 2.0
"""Longest wait for espeak-ng to finish queued work before the next line."""
RETRIES = 4
"""Attempts per line before giving up (an empty file) or keeping the longest render (no two agree)."""
AGREE = 0.03
"""Two renders of a line whose lengths differ by at most this share of it agree."""
NORMAL_PITCH = 50
"""espeak-ng's base pitch for every voice (0..100); used when a line asks for none."""


class Pyttsx3Speaker:
    """Renders speech to PCM on a single engine thread."""

    name = "pyttsx3"

    def __init__(self) -> None:
        try:
            import pyttsx3  # noqa: F401  (fail early with a clear message)
        except ImportError as exc:
            raise BackendError("pyttsx3 is not installed: pip install pyttsx3") from exc
        self._jobs: queue.Queue[tuple[str, Any, Future[Any]] | None] = queue.Queue()
        self._done = threading.Condition()
        self._finished_count = 0
        self._count = 0
        self._closed = False
        self._tmp = Path(tempfile.mkdtemp(prefix="voiceguide-tts-"))
        self._thread = threading.Thread(target=self._run, name="voiceguide-tts", daemon=True)
        self._thread.start()
        try:
            self._voices: list[Voice] = self._call("voices", None)
        except BaseException:  # no engine: leave no thread or folder behind
            self.close()
            raise

    # --- the engine thread -------------------------------------------------
    def _run(self) -> None:
        import pyttsx3

        engine: Any = None
        while True:
            job = self._jobs.get()
            if job is None:  # closed: returning drops the one strong reference to the engine
                return
            kind, arg, future = job
            try:
                if engine is None:
                    engine = pyttsx3.init()  # kept in this frame: a strong reference
                    engine.connect("finished-utterance", self._on_finished)
                future.set_result(self._do(engine, kind, arg))
            except Exception as exc:  # reported to the caller, mapped there
                future.set_exception(exc)

    def _do(self, engine: Any, kind: str, arg: Any) -> Any:
        if kind == "voices":
            return [Voice(str(v.id), str(v.name), tuple(_langs(v.languages)))
                    for v in engine.getProperty("voices")]
        text, voice_id, params = arg
        wanted = {"voice": voice_id, "rate": params.rate, "volume": params.volume,
                  "pitch": NORMAL_PITCH if params.pitch is None else params.pitch}
        # espeak-ng through pyttsx3 occasionally loses a setting, hands back an empty file or a clip cut
        # short (see _render and _wait_idle). Every render sets everything again, and a line is kept when
        # two renders agree in length within AGREE (they are never equal: espeak-ng's state carries over
        # from line to line, about 0.5 % here, while a cut clip is a third short); failing that, the
        # longest render is kept.
        renders: list[Clip] = []
        for _ in range(RETRIES):
            for name, value in wanted.items():
                with contextlib.redirect_stdout(io.StringIO()):  # SAPI5 and NSSS print that they have no pitch
                    engine.setProperty(name, value)
            clip = self._render_checked(engine, text)
            if any(abs(len(c.samples) - len(clip.samples)) <= AGREE * len(clip.samples) for c in renders):
                return clip
            renders.append(clip)
        log.info("renders of %r disagreed in length; keeping the longest", text)
        return max(renders, key=lambda c: len(c.samples))

    def _on_finished(self, name: str | None, completed: bool) -> None:
        # pyttsx3 does not say reliably which utterance finished (it reports the last queued command's
        # name); with espeak-ng idle before each line there is one notice per line. A cancelled one
        # (completed=False) is not a finished line.
        if not completed:
            return
        with self._done:
            self._finished_count += 1
            self._done.notify_all()

    def _render(self, engine: Any, text: str) -> Clip:
        self._count += 1
        path = self._tmp / f"line-{self._count}.wav"  # a fresh name: a late write can never be mistaken
        # runAndWait ends with the driver's stop(), which cancels whatever espeak-ng still has queued
        # -- including just-set rate or voice changes, which then reach only the next line. Let
        # espeak-ng's queue empty first.
        self._wait_idle(engine)
        with self._done:
            self._finished_count = 0  # expect exactly one notice for this line
        with contextlib.redirect_stdout(io.StringIO()):  # the espeak driver prints "Audio saved to ..."
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            # espeak-ng synthesises on its own thread and runAndWait can return before the WAV is
            # written (seen under load): wait for this utterance's end-of-utterance notice.
            with self._done:
                if not self._done.wait_for(lambda: self._finished_count >= 1, FINISH_TIMEOUT):
                    raise SpeechError(f"the speech engine did not finish within {FINISH_TIMEOUT:g} s")
        self._wait_idle(engine)
        try:
            return _read(path)
        finally:
            path.unlink(missing_ok=True)

    @staticmethod
    def _wait_idle(engine: Any) -> None:
        """With the espeak driver, block until espeak-ng has no queued work (at most ``IDLE_TIMEOUT``)."""
        if getattr(engine, "driver_name", "") != "espeak":
            return
        from pyttsx3.drivers import _espeak

        deadline = time.monotonic() + IDLE_TIMEOUT
        while _espeak.IsPlaying() and time.monotonic() < deadline:
            time.sleep(0.001)  # synthesis only: this never runs while a session plays

    def _render_checked(self, engine: Any, text: str) -> Clip:
        """Render ``text``, retrying when the engine hands back an empty file (seen now and then)."""
        for attempt in range(RETRIES):
            try:
                return self._render(engine, text)
            except SpeechError as exc:
                if attempt == RETRIES - 1:
                    raise
                log.debug("retrying %r: %s", text, exc)
        raise AssertionError("unreachable")

    def _call(self, kind: str, arg: Any) -> Any:
        future: Future[Any] = Future()
        self._jobs.put((kind, arg, future))
        try:
            return future.result(timeout=120)
        except Exception as exc:
            raise SpeechError(f"pyttsx3 failed ({kind}): {exc}") from exc

    # --- the Speaker interface ---------------------------------------------
    def voices(self) -> list[Voice]:
        """Every voice the engine reports."""
        return list(self._voices)

    def resolve_voice(self, params: SpeechParams) -> str:
        """A voice by id or name if given, else the best match for the language."""
        if params.voice:
            wanted = params.voice.lower()
            for v in self._voices:
                if wanted in (v.id.lower(), v.name.lower()):
                    return v.id
            raise SpeechError(f"no voice called '{params.voice}'; see 'voiceguide voices'")
        return pick_voice(self._voices, params.language)

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        """Render ``text``; raises :class:`SpeechError` if the engine fails or writes nothing."""
        clip: Clip = self._call("say", (text, self.resolve_voice(params), params))
        return clip

    def close(self) -> None:
        """Stop the engine thread (dropping the engine it holds) and remove the temporary folder."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._thread.join(CLOSE_TIMEOUT)
        if self._thread.is_alive():
            log.warning("the pyttsx3 engine thread did not end within %g s", CLOSE_TIMEOUT)
        shutil.rmtree(self._tmp, ignore_errors=True)


def pick_voice(voices: list[Voice], language: str) -> str:
    """The voice that fits ``language`` best.

    Order: a voice whose language code is exactly it; then one whose id ends in it (espeak's
    ``gmw/en``); then the same base language with the shortest code (``en-gb`` before ``en-029``).
    """
    lang = language.lower().replace("_", "-")
    base = lang.split("-")[0]
    best: tuple[int, int, int] | None = None
    chosen = ""
    for order, v in enumerate(voices):
        for code in (c.lower().replace("_", "-") for c in v.languages):
            if code.split("-")[0] != base:
                continue
            rank = 0 if code == lang else 1 if v.id.lower().rsplit("/", 1)[-1] == lang else 2
            score = (rank, len(code), order)
            if best is None or score < best:
                best, chosen = score, v.id
    if best is None:
        raise SpeechError(f"no installed voice speaks '{language}'. On Linux and the Pi the voices come with "
                          "espeak-ng (sudo apt install espeak-ng espeak-ng-data); on Windows and macOS, add the "
                          "language's voice in the system's speech settings. 'voiceguide voices' lists what is here.")
    return chosen


def _langs(raw: Any) -> list[str]:
    out = []
    for item in raw or []:
        if isinstance(item, bytes):  # some drivers report b"\x05en-gb"
            item = item[1:].decode("ascii", "replace")
        out.append(str(item))
    return out


def _read(path: Path) -> Clip:
    import soundfile

    if not path.is_file() or path.stat().st_size == 0:
        raise SpeechError("the speech engine wrote no audio")
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    if len(data) < MIN_CLIP_SECONDS * rate or float(np.abs(data).max()) < 1e-3:
        raise SpeechError(f"the speech engine wrote only {len(data) / rate:.2f} s of near-silence")
    return Clip(np.ascontiguousarray(data.mean(axis=1), dtype=np.float32), int(rate))

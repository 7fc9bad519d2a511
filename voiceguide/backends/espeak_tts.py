"""espeak-ng speech, one ``espeak-ng`` process per line: the default voice on Linux and the Pi.

Why a process per line (measured, see docs/benchmarks.md, "Speech synthesis: deterministic espeak-ng"):
inside one process espeak-ng carries state from one utterance to the next, so the same sentence comes
back a few hundred samples longer or shorter each time (through pyttsx3 and through libespeak-ng
called directly alike), while a fresh ``espeak-ng --stdout`` renders it to the same samples every time.
A process of its own also means a crash of espeak-ng on some text is an exit status we turn into a
:class:`SpeechError`, never a crash of voiceguide. The cost is about 10 ms of start-up per line.

The text goes in on stdin (no command-line length limit, and a line beginning with ``-`` is never read
as an option); the WAV comes back on stdout and is parsed here; espeak-ng's own messages are kept for
the error, never printed.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import signal
import subprocess
from collections.abc import Sequence

import numpy as np

from voiceguide.errors import BackendError, SpeechError
from voiceguide.seams import Clip, SpeechParams, Voice

log = logging.getLogger(__name__)

PROGRAM = "espeak-ng"
MIN_CLIP_SECONDS = 0.1
"""Anything shorter is a failed synthesis, never cached."""
NORMAL_PITCH = 50
"""espeak-ng's base pitch for every voice (0..100); used when a line asks for none."""
BASE_TIMEOUT = 30.0
"""Seconds one line may take, plus :data:`TIMEOUT_PER_CHAR` for each character."""
TIMEOUT_PER_CHAR = 0.01
LIST_TIMEOUT = 30.0
"""Seconds ``espeak-ng --voices`` may take."""
INSTALL_HINT = ("espeak-ng is not installed (sudo apt install espeak-ng espeak-ng-data); on Windows and macOS "
                "use --tts pyttsx3, which speaks with the system's own voices")

_VOICE_LINE = re.compile(r"^\s*\d+\s+(?P<lang>\S+)\s+\S+\s+(?P<name>.+?)\s+(?P<file>\S+)(?P<rest>(?:\s+\(.*\))?)\s*$")
"""A row of ``espeak-ng --voices``: priority, language, age/gender, voice name, file, other languages."""


class EspeakSpeaker:
    """Renders each line in its own ``espeak-ng`` process: same text and settings, same samples."""

    name = "espeak"

    def __init__(self, program: str = PROGRAM) -> None:
        found = shutil.which(program)
        if found is None:
            raise BackendError(INSTALL_HINT)
        self._program = found
        self._voices: list[Voice] | None = None

    def voices(self) -> list[Voice]:
        """Every voice espeak-ng lists (read once, from ``espeak-ng --voices``)."""
        if self._voices is None:
            out = self._run(["--voices"], b"", LIST_TIMEOUT, "listing voices")
            self._voices = parse_voices(out.decode("utf-8", "replace"))
        return list(self._voices)

    def close(self) -> None:
        """Nothing to release: each line's ``espeak-ng`` process has ended with it."""

    def resolve_voice(self, params: SpeechParams) -> str:
        """A voice by id or name if given, else the best match for the language."""
        from voiceguide.backends.pyttsx3_tts import pick_voice

        voices = self.voices()
        if params.voice:
            wanted = params.voice.lower()
            for v in voices:
                if wanted in (v.id.lower(), v.name.lower()):
                    return v.id
            raise SpeechError(f"no voice called '{params.voice}'; see 'voiceguide voices'")
        return pick_voice(voices, params.language)

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        """Render ``text``; raises :class:`SpeechError` if espeak-ng fails, crashes or writes no speech."""
        voice = self.resolve_voice(params)
        pitch = NORMAL_PITCH if params.pitch is None else params.pitch
        argv = ["-v", voice, "-s", str(params.rate), "-a", str(round(params.volume * 100)), "-p", str(pitch),
                "--stdout", "--stdin"]
        timeout = BASE_TIMEOUT + TIMEOUT_PER_CHAR * len(text)
        wav = self._run(argv, text.encode("utf-8"), timeout, f"speaking {_short(text)}")
        return _clip(wav, text)

    def _run(self, argv: Sequence[str], stdin: bytes, timeout: float, what: str) -> bytes:
        """espeak-ng's stdout for ``argv``; every way it can fail becomes a :class:`SpeechError`."""
        command = [self._program, *argv]
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SpeechError(f"espeak-ng took more than {timeout:g} s {what}") from exc
        except OSError as exc:
            raise SpeechError(f"cannot run espeak-ng ({what}): {exc}") from exc
        message = " ".join(done.stderr.decode("utf-8", "replace").split())[:300]
        if done.returncode < 0:
            raise SpeechError(f"espeak-ng crashed ({_signal_name(-done.returncode)}) {what}")
        if done.returncode != 0:
            raise SpeechError(f"espeak-ng failed {what}: {message or f'exit status {done.returncode}'}")
        if message:
            log.debug("espeak-ng said %r %s", message, what)
        return done.stdout


def parse_voices(listing: str) -> list[Voice]:
    """The voices in the output of ``espeak-ng --voices`` (ids are the lowercased file names, as pyttsx3
    reports them, so a voice named in a script means the same to both backends)."""
    voices = []
    for line in listing.splitlines()[1:]:  # the first line is the column heading
        match = _VOICE_LINE.match(line)
        if match:
            # the listing writes spaces in names as underscores: "English_(America)"
            voices.append(Voice(match["file"].lower(), match["name"].replace("_", " "), (match["lang"],)))
    return voices


def _clip(wav: bytes, text: str) -> Clip:
    import soundfile

    try:
        data, rate = soundfile.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:
        raise SpeechError(f"espeak-ng wrote no readable audio speaking {_short(text)}: {exc}") from exc
    if len(data) < MIN_CLIP_SECONDS * rate or float(np.abs(data).max()) < 1e-3:
        raise SpeechError(f"espeak-ng wrote only {len(data) / rate:.2f} s of near-silence for {_short(text)}")
    return Clip(np.ascontiguousarray(data.mean(axis=1), dtype=np.float32), int(rate))


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"

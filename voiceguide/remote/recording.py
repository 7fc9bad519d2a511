"""Recording a voice pack from the phone: the remote's side of ``voiceguide record``.

The page records a take in the browser (a 16-bit PCM WAV made there, see ``static/record.js``), plays it back
there, and sends it here only to keep it. Here it goes through the very checks and processing of the terminal
walk (``live.record_walk.assess``: trim, too quiet / clipped / noisy room, denoise, loudness) and is stored with
``backends.voice_pack.keep_take`` (private files, take first then the list), so a pack recorded on the phone and
one recorded at the device are the same thing, and either can be carried on from the other.

A take is kept only for a line the session really speaks (it is named by its key, never by free text), only
when it is a readable WAV of at most :data:`MAX_SECONDS`, and one at a time. The pack's modules (numpy,
soundfile, soxr, the session compiler; pyloudnorm for each take) are imported when the record page is used,
not when the remote starts; a take is made ready in a short-lived child process, so the remote itself never
holds them.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

from voiceguide.errors import BackendError, ScriptError, SpeechError, VoiceguideError

log = logging.getLogger(__name__)

MAX_SECONDS = 120.0
"""The longest take accepted (as ``live.take_recorder.MAX_SECONDS``: two minutes covers the longest line)."""
MAX_RATE = 48000
"""The highest sample rate accepted from the browser (phones record at 44.1 or 48 kHz)."""
MAX_BYTES = int(MAX_SECONDS * MAX_RATE) * 2 + 4096
"""The largest upload: two minutes of 16-bit mono at 48 kHz, and room for the WAV header."""
MISSING_EXTRA = ("Recording a voice pack needs the 'record' extra on the device (pyloudnorm, for each take's "
                 "loudness): pip install 'voiceguide[record]', then restart the daemon.")
"""What the page says when the extra is not installed."""

JOB_SECONDS = 300
"""The longest a take's processing may take in its child process (a two-minute take: ~2 s here)."""

_one_take = threading.Lock()
"""Takes are processed one at a time: each holds a few tens of MB while it is made ready."""


@dataclass(frozen=True)
class NextLine:
    """Where a session stands in a pack, and the line to record next."""

    pack: str
    """The pack's name."""
    session: str
    """The session's id."""
    title: str
    """The session's title."""
    key: str
    """The next line's key (empty when every line is recorded or skipped)."""
    text: str
    """The next line's words."""
    note: str
    """Why the line may still be spoken by the synthetic voice some days (changing rounds, drawn affirmation)."""
    left: int
    """Lines still to record (the next one included)."""
    recorded: int
    """Lines of the session in the pack."""
    total: int
    """Lines of the session that can be recorded."""
    synthetic: tuple[str, ...]
    """Lines that always stay synthetic, with why."""


@dataclass(frozen=True)
class Outcome:
    """What became of a take sent from the phone."""

    kept: bool
    """It is in the pack now."""
    message: str
    """What to tell the person (why it was not kept, or that it was)."""
    redo: bool = True
    """Whether the person should record the line again (False when the reason is not the take: a full disk)."""
    anyway: bool = False
    """Whether the take may still be kept as it is (it was heard, but found too quiet, clipped or noisy)."""


def extra_missing() -> str:
    """:data:`MISSING_EXTRA` when pyloudnorm is not installed, else "" (found without importing it)."""
    return MISSING_EXTRA if importlib.util.find_spec("pyloudnorm") is None else ""


def _load(session_ref: str) -> Any:
    from voiceguide.script import library, parse

    return parse.load(library.find(session_ref))


def _walk(pack_name: str, session_ref: str) -> tuple[Any, Any, list[Any], list[Any]]:
    """(pack, session, all lines, lines still to record)."""
    from voiceguide.backends import voice_pack
    from voiceguide.engine.pack_lines import session_lines
    from voiceguide.live import record_walk

    voice_pack.check_name(pack_name)
    session = _load(session_ref)
    lines = session_lines(session)
    pack = voice_pack.open_pack(pack_name, create=True)
    sid = session.id or session_ref
    return pack, session, lines, record_walk.todo(pack, sid, lines)


def next_line(pack_name: str, session_ref: str) -> NextLine:
    """Where ``session_ref`` stands in the pack ``pack_name`` (made if new); errors are :class:`VoiceguideError`."""
    from voiceguide.backends import voice_pack

    pack, session, lines, todo = _walk(pack_name, session_ref)
    sid = session.id or session_ref
    recorded, total = pack.coverage(sid)
    synthetic = tuple(f"{line.text} ({line.note})" for line in lines if not line.recordable)
    first = todo[0] if todo else None
    return NextLine(pack.name, sid, session.title, voice_pack.line_key(first.text) if first else "",
                    first.text if first else "", first.note if first else "", len(todo), recorded, total,
                    synthetic)


def _line(lines: list[Any], key: str) -> Any:
    from voiceguide.backends import voice_pack

    line = next((x for x in lines if x.recordable and voice_pack.line_key(x.text) == key), None)
    if line is None:
        raise SpeechError("that line is not one of this session's lines (the session may have changed): "
                          "reload the page")
    return line


def decode(raw: bytes) -> tuple[Any, bool]:
    """The WAV ``raw`` as mono float32 at the packs' rate, and whether it was longer than :data:`MAX_SECONDS`."""
    import numpy as np
    import soundfile

    try:
        info = soundfile.info(io.BytesIO(raw))
        if not 8000 <= info.samplerate <= MAX_RATE or not 1 <= info.channels <= 2:
            raise SpeechError(f"a take must be mono or stereo at 8-48 kHz (this one: {info.channels} channel(s) "
                              f"at {info.samplerate} Hz)")
        if info.frames > MAX_SECONDS * info.samplerate:
            return np.zeros(0, np.float32), True
        data, rate = soundfile.read(io.BytesIO(raw), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise SpeechError(f"the take could not be read as a WAV file ({exc})") from exc
    samples = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
    if int(rate) != MAX_RATE:
        import soxr

        samples = np.ascontiguousarray(soxr.resample(samples, int(rate), MAX_RATE), dtype=np.float32)
    return samples, False


def keep(pack_name: str, session_ref: str, key: str, raw: bytes, anyway: bool = False) -> Outcome:
    """Check the take ``raw`` of the line ``key`` and keep it in the pack unless the checks found a problem
    (``anyway``: keep a take with a problem the person listened to and chose; never one with nothing heard).

    The work is done by :func:`keep_here` in a child process (``python -m voiceguide.remote.take_job``): a
    take's processing imports scipy (pyloudnorm) and, for a two-minute take, peaks at a few hundred MB, which
    the remote's own process would otherwise keep for good (measured: docs/benchmarks.md, "Recording from the
    phone")."""
    missing = extra_missing()
    if missing:
        return Outcome(False, missing, redo=False)
    if len(raw) > MAX_BYTES:
        return Outcome(False, f"That take is larger than {MAX_SECONDS / 60:g} minutes of audio, so it was not kept.")
    command = [sys.executable, "-I", "-m", "voiceguide.remote.take_job", pack_name, session_ref, key,
               "1" if anyway else "0"]  # isolated, as the remote itself: not the working folder on the path
    with _one_take:
        try:
            done = subprocess.run(command, input=raw, capture_output=True, timeout=JOB_SECONDS, check=False)
            reply = json.loads(done.stdout.decode("utf-8")) if done.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            log.warning("a take from the phone could not be processed: %s", exc)
            reply = None
    if not isinstance(reply, dict):
        if "done" in locals() and done.stderr:
            log.warning("a take from the phone could not be processed: %s",
                        done.stderr.decode("utf-8", "replace")[-400:])
        return Outcome(False, "The device could not process this take; every take kept before is safe. "
                              "Try again, or record at the device with 'voiceguide record'.")
    return Outcome(bool(reply.get("kept")), str(reply.get("message", "")), bool(reply.get("redo")),
                   bool(reply.get("anyway")))


def keep_here(pack_name: str, session_ref: str, key: str, raw: bytes, anyway: bool = False) -> Outcome:
    """:func:`keep`'s work, in this process."""
    from voiceguide.backends import voice_pack
    from voiceguide.errors import OutputError
    from voiceguide.live import record_walk
    from voiceguide.live.take_recorder import Recorded

    try:
        pack, _session, lines, _todo = _walk(pack_name, session_ref)
        line = _line(lines, key)
        samples, too_long = decode(raw)
        take, said = record_walk.assess(Recorded(samples, too_long=too_long))
    except BackendError as exc:
        return Outcome(False, str(exc), redo=False)
    except (SpeechError, ScriptError) as exc:
        return Outcome(False, str(exc))
    if take is None or (said and not anyway):
        return Outcome(False, " ".join(said), anyway=take is not None)
    try:
        voice_pack.keep_take(pack, line.text, take.samples)
    except OutputError as exc:
        return Outcome(False, f"This take could not be saved: {exc}. Every take kept before is safe.", redo=False)
    return Outcome(True, "Kept." + (" " + " ".join(said) if said else ""), redo=False)


def skip(pack_name: str, session_ref: str, key: str) -> str:
    """Note the line ``key`` as skipped; returns what to tell the person."""
    from voiceguide.live import record_walk

    try:
        pack, _session, lines, _todo = _walk(pack_name, session_ref)
        record_walk.skip(pack, _line(lines, key).text)
    except VoiceguideError as exc:
        return str(exc)
    return "Skipped: the synthetic voice says that line."

"""Transcription off the audio path: the recognizer runs in a low-priority worker process.

Whisper keeps both cores busy for a second or more per answer. In a thread of the player's process it
would compete with the audio callback for the interpreter; in a process of its own at ``nice`` +10
the audio thread always wins the CPU, and when the worker has had nothing to do for ``idle`` seconds
it exits, so the model's few hundred MB go back to the system (it starts again for the next answer).

The worker is started with ``multiprocessing``'s *spawn* method (a fresh interpreter: nothing of the
player's threads or audio streams is inherited) and builds the recognizer from its name and config,
as :func:`voiceguide.backends.recognizer` would. If it dies while working (killed, out of memory, a
crash in native code), :meth:`RecognizerProcess.transcribe` raises :class:`RecognizerError`: the
answer's row and audio are already in the journal, and ``voiceguide journal retranscribe`` adds the
words later.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from voiceguide.errors import RecognizerError, VoiceguideError
from voiceguide.seams import Clip, Recognizer, Transcript

log = logging.getLogger(__name__)

IDLE_EXIT = 120.0
"""Seconds without work after which the worker exits and its memory returns."""
NICENESS = 10
"""How much lower than the player the worker runs (``os.nice``)."""
START_TIMEOUT = 120.0
"""Longest wait for the worker to start and load its model."""
SECONDS_PER_AUDIO_SECOND = 10.0
"""Longest wait for a transcription, per second of audio (plus ``START_TIMEOUT``), before giving up on it."""


@dataclass(frozen=True)
class Load:
    """Asked of the worker: load the model now (the question is still being asked)."""


@dataclass(frozen=True)
class Transcribe:
    """Asked of the worker: the words of one answer."""

    samples: np.ndarray
    """The answer's audio, mono float32."""
    sample_rate: int
    """Its sample rate in Hz."""


@dataclass(frozen=True)
class Stop:
    """Asked of the worker: exit now."""


Ask = Load | Transcribe | Stop
"""What goes to the worker through its pipe."""


@dataclass(frozen=True)
class Done:
    """The worker's answer: the model is loaded, or (``heard``) the words it heard."""

    heard: Transcript | None = None
    """The transcript of a :class:`Transcribe`; None for a :class:`Load`."""


@dataclass(frozen=True)
class Failed:
    """The worker's answer when the recognizer raised one of our errors."""

    error: str
    """The error's message."""


class RecognizerProcess:
    """A :class:`~voiceguide.seams.Recognizer` whose work is done by a worker process (see module docstring)."""

    def __init__(self, backend: str, config: dict[str, Any], name: str, idle: float = IDLE_EXIT,
                 niceness: int = NICENESS) -> None:
        """``backend`` and ``config`` build the recognizer in the worker; ``name`` is what the journal records."""
        self.backend = backend
        self.config = dict(config)
        self.name = name
        self.idle = idle
        self.niceness = niceness
        self.starts = 0
        """How many worker processes were started (for tests and the benchmark)."""
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        return self._process.pid if self.alive else None

    @property
    def alive(self) -> bool:
        """Whether a worker process is running now."""
        return self._process is not None and bool(self._process.is_alive())

    def load(self) -> None:
        """Start the worker and load its model now (e.g. while the question is being asked)."""
        with self._lock:
            self._ask(Load(), START_TIMEOUT)

    def transcribe(self, clip: Clip) -> Transcript:
        """The worker's transcript of ``clip``; :class:`RecognizerError` if the worker fails or dies."""
        samples = np.ascontiguousarray(clip.samples, dtype=np.float32)
        with self._lock:
            done = self._ask(Transcribe(samples, clip.sample_rate),
                             START_TIMEOUT + SECONDS_PER_AUDIO_SECOND * clip.seconds)
        if done.heard is None:
            raise RecognizerError("the recognizer worker answered without a transcript")
        return done.heard

    def close(self) -> None:
        """Stop the worker now (it would also stop by itself when idle)."""
        with self._lock:
            self._stop()

    def _ask(self, message: Ask, timeout: float) -> Done:
        """Send ``message`` and return the reply; a worker that had just exited for idleness is restarted once."""
        for attempt in (1, 2):
            if not self.alive:
                self._start()
            conn = self._conn
            assert conn is not None
            try:
                conn.send(message)
                if not conn.poll(timeout):
                    self._stop()
                    raise RecognizerError(f"the recognizer worker gave no answer in {timeout:.0f} s; it was stopped")
                reply: Done | Failed = conn.recv()
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as exc:
                code = self._reap()
                if code == 0 and attempt == 1:  # it left for idleness just as we asked: start it again
                    continue
                raise RecognizerError(f"the recognizer worker stopped unexpectedly (exit code {code})") from exc
            if isinstance(reply, Failed):
                raise RecognizerError(reply.error)
            return reply
        raise RecognizerError("the recognizer worker could not be started")

    def _start(self) -> None:
        self._reap()
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=serve, args=(theirs, self.backend, self.config, self.idle, self.niceness),
                                  name="voiceguide-recognizer", daemon=True)
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        self.starts += 1
        log.info("recognizer worker %d started (%s)", process.pid, self.name)

    def _reap(self) -> int | None:
        """Forget a worker that has ended; its exit code (None if none was running)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        process.join(5.0)
        if process.is_alive():
            process.kill()
            process.join(5.0)
        code: int | None = process.exitcode
        return code

    def _stop(self) -> None:
        if self._conn is not None and self.alive:
            with contextlib.suppress(OSError):
                self._conn.send(Stop())
        self._reap()


def serve(conn: Connection, backend: str, config: dict[str, Any], idle: float, niceness: int) -> None:
    """The worker's loop: build the recognizer, answer requests, exit after ``idle`` s without one."""
    with contextlib.suppress(OSError):
        os.nice(niceness)
    from voiceguide import backends

    recognizer: Any = None
    while conn.poll(idle):
        try:
            message: Ask = conn.recv()
        except EOFError:  # the player's process has gone
            return
        if isinstance(message, Stop):
            return
        try:
            if recognizer is None:
                recognizer = backends.recognizer(backend, **config)
            if isinstance(message, Load):
                load = getattr(recognizer, "load", None)
                if load is not None:
                    load()
                conn.send(Done())
            else:
                heard = recognizer.transcribe(Clip(message.samples, message.sample_rate))
                confidence = None if heard.confidence is None else float(heard.confidence)
                conn.send(Done(Transcript(str(heard.text), confidence)))
        except VoiceguideError as exc:
            conn.send(Failed(str(exc)))
    log.info("recognizer worker idle for %.0f s: exiting", idle)


def off_audio_path(name: str, model: str | None = None, language: str | None = None,
                   idle: float = IDLE_EXIT) -> Recognizer:
    """The recognizer ``name`` (``--recognizer``/``[speech]``) for answers in ``language``, run in a worker
    process; built here first, cheaply, so a missing model is an error now and the journal gets its name.
    The ``fake`` recognizer stays in this process (tests configure it here)."""
    from voiceguide import backends

    config = backends.recognizer_config(name, model, language)
    local = backends.recognizer(name, **config)
    if name == "fake":
        return local
    return RecognizerProcess(name, config, local.name, idle=idle)

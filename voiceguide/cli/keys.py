"""Keyboard control while a session plays: space pauses/resumes, s skips, q stops."""

from __future__ import annotations

import logging
import os
import queue
import select
import sys
import threading
from types import TracebackType
from typing import Any

from voiceguide.playback.control import Command

log = logging.getLogger(__name__)

KEYMAP = {" ": Command.TOGGLE, "p": Command.TOGGLE, "s": Command.SKIP, "r": Command.REPEAT,
          "-": Command.SLOWER, "q": Command.STOP, "\x1b": Command.STOP}


class KeyReader:
    """Reads single keys from a terminal on a thread; does nothing when stdin is not a terminal."""

    def __init__(self, controls: queue.SimpleQueue[Command]) -> None:
        self.controls = controls
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved: list[Any] | None = None
        self._fd = -1

    def __enter__(self) -> KeyReader:
        if not sys.stdin.isatty():
            return self
        import termios
        import tty

        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)  # keys arrive one by one; Ctrl-C still raises KeyboardInterrupt
        self._thread = threading.Thread(target=self._read, name="voiceguide-keys", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.5)
            if not ready:
                continue
            key = os.read(self._fd, 1).decode("utf-8", "ignore").lower()
            if key in KEYMAP:
                self.controls.put(KEYMAP[key])

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

"""The real clock: monotonic time and blocking waits (no polling)."""

from __future__ import annotations

import threading
import time


class SystemClock:
    """Wall time for live runs."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Block on ``event`` for up to ``timeout`` seconds."""
        return event.wait(timeout)

    def close(self) -> None:
        """Nothing to release."""

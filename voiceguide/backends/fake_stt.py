"""A fake recognizer shipped in the package: tests and dry runs hear exactly what they configure."""

from __future__ import annotations

import os
from collections.abc import Sequence

from voiceguide.seams import Clip, Transcript


class FakeRecognizer:
    """Returns ``texts`` one per call (then ``text`` for every later call) and records each clip.

    ``die=True`` ends the whole process at the first ``transcribe`` (as a crash in native code would): only
    for tests of the worker process that runs recognizers (``voiceguide.listen.stt_worker``).
    """

    name = "fake"

    def __init__(self, text: str = "", confidence: float | None = 1.0, texts: Sequence[str] = (),
                 die: bool = False) -> None:
        self.die = die
        self.text = text
        self.confidence = confidence
        self._queue = list(texts)
        self.calls: list[Clip] = []

    def close(self) -> None:
        """Nothing to release."""

    def transcribe(self, clip: Clip) -> Transcript:
        """The next configured text."""
        if self.die:
            os._exit(70)
        self.calls.append(clip)
        text = self._queue.pop(0) if self._queue else self.text
        return Transcript(text, self.confidence if text else None)

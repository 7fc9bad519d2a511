"""One microphone stream for everyone who listens: answers at listen steps and voice commands.

Without a sound server (ALSA straight to a USB microphone, as on a Raspberry Pi OS Lite speaker) a
capture device can be opened only once; a second ``InputStream`` fails with "device busy". So the
listeners share one stream: the first ``open`` starts it, each block goes to every listener still
open, and the last one to close stops it. Listeners must be quick (they only queue the block).

A session that asks questions also keeps the stream open from start to end (:meth:`SharedInput.held`):
PortAudio's ``pulse`` device records nothing for the first 0.8-2.1 s after a stream opens (measured
through PulseAudio 16 with a burst played into the microphone: later sound arrives within 10 ms).
Opened only when a listen window begins, that lost the first words of an answer begun right after
the cue ("mister john dashwood had been at" of a LibriVox clip); kept open, nothing is lost.

While held, the last :data:`HISTORY` seconds are kept, so that a listener can ask for what was heard
just before it opened (``open(..., earlier=..., before=...)``): an answer begun while the listening cue
was still playing is then kept from its first word.

"Before" counts back from a moment on the microphone's own clock: :attr:`SharedInput.heard` (samples
delivered so far) read when the listen window opened, given to ``open`` as ``since``. Counted from the
moment the listener got round to opening instead, every delay between the two (a busy machine, a thread
that starts late, an output callback held back while PulseAudio opens a stream) was audio lost from the
start of the answer: the look-back ended up covering the wrong half second.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import numpy as np

from voiceguide.errors import AudioError
from voiceguide.seams import AudioInput, Samples

log = logging.getLogger(__name__)

HISTORY = 4.0
"""Seconds of audio kept while the stream is held, for listeners that want what came just before (enough for
the look-back plus a listener that opens seconds after its window did)."""


class _History:
    """The last ``limit`` samples delivered."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.blocks: deque[Samples] = deque()
        self.total = 0
        self.heard = 0
        """Samples delivered since the stream was held (the microphone's own clock)."""
        self.timed: tuple[int, float] | None = None
        """The latest block's first sample (a value of ``heard``) and when it was recorded (PortAudio's stream
        time), if the input tells."""

    def add(self, block: Samples, recorded: float | None = None) -> None:
        if recorded is not None:
            self.timed = (self.heard, recorded)
        self.blocks.append(np.array(block, dtype=np.float32, copy=True).reshape(-1))
        self.total += len(self.blocks[-1])
        self.heard += len(self.blocks[-1])
        while self.blocks and self.total - len(self.blocks[0]) >= self.limit:
            self.total -= len(self.blocks.popleft())

    def since(self, first: int) -> Samples:
        """What was heard from sample ``first`` (as far back as is kept) up to now."""
        if not self.blocks:
            return np.zeros(0, dtype=np.float32)
        audio = np.concatenate(self.blocks)
        return audio[max(0, len(audio) - (self.heard - first)):]


class SharedInput:
    """An :class:`AudioInput` that shares one stream of ``inner`` between any number of ``open`` calls."""

    def __init__(self, inner: AudioInput) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Samples], None]] = []
        self._stream: ExitStack | None = None
        self._rate = 0
        self._history: _History | None = None
        self._history_lock = threading.Lock()  # orders history against the blocks delivered live

    def check(self) -> str | None:
        """The inner input's ``check`` (which names the device or raises)."""
        return self.inner.check()

    def close(self) -> None:
        """Close the inner input (once no one listens: a stream still open closes with its ``open``)."""
        self.inner.close()

    @property
    def listeners(self) -> int:
        """How many are listening now."""
        return len(self._listeners)

    @property
    def rate(self) -> int:
        """The sample rate the stream is open at (0 when it is not open)."""
        return self._rate

    @property
    def heard(self) -> int | None:
        """Samples the held stream has delivered so far (None when it is not held): read it when a listen
        window opens and give it to :meth:`open` as ``since``."""
        with self._history_lock:
            return None if self._history is None else self._history.heard

    def between(self, first: int, last: int) -> Samples:
        """What was heard from sample ``first`` up to ``last`` (values of :attr:`heard`), as far as it is kept."""
        with self._history_lock:
            history = self._history
            if history is None or last <= first:
                return np.zeros(0, dtype=np.float32)
            audio = history.since(min(first, history.heard))
            start = history.heard - len(audio)
        return audio[max(0, first - start):max(0, min(last, history.heard) - start)]

    def heard_at(self, when: float) -> int | None:
        """The value :attr:`heard` has (or will have) once the sound that reached the microphone at ``when``
        (PortAudio's stream time, as an output's ``heard_at`` gives it) is delivered; None when the stream is not
        held or the input gives no time. Give it to :meth:`open` as ``since``: the window then opens at the
        sample the person heard the cue end, whatever the two streams' buffers hold."""
        with self._history_lock:
            timed = None if self._history is None else self._history.timed
        if timed is None:
            return None
        first, recorded = timed
        return first + round((when - recorded) * self._rate)

    @contextmanager
    def open(self, sample_rate: int, deliver: Callable[[Samples], None],
             earlier: Callable[[Samples, int], None] | None = None, before: float = 0.0,
             since: int | None = None) -> Iterator[object]:
        """Listen with ``deliver`` until the block ends; the stream opens with the first listener.

        With ``earlier``, while the stream is held, that is called once first with what was heard from
        ``before`` seconds ahead of ``since`` (a value of :attr:`heard`; default: now) up to now, and how many
        of its samples came before ``since``; ``deliver`` then gets every block after it, none lost."""
        with self._lock:
            if self._stream is None:
                stack = ExitStack()
                stack.enter_context(self.inner.open(sample_rate, self._deliver))
                self._stream, self._rate = stack, sample_rate
            elif sample_rate != self._rate:
                raise AudioError(f"the microphone is already open at {self._rate} Hz, not {sample_rate} Hz")
            with self._history_lock:
                history = self._history
                if earlier is not None and history is not None and (before > 0 or since is not None):
                    # the mark may lie ahead of what is delivered yet (the cue's end still in the buffers)
                    mark = history.heard if since is None else since
                    back = history.since(min(history.heard, mark - round(before * self._rate)))
                    earlier(back, max(0, len(back) - (history.heard - mark)))
                self._listeners = [*self._listeners, deliver]
        try:
            yield self
        finally:
            closing = None
            with self._lock:
                self._listeners = [d for d in self._listeners if d is not deliver]
                if not self._listeners:
                    closing, self._stream = self._stream, None
            if closing is not None:
                closing.close()  # may raise AudioError from the device; the listener is gone either way

    @contextmanager
    def held(self, sample_rate: int) -> Iterator[None]:
        """Keep the stream open (delivering to nobody) while the block runs, so that listening later in
        it starts at once; if the microphone cannot be opened, say so in the log and go on."""
        with ExitStack() as stack:
            with self._history_lock:  # before the stream starts, so its very first block is kept too
                self._history = _History(round(HISTORY * sample_rate))
            stack.callback(self._forget)
            try:
                stack.enter_context(self.open(sample_rate, _drop))
            except AudioError as exc:
                self._forget()
                log.info("could not keep the microphone open ahead of the questions: %s", exc)
            yield

    def _forget(self) -> None:
        with self._history_lock:
            self._history = None

    def _deliver(self, block: Samples) -> None:
        with self._history_lock:
            listeners = self._listeners  # replaced, never changed in place
            if self._history is not None:
                self._history.add(block, getattr(self.inner, "block_time", None))
        for i, deliver in enumerate(listeners):
            deliver(block if i == 0 else block.copy())


def _drop(block: Samples) -> None:
    """A listener that keeps nothing."""

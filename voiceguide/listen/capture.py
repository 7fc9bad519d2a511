"""Capture one spoken answer: open the microphone, wait for speech, keep it until the person stops.

``capture_answer`` blocks on a queue fed by the input's callback and waits through the injected
clock, so it never polls and a fake input plus a :class:`~voiceguide.backends.fake.FakeClock`
runs a minute of listening in milliseconds.

People start answering as the question's listening cue ends, sometimes while it plays. From a held
:class:`~voiceguide.listen.shared_input.SharedInput`, ``before`` seconds heard before the window
opened come first, and the endpointer (which learns the noise floor from the quietest of its first
frames, so it can start in speech) finds an answer that began there. Sound that was over before the
window opened is the cue itself, or the guide's voice: it is not an answer, and listening goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

import numpy as np

from voiceguide.errors import MicrophoneSilent
from voiceguide.listen.vad import Endpointer, EndReason, VadConfig
from voiceguide.seams import AudioInput, Clip, Clock, Samples

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""Capture rate: what the recognizer wants, recorded directly (resampling hurts recognition)."""
PRE_ROLL = 0.3
"""Audio kept before the detected start so the first word is not clipped."""
POST_ROLL = 0.3
"""Audio kept after the detected end so a soft last sound is not clipped."""
STALL_SECONDS = 2.0
"""If no audio arrives for this long the microphone is taken to have stopped."""
MAX_WAIT = 0.25
"""Longest single wait on the clock (bounds how late a deadline is noticed)."""
ANSWER_EARLY = 0.5
"""How long before the window opens an answer may begin and still be kept whole (the listening cue is 0.48 s:
people answer while it plays)."""
BEFORE = ANSWER_EARLY + PRE_ROLL
"""Seconds before the window opens that a session's listening looks back: an answer begun
:data:`ANSWER_EARLY` before it is kept with its pre-roll."""
OVER_BEFORE_OPEN = 0.15
""""Speech" that ended within this much after the window opened, having started before it, was the cue."""


@dataclass(frozen=True)
class Answer:
    """A captured spoken answer."""

    clip: Clip
    """The audio, from ``PRE_ROLL`` before the speech to ``POST_ROLL`` after it (16 kHz mono)."""
    offset: float
    """Seconds from the start of listening (the window opening) to the clip's first sample; negative when
    the answer began before the window opened."""
    speech_start: float
    """Seconds into ``clip`` where speech was detected to start."""
    speech_end: float
    """Seconds into ``clip`` where speech was detected to end."""
    ended_by: EndReason
    """Why capture stopped: ``SILENCE``, ``LIMIT`` or ``INPUT_STOPPED``."""


class _Blocks:
    """The input callback's side: copy each block into a queue and wake the waiting thread."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Samples] = queue.SimpleQueue()
        self.arrived = threading.Event()
        self.earlier = 0
        """Samples heard before the window opened (given first, by a held shared input)."""

    def deliver_earlier(self, block: Samples, before_window: int) -> None:
        self.earlier = before_window
        late = (len(block) - before_window) / SAMPLE_RATE
        if late >= 0:
            log.info("listening from %.2f s before the window opened; the listener came %.2f s after it",
                     before_window / SAMPLE_RATE, late)
        else:  # the cue's end as heard is still in the output's and the microphone's buffers
            log.info("listening from %.2f s before the window opens, %.2f s from now on the microphone's clock",
                     before_window / SAMPLE_RATE, -late)
        self.deliver(block)

    def deliver(self, block: Samples) -> None:
        self.queue.put(np.array(block, dtype=np.float32, copy=True).reshape(-1))
        self.arrived.set()


class _Recording:
    """What has been heard, trimmed to the pre-roll while waiting for speech to start."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.blocks: deque[Samples] = deque()
        self.first = 0  # sample index of blocks[0][0]
        self.total = 0  # samples received
        self.sounded = False  # any sample that is not exactly zero

    def add(self, block: Samples, trim: bool) -> None:
        self.blocks.append(block)
        self.total += len(block)
        self.sounded = self.sounded or bool(np.any(block))
        while trim and len(self.blocks) > 1 and self.total - self.first - len(self.blocks[0]) >= self.keep:
            self.first += len(self.blocks.popleft())

    def slice(self, start: int, end: int) -> Samples:
        audio = np.concatenate(self.blocks) if self.blocks else np.zeros(0, dtype=np.float32)
        lo = max(0, start - self.first)
        hi = max(lo, min(len(audio), end - self.first))
        return audio[lo:hi]


def capture_answer(input: AudioInput, clock: Clock, timeout: float = 8.0, limit: float = 60.0,
                   trailing_silence: float = 1.2, config: VadConfig | None = None,
                   stop: threading.Event | None = None, before: float = 0.0, since: int | None = None
                   ) -> Answer | None:
    """Listen for one answer; None if nobody spoke within ``timeout`` seconds.

    :class:`MicrophoneSilent` instead if in all that time the microphone sent nothing but exact zeros
    (muted) or no audio at all: a real room is never that quiet.

    ``timeout`` counts from the moment the microphone opens, ``limit`` from the start of speech.
    ``config`` overrides the other endpointing parameters; the three arguments win over it.
    Once ``stop`` is set (the person skipped the question) listening ends and None is returned,
    whatever was heard. ``before``: see the module docstring (only a :class:`SharedInput` can look back);
    ``since``: the shared input's :attr:`~voiceguide.listen.shared_input.SharedInput.heard` when the window
    opened (default: now), the moment the look-back, the offsets and the timeout count from.
    """
    began_at = clock.monotonic()
    answer = _capture(input, clock, timeout, limit, trailing_silence, config, stop, before, since)
    if answer is None or answer.offset + answer.speech_end > OVER_BEFORE_OPEN:
        return answer
    log.info("sound before the window opened (%.2f s to %.2f s) was the cue, not an answer: listening on",
             answer.offset + answer.speech_start, answer.offset + answer.speech_end)
    waited = clock.monotonic() - began_at
    if waited >= timeout:
        return None
    later = _capture(input, clock, timeout - waited, limit, trailing_silence, config, stop, 0.0, None)
    return None if later is None else replace(later, offset=later.offset + waited)


def _capture(input: AudioInput, clock: Clock, timeout: float, limit: float, trailing_silence: float,
             config: VadConfig | None, stop: threading.Event | None, before: float, since: int | None
             ) -> Answer | None:
    from voiceguide.listen.shared_input import SharedInput

    blocks = _Blocks()
    opened: AbstractContextManager[object]
    if (before > 0 or since is not None) and isinstance(input, SharedInput):
        opened = input.open(SAMPLE_RATE, blocks.deliver, earlier=blocks.deliver_earlier, before=before, since=since)
    else:
        opened = input.open(SAMPLE_RATE, blocks.deliver)
    with opened:
        cfg = replace(config or VadConfig(), sample_rate=SAMPLE_RATE, timeout=timeout + blocks.earlier / SAMPLE_RATE,
                      limit=limit, trailing_silence=trailing_silence)
        endpointer = Endpointer(cfg)
        # While waiting keep the pre-roll plus the onset window the start is reported back across.
        recording = _Recording(int((PRE_ROLL + cfg.onset_window + cfg.floor_window + 2 * cfg.frame) * SAMPLE_RATE))
        began = clock.monotonic()
        last_block = began
        started_at: float | None = None
        while not endpointer.finished:
            if stop is not None and stop.is_set():
                log.info("listening stopped: the question was left")
                return None
            blocks.arrived.clear()
            got = False
            while not endpointer.finished:
                try:
                    block = blocks.queue.get_nowait()
                except queue.Empty:
                    break
                got = True
                recording.add(block, trim=endpointer.start is None)
                for event in endpointer.feed(block):
                    log.debug("endpointing: %s at %.2f s", event.kind.value, event.sample / SAMPLE_RATE)
            now = clock.monotonic()
            if got:
                last_block = now
            if endpointer.finished:
                break
            if endpointer.start is not None and started_at is None:
                started_at = now
            deadline = _deadline(began, started_at, last_block, cfg)
            if now >= deadline:
                if endpointer.start is None:
                    _check_sounded(recording, timeout)
                    log.info("no speech within %.1f s", timeout)
                    return None
                endpointer.finish(recording.total, EndReason.INPUT_STOPPED)
                break
            clock.wait(blocks.arrived, min(MAX_WAIT, deadline - now))
    if endpointer.start is None:
        _check_sounded(recording, timeout)
    return _answer(endpointer, recording, blocks.earlier)


def _check_sounded(recording: _Recording, timeout: float) -> None:
    """Raise :class:`MicrophoneSilent` if nothing but exact zeros, or nothing at all, came in."""
    if not recording.sounded:
        raise MicrophoneSilent(f"no sound at all came from the microphone in {timeout:g} s; it may be muted"
                               if recording.total else f"the microphone sent no audio in {timeout:g} s")


def _deadline(began: float, started_at: float | None, last_block: float, cfg: VadConfig) -> float:
    """When to give up without more audio: the timeout (plus slack) or a stalled microphone."""
    stall = last_block + STALL_SECONDS
    if started_at is None:
        return min(began + cfg.timeout + STALL_SECONDS, max(began + cfg.timeout, stall))
    return min(stall, started_at + cfg.limit + STALL_SECONDS)


def _answer(endpointer: Endpointer, recording: _Recording, earlier: int) -> Answer | None:
    if endpointer.start is None or endpointer.reason in (None, EndReason.TIMEOUT):
        return None
    end = endpointer.end if endpointer.end is not None else recording.total
    first = max(recording.first, endpointer.start - round(PRE_ROLL * SAMPLE_RATE))
    last = min(recording.total, end + round(POST_ROLL * SAMPLE_RATE))
    if endpointer.reason is EndReason.LIMIT:
        last = min(recording.total, end)
    samples = recording.slice(first, last)
    speech = (end - endpointer.start) / SAMPLE_RATE
    log.info("answer: %.2f s of speech (%s), from %+.2f s after the window opened", speech, endpointer.reason.value,
             (endpointer.start - earlier) / SAMPLE_RATE)
    return Answer(Clip(samples, SAMPLE_RATE), (first - earlier) / SAMPLE_RATE, (endpointer.start - first) / SAMPLE_RATE,
                  (end - first) / SAMPLE_RATE, endpointer.reason)

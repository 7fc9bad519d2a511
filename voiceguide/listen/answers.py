"""Listening during a session: at each listen gate, capture the answer, keep it, transcribe it in the background.

The player holds at the gate (after the question and the soft listening cue), so the assistant's
own voice is never recorded as an answer. The row is written to the journal, with its audio, once the
acknowledgement that follows the answer is over (the person may go on speaking during it: the voice then
yields and the same answer continues, see ``yielding``), or at once where nothing is watched (no shared
microphone); the words are filled in when the recognizer is done, while the session goes on. A kill -9
therefore loses at most the answer being recorded and its acknowledgement's few seconds.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voiceguide.errors import AudioError, MicrophoneSilent, VoiceguideError
from voiceguide.journal.db import Journal
from voiceguide.listen.capture import BEFORE, PRE_ROLL, capture_answer
from voiceguide.listen.shared_input import SharedInput
from voiceguide.listen.turns import quiet_for
from voiceguide.listen.yielding import ANSWER_EARLY, QUESTION_SECONDS, Echo, measure_echo, watch
from voiceguide.playback.control import Command
from voiceguide.script.model import Listen, Session
from voiceguide.seams import AudioInput, Clip, Clock, Recognizer

log = logging.getLogger(__name__)



PART_GAP = 0.3
"""Silence put between the parts of an answer the person went on with during the acknowledgement."""


@dataclass
class _Pending:
    """An answer the person went on with during the acknowledgement: not written until they are done."""

    parts: list[Clip]
    """What was captured so far, in order."""
    echo: Echo | None
    """How loud the session's voice reaches the microphone (measured as the question was asked)."""
    onset: int = 0
    """Where the person began again (a value of the shared microphone's ``heard``)."""


MARK_AHEAD_LIMIT = 2.0
"""The furthest ahead of what the microphone has delivered that a window's mark is believed (seconds): beyond it
the two streams' time stamps are taken to disagree, and the window opens at what has been delivered."""


def window_mark(mic: SharedInput, heard_at: float | None) -> int | None:
    """Where a listen window opens on the microphone's clock (a value of ``mic.heard``).

    Without time stamps, at what the microphone has delivered when the player reached the gate. That is
    early by the output's and the input's buffers together (0.10-0.30 s through ALSA's ``pulse`` device here,
    more on a busy machine): the timeout then starts that much early, and a room microphone hears the cue's end
    after the mark, where "sound over before the window opened is the cue" cannot see it. With the gate's time
    at the speaker (``heard_at``), the window opens at the microphone sample recorded at that moment."""
    now = mic.heard
    if heard_at is None or now is None:
        return now
    mark = mic.heard_at(heard_at)
    if mark is None:
        return now
    ahead = (mark - now) / mic.rate if mic.rate else 0.0
    if not -MARK_AHEAD_LIMIT <= ahead <= MARK_AHEAD_LIMIT:
        log.info("the output's and the microphone's time stamps disagree (%.2f s): the window opens at what "
                 "was heard", ahead)
        return now
    log.info("the window opens %.3f s after what the microphone had delivered at the gate", ahead)
    return mark


class SessionListener:
    """The ``on_hold`` handler for :func:`voiceguide.playback.loop.play` when listening is on."""

    def __init__(self, session: Session, microphone: AudioInput, clock: Clock, recognizer: Recognizer,
                 journal: Journal, controls: queue.SimpleQueue[Command], notify: Callable[[str], None],
                 trailing_silence: float | None = None, threaded: bool = True) -> None:
        """``notify`` tells the person something once (no microphone); ``trailing_silence`` (seconds of quiet
        that end an answer) is by default chosen per question (see ``turns``); ``threaded=False`` captures on
        the caller's thread (for tests with a fake clock)."""
        self.session = session
        self._listens = {s.index: s.action for s in session.steps if isinstance(s.action, Listen)}
        self._mic = microphone
        self._clock = clock
        self._recognizer = recognizer
        self._journal = journal
        self._controls = controls
        self._notify = notify
        self._silence = trailing_silence
        self._threaded = threaded
        self.disabled = False
        """Set after the microphone failed: later listen windows are quiet pauses."""
        self._said_silent = False
        self._said_unheard = False
        self._pending: dict[int, _Pending] = {}
        """Answers the person went on with during the acknowledgement, by step."""
        self.entries: list[int] = []
        """Journal ids of the answers kept, in order."""
        self._captures: list[threading.Thread] = []
        self._jobs: queue.Queue[tuple[int, Clip] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._transcribe_all, name="voiceguide-transcribe", daemon=True)
        self._worker.start()

    def on_hold(self, step: int, over: threading.Event, heard_at: float | None = None,
                thanks_over: threading.Event | None = None) -> None:
        """The player is holding at the listen window of ``step``: capture the answer, then release it.
        If ``over`` is set first (the person skipped or stopped), the capture ends and nothing is kept.
        ``heard_at``: when the gate (the cue's end) reaches the speaker, in PortAudio's stream time, if the output
        tells; the window then opens where the person hears the cue end (see ``window_mark``). ``thanks_over``:
        set when the acknowledgement after this window is left; until then, if the person speaks again (above the
        session's own voice, see ``yielding``), the voice yields and the same answer goes on at the next hold."""
        if step not in self._listens:
            self._controls.put(Command.RELEASE)
            return
        # the window opens now: mark the moment on the microphone's own clock before anything else
        since = window_mark(self._mic, heard_at) if isinstance(self._mic, SharedInput) else None
        going_on = self._pending.pop(step, None)
        for earlier in list(self._pending):  # a yield the player did not take (the next line had begun)
            self._write(earlier, self._pending.pop(earlier))

        def work() -> None:
            if self.disabled:
                self._quiet_pause(step, over)
            else:
                self._capture(step, over, since, thanks_over, going_on)

        if self._threaded:
            capture = threading.Thread(target=work, name="voiceguide-capture", daemon=True)
            self._captures = [t for t in self._captures if t.is_alive()] + [capture]
            capture.start()
        else:
            work()

    def settle(self, timeout: float = 10.0) -> bool:
        """The session's sound has ended: wait (up to ``timeout`` s) for the answers still being taken to be
        kept, and keep one the person went on with during the last acknowledgement, so that every answer is in
        the journal by the time the session is said to be over (their words may still be coming). The player
        ends every window and acknowledgement when it finishes, so the captures end at once; True if they did."""
        deadline = time.monotonic() + timeout
        for capture in self._captures:
            capture.join(max(0.0, deadline - time.monotonic()))
        self._captures = [t for t in self._captures if t.is_alive()]
        for step in list(self._pending):  # the session ended during a yield: keep what was said
            pending = self._pending.pop(step, None)
            if pending is not None:
                self._write(step, pending)
        return not self._captures

    def _release(self, over: threading.Event, heard: bool = True) -> None:
        """Let the player go on (past the acknowledgement unless an answer was ``heard``), unless the hold has
        already ended (a late release would end the next one)."""
        if not over.is_set():
            self._controls.put(Command.RELEASE if heard else Command.NOTHING_HEARD)

    def _quiet_pause(self, step: int, over: threading.Event) -> None:
        """Without a microphone: as long a pause as the step would have waited, to answer in one's mind."""
        try:
            self._clock.wait(over, self._listens[step].timeout)
        finally:
            self._release(over, heard=False)

    def _capture(self, step: int, over: threading.Event, since: int | None = None,
                 thanks_over: threading.Event | None = None, going_on: _Pending | None = None) -> None:
        listen = self._listens[step]
        echo = going_on.echo if going_on is not None else self._echo(since)
        answer = None
        left = False
        try:
            answer = capture_answer(self._mic, self._clock, timeout=listen.timeout, limit=listen.limit,
                                    trailing_silence=quiet_for(listen) if self._silence is None or
                                    listen.quiet is not None else self._silence,
                                    stop=over, before=PRE_ROLL if going_on is not None else BEFORE,
                                    since=going_on.onset if going_on is not None else since)
        except MicrophoneSilent as exc:  # muted, most likely: say so once, and go on listening
            if not self._said_silent:
                self._said_silent = True
                self._notify(f"Nothing at all can be heard from the microphone ({exc}). The session goes on; "
                             "to answer aloud, unmute it.")
        except AudioError as exc:
            self.disabled = True
            self._notify(f"The microphone is not available ({exc}). The session goes on without listening.")
        finally:
            left = over.is_set()  # paused, skipped or stopped before the answer was done: keep nothing
            self._release(over, heard=answer is not None or going_on is not None)
        if left or (answer is None and going_on is None):
            log.info("step %d: %s", step, "left (pause, skip or stop): nothing kept" if left else "no answer")
            return
        pending = going_on or _Pending([], echo)
        if answer is not None:
            pending.parts.append(answer.clip)
        if thanks_over is not None and echo is not None and isinstance(self._mic, SharedInput):
            onset = watch(self._mic, self._clock, echo, thanks_over)
            if onset is not None and not thanks_over.is_set():
                pending.onset = onset
                self._pending[step] = pending
                self._controls.put(Command.YIELD)  # the same answer goes on at the hold this leads to
                return
        self._write(step, pending)

    def _echo(self, since: int | None) -> Echo | None:
        """How loud the session's voice reached the microphone as the question was asked (None: cannot tell)."""
        if since is None or not isinstance(self._mic, SharedInput) or not self._mic.rate:
            return None
        rate = self._mic.rate
        heard = self._mic.between(since - round(QUESTION_SECONDS * rate), since - round(ANSWER_EARLY * rate))
        return measure_echo(heard, rate) if len(heard) >= rate // 2 else None

    def _write(self, step: int, pending: _Pending) -> None:
        """Keep the answer (its parts joined) as one journal entry and queue its words."""
        if not pending.parts:
            return
        listen = self._listens[step]
        rate = pending.parts[0].sample_rate
        gap = np.zeros(round(PART_GAP * rate), dtype=np.float32)
        pieces: list[np.ndarray] = []
        for part in pending.parts:
            pieces.extend((gap, part.samples) if pieces else (part.samples,))
        clip = Clip(np.concatenate(pieces), rate)
        try:
            entry = self._journal.add(listen.prompt, listen.kind, None, session_id=self.session.id,
                                      session_title=self.session.title, step=step, audio=clip,
                                      recognizer=self._recognizer.name, language=self.session.language)
        except VoiceguideError as exc:
            self._notify(f"Your answer could not be saved to the journal: {exc}")
            return
        self.entries.append(entry)
        self._jobs.put((entry, clip))
        log.info("step %d: kept a %.1f s answer (%d part%s) as journal entry %d", step, clip.seconds,
                 len(pending.parts), "" if len(pending.parts) == 1 else "s", entry)

    def _transcribe_all(self) -> None:
        load = getattr(self._recognizer, "load", None)
        ready = True
        if load is not None:
            try:
                load()  # while the question is still being asked
            except VoiceguideError as exc:
                ready = False
                self._notify(f"Answers will be kept as recordings but not transcribed ({exc}). Once the "
                             "recognizer is installed (pip install 'voiceguide[listen]'), "
                             "'voiceguide journal retranscribe' adds the words.")
        while True:
            job = self._jobs.get()
            if job is None:
                return
            entry, clip = job
            if not ready:
                continue
            try:
                heard = self._recognizer.transcribe(clip)
                self._journal.update_transcript(entry, heard.text, self._recognizer.name, heard.confidence)
                log.info("journal entry %d: %r", entry, heard.text)
            except VoiceguideError as exc:  # the audio is kept: 'voiceguide journal retranscribe' can retry
                log.warning("could not transcribe journal entry %d: %s", entry, exc)
                if not self._said_unheard:
                    self._said_unheard = True
                    self._notify(f"The words of an answer could not be made out ({exc}). Its recording is kept "
                                 "in your journal; 'voiceguide journal retranscribe' adds the words later.")

    def close(self, timeout: float = 30.0) -> bool:
        """Finish the transcriptions still queued (up to ``timeout`` s); True if all were done."""
        self.settle(timeout)
        self._jobs.put(None)
        self._worker.join(timeout)
        return not self._worker.is_alive()

"""Listening during a session: at each listen gate, capture the answer, keep it, transcribe it in the background.

The player holds at the gate (after the question and the soft listening cue), so the assistant's
own voice is never recorded as an answer. The row is written to the journal as soon as the answer
is captured, with its audio; the words are filled in when the recognizer is done, while the
session goes on. A kill -9 therefore loses at most the answer being recorded.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from voiceguide.errors import AudioError, MicrophoneSilent, VoiceguideError
from voiceguide.journal.db import Journal
from voiceguide.listen.capture import BEFORE, capture_answer
from voiceguide.listen.shared_input import SharedInput
from voiceguide.listen.turns import quiet_for
from voiceguide.playback.control import Command
from voiceguide.script.model import Listen, Session
from voiceguide.seams import AudioInput, Clip, Clock, Recognizer

log = logging.getLogger(__name__)



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
        self.entries: list[int] = []
        """Journal ids of the answers kept, in order."""
        self._jobs: queue.Queue[tuple[int, Clip] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._transcribe_all, name="voiceguide-transcribe", daemon=True)
        self._worker.start()

    def on_hold(self, step: int, over: threading.Event, heard_at: float | None = None) -> None:
        """The player is holding at the listen window of ``step``: capture the answer, then release it.
        If ``over`` is set first (the person skipped or stopped), the capture ends and nothing is kept.
        ``heard_at``: when the gate (the cue's end) reaches the speaker, in PortAudio's stream time, if the output
        tells; the window then opens where the person hears the cue end (see ``window_mark``)."""
        if step not in self._listens:
            self._controls.put(Command.RELEASE)
            return
        # the window opens now: mark the moment on the microphone's own clock before anything else
        since = window_mark(self._mic, heard_at) if isinstance(self._mic, SharedInput) else None

        def work() -> None:
            if self.disabled:
                self._quiet_pause(step, over)
            else:
                self._capture(step, over, since)

        if self._threaded:
            threading.Thread(target=work, name="voiceguide-capture", daemon=True).start()
        else:
            work()

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

    def _capture(self, step: int, over: threading.Event, since: int | None = None) -> None:
        listen = self._listens[step]
        answer = None
        left = False
        try:
            answer = capture_answer(self._mic, self._clock, timeout=listen.timeout, limit=listen.limit,
                                    trailing_silence=quiet_for(listen) if self._silence is None or
                                    listen.quiet is not None else self._silence,
                                    stop=over, before=BEFORE, since=since)
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
            self._release(over, heard=answer is not None)
        if answer is None or left:
            log.info("step %d: %s", step, "left (pause, skip or stop): nothing kept" if left else "no answer")
            return
        try:
            entry = self._journal.add(listen.prompt, listen.kind, None, session_id=self.session.id,
                                      session_title=self.session.title, step=step, audio=answer.clip,
                                      recognizer=self._recognizer.name, language=self.session.language)
        except VoiceguideError as exc:
            self._notify(f"Your answer could not be saved to the journal: {exc}")
            return
        self.entries.append(entry)
        self._jobs.put((entry, answer.clip))
        log.info("step %d: kept a %.1f s answer as journal entry %d", step, answer.clip.seconds, entry)

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
        self._jobs.put(None)
        self._worker.join(timeout)
        return not self._worker.is_alive()

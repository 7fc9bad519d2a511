"""The live player: feeds the mixer's output to an audio callback and applies control with fades.

``fill`` runs on the audio thread. It never blocks, reads files or allocates audio buffers:
commands arrive through a lock-free ``SimpleQueue`` read with ``get_nowait``, and every gain
ramp is computed into a buffer allocated once here.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Segment, Timeline, index_at
from voiceguide.playback.catchup import CATCH_UP_FADE_SECONDS, CatchUp, QuietIndex
from voiceguide.playback.commands import CommandHandling
from voiceguide.playback.control import Command, Hold, HoldBegan, PlayerEvent, Snapshot, State
from voiceguide.seams import Samples

FADE_SECONDS = 0.05
"""Fade used for pause, resume and skip: long enough to be click-free, short enough to feel instant."""
STOP_FADE_SECONDS = 0.4
"""Fade-out on stop (always finished within 0.5 s)."""
MAX_BLOCK = 1 << 15
YIELD_FADE_SECONDS = 0.25
"""Fade when the voice yields to the person during an acknowledgement: quick, never a cut."""


class Player(CommandHandling):
    """Plays one :class:`Timeline` through any output that calls :meth:`fill`; its commands are acted on by
    :class:`~voiceguide.playback.commands.CommandHandling`."""

    def __init__(self, timeline: Timeline, controls: queue.SimpleQueue[Command] | None = None,
                 fade: float = FADE_SECONDS, stop_fade: float = STOP_FADE_SECONDS, final: bool = True) -> None:
        """``final=False`` starts with the first part of a timeline still being compiled (see :meth:`extend`)."""
        self._scaled: dict[tuple[int, float], tuple[Samples, Samples]] = {}
        self._fade = max(1, int(fade * timeline.sample_rate))
        self._view = (timeline, Mixer(timeline, self._scaled), final, QuietIndex.of(timeline, self._fade))
        self.starved = 0
        """Samples of silence played because the compiler had not caught up (should stay 0)."""
        self.controls: queue.SimpleQueue[Command] = controls if controls is not None else queue.SimpleQueue()
        self.done = threading.Event()
        self.wake = threading.Event()
        """Set when the player finishes, reaches a gate or has put an event, so the control loop reacts at once."""
        self.events: queue.SimpleQueue[PlayerEvent] = queue.SimpleQueue()
        """What the control loop must act on, in order: a hold began, "slower" was asked for (put by the audio
        callback, which never blocks on it; the loop takes them when :attr:`wake` is set)."""
        self.taken = threading.Event()
        """Set each time the callback has acted on the commands queued for it (so whoever sent one can read
        the state it led to)."""
        self.segments: list[Segment] = []
        self.holds: list[Hold] = []
        self.hold_over = threading.Event()
        """Set when the current (or last) hold at a gate ends, however it ends: the listener's release,
        skip, repeat or stop. A new one is made as each hold begins."""
        self._gates = sorted(timeline.gates)
        self._gate_index = 0
        self._hold_start = 0
        self.stopped_early = False
        self.slower = 0
        """How many times "slower" was asked for (acted on off the audio thread)."""
        self.position = 0
        self.stream_frames = 0
        self.state = State.PLAYING
        self.catch_up = CatchUp()
        """Frames lost in underruns and how they were made up (see ``catchup``)."""
        self._catch_fade = max(1, int(CATCH_UP_FADE_SECONDS * timeline.sample_rate))
        self._jump = 0
        self._wait_left = 0
        self._stop_fade = max(1, int(stop_fade * timeline.sample_rate))
        self._gain = 1.0
        self._target = 1.0
        self._step = 0.0
        self._ramp_left = 0
        self._skip_to = 0
        self._forward = True
        self._pause_at_gate = False
        self._yield_fade = max(1, int(YIELD_FADE_SECONDS * timeline.sample_rate))
        self._yield_to: int | None = None
        self.thanks_over = threading.Event()
        """Set when the stretch after the current (or last) listen window (the acknowledgement) is left for good:
        the next line begins, or a skip, stop or pause. A new one is made as each hold begins; until it is set the
        listener may ask the voice to yield (``Command.YIELD``)."""
        self._thanks_end: int | None = None
        self._seg_start: tuple[int, int] | None = (0, 0)
        self._idx = np.arange(1, MAX_BLOCK + 1, dtype=np.float32)
        self._gbuf = np.empty(MAX_BLOCK, dtype=np.float32)

    @property
    def timeline(self) -> Timeline:
        """The timeline being played (it grows while a session is still being compiled)."""
        return self._view[0]

    @property
    def mixer(self) -> Mixer:
        """The mixer over :attr:`timeline`."""
        return self._view[1]

    def extend(self, timeline: Timeline, final: bool) -> None:
        """Swap in a longer version of the timeline (same start, more steps); called off the audio thread."""
        mixer = Mixer(timeline, self._scaled)
        self._gates = sorted(timeline.gates)
        quiet = QuietIndex.of(timeline, self._fade)
        self._view = (timeline, mixer, final, quiet)  # one reference assignment: the callback sees old or new

    @property
    def hold_frame(self) -> int:
        """The stream frame (a value of :attr:`stream_frames`) where the current or last hold at a gate began:
        the output can tell when that frame is heard, where a listen window really opens."""
        return self._hold_start

    def snapshot(self) -> Snapshot:
        """The current position and state."""
        return Snapshot(self.position, self.state, self.timeline)

    def cut(self) -> None:
        """End the session where it stands because the output is gone; only once the callback has stopped."""
        self.stopped_early = self.stopped_early or self.state is not State.FINISHED
        self._finish()

    # --- control -------------------------------------------------------------
    def _ramp(self, target: float, frames: int, state: State, exact: bool = False) -> None:
        """Glide the gain to ``target``; a fade-out from a lower gain is shortened in proportion unless
        ``exact`` (a gate's fade must end on its sample)."""
        if target == 0.0 and not exact:
            frames = int(frames * abs(target - self._gain))
        frames = max(1, frames)
        self._target = target
        self._step = (target - self._gain) / frames
        self._ramp_left = frames
        self.state = state

    def _close_segment(self) -> None:
        if self._seg_start is not None:
            stream, start = self._seg_start
            if self.position > start:
                self.segments.append(Segment(stream, start, self.position))
            self._seg_start = None

    def _finish(self) -> None:
        self._end_thanks()
        if self.state is State.HOLDING:
            self.holds.append(Hold(self.position, self._hold_start, self.stream_frames))
            self.hold_over.set()
        self._close_segment()
        self.state = State.FINISHED
        self.done.set()
        self.wake.set()

    def _ramp_done(self) -> None:
        self._gain = self._target
        s = self.state
        if s is State.PAUSING:
            self._close_segment()
            self.catch_up.forgive()
            self.state = State.PAUSED
        elif s is State.STOPPING:
            self._finish()
        elif s is State.SKIPPING:
            self._close_segment()
            # a skip's fade may run past the next step's start: never jump back for it; repeat does go back
            self.position = max(self._skip_to, self.position) if self._forward else self._skip_to
            self._aim_at_next_gate()
            self._seg_start = (self.stream_frames, self.position)
            self.catch_up.forgive()
            self._ramp(1.0, self._fade, State.RESUMING)
        elif s is State.CATCHING:
            self._shift(self._jump)
            self._jump = 0
            if not self._wait_left:
                self._ramp(1.0, self._catch_fade, State.RESUMING)
        elif s is State.GATING:
            self._close_segment()
            self.catch_up.forgive()
            if self._yield_to is not None:  # back to the window the person is still answering in
                self.position, self._yield_to = self._yield_to, None
                self._gate_index = index_at(self._gates, self.position - 1) + 1
            if self._pause_at_gate:  # paused while fading into the window: it never opens
                self._back_to_question()
                return
            self.hold_over = threading.Event()  # before the state: whoever sees HOLDING gets this one
            self._end_thanks()
            self.thanks_over = threading.Event()
            self.state = State.HOLDING
            self._hold_start = self.stream_frames
            self.events.put(HoldBegan(self.position, self.hold_over))
            self.wake.set()
        elif s is State.RESUMING:
            self.state = State.PLAYING

    def _shift(self, frames: int) -> None:
        """Take ``frames`` out of the timeline here (skip ahead), or wait ``-frames`` in silence."""
        self._close_segment()
        if frames > 0:
            self.position += frames
        self._wait_left = max(0, -frames)
        if not self._wait_left:
            self._seg_start = (self.stream_frames, self.position)

    # --- the audio callback ----------------------------------------------------
    def fill(self, out: Samples, lost: int = 0) -> None:
        """Fill ``out`` completely with the next samples (silence when paused or finished); ``lost``: frames
        the device played without us since the last call (an underrun), to be made up in a quiet stretch."""
        if lost:
            playing = self._seg_start is not None
            self.catch_up.owe(lost, playing)
            self.stream_frames += lost
            if playing:  # the stretch being played goes on later in the stream than planned
                self._close_segment()
                self._seg_start = (self.stream_frames, self.position)
        taken = False
        while True:
            try:
                self._handle(self.controls.get_nowait())
            except queue.Empty:
                break
            taken = True
        if taken:
            self.taken.set()
        timeline, mixer, final, quiet = self._view
        n = len(out)
        i = 0
        while i < n:
            if self._wait_left:  # ahead of the plan: wait in silence, in a quiet stretch
                k = min(n - i, self._wait_left)
                out[i:i + k].fill(0.0)
                self.stream_frames += k
                self._wait_left -= k
                i += k
                if not self._wait_left:
                    self._seg_start = (self.stream_frames, self.position)
                    if self.state is State.CATCHING:
                        self._ramp(1.0, self._catch_fade, State.RESUMING)
                continue
            if self.state is State.PLAYING and not self._ramp_left and self.catch_up.debt:
                pay = self.catch_up.due(quiet, self.position, self._catch_fade)
                if pay and quiet.bed[quiet.find(self.position)]:
                    self._jump = pay
                    self._ramp(0.0, self._catch_fade, State.CATCHING)
                elif pay:
                    self._shift(pay)
                    continue
            if self.state in (State.PAUSED, State.HOLDING, State.FINISHED):
                out[i:].fill(0.0)
                self.stream_frames += n - i
                return
            left = timeline.length - self.position
            if left <= 0:
                if final:
                    self._finish()
                    continue
                if self.state in (State.STOPPING, State.PAUSING, State.SKIPPING):
                    self._ramp_left = 0  # nothing left to fade: the stop, pause or skip takes effect now
                    self._ramp_done()
                    continue
                out[i:].fill(0.0)  # the compiler is behind: wait in silence (counted, never expected)
                self.starved += n - i
                self.stream_frames += n - i
                return
            k = min(n - i, left)
            if self._gate_index < len(self._gates) and self.state in (State.PLAYING, State.RESUMING):
                fade_from = self._gates[self._gate_index] - self._fade
                if self.position >= fade_from:  # fade out so the gate is reached exactly at silence
                    self._ramp(0.0, self._gates[self._gate_index] - self.position, State.GATING, exact=True)
                else:
                    k = min(k, fade_from - self.position)
            if self._ramp_left:
                k = min(k, self._ramp_left, MAX_BLOCK)
            chunk = out[i:i + k]
            mixer.mix_into(self.position, chunk)
            if self._ramp_left:
                gains = self._gbuf[:k]
                np.multiply(self._idx[:k], np.float32(self._step), out=gains)
                gains += np.float32(self._gain)
                chunk *= gains
                self._gain += self._step * k
                self._ramp_left -= k
            elif self._gain != 1.0:
                chunk *= np.float32(self._gain)
            self.position += k
            self.stream_frames += k
            i += k
            if self._thanks_end is not None and self.position >= self._thanks_end:
                self._end_thanks()  # the next line begins: the answer is over
            if self._ramp_left == 0 and self.state in (State.PAUSING, State.STOPPING, State.SKIPPING,
                                                       State.RESUMING, State.GATING, State.CATCHING):
                self._ramp_done()

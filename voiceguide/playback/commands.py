"""How the player acts on each :class:`Command`, and its bookkeeping of holds and answer windows.

A mixin of :class:`~voiceguide.playback.player.Player`, kept apart so that the player's module is about the
samples. Its methods run on the audio thread (from ``Player.fill``), under the same rules: no blocking, no
files, no audio buffers allocated. The state they read and write is declared here and set in
``Player.__init__``.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING

from voiceguide.engine.timeline import Timeline, index_at
from voiceguide.playback.control import SLOWER_ASKED, Command, Hold, PlayerEvent, State


class CommandHandling:
    """Pause, resume, stop, skip, repeat, slower, the listener's release and the voice's yield."""

    state: State
    position: int
    stream_frames: int
    stopped_early: bool
    slower: int
    events: queue.SimpleQueue[PlayerEvent]
    wake: threading.Event
    holds: list[Hold]
    hold_over: threading.Event
    thanks_over: threading.Event
    _gates: list[int]
    _gate_index: int
    _hold_start: int
    _thanks_end: int | None
    _yield_to: int | None
    _pause_at_gate: bool
    _seg_start: tuple[int, int] | None
    _jump: int
    _wait_left: int
    _skip_to: int
    _forward: bool
    _fade: int
    _stop_fade: int
    _yield_fade: int

    if TYPE_CHECKING:  # defined by Player
        @property
        def timeline(self) -> Timeline: ...

        def _ramp(self, target: float, frames: int, state: State, exact: bool = False) -> None: ...

        def _finish(self) -> None: ...

    def _handle(self, cmd: Command) -> None:
        s = self.state
        if s in (State.FINISHED, State.STOPPING):
            return
        if s is State.CATCHING and cmd not in (Command.RELEASE, Command.NOTHING_HEARD, Command.SLOWER):
            self._jump, self._wait_left, s = 0, 0, State.PLAYING  # the person's command comes first
            if self._seg_start is None:
                self._seg_start = (self.stream_frames, self.position)
        if cmd is Command.TOGGLE:
            cmd = Command.RESUME if s in (State.PAUSED, State.PAUSING) else Command.PAUSE
        if s is State.HOLDING and cmd is Command.PAUSE:
            self._pause_hold()
            return
        if s is State.GATING and cmd in (Command.PAUSE, Command.RESUME):
            self._pause_at_gate = cmd is Command.PAUSE  # the window does not open: see Player._ramp_done
            return
        if s in (State.GATING, State.HOLDING) and cmd not in (Command.STOP, Command.RELEASE, Command.NOTHING_HEARD,
                                                              Command.SKIP, Command.PAUSE):
            return  # while listening, only stop, skip, pause and the listener's release apply
        if cmd is Command.YIELD:
            self._yield(s)
            return
        if cmd in (Command.RELEASE, Command.NOTHING_HEARD):
            if s is State.HOLDING:
                self._release(past_thanks=cmd is Command.NOTHING_HEARD)
            return
        if cmd is Command.SLOWER:
            self.slower += 1
            self.events.put(SLOWER_ASKED)  # the control loop re-paces the rest of the session (see slowing.py)
            self.wake.set()
            return
        if cmd is Command.STOP:
            self.stopped_early = True
            self._end_thanks()
            if s in (State.PAUSED, State.HOLDING):
                self._finish()
            else:
                self._ramp(0.0, self._stop_fade, State.STOPPING)
        elif cmd is Command.PAUSE and s in (State.PLAYING, State.RESUMING):
            self._end_thanks()
            self._ramp(0.0, self._fade, State.PAUSING)
        elif cmd is Command.RESUME and s in (State.PAUSED, State.PAUSING):
            if s is State.PAUSED:
                self._seg_start = (self.stream_frames, self.position)
            self._ramp(1.0, self._fade, State.RESUMING)
        elif cmd in (Command.SKIP, Command.REPEAT):
            self._yield_to = None  # a skip during the yield's fade goes where it says
            self._end_thanks()
            step = self.timeline.step_at(self.position)
            self._forward = cmd is Command.SKIP
            self._skip_to = self.timeline.step_start(step + 1 if self._forward else step)
            if s is State.HOLDING:
                self._release()
                self._ramp(0.0, 1, State.SKIPPING)
            elif s is State.PAUSED:
                self.position = self._skip_to
                self._aim_at_next_gate()
            elif s in (State.PLAYING, State.RESUMING, State.GATING):
                self._ramp(0.0, self._fade, State.SKIPPING)

    def _release(self, past_thanks: bool = False) -> None:
        """End the hold; with ``past_thanks`` (nothing was heard) go on at the next step, not with the thanks."""
        self.holds.append(Hold(self.position, self._hold_start, self.stream_frames))
        self.hold_over.set()
        self._gate_index += 1
        next_step = self.timeline.step_start(self.timeline.step_at(self.position - 1) + 1)
        if past_thanks:
            self.position = next_step
            self.thanks_over.set()
        else:
            self._thanks_end = next_step
        self._seg_start = (self.stream_frames, self.position)
        self._ramp(1.0, self._fade, State.RESUMING)

    def _yield(self, s: State) -> None:
        """The person speaks during the acknowledgement after the last window: fade out and hold at that window
        again (the gain is 0 at the end of the fade, so the jump back is silent). Anywhere else: nothing."""
        if s not in (State.PLAYING, State.RESUMING) or self._gate_index == 0:
            return
        gate = self._gates[self._gate_index - 1]
        if not gate <= self.position < self.timeline.step_start(self.timeline.step_at(gate - 1) + 1):
            return  # the next line has begun: the answer is over
        self._yield_to, self._thanks_end = gate, None
        self._ramp(0.0, self._yield_fade, State.GATING, exact=True)

    def _end_thanks(self) -> None:
        """The acknowledgement after the last window is over (or left): no more yielding to the person there."""
        self._thanks_end = None
        self.thanks_over.set()

    def _pause_hold(self) -> None:
        """Pause while listening: the hold ends at once (the listener stops and keeps nothing), and the
        player waits, paused, at the start of the question's step, so that resuming asks it again."""
        self.holds.append(Hold(self.position, self._hold_start, self.stream_frames))
        self.hold_over.set()
        self._back_to_question()

    def _back_to_question(self) -> None:
        """Paused, at the start of the step whose listen window is here (resume asks the question again)."""
        self._pause_at_gate = False
        self.position = self.timeline.step_start(self.timeline.step_at(self.position - 1))  # the window's step
        self._aim_at_next_gate()
        self.state = State.PAUSED
        self.wake.set()

    def _aim_at_next_gate(self) -> None:
        """After a jump: the next gate is the first at or after the position (a gate is the last sample of its
        step's question, so it counts as before the position only once passed)."""
        self._gate_index = index_at(self._gates, self.position - 1) + 1

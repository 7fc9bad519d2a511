"""Acting on "slower": the rest of the session is compiled again, slower, and swapped in seamlessly.

The change starts at the next breath cycle (during a breathing step) or at the next step, at least
``lead`` seconds ahead so the new speech can be made in time. Everything before that point compiles to
exactly the same timeline (see :func:`adjust.slowed`), so the player takes the new timeline with
:meth:`Player.extend` and the switch is inaudible: what has played, and what is playing, stays put.
Each "slower" makes the rest ``factor`` times slower, at most ``most`` times in a session.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable

import numpy as np

from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Event, EventKind, Timeline
from voiceguide.playback.player import Player
from voiceguide.script.adjust import slowed
from voiceguide.script.model import Breathe, Session

log = logging.getLogger(__name__)

FACTOR = 1.2
"""Each "slower" makes what follows this much longer (speech about 17 % slower)."""
MOST = 3
"""How many times a session can be slowed (1.2 ** 3: about 1.7 times as slow)."""
LEAD_SECONDS = 1.5
"""The slower part starts at least this far ahead of the playing position."""
MARGIN_SECONDS = 0.3
"""The new timeline is only swapped in while the player is at least this far before the change."""
TRIES = 3
"""If the player has passed the change point by the time the slower version is ready, try again further on."""


def change_point(session: Session, timeline: Timeline, at: int) -> tuple[int, int] | None:
    """Where to begin slowing, at or after sample ``at``: (step, cycle) with a 1-based step index, cycle
    > 0 only inside a breathing step; None when nothing begins after ``at``."""
    starts = timeline.step_starts
    current = timeline.step_at(at)
    steps = {s.index: s.action for s in session.steps}
    act = steps.get(current)
    if isinstance(act, Breathe):
        phases = [e.start for e in timeline.events if e.kind == EventKind.PHASE and e.step == current]
        first = 0
        for number in range(act.cycles):
            if first < len(phases) and phases[first] >= at:
                return current, number
            first += len(act.cycle(number))
    if current < len(starts) and current + 1 in steps:
        return current + 1, 0
    return None


def first_difference(old: Timeline, new: Timeline, start: int = 0) -> int:
    """The first sample at or after ``start`` where the two timelines sound different (``start`` when
    they differ before it), or the end of the shorter one. Events are compared one by one, except the
    ambient bed: it is laid out the same way over any length, but its fade-out follows the session's
    end, so its sound is compared from ``start`` up to the first differing event."""

    def key(e: Event) -> Event:
        return dataclasses.replace(e, clip=None)  # the same clip has another index in another compile

    a = [e for e in old.events if e.kind != EventKind.AMBIENT]
    b = [e for e in new.events if e.kind != EventKind.AMBIENT]
    change = min(old.length, new.length)
    for x, y in zip(a, b, strict=False):
        if key(x) != key(y):
            change = min(x.start, y.start)
            break
    if change <= start:
        return change
    beds = [Mixer(dataclasses.replace(t, events=tuple(e for e in t.events if e.kind == EventKind.AMBIENT)))
            for t in (old, new)]
    block = 1 << 15
    here, there = np.zeros(block, np.float32), np.zeros(block, np.float32)
    for at in range(start, change, block):
        n = min(block, change - at)
        beds[0].mix_into(at, here[:n])
        beds[1].mix_into(at, there[:n])
        differs = np.flatnonzero(here[:n] != there[:n])
        if len(differs):
            return at + int(differs[0])
    return change


class Slower:
    """Slows a playing session down when asked; :meth:`request` is called on the control loop's thread."""

    def __init__(self, session: Session, build: Callable[[Session], Timeline], default_rate: int,
                 ready: Callable[[], object] = lambda: None, say: Callable[[str], None] | None = None,
                 factor: float = FACTOR, most: int = MOST, lead: float = LEAD_SECONDS,
                 run_in: Callable[[Callable[[], None]], object] | None = None) -> None:
        """``build`` compiles a session exactly as the playing one was compiled; ``ready`` blocks until the
        first compile is complete; ``say`` tells the person what happens; ``run_in(work)`` runs the work
        (default: on a new background thread; tests with a fake clock run it at once)."""
        self.session = session
        self._build = build
        self._rate = default_rate
        self._ready = ready
        self._say = say or (lambda text: log.info("%s", text))
        self.factor = factor
        self.most = most
        self.lead = lead
        self.times = 0
        """How many times the session has been slowed."""
        self._run_in = run_in
        self._thread: threading.Thread | None = None

    def request(self, player: Player) -> None:
        """Start slowing the rest of the session (in the background); one request at a time."""
        if self._thread is not None and self._thread.is_alive():
            self._say("Still slowing down from the last request.")
            return
        if self.times >= self.most:
            self._say("This is as slow as it goes.")
            return
        if self._run_in is not None:
            self._run_in(lambda: self._work(player))
            return
        self._thread = threading.Thread(target=self._work, args=(player,), name="voiceguide-slower", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for a slowing in progress (tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self, player: Player) -> None:
        try:
            self._ready()
            for _ in range(TRIES):
                if self._try(player):
                    return
            self._say("Could not slow down in time; the session goes on as it was.")
        except Exception:  # a failed compile must not end the session, which plays on unchanged
            log.exception("slowing the session down failed")
            self._say("Could not slow down; the session goes on as it was.")

    def _try(self, player: Player) -> bool:
        old = player.timeline
        rate = old.sample_rate
        point = change_point(self.session, old, player.position + int(self.lead * rate))
        if point is None:
            self._say("Nothing is left to slow down.")
            return True
        session = slowed(self.session, point[0], point[1], self.factor, self._rate)
        new = self._build(session)
        margin = player.position + int(MARGIN_SECONDS * rate)
        change = first_difference(old, new, start=margin)
        if change >= min(old.length, new.length) and old.length == new.length:
            self._say("Nothing is left to slow down.")
            return True
        if margin >= change or player.done.is_set():
            return False
        player.extend(new, final=True)
        self.session, self.times = session, self.times + 1
        where = "from the next breath" if point[1] else "from the next part"
        self._say(f"Slowing down {where}.")
        log.info("slowed from step %d cycle %d at %.1f s (x%.2f); the session is now %.0f s",
                 point[0], point[1], change / rate, self.factor ** self.times, new.seconds)
        return True

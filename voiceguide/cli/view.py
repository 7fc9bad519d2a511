"""The terminal view while a session plays (rich): step, breath phase with progress, time left.

When stdout is not a terminal it prints one plain line per step instead.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.text import Text

from voiceguide.engine.timeline import Event, EventKind, Timeline, index_at
from voiceguide.live.events import RunState
from voiceguide.playback.control import Snapshot, State
from voiceguide.safe_text import terminal_safe

PHASE_WORDS = {"inhale": "breathe in", "hold": "hold", "exhale": "breathe out", "rest": "rest"}


def clock_text(seconds: float) -> str:
    """``m:ss``."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class SessionView:
    """Renders a :class:`Snapshot` of the player against its timeline."""

    def __init__(self, timeline: Timeline, console: Console) -> None:
        self.console = console
        self._index(timeline)
        self._live: Live | None = None
        self._last_step = 0

    def _index(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._phases = [e for e in timeline.events if e.kind == EventKind.PHASE]
        self._phase_starts = [e.start for e in self._phases]
        self._captions = [e for e in timeline.events if e.kind == EventKind.SPEECH and e.phase is None]
        self._caption_starts = [e.start for e in self._captions]

    def _current(self, items: list[Event], starts: list[int], position: int) -> Event | None:
        i = index_at(starts, position)
        return items[i] if i >= 0 else None

    def step_of(self, position: int) -> int:
        """1-based step number playing at ``position``."""
        return self.timeline.step_at(position)

    def render(self, snap: Snapshot) -> Group:
        """The view for one moment."""
        rate = self.timeline.sample_rate
        pos = snap.position
        left = (self.timeline.length - pos) / rate
        header = Text.assemble((terminal_safe(self.timeline.title), "bold"), "   ",
                               (f"step {self.step_of(pos)} of {len(self.timeline.step_starts)}", "dim"),
                               "   ", (f"{clock_text(left)} left", "cyan"))
        doing = RunState.of(snap.state)  # read from the player, as ctl status and the remote page read it
        if doing in (RunState.PAUSED, RunState.LISTENING):
            header.append(f"   {doing.value}", style="yellow")
        parts: list[Text | ProgressBar] = [header]
        caption = self._current(self._captions, self._caption_starts, pos)
        if caption is not None and caption.text:
            parts.append(Text(terminal_safe(caption.text, multiline=True), style="italic"))
        phase = self._current(self._phases, self._phase_starts, pos)
        if phase is not None and phase.start <= pos < phase.end:
            length = phase.end - phase.start
            secs_left = (phase.end - pos) / rate
            parts.append(Text(f"{PHASE_WORDS.get(phase.phase or '', phase.phase)}  {secs_left:0.0f}",
                              style="bold green"))
            parts.append(ProgressBar(total=length, completed=pos - phase.start, width=40))
        parts.append(Text("space pause/resume   s skip   r repeat   - slower   q stop", style="dim"))
        return Group(*parts)

    def update(self, snap: Snapshot) -> None:
        """Show ``snap``; in plain mode print a line when the step changes."""
        if snap.timeline is not self.timeline:  # it grew while speech was still being prepared
            self._index(snap.timeline)
        if self._live is not None:
            self._live.update(self.render(snap))
            return
        step = self.step_of(snap.position)
        if step != self._last_step and snap.state is not State.FINISHED:
            self._last_step = step
            caption = self._current(self._captions, self._caption_starts, snap.position)
            words = f": {caption.text}" if caption is not None and caption.step == step and caption.text else ""
            self.console.print(terminal_safe(f"[{clock_text(snap.position / self.timeline.sample_rate)}] "
                                             f"step {step}{words}"), markup=False, highlight=False, soft_wrap=True)

    def __enter__(self) -> SessionView:
        if self.console.is_terminal:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

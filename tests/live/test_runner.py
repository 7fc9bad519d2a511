"""The one session runner, with fakes: the events it emits in order, and the state it reads from the player."""

from __future__ import annotations

from tests.helpers import compiled, runner_on
from voiceguide.backends.fake import FakeClock, FakeOutput
from voiceguide.engine.timeline import Timeline
from voiceguide.live.events import Finished, Holding, Paused, Resumed, RunEvent, RunState, StepStarted
from voiceguide.playback.control import Command

TWO_STEPS = '[[step]]\npause = 2\n[[step]]\npause = 3\n'


def test_the_runner_says_what_happened_in_order_and_its_state_follows_the_player() -> None:
    clock = FakeClock()
    runner = runner_on(clock)
    heard: list[RunEvent] = []
    states: list[tuple[float, RunState]] = []
    runner.subscribe(heard.append)
    assert runner.state is RunState.IDLE
    runner.begin()
    assert runner.state is RunState.PREPARING
    for at in (0.5, 1.5, 4.0):
        clock.at(at, lambda: states.append((clock.now, runner.state)))
    clock.at(1.0, lambda: runner.command(Command.PAUSE))
    clock.at(2.0, lambda: states.append((clock.now, runner.state)))
    clock.at(3.0, lambda: runner.command(Command.RESUME))
    result = runner.play(compiled(TWO_STEPS), FakeOutput(clock))
    assert not result.stopped_early
    assert states == [(0.5, RunState.PLAYING), (1.5, RunState.PAUSED), (2.0, RunState.PAUSED),
                      (4.0, RunState.PLAYING)]
    assert heard == [StepStarted(1, 2), Paused(), Resumed(), StepStarted(2, 2),
                     Finished(False, result.frames / result.timeline.sample_rate)]
    assert runner.state is RunState.FINISHED, "played out; the driver has not ended it yet"
    assert runner.finish() and runner.state is RunState.IDLE


def test_a_stop_is_told_at_once_and_ends_a_preparation() -> None:
    runner = runner_on(FakeClock())
    runner.begin()
    assert runner.command(Command.STOP) is RunState.STOPPING
    assert runner.cancelled.is_set(), "a session still being prepared is given up"
    runner.end()
    assert runner.state is RunState.IDLE


def test_slower_goes_to_the_runner_not_through_the_audio_callback() -> None:
    from tests.helpers import session_of
    from voiceguide.backends.fake import FakeSpeaker
    from voiceguide.engine.compile import compile_session
    from voiceguide.live.events import Slowed
    from voiceguide.playback.player import Player

    session = session_of('[[step]]\nsay = "Breathe with me."\n[[step]]\nbreathe = "box"\ncycles = 6\n')

    def build(s: object) -> Timeline:
        return compile_session(s, FakeSpeaker(), 8000)  # type: ignore[arg-type]

    clock = FakeClock()
    runner = runner_on(clock)
    heard: list[RunEvent] = []
    runner.subscribe(heard.append)
    players: list[Player] = []
    runner.begin()
    runner.slow_with(session, build)
    clock.at(0.5, lambda: players.append(runner._player))  # type: ignore[arg-type]
    clock.at(5.0, lambda: runner.controls.put(Command.SLOWER))  # as a key or a voice command puts it
    plain = build(session)
    result = runner.play(plain, FakeOutput(clock))
    assert players[0].slower == 0, "the audio callback never saw 'slower'"
    assert Slowed("Slowing down from the next breath.") in heard
    assert result.frames > plain.length + 10 * plain.sample_rate, "the rest was played slower"


def test_runs_view_says_listening_and_paused_from_the_player() -> None:
    from rich.console import Console

    from voiceguide.cli.view import SessionView
    from voiceguide.playback.control import Snapshot, State

    timeline = compiled(TWO_STEPS)
    view = SessionView(timeline, Console(width=100))

    def header(state: State) -> str:
        return view.render(Snapshot(100, state, timeline)).renderables[0].plain  # type: ignore[attr-defined,no-any-return]

    assert header(State.HOLDING).endswith("listening") and header(State.PAUSING).endswith("paused")
    assert not header(State.PLAYING).endswith(("listening", "paused"))


def test_each_question_is_told_once_from_the_players_own_event() -> None:
    from tests.helpers import one_clip_timeline, position_ramp

    clock = FakeClock()
    runner = runner_on(clock)
    heard: list[RunEvent] = []
    runner.subscribe(heard.append)
    plain = one_clip_timeline(position_ramp(4 * 8000), (0, 12000, 24000), 8000)
    gated = Timeline(plain.sample_rate, plain.events, plain.clips, plain.step_starts, plain.length, plain.title,
                     (11000, 23000))  # a question at the end of steps 1 and 2
    runner.begin()
    result = runner.play(gated, FakeOutput(clock))
    assert not result.stopped_early
    assert [e for e in heard if not isinstance(e, Finished)] == [
        StepStarted(1, 3), Holding(1), StepStarted(2, 3), Holding(2), StepStarted(3, 3)]

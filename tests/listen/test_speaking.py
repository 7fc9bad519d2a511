"""The speaking gate: the session's own voice must not count as a command."""

from __future__ import annotations

from voiceguide.backends.fake import FakeSpeaker
from voiceguide.engine.compile import compile_session
from voiceguide.listen.gate import SpeakingGate
from voiceguide.playback.control import Snapshot, State
from voiceguide.script import parse

RATE = 8000


def test_gate_is_closed_during_speech_and_open_in_long_quiet() -> None:
    timeline = compile_session(parse.loads('[session]\ntitle = "g"\n[[step]]\nsay = "Hello there, friend."\n'
                                           '[[step]]\npause = 20\n'), FakeSpeaker(), RATE)
    clock = [0.0]
    gate = SpeakingGate(margin=0.75, now=lambda: clock[0])
    assert gate()  # nothing known yet
    speech = next(e for e in timeline.events if e.kind == "speech")
    gate.update(Snapshot(speech.start + 10, State.PLAYING, timeline))
    assert gate()
    gate.update(Snapshot(speech.end + 5 * RATE, State.PLAYING, timeline))
    assert not gate()
    gate.update(Snapshot(speech.end + int(0.5 * RATE), State.PLAYING, timeline))
    assert gate()  # within the margin after the voice
    gate.update(Snapshot(speech.end + 5 * RATE, State.HOLDING, timeline))
    assert gate()  # listening for an answer
    gate.update(Snapshot(speech.start, State.PAUSED, timeline))
    assert not gate()  # paused: "resume" must be heard
    gate.update(Snapshot(speech.end + 5 * RATE, State.PLAYING, timeline))
    clock[0] += 30.0  # the snapshot is old: the gate extrapolates the position
    assert not gate()

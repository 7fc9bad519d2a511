"""One microphone stream shared by the answer capture and the voice commands."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.backends.fake import FakeClock
from voiceguide.backends.fake_input import FakeInput
from voiceguide.errors import AudioError, AudioUnavailable
from voiceguide.listen.shared_input import SharedInput
from voiceguide.seams import Samples


def advance(clock: FakeClock, seconds: float) -> None:
    import threading

    clock.wait(threading.Event(), seconds)


def test_one_stream_serves_every_listener_and_closes_with_the_last() -> None:
    clock = FakeClock()
    audio = np.arange(16000, dtype=np.float32) / 16000
    inner = FakeInput(clock, audio)
    shared = SharedInput(inner)
    first: list[Samples] = []
    second: list[Samples] = []
    with shared.open(16000, first.append):
        advance(clock, 0.2)
        with shared.open(16000, second.append):
            assert inner.opened == 1 and shared.listeners == 2
            advance(clock, 0.3)
        assert inner.is_open and shared.listeners == 1
        advance(clock, 0.1)
    assert not inner.is_open and shared.listeners == 0 and inner.opened == 1
    assert len(first) == 6 and len(second) == 3
    np.testing.assert_array_equal(np.concatenate(first), audio[:9600])  # every block, in order
    np.testing.assert_array_equal(np.concatenate(second), audio[3200:8000])  # the blocks while it listened
    second[0][:] = -1.0  # each listener has its own copy
    assert first[2][0] == audio[3200]


def test_the_stream_opens_again_after_everyone_closed() -> None:
    clock = FakeClock()
    inner = FakeInput(clock)
    shared = SharedInput(inner)
    for _ in range(2):
        with shared.open(16000, lambda block: None):
            assert inner.is_open
    assert inner.opened == 2 and not inner.is_open


def test_a_second_rate_is_refused_and_a_failed_open_leaves_nothing_behind() -> None:
    clock = FakeClock()
    shared = SharedInput(FakeInput(clock))
    with shared.open(16000, lambda block: None):
        with pytest.raises(AudioError, match="already open at 16000 Hz"), shared.open(48000, lambda block: None):
            pass
        assert shared.listeners == 1
    broken = SharedInput(FakeInput(clock, unavailable=True))
    with pytest.raises(AudioUnavailable), broken.open(16000, lambda block: None):
        pass
    assert broken.listeners == 0


def test_check_is_passed_through() -> None:
    class Checked(FakeInput):
        def check(self, *args: object) -> str:
            return "the mic"

    assert SharedInput(Checked(FakeClock())).check() == "the mic"
    assert SharedInput(FakeInput(FakeClock())).check() is None


def test_held_keeps_one_stream_open_for_the_listeners_inside_it() -> None:
    clock = FakeClock()
    inner = FakeInput(clock, np.ones(16000, dtype=np.float32))
    shared = SharedInput(inner)
    got: list[Samples] = []
    with shared.held(16000):
        assert inner.is_open and shared.listeners == 1
        advance(clock, 0.3)  # nobody keeps these blocks
        for _ in range(2):  # two listen windows: the stream is not opened again for either
            with shared.open(16000, got.append):
                advance(clock, 0.2)
        assert inner.opened == 1 and inner.is_open
    assert not inner.is_open and shared.listeners == 0
    assert len(got) == 4


def test_held_goes_on_without_a_microphone(caplog: pytest.LogCaptureFixture) -> None:
    shared = SharedInput(FakeInput(FakeClock(), unavailable=True))
    with caplog.at_level("INFO"), shared.held(16000):
        assert shared.listeners == 0
    assert "could not keep the microphone open" in caplog.text


class _Counting:
    """A microphone on its own thread (as PortAudio's callback is) delivering 0, 1, 2 ... in small blocks."""

    def __init__(self) -> None:
        import threading

        self.running = threading.Event()
        self.sent = 0

    def open(self, sample_rate: int, deliver: object) -> object:
        import contextlib
        import threading

        assert callable(deliver)

        @contextlib.contextmanager
        def stream() -> object:
            stop = threading.Event()

            def run() -> None:
                while not stop.is_set():
                    deliver(np.arange(self.sent, self.sent + 16, dtype=np.float32))
                    self.sent += 16
                    self.running.set()

            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            try:
                yield self
            finally:
                stop.set()
                thread.join()
        return stream()


def test_what_came_just_before_joins_the_live_blocks_without_a_gap_or_a_repeat() -> None:
    inner = _Counting()
    shared = SharedInput(inner)  # type: ignore[arg-type]
    with shared.held(16000):
        assert inner.running.wait(5)
        while inner.sent < 320:  # more than the 0.01 s asked for is in the history
            pass
        for _ in range(20):  # opened at assorted moments while blocks keep coming on the other thread
            got: list[Samples] = []
            earlier: list[Samples] = []
            with shared.open(16000, got.append, earlier=lambda b, n, into=earlier: into.append(b), before=0.01):
                while sum(len(b) for b in got) < 64:
                    pass
            (back,) = earlier
            audio = np.concatenate([back, *got])
            assert len(back) == 160 and np.array_equal(np.diff(audio), np.ones(len(audio) - 1))


def test_nothing_from_before_unless_the_stream_is_held() -> None:
    clock = FakeClock()
    shared = SharedInput(FakeInput(clock, np.ones(16000, dtype=np.float32)))
    earlier: list[Samples] = []
    with shared.open(16000, lambda b: None, earlier=lambda b, n: earlier.append(b), before=0.5):
        advance(clock, 0.2)
    assert earlier == []

"""What a live session plays on: an output and its clock, opened one way for ``voiceguide run`` and the daemon.

:func:`open_rig` picks the rig by name from :data:`RIGS`: ``sounddevice`` is the real output (checked
before any time is spent on speech) with the system clock; ``fake`` is the dry run of ``--backend fake``:
a fake output driven by a fake clock, so a session plays in a moment, with no keys or microphone read.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.backends.registry import Registry
from voiceguide.seams import AudioOutput, Clock


@dataclass(frozen=True)
class Rig:
    """An opened output with the clock it plays by."""

    output: AudioOutput
    """Where the sound goes."""
    clock: Clock
    """The time the player waits by."""
    real_time: bool = True
    """True for a real device: the speech compiles while the first steps play, and the keys and the
    microphone are read. False for the fake rig: its clock outruns any compile, so the whole session is
    compiled first, and no keys or microphone are read (a dry run needs no person)."""

    def close(self) -> None:
        """Close the output and the clock."""
        self.output.close()
        self.clock.close()


def _sounddevice(device: str | None) -> Rig:
    from voiceguide.backends import output, system_clock

    out = output("sounddevice", device)
    out.check()  # fail before spending time on speech (AudioUnavailable)
    return Rig(out, system_clock())


def _fake(device: str | None) -> Rig:
    from voiceguide.backends.fake import FakeClock, FakeOutput

    clock = FakeClock()
    return Rig(FakeOutput(clock, record=False), clock, real_time=False)


RIGS: Registry[Rig] = Registry("audio rig", {"sounddevice": _sounddevice, "fake": _fake})
"""Rigs by name, given an optional output device name."""


def open_rig(name: str = "sounddevice", device: str | None = None) -> Rig:
    """The rig called ``name`` for output ``device``, checked: ``AudioUnavailable`` if it is not there (yet)."""
    return RIGS.make(name, device)

"""The real output: one long-lived ``sounddevice.OutputStream`` whose callback pulls from the player.

This is the only module that touches PortAudio for output; it stays thin on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..errors import AudioError, AudioUnavailable
from ..seams import FillCallback

log = logging.getLogger(__name__)

PRIME_SECONDS = 0.03
"""Silence at the start of every stream: PulseAudio was measured dropping its first 5-9 ms."""

MISSING_HELP = (
    "On Debian, Ubuntu or Raspberry Pi OS: sudo apt install libportaudio2 pulseaudio-utils "
    "(and make sure PulseAudio or PipeWire is running). "
    "To make a file instead, use 'voiceguide render SESSION -o out.wav'; "
    "to pick another output, use --device NAME (see 'voiceguide devices')."
)


def import_sounddevice() -> ModuleType:
    """Import sounddevice, mapping a missing PortAudio to :class:`AudioUnavailable`."""
    try:
        import sounddevice
    except (OSError, ImportError) as exc:
        raise AudioUnavailable(f"No audio output: the PortAudio library is missing ({exc}). {MISSING_HELP}") from exc
    module: ModuleType = sounddevice
    return module


@dataclass(frozen=True)
class DeviceInfo:
    """An audio device PortAudio reports."""

    index: int
    """PortAudio's device index."""
    name: str
    """Device name, usable with ``--device``."""
    outputs: int
    """Number of output channels."""
    inputs: int
    """Number of input channels."""
    default_rate: float
    """The device's default sample rate."""


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio can see."""
    sd = import_sounddevice()
    try:
        raw: Any = sd.query_devices()
    except sd.PortAudioError as exc:
        raise AudioUnavailable(f"No audio devices: {exc}. {MISSING_HELP}") from exc
    return [DeviceInfo(i, str(d["name"]), int(d["max_output_channels"]), int(d["max_input_channels"]),
                       float(d["default_samplerate"])) for i, d in enumerate(raw)]


class SoundDeviceOutput:
    """Plays through PortAudio; the device is chosen by (part of) its name."""

    def __init__(self, device: str | None = None, latency: str | float = "high", blocksize: int = 2048) -> None:
        self.device = device
        self.underflows = 0
        """Callbacks that came too late (the sound had a gap; later cues are late by that much)."""
        self.latency = latency
        self.blocksize = blocksize

    def check(self) -> str:
        """The name of the device that would be used; raises :class:`AudioUnavailable` if none."""
        sd = import_sounddevice()
        try:
            info: Any = sd.query_devices(self.device, "output")
        except ValueError as exc:  # no device matches the name
            names = ", ".join(d.name for d in list_devices() if d.outputs)
            if names:
                raise AudioUnavailable(f"No output device matches '{self.device}'. Outputs: {names}. "
                                       "Pick one with --device NAME, or use 'voiceguide render SESSION -o out.wav' "
                                       "to make a file instead.") from exc
            raise AudioUnavailable(f"No output devices at all ('{self.device}' was asked for). {MISSING_HELP}") from exc
        except sd.PortAudioError as exc:
            raise AudioUnavailable(f"No usable output device ({exc}). {MISSING_HELP}") from exc
        return str(info["name"])

    @contextmanager
    def open(self, sample_rate: int, fill: FillCallback) -> Iterator[object]:
        """Open, start and finally close one output stream."""
        sd = import_sounddevice()
        name = self.check()

        prime = int(PRIME_SECONDS * sample_rate)

        def callback(outdata: Any, frames: int, time: Any, status: Any) -> None:
            nonlocal prime
            if status.output_underflow:
                self.underflows += 1
            start = min(prime, frames)
            if start:  # a new stream loses its first few ms on some hosts: begin with silence
                outdata[:start, 0] = 0.0
                prime -= start
            if start < frames:
                fill(outdata[start:, 0])

        try:
            stream = sd.OutputStream(samplerate=sample_rate, channels=1, dtype="float32",
                                     device=self.device, callback=callback, latency=self.latency,
                                     blocksize=self.blocksize)
            stream.start()
        except sd.PortAudioError as exc:
            raise AudioUnavailable(f"Cannot open output '{name}' at {sample_rate} Hz: {exc}. {MISSING_HELP}") from exc
        log.info("playing on %s at %d Hz (latency %.3f s)", name, sample_rate, stream.latency)
        try:
            yield stream
            # Stopping drops what is still buffered on some hosts (ALSA's pulse device lost the last
            # ~60 ms, the end of the stop fade): let the buffered tail play out first.
            sd.sleep(int(1000 * (stream.latency + 2 * self.blocksize / sample_rate)))
        finally:
            if self.underflows:
                log.warning("the sound card ran dry %d time(s): the machine was too busy; cues after a gap are "
                            "late by its length (a busy machine or a too-small buffer)", self.underflows)
            try:
                stream.stop()
                stream.close()
            except sd.PortAudioError as exc:
                raise AudioError(f"closing the output failed: {exc}") from exc

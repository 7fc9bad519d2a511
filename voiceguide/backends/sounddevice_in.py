"""The real microphone: one ``sounddevice.InputStream`` whose callback only hands each block on.

This is the only module that touches PortAudio for input; it stays thin on purpose. It records
at the rate asked for (16 kHz for listening) so no resampling sits in the path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from voiceguide.backends.sounddevice_out import import_sounddevice, list_devices
from voiceguide.errors import AudioError, AudioUnavailable
from voiceguide.seams import Samples

log = logging.getLogger(__name__)

MIC_HELP = (
    "Listening needs a microphone: plug one in (or enable it in PulseAudio/PipeWire), make sure the "
    "sound server is running, and pick it with --input NAME (the daemon: input = \"NAME\" under [audio]; "
    "see 'voiceguide devices'). "
    "On Debian, Ubuntu or Raspberry Pi OS: sudo apt install libportaudio2 pulseaudio-utils."
)


class SoundDeviceInput:
    """Records mono float32 through PortAudio; the device is chosen by (part of) its name."""

    def __init__(self, device: str | None = None, latency: str | float = "high", blocksize: int = 1600) -> None:
        self.device = device
        self.latency = latency
        self.blocksize = blocksize
        self.overflows = 0
        """Blocks PortAudio reported as overflowed (audio lost because we read too late)."""
        self.block_time: float | None = None
        """When the first sample of the block being delivered reached the converter, in PortAudio's stream time
        (set just before ``deliver`` is called with it, on the same thread; None if the host gives no time)."""

    def check(self, sample_rate: int = 16000) -> str:
        """The name of the microphone that would be used; raises :class:`AudioUnavailable` if none."""
        sd = _import()
        try:
            info: Any = sd.query_devices(self.device, "input")
            sd.check_input_settings(device=self.device, channels=1, dtype="float32", samplerate=sample_rate)
        except ValueError as exc:
            if "sample rate" in str(exc).lower() or "samplerate" in str(exc).lower():
                raise AudioUnavailable(f"The microphone '{self.device}' cannot record at {sample_rate} Hz ({exc}); "
                                       "use the 'pulse' or 'default' device, which convert.") from exc
            names = ", ".join(d.name for d in list_devices() if d.inputs)
            if names:
                raise AudioUnavailable(f"No microphone matches '{self.device}'. Inputs: {names}.") from exc
            raise AudioUnavailable(f"No microphone at all ('{self.device}' was asked for). {MIC_HELP}") from exc
        except sd.PortAudioError as exc:
            raise AudioUnavailable(f"No usable microphone ({exc}). {MIC_HELP}") from exc
        return str(info["name"])

    def close(self) -> None:
        """Nothing to release: each stream closes with its ``open`` context."""

    @contextmanager
    def open(self, sample_rate: int, deliver: Callable[[Samples], None]) -> Iterator[object]:
        """Open, start and finally close one input stream calling ``deliver`` with each block."""
        sd = _import()
        name = self.check(sample_rate)

        def callback(indata: Any, frames: int, time: Any, status: Any) -> None:
            if status.input_overflow:
                self.overflows += 1
            self.block_time = time.inputBufferAdcTime or None
            deliver(indata[:, 0].copy())

        try:
            stream = sd.InputStream(samplerate=sample_rate, channels=1, dtype="float32", device=self.device,
                                    callback=callback, latency=self.latency, blocksize=self.blocksize)
            stream.start()
        except sd.PortAudioError as exc:
            raise AudioUnavailable(f"Cannot open microphone '{name}' at {sample_rate} Hz: {exc}. {MIC_HELP}") from exc
        log.info("listening on %s at %d Hz (latency %.3f s)", name, sample_rate, stream.latency)
        try:
            yield stream
        finally:
            if self.overflows:
                log.warning("the microphone overflowed %d times (audio was lost)", self.overflows)
            try:
                stream.stop()
                stream.close()
            except sd.PortAudioError as exc:
                raise AudioError(f"closing the microphone failed: {exc}") from exc


def _import() -> Any:
    try:
        return import_sounddevice()
    except AudioUnavailable as exc:
        raise AudioUnavailable(f"No microphone: the PortAudio library is missing. {MIC_HELP}") from exc

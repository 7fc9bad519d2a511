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

from voiceguide.errors import AudioError, AudioUnavailable
from voiceguide.seams import FillCallback

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
    _quiet_alsa()
    module: ModuleType = sounddevice
    return module


_alsa_handler: object = None
"""The ctypes callback given to ALSA (kept alive for as long as the process runs)."""


def _quiet_alsa() -> None:
    """Send ALSA's own messages (``ALSA lib pcm.c:...: underrun occurred`` on every underrun, which the player
    makes up) to the debug log instead of the terminal. No ALSA (not Linux), nothing to do."""
    global _alsa_handler
    if _alsa_handler is not None:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if name is None:
        _alsa_handler = False
        return
    # ALSA's handler is variadic (file, line, function, err, fmt, ...); the fixed arguments are all we read.
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                    ctypes.c_char_p)

    def handler(file: bytes | None, line: int, function: bytes | None, err: int, fmt: bytes | None) -> None:
        log.debug("ALSA %s:%d %s: %s (error %d)", (file or b"").decode(errors="replace"), line,
                  (function or b"").decode(errors="replace"), (fmt or b"").decode(errors="replace"), err)

    try:
        asound = ctypes.CDLL(name)
        callback = handler_type(handler)
        asound.snd_lib_error_set_handler(callback)
    except (OSError, AttributeError) as exc:
        log.debug("ALSA's messages stay on stderr: %s", exc)
        _alsa_handler = False
        return
    _alsa_handler = callback


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
        """Callbacks that came too late (the sound had a gap; the player makes it up in a quiet stretch)."""
        self.latency = latency
        self.blocksize = blocksize
        self._heard: tuple[int, float, int] | None = None  # (frame given to fill, its DAC time, rate)

    def heard_at(self, frame: int) -> float | None:
        """When the ``frame``-th frame given to the player's fill (from 0) reaches the speaker, in PortAudio's
        stream time (the clock the microphone's ``block_time`` is on); None if this host gives no time info.

        Taken from the latest callback's ``outputBufferDacTime``, which through ALSA's ``pulse`` device agrees
        with the microphone's ``inputBufferAdcTime`` to within a millisecond (a click played and recorded
        from the sink's monitor, docs/benchmarks.md)."""
        known = self._heard
        if known is None:
            return None
        ref, at, rate = known
        return at + (frame - ref) / rate

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

    def close(self) -> None:
        """Nothing to release: each stream closes with its ``open`` context."""

    @contextmanager
    def open(self, sample_rate: int, fill: FillCallback) -> Iterator[object]:
        """Open, start and finally close one output stream."""
        sd = import_sounddevice()
        name = self.check()

        prime = int(PRIME_SECONDS * sample_rate)
        handed = 0  # frames given to the device so far
        filled = 0  # of those, frames given to the player's fill
        gap = LossGauge(sample_rate)
        self._heard = None

        def callback(outdata: Any, frames: int, time: Any, status: Any) -> None:
            nonlocal prime, handed, filled
            if status.output_underflow:
                self.underflows += 1
            lost = gap.update(time.outputBufferDacTime, handed, bool(status.output_underflow))
            handed += frames
            start = min(prime, frames)
            if start:  # a new stream loses its first few ms on some hosts: begin with silence
                outdata[:start, 0] = 0.0
                prime -= start
            if start < frames:
                filled += lost  # the player counts frames lost in an underrun as played (its stream_frames)
                if time.outputBufferDacTime:
                    self._heard = (filled, time.outputBufferDacTime + start / sample_rate, sample_rate)
                filled += frames - start
                if lost:
                    fill(outdata[start:, 0], lost)
                else:
                    fill(outdata[start:, 0])

        try:
            stream = sd.OutputStream(samplerate=sample_rate, channels=1, dtype="float32",
                                     device=self.device, callback=callback, latency=self.latency,
                                     blocksize=self.blocksize)
            stream.start()
        except sd.PortAudioError as exc:
            raise AudioUnavailable(f"Cannot open output '{name}' at {sample_rate} Hz: {exc}. {MISSING_HELP}") from exc
        log.info("playing on %s at %d Hz (latency %.3f s)", name, sample_rate, stream.latency)
        failed = True
        try:
            yield stream
            # Stopping drops what is still buffered on some hosts (ALSA's pulse device lost the last
            # ~60 ms, the end of the stop fade): let the buffered tail play out first.
            sd.sleep(int(1000 * (stream.latency + 2 * self.blocksize / sample_rate)))
            failed = False
        finally:
            if self.underflows:
                log.info("the sound card ran dry %d time(s) (the machine was busy); %d frames measured lost",
                         self.underflows, gap.total)
            try:
                stream.stop()
                stream.close()
            except sd.PortAudioError as exc:
                if not failed:  # after a lost output, closing it fails too: the loss is what to report
                    raise AudioError(f"closing the output failed: {exc}") from exc
                log.debug("closing the output after a failure: %s", exc)


class LossGauge:
    """How many frames an underrun cost, from PortAudio's time info (called on the audio thread).

    ``outputBufferDacTime * rate - frames handed over`` stays constant while the stream runs (measured through
    ALSA's ``pulse`` device: within 1-3 frames). An underrun moves it by exactly what the device played
    without us (positive: it ran dry and played silence; negative: it dropped audio it had). It is read
    :data:`SETTLE_CALLBACKS` callbacks after the stream starts and :data:`MEASURE_AFTER` callbacks after an
    underrun is flagged, once the stream refilled its buffer. Hosts without time info (0) measure nothing.
    """

    SETTLE_CALLBACKS = 8
    """Callbacks before the reference is taken (a new stream's first ones come before it really starts)."""
    MEASURE_AFTER = 4
    """Callbacks after a flagged underrun before the new offset is read (PortAudio refills 3 blocks at once)."""
    LARGEST_SECONDS = 60.0
    """A jump larger than this is taken for a clock change, not an underrun."""

    def __init__(self, sample_rate: int) -> None:
        self.rate = sample_rate
        self.total = 0
        """Frames measured lost in all."""
        self._reference: float | None = None
        self._settle = self.SETTLE_CALLBACKS
        self._pending = -1

    def update(self, dac_time: float, handed: int, underflow: bool) -> int:
        """The frames lost, to report with this callback's block (0 almost always)."""
        if not dac_time:
            return 0
        offset = dac_time * self.rate - handed
        if underflow:
            self._pending = self.MEASURE_AFTER
            if self._reference is None:
                self._settle = self.SETTLE_CALLBACKS
            return 0
        if self._reference is None:
            self._settle -= 1
            if self._settle <= 0:
                self._reference = offset
            return 0
        if self._pending < 0:
            return 0
        self._pending -= 1
        if self._pending > 0:
            return 0
        self._pending = -1
        lost = round(offset - self._reference)
        self._reference = offset
        if abs(lost) > self.LARGEST_SECONDS * self.rate:
            return 0
        self.total += lost
        return lost

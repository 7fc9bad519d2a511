"""Measure what really came out of an audio sink: record a PulseAudio monitor, on a null sink of its own.

``MonitorRecorder`` runs ``parec`` on a sink's monitor and timestamps every chunk as it arrives, so a
recording sample can be mapped to ``time.monotonic()``. ``private_sink`` gives a run a null sink of its own.
Where a known clip starts in the recording is found by ``tests.measure.find_onsets`` (normalised
cross-correlation; the tests use it too). Used by the benchmarks (``python -m benchmarks.live``,
``benchmarks.remote``, ``benchmarks.startup``).
"""

from __future__ import annotations

import bisect
import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import numpy as np
import numpy.typing as npt

from tests.measure import Audio

log = logging.getLogger(__name__)



def first_above(recording: Audio, threshold: float, start: int = 0) -> int | None:
    """Index of the first sample at or after ``start`` whose magnitude reaches ``threshold``."""
    hits = np.flatnonzero(np.abs(recording[start:]) >= threshold)
    return start + int(hits[0]) if len(hits) else None


@contextmanager
def private_sink(name: str, rate: int = 48000) -> Iterator[str]:
    """Load a null sink ``name`` for the duration, with ``PULSE_SINK`` pointing at it; yields its monitor.

    Streams opened meanwhile by this process or its children (libpulse reads ``PULSE_SINK`` when a stream
    opens) play there, so sound that other programs send to the default sink stays out of the recording.
    """
    loaded = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}", f"rate={rate}"],
                            capture_output=True, text=True, check=True)
    before = os.environ.get("PULSE_SINK")
    os.environ["PULSE_SINK"] = name
    try:
        yield f"{name}.monitor"
    finally:
        if before is None:
            os.environ.pop("PULSE_SINK", None)
        else:
            os.environ["PULSE_SINK"] = before
        subprocess.run(["pactl", "unload-module", loaded.stdout.strip()], capture_output=True, check=False)


class MonitorRecorder:
    """Records a PulseAudio source (by default the ``vg_sink`` monitor) with ``parec``, mono 16-bit.

    Every chunk's arrival time is kept, so :meth:`time_of` and :meth:`sample_at` map between sample
    indices and ``time.monotonic()`` (a null sink may render up to one block ahead of the wall clock, so
    a sample's arrival, not ``start + index / rate``, is the honest time it was played).
    """

    def __init__(self, device: str = "vg_sink.monitor", rate: int = 48000, latency_ms: int = 10) -> None:
        self.device = device
        self.rate = rate
        self.latency_ms = latency_ms
        self._data = bytearray()
        self._arrivals: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> MonitorRecorder:
        cmd = ["parec", f"--device={self.device}", "--format=s16le", f"--rate={self.rate}", "--channels=1",
               "--raw", f"--latency-msec={self.latency_ms}"]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._read, name="monitor-recorder", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5.0
        while not self._arrivals:  # wait until the stream really delivers
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"parec could not record {self.device} (is the PulseAudio null sink up?)")
            time.sleep(0.01)
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            now = time.monotonic()
            if not chunk:
                return
            with self._lock:
                self._data += chunk
                self._arrivals.append((now, len(self._data) // 2))

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def samples(self) -> npt.NDArray[np.float32]:
        """Everything recorded so far, float32 in -1..1."""
        with self._lock:
            raw = bytes(self._data[: len(self._data) // 2 * 2])
        return (np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)

    def time_of(self, sample: int) -> float:
        """``time.monotonic()`` when the chunk holding recording sample ``sample`` arrived from ``parec``.

        An upper bound on when the sink played it (it includes ``parec``'s delivery delay, up to about
        ``latency_ms``). Raises ``ValueError`` for a sample not recorded yet.
        """
        with self._lock:
            i = bisect.bisect_right(self._arrivals, sample, key=lambda a: a[1])
            if i == len(self._arrivals):
                raise ValueError(f"sample {sample} has not been recorded yet")
            return self._arrivals[i][0]

    def sample_at(self, when: float) -> int:
        """Samples received by monotonic time ``when``: a lower bound on the index of any sound made later."""
        with self._lock:
            i = bisect.bisect_right(self._arrivals, when, key=lambda a: a[0])
            return self._arrivals[i - 1][1] if i else 0

    def chunk_ms(self) -> float:
        """Median duration of the chunks ``parec`` delivered: the granularity of :meth:`time_of`."""
        with self._lock:
            counts = [n for _, n in self._arrivals]
        sizes = np.diff(counts)
        return float(np.median(sizes)) * 1000.0 / self.rate if len(sizes) else 0.0

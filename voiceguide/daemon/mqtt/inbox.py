"""What paho's network thread hands to the bridge's own thread: a bounded inbox, read at a bounded rate.

paho's thread only moves bytes: each message is put here, or dropped (and counted) when the inbox is full, and
when a flood has used up the read budget that thread sleeps, so the broker holds the rest.
"""

from __future__ import annotations

import contextlib
import queue
import time

from voiceguide.daemon.mqtt.wire import Bucket, RateLimited

INBOX = 64
"""Messages from the broker waiting for our thread; more are dropped."""
RATE, BURST = 500.0, 100.0
"""Messages a second paho's thread reads from the broker at most, after a burst of this many: beyond it the
thread sleeps (giving up the GIL), so a flood of messages cannot crowd out the audio callback, which needs
the GIL too (measured: 10,000 junk messages at once, unthrottled, ran the output dry for 1.8 s on a busy
machine); the broker holds the rest."""

Item = tuple[str, bytes] | None
"""A message (topic, payload), or None: the bridge is closing."""


class Inbox:
    """The bounded queue between paho's thread and the bridge's thread, with paho's read budget."""

    def __init__(self, noise: RateLimited) -> None:
        self._queue: queue.Queue[Item] = queue.Queue(INBOX)
        self._noise = noise
        self.reads = Bucket(RATE, BURST)
        """The read budget (tests raise its rate to test the logic, not the pace)."""
        self.dropped = 0
        """Messages dropped because the inbox was full."""

    def throttle(self) -> None:
        """At most :data:`RATE` messages a second: sleep on paho's thread when a flood has used the bucket up."""
        while not self.reads.take():
            self._noise.say("flood", "MQTT: more than %d messages a second; reading them more slowly", int(RATE))
            time.sleep(1.0 / self.reads.rate)

    def hand_over(self, item: tuple[str, bytes]) -> None:
        """Put a message for the bridge's thread; dropped (counted, said now and then) when full."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            self._noise.say("dropped", "MQTT: %d messages dropped: more arrived than can be handled", self.dropped)

    def nudge(self, item: Item) -> None:
        """Put a note of our own (read the state now; closing); nothing is lost if the inbox is full of work."""
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(item)

    def close(self) -> None:
        """Wake the bridge's thread to end."""
        self.nudge(None)

    def get(self, timeout: float) -> Item:
        """The next item, waiting at most ``timeout`` seconds (``queue.Empty`` when none came)."""
        return self._queue.get(timeout=timeout)

    def qsize(self) -> int:
        """Items waiting (approximate, as ``queue.Queue.qsize``)."""
        return self._queue.qsize()

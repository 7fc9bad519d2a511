"""Wrong pairing codes, counted per client: a guesser is slowed down, the owner's own phone is not.

Each client (an IPv4 address, or an IPv6 /64 network: one machine can hold a whole /64) may send
:attr:`Attempts.limit` wrong codes within :attr:`Attempts.window` seconds; then its attempts (a right code
too) are refused until the oldest wrong one is that old. Other clients are not affected. Together with the
code's own limit (:data:`voiceguide.remote.devices.CODE_TRIES` wrong tries from anyone, then it dies), one
address cannot even use a code up in the ten minutes it lives, and every guess stays a chance in a million.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

log = logging.getLogger(__name__)

MAX_CLIENTS = 4096
"""Clients remembered at most (the oldest are forgotten first), so a flood of addresses cannot grow memory."""


def client_key(host: str | None) -> str:
    """Whom a wrong code is counted against: the IPv4 address, the IPv6 /64, or the name as given."""
    if not host:
        return "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address)


class Attempts:
    """Wrong pairing codes per client."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: int = 5, window: float = 900.0) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self._wrong: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._wrong.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def locked(self, client: str | None) -> float:
        """Seconds until ``client``'s attempts are taken again (0: they are)."""
        key, now = client_key(client), self.clock()
        with self._lock:
            times = self._recent(key, now)
            if not times:
                self._wrong.pop(key, None)
            return max(0.0, times[0] + self.window - now) if len(times) >= self.limit else 0.0

    def wrong(self, client: str | None) -> None:
        """Count one wrong code from ``client``."""
        key, now = client_key(client), self.clock()
        with self._lock:
            times = self._recent(key, now)
            times.append(now)
            self._wrong[key] = times
            self._wrong.move_to_end(key)
            while len(self._wrong) > MAX_CLIENTS:
                self._wrong.popitem(last=False)
            if len(times) == self.limit:
                log.warning("pairing paused for %s after %d wrong codes", key, self.limit)

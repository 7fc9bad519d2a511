"""What the remote's web server lets one network client take: connections, time and header bytes.

uvicorn by itself waits for a request on a fresh connection for ever (its keep-alive timer starts only
after a first response), so a connection that sends nothing, or sends its headers a byte at a time, holds
a file descriptor as long as its sender likes. :func:`settings` adds to uvicorn's own limits a protocol
that gives every connection :data:`REQUEST_HEAD_SECONDS` to send a complete request head (the first, and
each next one after a response) and closes it otherwise. While :data:`MAX_OPEN_CONNECTIONS` are open, a
new connection closes the oldest one still waiting for its head (so a flood of silent connections cannot keep
the owner's phone out), or itself when every open one is being served. A head larger than
:data:`MAX_HEAD_BYTES` that arrives in pieces is refused by h11 (one that arrives in a single read is bounded
by that read, 256 KiB).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

MAX_OPEN_CONNECTIONS = 200
"""Open connections at most (a phone uses a handful). One more closes the oldest connection that has not yet
sent a whole request head, or, when every one is being served, itself."""
LIMIT_CONCURRENCY = MAX_OPEN_CONNECTIONS + 8
"""uvicorn answers 503 while this many connections are open or requests run. It counts silent connections
too, so below the connection cap it would let a flood of them turn the owner away: a backstop only."""
REQUEST_HEAD_SECONDS = 10
"""Seconds a fresh connection has to send its request line and headers (a kept-alive one: the next)."""
KEEP_ALIVE_SECONDS = 5
"""Seconds a connection is kept open after a response for the next request head to arrive complete."""
MAX_HEAD_BYTES = 16 * 1024
"""Largest request head (request line and headers) accepted, in bytes (h11's incomplete event size)."""
GRACEFUL_SECONDS = 2
"""Seconds open requests are given when the server stops."""
LOG_EVERY = 60.0
"""A refused-connection warning is logged at most this often, in seconds."""


def settings(uvicorn: Any) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` that bound what one client can hold."""
    return {"http": guarded_protocol(uvicorn), "limit_concurrency": LIMIT_CONCURRENCY,
            "timeout_keep_alive": KEEP_ALIVE_SECONDS, "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
            "timeout_graceful_shutdown": GRACEFUL_SECONDS,
            "ws": "none"}  # the pages poll /api/status: no WebSocket upgrade to answer, nor its library to load


def guarded_protocol(uvicorn: Any) -> type:
    """uvicorn's h11 protocol with a deadline for the request head and a cap on open connections."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    last_warning = [0.0]
    waiting: dict[Any, None] = {}
    """Connections still waiting for a whole request head, oldest first (a dict keeps insertion order)."""

    class GuardedH11Protocol(H11Protocol):
        _head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            if len(self.connections) > MAX_OPEN_CONNECTIONS:
                now = time.monotonic()
                if now - last_warning[0] >= LOG_EVERY:
                    last_warning[0] = now
                    log.warning("phone remote: more than %d connections open; closing the oldest that sent "
                                "no request", MAX_OPEN_CONNECTIONS)
                if not waiting:  # every open connection is being served: this one waits its turn elsewhere
                    transport.close()
                    return
                oldest = next(iter(waiting))  # a fresh connection (the owner's phone) beats a silent one
                oldest._stop_waiting()
                oldest.transport.close()
            self._await_head()

        def _await_head(self) -> None:
            """Close the connection unless a complete request head arrives in time (any byte resets uvicorn's
            keep-alive timer, so a trickle of header bytes would keep the connection for ever)."""
            self._stop_waiting()
            self._head_deadline = self.loop.call_later(REQUEST_HEAD_SECONDS, self._too_slow)
            waiting[self] = None

        def _stop_waiting(self) -> None:
            waiting.pop(self, None)
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _too_slow(self) -> None:
            self._head_deadline = None
            waiting.pop(self, None)
            if not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request head arrived whole
                self._stop_waiting()

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._await_head()  # before uvicorn looks at a pipelined next request, which stops it again
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

    return GuardedH11Protocol


def quiet_shortages(loop: asyncio.AbstractEventLoop) -> None:
    """Log asyncio's "out of system resource" on ``accept`` as one warning a minute, without a traceback.

    asyncio waits a second and accepts again by itself; under a flood it would log an error with a
    traceback every second, which reads like a crash to the person looking after the device."""
    last = [-LOG_EVERY]

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and "out of system resource" in str(context.get("message", "")):
            now = time.monotonic()
            if now - last[0] >= LOG_EVERY:
                last[0] = now
                log.warning("phone remote: cannot accept connections for now (%s); trying again each second",
                            exc.strerror or exc)
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)

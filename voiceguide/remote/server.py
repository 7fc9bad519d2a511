"""The remote's web server: uvicorn on a thread of the daemon, with an event loop of its own.

It is a daemon *trigger* (``start``/``close``) so the daemon starts and stops it with the rest, but it posts
nothing on the daemon's queue itself: every request goes through the control socket like ``voiceguide ctl``.
The listening socket is bound in :meth:`RemoteServer.start`, so a port in use is reported at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide.daemon.config import DaemonConfig, Remote, config_path
from voiceguide.daemon.events import Event
from voiceguide.errors import BackendError
from voiceguide.remote import bounds

if TYPE_CHECKING:
    from voiceguide.remote.cert import Certificate

log = logging.getLogger(__name__)

CLOSE_WAIT = 3.0
"""Seconds ``close`` waits for the server thread."""
BACKLOG = 1024
"""Connections the kernel queues before the server accepts them (it caps this at net.core.somaxconn); a
queued connection holds no descriptor of ours, and a full queue makes a phone's connect wait seconds."""


def _quiet_server(uvicorn: Any, settings: Any) -> Any:
    """A uvicorn server that sleeps until it is stopped instead of waking ten times a second to check.

    (uvicorn's own main loop polls ``should_exit`` every 0.1 s, measurable CPU on an idle bedside device.)
    """

    class QuietServer(uvicorn.Server):  # type: ignore[misc]
        _stop: asyncio.Event | None = None
        _loop: asyncio.AbstractEventLoop | None = None

        async def main_loop(self) -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            bounds.quiet_shortages(self._loop)
            await self.on_tick(0)  # sets the default headers once
            if not self.should_exit:
                await self._stop.wait()

        def stop(self) -> None:
            self.should_exit = True
            if self._loop is not None and self._stop is not None:
                with contextlib.suppress(RuntimeError):  # the loop has already closed
                    self._loop.call_soon_threadsafe(self._stop.set)

    return QuietServer(settings)


class RemoteServer:
    """Serves the phone remote of ``config`` while the daemon runs."""

    name = "phone remote"

    def __init__(self, config: DaemonConfig, control_socket: Path | None = None, tls: Certificate | None = None,
                 folder: Path | None = None) -> None:
        """``tls``: the certificate to serve with; None: the one ``[remote]`` names, or the device's own (made
        on first use) when HTTPS is on. ``folder``: paired devices and the device's certificate (default:
        :func:`~voiceguide.remote.devices.remote_dir`)."""
        assert config.remote is not None
        self.remote: Remote = config.remote
        self.config = config
        self.control_socket = control_socket
        self.tls = tls
        self.folder = folder
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, post: Callable[[Event], None]) -> None:
        """Bind the port and serve on a thread."""
        try:
            import uvicorn

            from voiceguide.remote import cert
            from voiceguide.remote.context import Context
            from voiceguide.remote.devices import Devices, remote_dir
            from voiceguide.remote.link import Link, socket_request
            from voiceguide.remote.site import create_app
        except ImportError as exc:
            raise BackendError("the phone remote needs its extra: pip install 'voiceguide[remote]'") from exc
        remote = self.remote
        folder = self.folder or remote_dir()
        tls = self.tls or cert.for_remote(remote, folder, child=True)  # cryptography stays out of the daemon
        family = socket.AF_INET6 if ":" in remote.listen else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((remote.listen, remote.port))
            sock.listen(BACKLOG)
        except OSError as exc:
            sock.close()
            raise BackendError(f"cannot listen on {remote.listen}:{remote.port}: {exc.strerror or exc}") from exc
        ctx = Context(remote, self.config.path or config_path(), self.config.journal,
                      Link(socket_request(self.control_socket)), Devices(folder),
                      fingerprint=tls.fingerprint if tls else "")
        files = {"ssl_certfile": str(tls.certificate), "ssl_keyfile": str(tls.key)} if tls else {}
        limits = bounds.settings(uvicorn)  # connections, time and header bytes per client
        settings = uvicorn.Config(create_app(ctx), log_level="warning", access_log=False, lifespan="on",
                                  server_header=False, date_header=False, **limits, **files)  # type: ignore[arg-type]
        try:
            settings.load()  # reads the certificate now: a bad one is reported at start, not on first request
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise BackendError(f"cannot use the TLS certificate or key: {exc}") from exc
        server = _quiet_server(uvicorn, settings)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="voiceguide-remote",
                                        daemon=True)
        self._thread.start()
        if tls:
            log.info("phone remote on https://%s:%d (certificate SHA-256 %s)", remote.listen, remote.port,
                     tls.fingerprint)
        else:
            log.info("phone remote on http://%s:%d", remote.listen, remote.port)

    def close(self) -> None:
        """Stop serving (open requests are given a moment)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join(CLOSE_WAIT)

"""The remote's way to the daemon: the same control socket and JSON lines as ``voiceguide ctl``.

Nothing here touches the daemon's state directly; every action is a ctl request, so the page can do no more
than ``voiceguide ctl`` can.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from anyio import to_thread

from voiceguide.daemon import ctl_socket
from voiceguide.daemon.messages import SESSION_COMMANDS, CtlRequest
from voiceguide.errors import DaemonError

Request = Callable[[dict[str, Any]], dict[str, Any]]
"""Sends one ctl message and returns the daemon's reply (a fake in tests)."""

ACTIONS = SESSION_COMMANDS
"""The controls the Now page offers."""


def socket_request(path: Path | None) -> Request:
    """Requests over the control socket at ``path`` (default: where ``voiceguide ctl`` looks)."""

    def send(message: dict[str, Any]) -> dict[str, Any]:
        return ctl_socket.request(message, path)

    return send


class Link:
    """Async calls to the daemon for the web handlers (each runs the blocking request on a worker thread)."""

    def __init__(self, send: Request) -> None:
        self.send = send

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        """The daemon's reply, or ``{"ok": false, "error": ...}`` when it cannot be reached."""
        try:
            return await to_thread.run_sync(self.send, message)
        except DaemonError as exc:
            return {"ok": False, "error": str(exc)}

    async def status(self) -> dict[str, Any]:
        """``ctl status``."""
        return await self.ask(CtlRequest("status").to_dict())

    async def start(self, session: str, minutes: float | None) -> dict[str, Any]:
        """``ctl start``."""
        return await self.ask(CtlRequest("start", session, minutes).to_dict())

    async def control(self, action: str) -> dict[str, Any]:
        """One of :data:`ACTIONS`."""
        if action not in ACTIONS:
            return {"ok": False, "error": f"unknown action {action!r}"}
        return await self.ask(CtlRequest(action).to_dict())

    async def volume(self, level: float) -> dict[str, Any]:
        """Set the daemon's master volume, 0..1."""
        return await self.ask(CtlRequest("volume", level=min(1.0, max(0.0, level))).to_dict())

    async def reload(self) -> dict[str, Any]:
        """Make the daemon read its config file again."""
        return await self.ask(CtlRequest("reload").to_dict())

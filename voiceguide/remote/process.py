"""The phone remote in a process of its own: ``python -I -m voiceguide.remote.process --config FILE --socket
PATH``, started and watched by the daemon (:class:`voiceguide.daemon.remote_process.RemoteProcess`).

Whatever the network does to the web server (connections, slow requests, memory, the interpreter lock)
stays in this process: the daemon's audio and control socket are in another. It talks to the daemon only
through the control socket, like ``voiceguide ctl``. It ends on SIGTERM or SIGINT, and when its standard
input reaches its end: the daemon holds the other end, so the remote never outlives it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from voiceguide.daemon.config_read import load_config
from voiceguide.daemon.files import raise_file_limit
from voiceguide.errors import VoiceguideError
from voiceguide.remote.server import RemoteServer

log = logging.getLogger(__name__)

NICE = 10
"""How much lower the remote's CPU priority is than the daemon's."""
EXIT_CONFIG = 2
"""Exit code when the remote cannot start (no [remote] table, port in use, bad certificate)."""


def main(argv: list[str] | None = None) -> int:
    """Serve the remote of ``--config`` until told to stop; returns the exit code."""
    parser = argparse.ArgumentParser(prog="voiceguide-remote", description=__doc__)
    parser.add_argument("--config", type=Path, help="the daemon's config file")
    parser.add_argument("--socket", type=Path, required=True, help="the daemon's control socket")
    args = parser.parse_args(argv)
    from voiceguide.safe_text import SafeFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    raise_file_limit()
    with contextlib.suppress(OSError):
        os.nice(NICE)  # the audio in the daemon comes first when the two want the same core
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, on_signal)
    threading.Thread(target=_until_end_of_input, args=(stop,), name="voiceguide-remote-parent", daemon=True).start()
    try:
        config = load_config(args.config)
        if config.remote is None:
            raise VoiceguideError("the config has no [remote] table")
        server = RemoteServer(config, args.socket)
        server.start(lambda event: None)
    except VoiceguideError as exc:
        log.error("phone remote not started: %s", exc)
        return EXIT_CONFIG
    try:
        while not stop.wait(3600):
            pass
    finally:
        server.close()
    return 0


def _until_end_of_input(stop: threading.Event) -> None:
    """Set ``stop`` when standard input ends (the daemon that started us has gone)."""
    try:
        while os.read(0, 4096):  # the raw descriptor: a thread blocked in sys.stdin would hold its lock
            pass  # at interpreter exit, which Python reports as a fatal error
    except OSError:
        pass
    stop.set()


if __name__ == "__main__":
    sys.exit(main())

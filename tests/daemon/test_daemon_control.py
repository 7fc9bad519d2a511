"""The control socket and ``voiceguide ctl``: private to the user, one JSON line each way, clear errors."""

from __future__ import annotations

import datetime as dt
import json
import queue
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import FollowsCommands
from voiceguide.cli import main as cli
from voiceguide.daemon.clock import SystemWallClock
from voiceguide.daemon.config import DaemonConfig
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.ctl_socket import ControlServer, private_dir, request, socket_path, to_event
from voiceguide.daemon.events import Control, Event, Prepared, Shutdown, Start, StartRequest, Status
from voiceguide.errors import DaemonError
from voiceguide.live.events import RunState
from voiceguide.playback.control import Command, Snapshot


class AutoWorker(FollowsCommands):
    """Prepares instantly: posts Prepared for every play job."""

    snapshot: Snapshot | None = None
    sample_rate = 0

    def __init__(self, events: queue.SimpleQueue[Event]) -> None:
        self.events = events
        self.commands: list[Command] = []

    def submit(self, kind: str, request: StartRequest) -> None:
        if kind == "play":
            self.prepared()
            self.events.put(Prepared(request, 61.5))

    def command(self, command: Command) -> RunState:
        self.commands.append(command)
        return self.commanded(command)

    def close(self, timeout: float = 0.0) -> None:
        pass


@pytest.fixture
def daemon(runtime: Path) -> Iterator[Daemon]:
    """A daemon loop on a thread, with the real control socket and a worker that plays nothing."""
    yield from _running(DaemonConfig())


def _running(config: DaemonConfig) -> Iterator[Daemon]:
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    server = ControlServer()
    server.start(events.put)  # listening before the loop runs: no waiting for it
    d = Daemon(config, events, AutoWorker(events), SystemWallClock(), [server])
    d.triggers = []
    thread = threading.Thread(target=d.run, daemon=True)
    thread.start()
    yield d
    events.put(Shutdown("test"))
    thread.join(5)
    server.close()
    assert not thread.is_alive(), "the daemon did not exit"
    assert not socket_path().exists(), "the socket file was left behind"


def test_socket_and_folder_are_private(daemon: Daemon, runtime: Path) -> None:
    path = socket_path()
    assert path.parent == runtime / "voiceguide"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_ISSOCK(path.stat().st_mode)


def test_ctl_start_pause_status_stop_round_trip(daemon: Daemon, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ctl", "start", "demo", "--minutes", "2"]) == 0
    assert capsys.readouterr().out == "playing demo (61.5 s)\n"
    assert daemon.current == StartRequest("demo", "ctl", 2.0)
    assert cli.main(["ctl", "start", "box"]) == 1
    assert "busy: demo is playing" in capsys.readouterr().err
    assert cli.main(["ctl", "pause"]) == 0
    assert cli.main(["ctl", "status", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[-1]) == {"ok": True, "state": "paused", "session": "demo", "source": "ctl",
                                   "seconds": 61.5, "ended": 0}
    assert cli.main(["ctl", "stop"]) == 0
    assert daemon.worker.commands == [Command.PAUSE, Command.STOP]  # type: ignore[attr-defined]


def test_bad_requests_get_an_answer_not_a_crash(daemon: Daemon) -> None:
    path = socket_path()
    for raw, error in ((b"hello\n", "not a JSON request"), (b'{"command": "dance"}\n', "unknown command 'dance'"),
                       (b'{"command": "start"}\n', "start needs a session"),
                       (b'{"command": "start", "session": "x", "minutes": -1}\n', "minutes must be")):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(path))
            s.sendall(raw)
            reply = json.loads(s.makefile("rb").readline())
        assert reply["ok"] is False and error in reply["error"], reply
    assert request({"command": "status"})["state"] == "idle", "still answering"


def test_a_second_daemon_refuses_to_start(daemon: Daemon) -> None:
    with pytest.raises(DaemonError, match="already running"):
        ControlServer().start(lambda e: None)


def test_a_stale_socket_is_replaced(runtime: Path) -> None:
    path = socket_path()
    private_dir(path.parent)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # bound but nobody listens: what a killed daemon leaves
    server = ControlServer()
    got: list[Event] = []
    server.start(got.append)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        server.close()


def test_an_open_runtime_folder_is_made_private(runtime: Path) -> None:
    folder = runtime / "voiceguide"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    private_dir(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_ctl_without_a_daemon_says_how_to_start_one(runtime: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ctl", "status"]) == 1
    err = capsys.readouterr().err
    assert "not running" in err and "voiceguide daemon" in err and "Traceback" not in err


def test_ctl_start_needs_a_session(runtime: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ctl", "start"]) == 1
    assert "needs a SESSION" in capsys.readouterr().err


def test_requests_map_to_events() -> None:
    def reply(r: object) -> None:
        return None

    assert to_event({"command": "status"}, reply) == Status(reply)
    assert to_event({"command": "pause"}, reply) == Control(Command.TOGGLE, "ctl", reply)
    assert to_event({"command": "resume"}, reply) == Control(Command.RESUME, "ctl", reply)
    assert to_event({"command": "stop"}, reply) == Control(Command.STOP, "ctl", reply)
    assert to_event({"command": "start", "session": "box"}, reply) == Start(StartRequest("box", "ctl"), reply)
    assert to_event([1], reply) == "a request is a JSON object with a 'command'"


def test_status_reports_the_next_scheduled_session_over_the_socket(runtime: Path) -> None:
    from voiceguide.daemon.config_read import loads_config

    for _ in _running(loads_config('[[schedule]]\nsession = "demo"\nat = "3:00"\n')):
        reply = request({"command": "status"})
        when = dt.datetime.fromisoformat(reply["next"]["at"])
        assert reply["next"]["session"] == "demo" and when.time() == dt.time(3, 0)
        assert dt.timedelta(0) < when - dt.datetime.now() <= dt.timedelta(days=1)


def test_a_request_is_one_typed_message_both_ways() -> None:
    from voiceguide.daemon.messages import CtlRequest

    for asked in (CtlRequest("start", "box", 5.0), CtlRequest("start", "demo"), CtlRequest("volume", level=0.5),
                    CtlRequest("pause"), CtlRequest("status")):
        assert CtlRequest.from_dict(json.loads(json.dumps(asked.to_dict()))) == asked
    assert CtlRequest("start", "demo").to_dict() == {"command": "start", "session": "demo"}
    assert CtlRequest.from_dict({"command": "start", "session": "x", "minutes": True}) == \
        "minutes must be a number more than 0 and at most 1440"
    assert CtlRequest.from_dict({"command": "volume", "level": float("nan")}) == "volume needs a level from 0 to 1"


def test_a_reply_is_one_typed_message_both_ways() -> None:
    from voiceguide.cli.daemon import describe_reply
    from voiceguide.daemon.messages import CtlReply, NextScheduled

    status = CtlReply(True, state="listening", session="demo", source="ctl", seconds=60.0, position=12.0,
                      step=2, steps=3, next=NextScheduled("box", "2026-11-30T22:30"))
    wire = json.loads(json.dumps(status.to_dict()))
    assert wire["next"] == {"session": "box", "at": "2026-11-30T22:30"} and "error" not in wire
    assert CtlReply.from_dict(wire) == status
    assert describe_reply("status", status) == \
        "listening: demo (from ctl) at 12.0 of 60.0 s; next scheduled: box at 2026-11-30T22:30"
    assert CtlReply.refused("nothing is playing").to_dict() == {"ok": False, "error": "nothing is playing"}

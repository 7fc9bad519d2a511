"""Deeply nested configs and control messages get a clear "nested too deeply", never a RecursionError."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from voiceguide.cli.main import main
from voiceguide.daemon.config_read import load_config, loads_config
from voiceguide.daemon.ctl_socket import ControlServer, request
from voiceguide.daemon.events import Event, Status
from voiceguide.errors import ConfigError, DaemonError, ScriptError
from voiceguide.script import parse
from voiceguide.script.checks import MAX_NESTING, too_deep


def nested(depth: int) -> str:
    return "a = " + "[" * depth + "]" * depth + "\n"


def test_too_deep_walks_without_recursion() -> None:
    deep: list[object] = []
    for _ in range(100_000):  # far past Python's recursion limit
        deep = [deep]
    assert too_deep(deep)
    shallow: dict[str, object] = {"a": [{"b": [1, 2]}], "c": 3}
    assert not too_deep(shallow) and not too_deep(5)
    exact: list[object] = []
    for _ in range(MAX_NESTING - 1):
        exact = [exact]
    assert not too_deep(exact) and too_deep([exact])


@pytest.mark.parametrize("depth", [40, 5000])
def test_a_deeply_nested_config_is_refused_clearly(depth: int, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        loads_config(nested(depth))
    assert str(info.value) == "config.toml: file: invalid TOML: nested too deeply"
    deep_table = "[audio]\nx = " + "{a = " * depth + "1" + "}" * depth + "\n"
    with pytest.raises(ConfigError, match="nested too deeply"):
        loads_config(deep_table)
    path = tmp_path / "deep.toml"
    path.write_text(nested(depth), encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)


def test_scripts_use_the_same_limit() -> None:
    with pytest.raises(ScriptError, match=r"box\.toml: file: invalid TOML: nested too deeply"):
        parse.loads('[session]\ntitle = "T"\n' + nested(40) + '[[step]]\nsay = "Hi."\n', name="box.toml")


def test_doctor_and_daemon_say_nested_too_deeply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(nested(5000), encoding="utf-8")
    assert main(["doctor", "--config", str(path)]) == 1
    assert "deep.toml: file: invalid TOML: nested too deeply" in capsys.readouterr().out
    assert main(["daemon", "--config", str(path)]) == 1
    assert "deep.toml: file: invalid TOML: nested too deeply" in capsys.readouterr().err


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A control socket whose daemon answers status at once."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))

    def post(event: Event) -> None:
        if isinstance(event, Status):
            event.reply({"ok": True, "state": "idle"})

    control = ControlServer()
    control.start(post)
    yield control.path
    control.close()


def _send(path: Path, raw: bytes) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(raw)
        line = sock.makefile("rb").readline()
    reply: dict[str, object] = json.loads(line)
    return reply


@pytest.mark.parametrize("raw", [b"[" * 3000 + b"\n", b"[" * 2000 + b"]" * 2000 + b"\n",
                                 b'{"command": "status", "x": ' + b"[" * 40 + b"]" * 40 + b"}\n",
                                 b'{"a":' * 600 + b"1" + b"}" * 600 + b"\n"])
def test_a_deeply_nested_ctl_message_gets_an_error_reply_and_the_daemon_stays_up(server: Path, raw: bytes) -> None:
    assert _send(server, raw) == {"ok": False, "error": "not a JSON request: nested too deeply"}
    assert request({"command": "status"}, path=server) == {"ok": True, "state": "idle"}, "still answering"


def test_ctl_refuses_a_deeply_nested_answer(tmp_path: Path) -> None:
    path = tmp_path / "fake.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen(1)

        def answer() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.makefile("rb").readline()
                conn.sendall(b"[" * 100_000 + b"\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        with pytest.raises(DaemonError, match="unreadable answer"):
            request({"command": "status"}, path=path, timeout=10)
        thread.join(5)

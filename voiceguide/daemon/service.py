"""``voiceguide service install|uninstall``: a systemd *user* unit that keeps the daemon running.

A user unit runs in the user's session, where PipeWire or PulseAudio lives: ``XDG_RUNTIME_DIR=%t`` (that
is ``/run/user/UID``) lets the audio libraries find the sound server's socket. For it to start at boot
without anyone logging in, the user needs lingering: ``sudo loginctl enable-linger USER``.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voiceguide import places
from voiceguide.errors import VoiceguideError

UNIT_NAME = "voiceguide.service"
LINGER_DIR = Path("/var/lib/systemd/linger")
UNIT_FILE = 0o644
"""Mode of the unit file (systemd's own files are readable by all; it holds no secret)."""

Systemctl = Callable[[list[str]], tuple[int, str]]
"""Runs ``systemctl --user ARGS``; returns (exit code, output). Injected so tests never touch systemd."""


def unit_dir() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user`` (``~/.config/systemd/user``)."""
    return places.systemd_user_dir()


def unit_path() -> Path:
    """The unit file voiceguide writes."""
    return unit_dir() / UNIT_NAME


def _quote(word: str) -> str:
    if word and not any(c in word for c in ' \t"\'\\$%;'):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$").replace("%", "%%")
    return f'"{escaped}"'


def unit_text(python: str = sys.executable, config: Path | None = None) -> str:
    """The unit file's contents, running this Python's voiceguide."""
    command = [python, "-I", "-u", "-m", "voiceguide", "daemon"]  # isolated (no PYTHON* variables, no user
    # site, not the working folder on the path) and unbuffered, so the log reaches the journal at once
    if config is not None:
        command += ["--config", str(config.expanduser().resolve())]
    return f"""\
# Written by 'voiceguide service install'; remove with 'voiceguide service uninstall'.
[Unit]
Description=voiceguide: guided breathing and grounding sessions (bedside daemon)
# Start after the sound server when there is one; the daemon also waits for it by itself.
After=pipewire.service pipewire-pulse.service pulseaudio.service wireplumber.service

[Service]
Type=simple
ExecStart={' '.join(_quote(w) for w in command)}
# %t is the user's runtime directory (/run/user/UID): where PipeWire/PulseAudio put their socket.
Environment=XDG_RUNTIME_DIR=%t
Restart=on-failure
RestartSec=5
# The daemon stops any session with a fade and exits within 2 s of SIGTERM.
TimeoutStopSec=10
Nice=5

[Install]
WantedBy=default.target
"""


def run_systemctl(args: list[str]) -> tuple[int, str]:
    """The real ``systemctl --user``; (127, why) if it is not installed."""
    if shutil.which("systemctl") is None:
        return 127, "systemctl is not installed"
    try:
        done = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


def install(config: Path | None = None, python: str = sys.executable) -> Path:
    """Write the unit file (replacing an older one); returns its path."""
    path = unit_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with places.replacing(path, UNIT_FILE) as tmp, open(tmp, "w", encoding="utf-8") as out:
            out.write(unit_text(python, config))
    except OSError as exc:
        raise VoiceguideError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def uninstall() -> Path | None:
    """Remove the unit file; returns its path, or None if there was none."""
    path = unit_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise VoiceguideError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return path


def user_name() -> str:
    """The login name (for ``loginctl enable-linger``)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@dataclass(frozen=True)
class ServiceState:
    """How the service stands, for ``voiceguide doctor``."""

    installed: bool
    """The unit file exists."""
    active: str | None
    """``systemctl --user is-active`` output (active, inactive, failed ...), None if systemctl cannot tell."""
    linger: bool
    """Lingering is on for this user (the service starts at boot without a login)."""


def state(systemctl: Systemctl | None = None, linger_dir: Path | None = None) -> ServiceState:
    """Read the service's state; only asks systemd, never changes it."""
    systemctl = systemctl or run_systemctl
    linger_dir = linger_dir or LINGER_DIR
    installed = unit_path().is_file()
    active = None
    if installed:
        code, out = systemctl(["is-active", UNIT_NAME])
        word = out.splitlines()[-1].strip() if out else ""
        active = word if code != 127 and word and " " not in word else None
    return ServiceState(installed, active, (linger_dir / user_name()).exists())

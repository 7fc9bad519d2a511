"""Pairing codes and device tokens: the only way a phone gets in.

``voiceguide remote pair`` writes a short one-time code (its SHA-256 and when it expires) into
``remote/pairing.json``; the page swaps a correct code for a long random token, which the phone keeps in a
cookie. Only SHA-256 hashes of codes and tokens are stored, in files of mode 0600 in a 0700 folder inside
voiceguide's own data folder. Wrong codes are counted by :class:`Attempts`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import platformdirs

from voiceguide.errors import VoiceguideError
from voiceguide.script.library import APP

log = logging.getLogger(__name__)

CODE_DIGITS = 6
"""Length of a pairing code."""
CODE_SECONDS = 600.0
"""How long a pairing code is valid."""
TOKEN_BYTES = 32
"""Random bytes in a device token (43 characters in the cookie)."""
MAX_FILE = 256 * 1024
"""Largest devices or pairing file read."""


def remote_dir() -> Path:
    """``~/.local/share/voiceguide/remote`` on Linux."""
    return Path(platformdirs.user_data_dir(APP)) / "remote"


def digest(secret: str) -> str:
    """The SHA-256 of a code or token, as stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Device:
    """A paired phone (or script)."""

    id: str
    """A short public id, for ``voiceguide remote revoke``."""
    name: str
    """What the person called it when pairing (or the browser's name)."""
    hash: str
    """SHA-256 of its token; the token itself is never stored."""
    paired: str
    """When it was paired (ISO 8601 local time)."""


class Devices:
    """The paired devices and the pending pairing code, in ``folder``."""

    def __init__(self, folder: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder if folder is not None else remote_dir()
        self.clock = clock
        self._lock = threading.Lock()

    @property
    def devices_file(self) -> Path:
        """The list of paired devices."""
        return self.folder / "devices.json"

    @property
    def pairing_file(self) -> Path:
        """The pending pairing code."""
        return self.folder / "pairing.json"

    # --- files -------------------------------------------------------------------------------------
    def _read(self, path: Path) -> object:
        try:
            with path.open("rb") as f:
                if not os.path.isfile(path) or os.fstat(f.fileno()).st_size > MAX_FILE:
                    raise VoiceguideError(f"{path} is not a small regular file; remove it and pair again")
                return json.loads(f.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise VoiceguideError(f"cannot read {path}: {exc}; remove it and pair again") from exc

    def _write(self, path: Path, value: object) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.folder.chmod(0o700)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(value, f, indent=1)
            os.replace(tmp, path)
        except OSError as exc:
            raise VoiceguideError(f"cannot write {path}: {exc.strerror or exc}") from exc

    # --- pairing codes -----------------------------------------------------------------------------
    def new_code(self) -> str:
        """A fresh one-time code (replacing any earlier one), valid for :data:`CODE_SECONDS`."""
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        with self._lock:
            self._write(self.pairing_file, {"hash": digest(code), "expires": self.clock() + CODE_SECONDS})
        return code

    def redeem(self, code: str, name: str) -> str | None:
        """A new device token if ``code`` is the pending code (which is then used up), else None."""
        with self._lock:
            pending = self._read(self.pairing_file)
            if not isinstance(pending, dict) or not isinstance(pending.get("hash"), str):
                return None
            expires = pending.get("expires")
            if not isinstance(expires, int | float) or self.clock() > expires:
                with contextlib.suppress(OSError):
                    self.pairing_file.unlink()
                return None
            if not hmac.compare_digest(digest(code.strip()), pending["hash"]):
                return None
            with contextlib.suppress(OSError):
                self.pairing_file.unlink()
            return self._add(name)

    def add_token(self, name: str) -> str:
        """A device token made without a code (``voiceguide remote token``, for scripts)."""
        with self._lock:
            return self._add(name)

    def _add(self, name: str) -> str:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        device = Device(secrets.token_hex(3), _clean_name(name), digest(token),
                        datetime.now().astimezone().isoformat(timespec="seconds"))
        self._write(self.devices_file, [asdict(d) for d in [*self._list(), device]])
        log.info("paired a device: %s (%s)", device.name, device.id)
        return token

    # --- devices -----------------------------------------------------------------------------------
    def _list(self) -> list[Device]:
        raw = self._read(self.devices_file)
        if not isinstance(raw, list):
            return []
        found = []
        for item in raw:
            if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("id", "name", "hash", "paired")):
                found.append(Device(item["id"], item["name"], item["hash"], item["paired"]))
        return found

    def list(self) -> list[Device]:
        """Every paired device, oldest first."""
        with self._lock:
            return self._list()

    def find(self, token: str) -> Device | None:
        """The device holding ``token``, or None (compared in constant time)."""
        wanted = digest(token)
        match = None
        for device in self.list():
            if hmac.compare_digest(device.hash, wanted):
                match = device
        return match

    def revoke(self, device_id: str) -> Device | None:
        """Forget a device (``all`` forgets every one); returns one removed device, or None."""
        with self._lock:
            devices = self._list()
            gone = [d for d in devices if device_id in (d.id, "all")]
            if gone:
                self._write(self.devices_file, [asdict(d) for d in devices if d not in gone])
            return gone[0] if gone else None


def _clean_name(name: str) -> str:
    text = "".join(c for c in name if c.isprintable())[:60].strip()
    return text or "a phone"


class Attempts:
    """Wrong pairing codes: after :attr:`limit` within :attr:`window` seconds, every attempt is refused for
    :attr:`pause` seconds (a right code too)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: int = 5, window: float = 60.0,
                 pause: float = 300.0) -> None:
        self.clock, self.limit, self.window, self.pause = clock, limit, window, pause
        self._wrong: deque[float] = deque()
        self._locked_until = 0.0
        self._lock = threading.Lock()

    def locked(self) -> float:
        """Seconds until attempts are taken again (0: they are)."""
        with self._lock:
            return max(0.0, self._locked_until - self.clock())

    def wrong(self) -> None:
        """Count one wrong code."""
        with self._lock:
            now = self.clock()
            self._wrong.append(now)
            while self._wrong and self._wrong[0] < now - self.window:
                self._wrong.popleft()
            if len(self._wrong) >= self.limit:
                self._locked_until = now + self.pause
                self._wrong.clear()
                log.warning("pairing locked for %g s after %d wrong codes", self.pause, self.limit)

"""Pairing codes and device tokens: the only way a phone gets in.

``voiceguide remote pair`` writes a short one-time code (its SHA-256 and when it expires) into
``remote/pairing.json``; the page swaps a correct code for a long random token, which the phone keeps in a
cookie. Only SHA-256 hashes of codes and tokens are stored, in files of mode 0600 in a 0700 folder inside
voiceguide's own data folder. A code dies after :data:`CODE_TRIES` wrong tries (from anyone); wrong tries per
client are limited by :class:`voiceguide.remote.attempts.Attempts`. A token that has not been used for
:data:`IDLE_DAYS` days is refused (and forgotten).
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
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from voiceguide import places
from voiceguide.errors import VoiceguideError

log = logging.getLogger(__name__)

CODE_DIGITS = 6
"""Length of a pairing code."""
CODE_SECONDS = 600.0
"""How long a pairing code is valid."""
TOKEN_BYTES = 32
"""Random bytes in a device token (43 characters in the cookie)."""
CODE_TRIES = 10
"""Wrong tries a pairing code survives: whoever guesses has at most this many chances in a million."""
IDLE_DAYS = 90
"""A device token unused for this many days no longer opens the page."""
TOUCH_SECONDS = 3600.0
"""When a device was last used is written at most this often (a write per request would wear an SD card)."""
MAX_FILE = 256 * 1024
"""Largest devices or pairing file read."""


def remote_dir() -> Path:
    """``~/.local/share/voiceguide/remote`` on Linux."""
    return places.data_dir() / "remote"


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
    used: str = ""
    """When it last opened the page (ISO 8601 local time; written at most hourly); "" for a device paired before this
    was kept (it counts as used from the first time it is seen)."""

    def idle_since(self) -> float | None:
        """When it was last used, in seconds since the epoch (None: not known)."""
        try:
            return datetime.fromisoformat(self.used).timestamp() if self.used else None
        except ValueError:
            return None


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
            places.private_dir(self.folder)
            places.write_private(path, json.dumps(value, indent=1))
        except OSError as exc:
            raise VoiceguideError(f"cannot write {path}: {exc.strerror or exc}") from exc

    # --- pairing codes -----------------------------------------------------------------------------
    def new_code(self) -> str:
        """A fresh one-time code (replacing any earlier one), valid for :data:`CODE_SECONDS`."""
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        with self._lock:
            self._write(self.pairing_file, {"hash": digest(code), "expires": self.clock() + CODE_SECONDS, "wrong": 0})
        return code

    def redeem(self, code: str, name: str) -> str | None:
        """A new device token if ``code`` is the pending code (which is then used up), else None.

        A wrong code counts against the pending one, which dies after :data:`CODE_TRIES` of them."""
        with self._lock:
            pending = self._read(self.pairing_file)
            if not isinstance(pending, dict) or not isinstance(pending.get("hash"), str):
                return None
            expires, wrong = pending.get("expires"), pending.get("wrong", 0)
            if not isinstance(expires, int | float) or self.clock() > expires or not isinstance(wrong, int):
                self._drop_code()
                return None
            if not hmac.compare_digest(digest(code.strip()), pending["hash"]):
                if wrong + 1 >= CODE_TRIES:
                    log.warning("a pairing code died after %d wrong tries", CODE_TRIES)
                    self._drop_code()
                else:
                    self._write(self.pairing_file, {**pending, "wrong": wrong + 1})
                return None
            self._drop_code()
            return self._add(name)

    def _drop_code(self) -> None:
        with contextlib.suppress(OSError):
            self.pairing_file.unlink()

    def add_token(self, name: str) -> str:
        """A device token made without a code (``voiceguide remote token``, for scripts)."""
        with self._lock:
            return self._add(name)

    def _stamp(self) -> str:
        return datetime.fromtimestamp(self.clock()).astimezone().isoformat(timespec="seconds")

    def _add(self, name: str) -> str:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._stamp()
        device = Device(secrets.token_hex(3), _clean_name(name), digest(token), now, now)
        kept = [d for d in self._list() if not self.expired(d)]
        self._write(self.devices_file, [asdict(d) for d in [*kept, device]])
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
                used = item.get("used")
                found.append(Device(item["id"], item["name"], item["hash"], item["paired"],
                                    used if isinstance(used, str) else ""))
        return found

    def expired(self, device: Device) -> bool:
        """Whether ``device`` has not been used for :data:`IDLE_DAYS` days."""
        since = device.idle_since()
        return since is not None and self.clock() - since > IDLE_DAYS * 86400

    def list(self) -> list[Device]:
        """Every paired device, oldest first."""
        with self._lock:
            return self._list()

    def find(self, token: str) -> Device | None:
        """The device holding ``token``, or None (compared in constant time); an expired one is None."""
        wanted = digest(token)
        match = None
        for device in self.list():
            if hmac.compare_digest(device.hash, wanted):
                match = device
        return None if match is None or self.expired(match) else match

    def use(self, token: str) -> tuple[Device | None, bool]:
        """The device holding ``token`` (None if none, or expired: an expired one is forgotten), and whether
        its last use was written now (at most every :data:`TOUCH_SECONDS`)."""
        wanted = digest(token)
        with self._lock:
            devices = self._list()
            match = None
            for device in devices:  # every one compared, in constant time
                if hmac.compare_digest(device.hash, wanted):
                    match = device
            if match is None:
                return None, False
            if self.expired(match):
                log.info("forgot %s (%s): not used for %d days", match.name, match.id, IDLE_DAYS)
                self._write(self.devices_file, [asdict(d) for d in devices if d != match])
                return None, False
            since = match.idle_since()
            if since is not None and self.clock() - since < TOUCH_SECONDS:
                return match, False
            used = replace(match, used=self._stamp())
            self._write(self.devices_file, [asdict(used if d == match else d) for d in devices])
            return used, True

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

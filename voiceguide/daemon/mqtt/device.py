"""The device's own id: made once, kept in the private data folder, so Home Assistant keeps its entities.

The id is random (not the host name or a MAC address): it says nothing about the person or the machine,
and two speakers restored from one SD-card image get different ids once either file is removed.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
from pathlib import Path

from voiceguide.errors import InputFileError
from voiceguide.safe_read import read_text

log = logging.getLogger(__name__)

DEVICE_FILE = "device-id"
"""The file in the user data folder that keeps the id (12 hex digits), readable by its owner only."""
_ID = re.compile(r"[0-9a-f]{12}")


def device_id(folder: Path) -> str:
    """The id kept in ``folder``; a new one (written there, mode 0600) when there is none or it is damaged."""
    path = folder / DEVICE_FILE
    try:
        text = read_text(path, 64).strip()
        if _ID.fullmatch(text):
            return text
        log.warning("the device id in %s is damaged; making a new one (Home Assistant will see a new device)", path)
    except InputFileError as exc:
        if not exc.missing:
            log.warning("the device id in %s cannot be read (%s); making a new one", path, exc.reason)
    new = secrets.token_hex(6)
    try:
        write_private(path, new + "\n")
    except OSError as exc:
        log.warning("cannot keep the device id in %s (%s): Home Assistant will see a new device next time",
                    path, exc.strerror or exc)
    return new


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place, mode 0600 (OSError passes)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

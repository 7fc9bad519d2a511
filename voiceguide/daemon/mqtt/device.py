"""The device's own id: made once, kept in the private data folder, so Home Assistant keeps its entities.

The id is random (not the host name or a MAC address): it says nothing about the person or the machine,
and two speakers restored from one SD-card image get different ids once either file is removed.
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

from voiceguide.errors import InputFileError
from voiceguide.places import write_private
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



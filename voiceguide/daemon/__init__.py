"""The bedside daemon: sessions started by a schedule, a GPIO button, a wake phrase or ``voiceguide ctl``.

Triggers put events on one queue; :class:`Daemon` handles them one at a time and hands sessions to a
worker thread that plays them with :func:`voiceguide.playback.loop.play`. Importing the package is light (``voiceguide
ctl`` loads no engine): the names below are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiceguide.daemon.config import DaemonConfig
    from voiceguide.daemon.config_read import load_config, loads_config
    from voiceguide.daemon.core import Daemon

_LAZY = {"Daemon": "core", "DaemonConfig": "config", "load_config": "config_read", "loads_config": "config_read"}
"""Each public name and the module (in this package) that defines it."""

__all__ = ["Daemon", "DaemonConfig", "load_config", "loads_config"]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

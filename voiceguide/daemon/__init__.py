"""The bedside daemon: sessions started by a schedule, a GPIO button, a wake phrase or ``voiceguide ctl``.

Triggers put events on one queue; :class:`Daemon` handles them one at a time and hands sessions to a
worker thread that plays them with :func:`voiceguide.run.play`.
"""

from __future__ import annotations

from .config import DaemonConfig
from .config_read import load_config, loads_config
from .daemon import Daemon

__all__ = ["Daemon", "DaemonConfig", "load_config", "loads_config"]

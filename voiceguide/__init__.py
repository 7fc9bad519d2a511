"""voiceguide: offline voice-guided breathing, body scan, grounding and affirmation sessions.

Importing the package is light (``voiceguide --version`` loads no engine): the names below are imported on
first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from voiceguide.engine.compile import compile_session
    from voiceguide.engine.mix import Mixer
    from voiceguide.engine.timeline import Timeline
    from voiceguide.errors import VoiceguideError
    from voiceguide.playback.control import Command
    from voiceguide.playback.player import Player
    from voiceguide.script.model import Session
    from voiceguide.script.parse import load, loads

_LAZY = {"compile_session": "engine.compile", "VoiceguideError": "errors", "Mixer": "engine.mix",
         "Session": "script.model", "load": "script.parse", "loads": "script.parse",
         "Command": "playback.control", "Player": "playback.player", "Timeline": "engine.timeline"}
"""Each public name and the module (under this package) that defines it."""

__all__ = ["Command", "Mixer", "Player", "Session", "Timeline", "VoiceguideError", "__version__",
           "compile_session", "load", "loads"]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

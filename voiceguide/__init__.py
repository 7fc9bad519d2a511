"""voiceguide: offline voice-guided breathing, body scan, grounding and affirmation sessions."""

from __future__ import annotations

__version__ = "0.1.0"

from .compile import compile_session
from .errors import VoiceguideError
from .mix import Mixer
from .model import Session
from .parse import load, loads
from .playback.control import Command
from .player import Player
from .timeline import Timeline

__all__ = ["Command", "Mixer", "Player", "Session", "Timeline", "VoiceguideError", "__version__",
           "compile_session", "load", "loads"]

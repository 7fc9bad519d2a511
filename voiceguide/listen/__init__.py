"""Listening: capture a spoken answer (``capture``, endpointed by ``vad``) and hear voice commands
(``voice_commands``, spotted by ``spotter``). Nothing heavy is imported until a spotter is built."""

from __future__ import annotations

from .capture import Answer, capture_answer
from .vad import Endpointer, EndReason, VadConfig
from .voice_commands import CommandConfig, CommandListener, VoiceCommands

__all__ = ["Answer", "CommandConfig", "CommandListener", "EndReason", "Endpointer", "VadConfig", "VoiceCommands",
           "capture_answer"]

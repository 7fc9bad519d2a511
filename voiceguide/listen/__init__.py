"""Listening: capture a spoken answer (``capture``, endpointed by ``vad``) and hear voice commands
(``voice_commands``, spotted by :mod:`voiceguide.backends.spotter`). Nothing heavy is imported until a
spotter is built."""

from __future__ import annotations

from voiceguide.listen.capture import Answer, capture_answer
from voiceguide.listen.vad import Endpointer, EndReason, VadConfig
from voiceguide.listen.voice_commands import CommandConfig, CommandListener, VoiceCommands

__all__ = ["Answer", "CommandConfig", "CommandListener", "EndReason", "Endpointer", "VadConfig", "VoiceCommands",
           "capture_answer"]

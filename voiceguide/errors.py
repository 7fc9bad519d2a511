"""Every error voiceguide raises on purpose.

The tree::

    VoiceguideError                 base; the CLI prints its message and exits 1
    ├── ScriptError                 a session script is invalid (carries every Problem found)
    ├── SessionNotFound             no bundled session with that id and no such file
    ├── SpeechError                 the TTS backend failed or has no usable voice
    ├── AudioError                  audio input or output failed while in use
    │   ├── AudioUnavailable        no usable output device or microphone (PortAudio missing, server down); exit 2
    │   │   └── OutputLost          the output stopped taking sound mid-session (server or device gone); exit 2
    │   └── MicrophoneSilent        the microphone sent only digital silence (muted?) or nothing while we listened
    ├── BackendError                an unknown backend name, or a backend that cannot load
    ├── RecognizerError             speech recognition failed, or its configured model is missing
    ├── JournalError                the journal (database or answer audio) cannot be read or written
    ├── ConfigError                 the daemon's config.toml is invalid (carries every Problem found)
    ├── InputFileError              a file to read is not a regular file, is too large, or is not UTF-8 text
    ├── OutputError                 an output file cannot be written (format, folder, permission, full disk)
    └── DaemonError                 the daemon cannot run its control socket, or ``ctl`` cannot reach it

Library exceptions (tomllib, sounddevice, soundfile, pyttsx3, sqlite3, pocketsphinx, speech_recognition)
are caught where we call those libraries and re-raised as one of these with ``raise ... from exc``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voiceguide.playback.control import PlayResult  # type only: the vocabulary module imports nothing of ours


class VoiceguideError(Exception):
    """Base class of every error voiceguide raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a session script, located as precisely as we can."""

    file: str
    """Display name of the script (its file name)."""
    where: str
    """Location inside the script: ``[session]``, ``step 3 (breathe)``, or ``file``."""
    message: str
    """What is wrong, in plain words, with the accepted values where useful."""

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


class ScriptError(VoiceguideError):
    """A session script is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SessionNotFound(VoiceguideError):
    """No bundled or user session has that id, and it is not a readable file."""


class SpeechError(VoiceguideError):
    """The speech backend failed, or has no voice for the requested language."""


class AudioError(VoiceguideError):
    """Audio output or input failed while in use."""


class AudioUnavailable(AudioError):
    """No usable audio output or microphone: PortAudio missing, no device, or the sound server is down."""

    exit_code = 2


class OutputLost(AudioUnavailable):
    """The audio output stopped asking for sound in the middle of a session (the sound server was stopped or
    the device unplugged). ``result`` is what had played until then, so it can still be kept."""

    def __init__(self, message: str, result: PlayResult) -> None:
        super().__init__(message)
        self.result = result


class MicrophoneSilent(AudioError):
    """While listening for an answer, the microphone sent nothing but exact zeros (muted, or a source
    with nothing behind it) or no audio at all. Nobody spoke, as far as we can tell; listening may go on."""


class BackendError(VoiceguideError):
    """An unknown backend name, or a backend whose library is not installed."""


class RecognizerError(VoiceguideError):
    """Speech recognition failed, or a configured model is missing (the message says how to get it)."""


class JournalError(VoiceguideError):
    """The journal database or an answer's audio file cannot be read or written."""


class ConfigError(VoiceguideError):
    """The daemon's configuration file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputFileError(VoiceguideError):
    """A file voiceguide was asked to read (a script, part, config, list or sound) is missing, is not a
    regular file (a FIFO, a device, a folder), is larger than its kind allows, or is not UTF-8 text.

    Readers of scripts and configs turn it into a located :class:`Problem`; ``reason`` is the part after
    the file name."""

    def __init__(self, path: object, reason: str, *, missing: bool = False) -> None:
        self.path = str(path)
        self.reason = reason
        self.missing = missing
        """True when the file does not exist (some callers then use their defaults)."""
        super().__init__(f"{self.path}: {reason}")


class OutputError(VoiceguideError):
    """An output file (a rendered session, a timeline) cannot be written: an unknown format, a folder, a
    path that is not writable, a full disk, or a file voiceguide will not replace (a script)."""


class DaemonError(VoiceguideError):
    """The daemon cannot run (its control socket is taken or unsafe), or ``ctl`` cannot reach it."""

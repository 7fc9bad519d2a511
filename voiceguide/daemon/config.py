"""The daemon's configuration: frozen dataclasses, their defaults, and where the file lives.

Reading and validating the TOML file is in :mod:`.config_read`; this module only describes it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide import places
from voiceguide.daemon.mqtt.settings import MqttSettings

CONFIG_NAME = "config.toml"
"""The file name inside the user config directory."""
DEFAULT_SAMPLE_RATE = 48000
"""Output stream sample rate."""
DEFAULT_BUTTON_SESSION = "coherent"
"""What a short button press starts: coherent breathing ..."""
DEFAULT_BUTTON_MINUTES = 5.0
"""... fitted to five minutes."""
ACTIONS = ("start", "toggle", "stop", "pause", "none")
"""What a button press can do: start its session (ignored while one plays), start or pause/resume,
stop, pause/resume, or nothing."""


def config_path() -> Path:
    """``~/.config/voiceguide/config.toml`` on Linux."""
    return places.config_dir() / CONFIG_NAME


def default_journal() -> Path:
    """``~/.local/share/voiceguide`` on Linux: where ``voiceguide journal`` finds its database."""
    return places.data_dir()


@dataclass(frozen=True)
class Audio:
    """Which devices to use."""

    output: str | None = None
    """Output device by (part of) its name; None is PortAudio's default (often HDMI on a Pi)."""
    input: str | None = None
    """Microphone by name, for the wake phrase; None is the default input."""
    sample_rate: int = DEFAULT_SAMPLE_RATE
    """Output stream rate in Hz."""


@dataclass(frozen=True)
class Speech:
    """How sessions are spoken, and how speech is recognised."""

    tts: str | None = None
    """Speech backend name (``espeak``, ``pyttsx3``, ``piper`` or ``fake``); None: the backend that has
    ``voice``, or the default one."""
    voice: str | None = None
    """Voice id or name; None picks one for each session's language."""
    rate: int | None = None
    """Words per minute; None keeps each script's own rate."""
    volume: float | None = None
    """Master volume 0..1; None keeps each script's own."""
    recognizer: str = "auto"
    """Speech recogniser for spoken answers: ``auto`` is faster-whisper where its model is installed, else
    pocketsphinx (the wake phrase and voice commands use keyword spotting)."""
    cache_dir: Path | None = None
    """Where rendered speech is cached; None is the user cache folder."""
    model: str | None = None
    """The recogniser's model: a folder (sphinx, vosk) or a name or path (whisper); None: its default."""


@dataclass(frozen=True)
class Ramp:
    """A gentle rise in volume at the start of a scheduled session."""

    seconds: float = 60.0
    """How long the rise takes; 0 turns it off."""
    start: float = 0.25
    """The gain it starts from (0..1), written ``from`` in the file."""


@dataclass(frozen=True)
class QuietHours:
    """A daily window in which scheduled sessions do not start (a button, the wake phrase or ctl still can)."""

    start: dt.time
    """When the quiet begins."""
    end: dt.time
    """When it ends; before ``start`` means it runs past midnight."""

    def contains(self, moment: dt.time) -> bool:
        """Whether ``moment`` falls inside the window (start inclusive, end exclusive)."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class ScheduleEntry:
    """One ``[[schedule]]`` table: a session at a time of day on some days of the week."""

    number: int
    """Its place in the file, from 1 (for messages)."""
    session: str
    """Session id or script path."""
    at: dt.time
    """Local time of day."""
    days: frozenset[int]
    """Weekdays it runs on, 0 = Monday."""
    minutes: float | None = None
    """Fit the session to about this many minutes; None plays it as written."""
    ramp: bool = True
    """Whether it starts with the volume ramp."""


@dataclass(frozen=True)
class Button:
    """A push button on a GPIO pin (needs ``voiceguide[pi]``)."""

    pin: int | str
    """BCM number (17) or a gpiozero pin name ("GPIO17", "BOARD11")."""
    bounce_time: float | None = 0.05
    """Seconds of contact bounce to ignore; None turns debouncing off."""
    hold_time: float = 1.5
    """Seconds held down that make a long press."""
    short_press: str = "start"
    """Action of a short press (one of :data:`ACTIONS`)."""
    long_press: str = "stop"
    """Action of a long press."""
    session: str = DEFAULT_BUTTON_SESSION
    """The session a press starts."""
    minutes: float | None = DEFAULT_BUTTON_MINUTES
    """Its length in minutes; None plays it as written."""


@dataclass(frozen=True)
class Wake:
    """Starting a session by saying a phrase."""

    phrase: str
    """The words to listen for."""
    sensitivity: float = 0.5
    """0..1: higher hears the phrase more readily, and false alarms more often."""
    session: str = "right-now"
    """The session the phrase starts."""
    minutes: float | None = None
    """Its length in minutes; None plays it as written."""
    commands: bool = True
    """While a session plays, also hear "pause", "resume", "skip", "repeat", "slower" and "stop"."""
    spotter: str = "pocketsphinx"
    """The keyword spotter, by its name in ``backends.SPOTTERS`` (``fake`` hears only test tones: for tests)."""


REMOTE_PORT = 8470
"""The phone remote's default TCP port."""


@dataclass(frozen=True)
class Remote:
    """The phone remote: a private web page served by the daemon (needs ``voiceguide[remote]``)."""

    listen: str = "127.0.0.1"
    """The address to listen on: 127.0.0.1 is this device only; a LAN address (or 0.0.0.0) the home network."""
    port: int = REMOTE_PORT
    """The TCP port."""
    journal: bool = True
    """Whether the page shows the journal and the mood chart."""
    certificate: Path | None = None
    """A TLS certificate (PEM) of the person's own; None: the device's own when HTTPS is on (see ``https``)."""
    key: Path | None = None
    """The certificate's private key (PEM)."""
    https: bool | None = None
    """Serve HTTPS: None (the default) on every address but loopback; False serves plain HTTP anywhere."""

    @property
    def tls(self) -> bool:
        """True when the page is served over HTTPS (with ``certificate``, or the device's own one)."""
        if self.certificate is not None:
            return True
        if self.https is not None:
            return self.https
        try:
            return not ipaddress.ip_address(self.listen).is_loopback
        except ValueError:  # not an address: config_read refuses it
            return True


@dataclass(frozen=True)
class DaemonConfig:
    """Everything ``voiceguide daemon`` reads from its config file."""

    path: Path | None = None
    """The file it came from; None when there is no file and these are the defaults."""
    audio: Audio = field(default_factory=Audio)
    """Devices."""
    speech: Speech = field(default_factory=Speech)
    """Voice and recogniser."""
    journal: Path = field(default_factory=default_journal)
    """Folder of the journal: ``journal.sqlite3`` and the answers' audio."""
    ramp: Ramp = field(default_factory=Ramp)
    """The volume ramp of scheduled sessions."""
    quiet_hours: QuietHours | None = None
    """When scheduled sessions are skipped; None is never."""
    schedule: tuple[ScheduleEntry, ...] = ()
    """Sessions that start by the clock."""
    button: Button | None = None
    """The GPIO button; None if there is none."""
    wake: Wake | None = None
    """The wake phrase; None if it is off."""
    answers: bool = True
    """Record spoken answers at listen steps into the journal (when there is a microphone)."""
    remote: Remote | None = None
    """The phone remote; None (no ``[remote]`` table) keeps it off."""
    mqtt: MqttSettings | None = None
    """Home Assistant through an MQTT broker; None (no ``[mqtt]`` table) keeps it off."""

    def sessions(self) -> list[str]:
        """Every session the config can start, without repeats, in file order."""
        names = [e.session for e in self.schedule]
        if self.button is not None:
            names.append(self.button.session)
        if self.wake is not None:
            names.append(self.wake.session)
        return list(dict.fromkeys(names))

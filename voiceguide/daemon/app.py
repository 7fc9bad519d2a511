"""Assemble the real daemon from its config: worker, control socket, button, wake phrase, signals."""

from __future__ import annotations

import logging
import queue
import signal
from pathlib import Path
from types import FrameType

from voiceguide import backends
from voiceguide.backends.rig import open_rig
from voiceguide.daemon.clock import SystemWallClock
from voiceguide.daemon.config import DaemonConfig, default_journal
from voiceguide.daemon.config_read import load_config
from voiceguide.daemon.core import Daemon
from voiceguide.daemon.ctl_socket import ControlServer
from voiceguide.daemon.events import Event, Shutdown, StartRequest, Trigger
from voiceguide.daemon.files import raise_file_limit
from voiceguide.daemon.listening import Answers, live_session
from voiceguide.daemon.sessions import Sessions
from voiceguide.daemon.volume import VOLUME_FILE, Volume, VolumeOutput
from voiceguide.daemon.wake import WakeTrigger
from voiceguide.daemon.worker import Stage, Worker, refresh_portaudio
from voiceguide.listen.shared_input import SharedInput
from voiceguide.live.events import RunEvent, Slowed
from voiceguide.live.runner import Runner
from voiceguide.seams import AudioOutput, Clock

log = logging.getLogger(__name__)

EXIT_WAIT = 0.4
"""Seconds the exiting daemon waits for the session worker to end (and close its speech engines): long
enough after a normal stop, short enough that SIGTERM still exits within 2 s if the worker is busy."""


def build(config: DaemonConfig, socket: Path | None = None) -> Daemon:
    """The daemon with its real worker thread, control socket and configured triggers."""
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()

    holder: list[Daemon] = []

    def playing() -> bool:
        return bool(holder) and holder[0].current is not None

    triggers: list[Trigger] = [ControlServer(socket)]
    if config.remote is not None:  # in a process of its own, talking to this daemon through that socket
        from voiceguide.daemon.remote_process import RemoteProcess

        triggers.append(RemoteProcess(config, socket))
    if config.mqtt is not None:  # Home Assistant: also through that socket
        from voiceguide.daemon.mqtt.bridge import MqttBridge

        triggers.append(MqttBridge(config.mqtt, default_journal(), control_socket=socket, journal=config.journal))
    else:  # the table was removed: remove the entities it announced
        from voiceguide.daemon.mqtt.record import forget_in_background

        forget_in_background(default_journal())
    wake: WakeTrigger | None = None
    if config.button is not None:
        from voiceguide.daemon.button import ButtonTrigger

        triggers.append(ButtonTrigger(config.button, playing=playing))
    clock = backends.system_clock()
    sessions = Sessions(config)  # one builder, so one speech engine, for every session the daemon plays
    # one microphone stream: wake phrase, commands, answers
    microphone = SharedInput(backends.audio_input("sounddevice", config.audio.input))
    live = live_session(config, sessions.builder, microphone, clock)
    if config.wake is not None:
        wake = WakeTrigger(config.wake, config, playing=playing, microphone=microphone, speaking=live.gate)
        triggers.append(wake)
    answers = Answers(config, live)

    def refresh() -> None:  # re-initialising PortAudio would break the open microphone stream
        if wake is None or not wake.listening:
            refresh_portaudio()

    volume = Volume.kept(default_journal() / VOLUME_FILE)  # where the knob was last turned

    def output(request: StartRequest) -> tuple[AudioOutput, Clock]:
        rig = open_rig("sounddevice", config.audio.output)  # checked: AudioUnavailable until it is there
        return VolumeOutput(rig.output, volume), rig.clock

    stage = Stage(lambda r: sessions.prepare(r, answers.listening), output, sessions.compiler)
    worker = Worker(events.put, stage, Runner(live, _said), refresh=refresh)
    daemon = Daemon(config, events, worker, SystemWallClock(), triggers)
    daemon.volume = volume
    holder.append(daemon)
    return daemon


def _said(event: RunEvent) -> None:
    """What "slower" tells the person, in the log (the daemon has no screen)."""
    if isinstance(event, Slowed):
        log.info("%s", event.text)


def serve(config_file: Path | None = None) -> int:
    """``voiceguide daemon``: run in the foreground until SIGTERM or SIGINT."""
    config = load_config(config_file)
    log.info("config: %s", config.path or "none (defaults)")
    raise_file_limit()
    daemon = build(config)

    def on_signal(number: int, frame: FrameType | None) -> None:
        daemon.events.put(Shutdown(signal.Signals(number).name))  # SimpleQueue.put is safe in a handler

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return daemon.run()
    finally:
        daemon.worker.close(timeout=EXIT_WAIT)  # after its last job the worker closes the speech engines
        for number, handler in previous.items():
            signal.signal(number, handler)

"""The MQTT client of the daemon: paho-mqtt's network thread plus one thread of ours, off the audio path.

paho's thread (``loop_start``) only moves bytes and puts what arrives on a bounded inbox; when the inbox is
full, messages are dropped (and counted). Our thread takes them one at a time, asks the daemon through the
control socket (the path ``voiceguide ctl`` and the phone remote use, so the same rules apply), and
publishes state it read from ``status``. A start waits for its session to be prepared, so it runs on a
short-lived thread of its own and a stop is never stuck behind it. Nothing here touches the audio thread
or the daemon loop; a broker that is slow, away or flooding costs at most this thread's time.

Reconnecting is paho's: with back-off from :data:`RETRY_FIRST` to :data:`RETRY_LONGEST` seconds. Every
(re)connection publishes discovery, availability and state again, as does Home Assistant's ``online``
on ``<prefix>/status`` (it restarted and forgot).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voiceguide.daemon.events import Event, Reply
from voiceguide.daemon.mqtt import discovery, record
from voiceguide.daemon.mqtt.catalog import Catalog, load_catalog
from voiceguide.daemon.mqtt.commands import Choice, Ignored, Request, read_command
from voiceguide.daemon.mqtt.device import device_id
from voiceguide.daemon.mqtt.discovery import OFFLINE, ONLINE, Device
from voiceguide.daemon.mqtt.inbox import Inbox
from voiceguide.daemon.mqtt.settings import MqttSettings
from voiceguide.daemon.mqtt.states import NONE, EventTracker, event_payload, messages
from voiceguide.daemon.mqtt.wire import Bucket, RateLimited, connect_error, make_client
from voiceguide.errors import VoiceguideError

log = logging.getLogger(__name__)

POLL_ACTIVE = 1.0
"""Seconds between status reads while a session is on (time left, step)."""
POLL_IDLE = 5.0
"""... and while idle (a session started by ctl, the button or the schedule shows within this)."""
RETRY_FIRST, RETRY_LONGEST = 1, 60
"""paho's reconnect back-off, in seconds."""
ACTIONS_RATE, ACTIONS_BURST = 2.0, 10.0
"""Valid commands (and Home Assistant's "online") acted on at most: 10 at once, then 2 a second. A person
presses a button a few times a minute; a script gone wrong that toggles pause 500 times a second is
ignored (with a log line), so the player is not made to fade in and out without end."""
CLOSE_WAIT = 0.5
"""Seconds ``close`` waits for the offline message to leave (measured: 0.001 s to a live broker, 0.5 s
with the broker gone; SIGTERM must still end the daemon within 2 s)."""

Ask = Callable[[dict[str, Any]], Reply]
"""Sends one ctl request and returns the reply (``voiceguide.daemon.ctl_socket.request``)."""


class MqttBridge:
    """The daemon's link to Home Assistant (a daemon trigger: ``start`` and ``close``)."""

    name = "MQTT (Home Assistant)"

    def __init__(self, settings: MqttSettings, data_folder: Path, ask: Ask | None = None,
                 control_socket: Path | None = None, client_factory: Callable[..., Any] | None = None,
                 catalog: Catalog | None = None, journal: Path | None = None) -> None:
        self.settings = settings
        self._journal = journal
        """The journal's folder, read for the last mood rating only when ``settings.mood`` is on."""
        self._folder = data_folder
        self._recorded = False
        did = device_id(data_folder)
        self.device = Device(did, settings.name, settings.discovery_prefix, settings.topic_base(did), settings.mood)
        self.catalog = catalog
        self._ask = ask if ask is not None else _socket_ask(control_socket)
        self._factory = client_factory if client_factory is not None else make_client
        self._client: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._published: dict[str, str] = {}
        self._events = EventTracker()
        self._session: str | None = None
        self._minutes = 0.0
        self._active = False
        self._starting = threading.Lock()
        self._noise = RateLimited(log, 30.0)
        self._inbox = Inbox(self._noise)
        self._said: str | None = None
        self._up = False
        self._actions = Bucket(ACTIONS_RATE, ACTIONS_BURST)
        self.connections = 0
        """How many times the broker accepted us (tests, benchmarks)."""

    # --- life cycle (the daemon's thread) -------------------------------------------------------------
    def start(self, post: Callable[[Event], None]) -> None:
        """Connect in the background (never blocks on the broker) and start our thread."""
        del post  # every request goes through the control socket, like ctl's
        client = self._factory(self.settings, f"voiceguide-{self.device.id}")
        client.will_set(self.device.availability, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=RETRY_FIRST, max_delay=RETRY_LONGEST)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        client.connect_async(self.settings.host, self.settings.port, keepalive=60)
        client.loop_start()
        self._thread = threading.Thread(target=self._run, name="voiceguide-mqtt", daemon=True)
        self._thread.start()
        log.info("MQTT: connecting to %s:%d as device %s (%s)", self.settings.host, self.settings.port,
                 self.device.id, self.device.base)

    def close(self) -> None:
        """Say offline (briefly waited for), disconnect and stop both threads."""
        self._stop.set()
        self._inbox.close()
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # closing must not fail because the broker is away
            if client.is_connected():
                info = client.publish(self.device.availability, OFFLINE, qos=1, retain=True)
                info.wait_for_publish(CLOSE_WAIT)
            client.disconnect()
        client.loop_stop()
        if self._thread is not None:
            self._thread.join(CLOSE_WAIT)

    # --- paho's thread: only hand over -----------------------------------------------------------------
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            self._say(connect_error(self.settings, str(reason)))
            return
        self.connections += 1
        self._up = True
        if self._said is not None:
            log.info("MQTT: connected to %s:%d again", self.settings.host, self.settings.port)
        self._said = None
        client.subscribe([(f"{self.device.base}/+/set", 0), (f"{self.device.prefix}/status", 0)])
        self._inbox.hand_over(("", b"connected"))

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self._say(f"MQTT: cannot reach the broker at {self.settings.host}:{self.settings.port}; "
                  "trying again (with growing pauses, up to a minute)")

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        was_up, self._up = self._up, False
        if was_up and not self._stop.is_set():  # (a refused login also ends in a disconnect: said already)
            self._say(f"MQTT: lost the broker at {self.settings.host}:{self.settings.port} ({reason}); "
                      "reconnecting")

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self._inbox.throttle()
        self._inbox.hand_over((str(message.topic), bytes(message.payload)))

    def _say(self, text: str) -> None:
        """Log a connection problem once, until it changes or a connection succeeds."""
        if text != self._said:
            self._said = text
            log.warning("%s", text)

    # --- our thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        if self.catalog is None:
            self.catalog = load_catalog()
        self._session = next(iter(self.catalog.by_label.values()), None)
        next_poll = 0.0
        while not self._stop.is_set():
            wait = max(0.0, next_poll - time.monotonic())
            try:
                item = self._inbox.get(wait)
            except queue.Empty:
                item = ("", b"poll")
            if item is None or self._stop.is_set():
                return
            try:
                if self._handle(*item):
                    next_poll = 0.0  # something changed: read the state now
                    continue
                self._poll()
            except Exception:  # our thread must outlive any one message
                log.exception("MQTT: handling %r failed", item[0])
            next_poll = time.monotonic() + (POLL_ACTIVE if self._active else POLL_IDLE)

    def _handle(self, topic: str, payload: bytes) -> bool:
        """Act on one message; True when the state should be read at once."""
        if topic == "" and payload == b"connected":
            self._announce()
            return True
        if topic == "":
            return False
        if topic == f"{self.device.prefix}/status":
            if payload.strip() == b"online" and self._allowed("online"):
                log.info("MQTT: Home Assistant is back; announcing the device again")
                self._announce()
                return True
            return False
        key = topic.removeprefix(f"{self.device.base}/").removesuffix("/set")
        assert self.catalog is not None
        action = read_command(key, payload, self.catalog, self._session, self._minutes)
        if isinstance(action, Ignored):
            self._noise.say("ignored", "MQTT: ignored a message: %s", action.reason)
            return False
        if isinstance(action, Choice):
            if action.session is not None:
                self._session = action.session
                self._publish("session", self.catalog.label_of(action.session))
            if action.minutes is not None:
                self._minutes = action.minutes
                self._publish("minutes", f"{action.minutes:g}")
            return False
        if not self._allowed(str(action.message["command"])):
            return False
        self._request(action)
        return True

    def _allowed(self, what: str) -> bool:
        """Whether the action budget has room (see :data:`ACTIONS_RATE`); says so, rate-limited, when not."""
        if self._actions.take():
            return True
        self._noise.say("actions", "MQTT: ignored %s: more than %g commands a second", what, ACTIONS_RATE)
        return False

    def _request(self, action: Request) -> None:
        if action.message["command"] != "start":
            self._answered(action.message, self._ask(action.message))
            return
        if not self._starting.acquire(blocking=False):
            self._noise.say("starting", "MQTT: ignored start: a start is already on its way")
            return

        def start() -> None:
            try:
                self._answered(action.message, self._ask(action.message))
            finally:
                self._starting.release()
                self._inbox.nudge(("", b"poll"))

        threading.Thread(target=start, name="voiceguide-mqtt-start", daemon=True).start()

    def _answered(self, message: dict[str, Any], reply: Reply) -> None:
        if reply.get("ok") is False:
            self._noise.say("refused", "MQTT: %s not done: %s", message["command"], reply.get("error"))

    def _announce(self) -> None:
        """Discovery configs, availability and every state, all retained."""
        assert self.catalog is not None
        for topic, config in discovery.entities(self.device, self.catalog.options):
            self._send(topic, discovery.payload(config), qos=1)
        if not self._recorded:
            record.save(self.settings, self._folder)
            self._recorded = True
        self._send(self.device.availability, ONLINE.encode(), qos=1)
        self._published.clear()
        if self._session is not None:
            self._publish("session", self.catalog.label_of(self._session))
        self._publish("minutes", f"{self._minutes:g}")

    def _poll(self) -> None:
        try:
            status = self._ask({"command": "status"})
        except VoiceguideError as exc:
            self._noise.say("status", "MQTT: cannot read the daemon's status: %s", exc)
            return
        assert self.catalog is not None
        state = messages(status, self.catalog)
        self._active = state["state"] != "idle"
        for key, value in state.items():
            self._publish(key, value)
        events = self._events.events(status, self.catalog)
        for event in events:
            self._send(self.device.state("event"), event_payload(event), qos=1, retain=False)
        if self.settings.mood and self._journal is not None and (events or "mood" not in self._published):
            from voiceguide.daemon.mqtt.mood import last_rating

            rating = last_rating(self._journal)
            self._publish("mood", str(rating) if rating is not None else NONE)

    def _publish(self, key: str, value: str) -> None:
        """Publish a state (retained) when it changed since it was last published."""
        if self._published.get(key) == value:
            return
        if self._send(self.device.state(key), value.encode(), qos=0):
            self._published[key] = value

    def _send(self, topic: str, payload: bytes, qos: int = 0, retain: bool = True) -> bool:
        client = self._client
        if client is None or not client.is_connected():
            return False
        info = client.publish(topic, payload, qos=qos, retain=retain)
        return int(getattr(info, "rc", 0)) == 0


def _socket_ask(path: Path | None) -> Ask:
    from voiceguide.daemon.ctl_socket import request

    def ask(message: dict[str, Any]) -> Reply:
        return request(message, path, timeout=200.0)

    return ask

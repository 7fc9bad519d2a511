"""paho-mqtt itself: making a client from the settings, naming its failures, and one-shot connections.

The only module that imports paho (inside its functions), so the daemon without ``[mqtt]`` never loads it.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from voiceguide.daemon.mqtt.settings import MqttSettings
from voiceguide.errors import BackendError, DaemonError

INSTALL = "Home Assistant over MQTT needs its extra: pip install 'voiceguide[mqtt]'"


def make_client(settings: MqttSettings, client_id: str) -> Any:
    """A paho client with the settings' login and TLS, not yet connected."""
    try:
        from paho.mqtt import client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
    except ImportError as exc:
        raise BackendError(INSTALL) from exc
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    client.max_queued_messages_set(256)  # publishes waiting for the network: bounded
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls_ca is not None:
        try:
            client.tls_set(ca_certs=str(settings.tls_ca), cert_reqs=ssl.CERT_REQUIRED)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise BackendError(f"[mqtt] tls_ca {settings.tls_ca} cannot be used: {exc}") from exc
    return client


def connect_error(settings: MqttSettings, reason: str) -> str:
    """One clear sentence for a broker's refusal."""
    where = f"{settings.host}:{settings.port}"
    low = reason.lower()
    if "password" in low or "not authori" in low or "bad user" in low:
        who = f"user {settings.username!r}" if settings.username else "a login without a user name"
        return (f"MQTT: the broker at {where} refused {who}: wrong user name or password? "
                "(check username and password or password_file in [mqtt]; trying again every minute)")
    return f"MQTT: the broker at {where} refused the connection: {reason}"


class Bucket:
    """A token bucket: ``burst`` at once, then ``rate`` a second."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self._refilled = burst, clock()

    def take(self) -> bool:
        """Use one token if there is one."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class RateLimited:
    """Logs a kind of message at most once per ``every`` seconds, saying how many were held back."""

    def __init__(self, logger: logging.Logger, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.every, self.clock = logger, every, clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def say(self, kind: str, message: str, *args: object) -> bool:
        """Log ``message`` unless this kind was logged less than ``every`` seconds ago; True when logged."""
        now = self.clock()
        if kind in self._last and now - self._last[kind] < self.every:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        held = self._held.pop(kind, 0)
        self._last[kind] = now
        suffix = f" (and {held} more like it)" if held else ""
        self.logger.warning(message + suffix, *args)
        return True


def publish_once(settings: MqttSettings, client_id: str, messages: list[tuple[str, bytes]], timeout: float,
                 client_factory: Callable[..., Any] | None = None) -> None:
    """Connect, publish ``messages`` retained (QoS 1), wait until the broker has them, disconnect.
    Raises :class:`DaemonError` with a clear reason when that fails within ``timeout`` seconds."""
    client = (client_factory or make_client)(settings, client_id)
    connected = threading.Event()
    refusal: list[str] = []

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            refusal.append(str(reason))
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(settings.host, settings.port, keepalive=30)
    except OSError as exc:
        raise DaemonError(f"cannot reach the MQTT broker at {settings.host}:{settings.port}: "
                          f"{exc.strerror or exc}") from exc
    client.loop_start()
    try:
        if not connected.wait(timeout):
            raise DaemonError(f"the MQTT broker at {settings.host}:{settings.port} did not answer in {timeout:g} s")
        if refusal:
            raise DaemonError(connect_error(settings, refusal[0]).removeprefix("MQTT: ")
                              .replace("; trying again every minute", ""))
        infos = [client.publish(topic, payload, qos=1, retain=True) for topic, payload in messages]
        give_up = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.0, give_up - time.monotonic()))
            if not info.is_published():
                raise DaemonError(f"the MQTT broker at {settings.host}:{settings.port} did not take the messages "
                                  f"in {timeout:g} s")
        client.disconnect()
    finally:
        client.loop_stop()

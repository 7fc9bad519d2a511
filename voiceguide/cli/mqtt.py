"""``voiceguide mqtt forget``: remove this device's entities from Home Assistant (command-line layer: prints)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mqtt`` to ``sub``."""
    p = sub.add_parser("mqtt", help="Home Assistant over MQTT: 'forget' removes this device's entities")
    p.add_argument("action", choices=["forget"])
    p.add_argument("--config", metavar="FILE", help="config file (default ~/.config/voiceguide/config.toml)")
    p.set_defaults(handler=cmd_mqtt)


def cmd_mqtt(args: argparse.Namespace) -> int:
    from voiceguide.daemon.config import default_journal
    from voiceguide.daemon.config_read import load_config
    from voiceguide.daemon.mqtt import record
    from voiceguide.daemon.mqtt.record import forget
    from voiceguide.safe_text import terminal_safe

    config = load_config(Path(args.config).expanduser() if args.config else None)
    folder = default_journal()
    settings = config.mqtt if config.mqtt is not None else record.load(folder)
    if settings is None:
        print("nothing to forget: no [mqtt] table, and no record of an announcement on a broker")
        return 0
    count = forget(settings, folder)
    record.clear(folder)
    where = terminal_safe(f"{settings.host}:{settings.port}")
    print(f"cleared {count} retained topics on {where}: Home Assistant removes the device and its entities")
    if config.mqtt is not None:
        print("note: [mqtt] is still in the config, so the daemon announces the device again when it starts")
    return 0

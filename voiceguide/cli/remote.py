"""``voiceguide remote pair | devices | revoke ID | token NAME`` (command-line layer: prints)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``remote`` and its actions to ``sub``."""
    p = sub.add_parser("remote", help="the phone remote: pair a phone, list paired devices, revoke one")
    p.add_argument("action", choices=["pair", "devices", "revoke", "token"])
    p.add_argument("what", nargs="?", help="revoke: a device id (or 'all'); token: a name for the script")
    p.add_argument("--no-qr", action="store_true", help="pair: do not draw the QR code")
    p.add_argument("--config", metavar="FILE", help="pair: the daemon's config file (for the page's address)")
    p.set_defaults(handler=cmd_remote)


def cmd_remote(args: argparse.Namespace) -> int:
    from pathlib import Path

    from voiceguide.errors import VoiceguideError
    from voiceguide.remote.devices import CODE_SECONDS, Devices
    from voiceguide.safe_text import terminal_safe

    devices = Devices()
    if args.action == "pair":
        code = devices.new_code()
        page = _page(Path(args.config).expanduser() if args.config else None, devices.folder)
        print(f"pairing code: {code}\n(valid for {CODE_SECONDS / 60:g} minutes, once; type it on the phone's "
              "pairing page: it is never part of an address)")
        if page is not None:
            url, fingerprint = page
            print(f"page: {url}")
            if fingerprint:
                print(f"certificate SHA-256: {fingerprint}")
                print("The phone's browser will warn that the connection is not private: this device made its "
                      "own certificate.\nIn the browser's certificate details, the SHA-256 fingerprint should "
                      "be the one above; if it is, go on.")
            if not args.no_qr:
                _qr(url)  # the address only: the code is typed
        return 0
    if args.action == "devices":
        found = devices.list()
        for d in found:
            used = f"last used {d.used}" if d.used else "not used since this was kept"
            note = "; let go: pair it again" if devices.expired(d) else ""
            print(terminal_safe(f"{d.id}  {d.name}  ({used}; paired {d.paired}{note})"))
        if not found:
            print("no paired devices")
        return 0
    if not args.what:
        raise VoiceguideError(f"remote {args.action} needs {'a device id' if args.action == 'revoke' else 'a name'}")
    if args.action == "token":
        print(devices.add_token(args.what))
        print("(a token for a script, shown only now: send it as the vg_remote cookie over http on this device, "
              "or __Host-vg_remote over https; unused for 90 days it stops working)", file=sys.stderr)
        return 0
    gone = devices.revoke(args.what)
    if gone is None:
        raise VoiceguideError(f"no paired device {args.what!r} (see 'voiceguide remote devices')")
    print(f"revoked {gone.id} ({gone.name})" + (" and every other device" if args.what == "all" else ""))
    return 0


def _page(config: Path | None, folder: Path) -> tuple[str, str] | None:
    """The pairing page's address from ``[remote]`` and the certificate's fingerprint ("" over plain HTTP),
    when the remote is on. The device's own certificate is made here if the daemon has not made it yet."""
    import ipaddress

    from voiceguide.daemon.config_read import load_config
    from voiceguide.errors import VoiceguideError
    from voiceguide.remote import cert

    try:
        remote = load_config(config).remote
        tls = cert.for_remote(remote, folder) if remote is not None else None
    except VoiceguideError:
        return None
    if remote is None:
        return None
    host = cert.outward_address() if ipaddress.ip_address(remote.listen).is_unspecified else remote.listen
    if host is None:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{host}:{remote.port}/pair", tls.fingerprint if tls else ""


def _qr(url: str) -> None:
    try:
        import segno
    except ImportError:
        return
    segno.make(url, micro=False).terminal(compact=True)

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

    devices = Devices()
    if args.action == "pair":
        code = devices.new_code()
        print(f"pairing code: {code}\n(valid for {CODE_SECONDS / 60:g} minutes, once; type it on the phone's "
              "pairing page)")
        url = _page_url(Path(args.config).expanduser() if args.config else None)
        if url:
            print(f"page: {url}")
        if not args.no_qr:
            _qr(f"{url}?code={code}" if url else code)
        return 0
    if args.action == "devices":
        found = devices.list()
        for d in found:
            print(f"{d.id}  {d.name}  (paired {d.paired})")
        if not found:
            print("no paired devices")
        return 0
    if not args.what:
        raise VoiceguideError(f"remote {args.action} needs {'a device id' if args.action == 'revoke' else 'a name'}")
    if args.action == "token":
        print(devices.add_token(args.what))
        print("(a token for a script: send it as the vg_remote cookie; shown only now)", file=sys.stderr)
        return 0
    gone = devices.revoke(args.what)
    if gone is None:
        raise VoiceguideError(f"no paired device {args.what!r} (see 'voiceguide remote devices')")
    print(f"revoked {gone.id} ({gone.name})" + (" and every other device" if args.what == "all" else ""))
    return 0


def _page_url(config: Path | None) -> str | None:
    """The pairing page's address from ``[remote]``, when it names one a phone can reach."""
    from voiceguide.daemon.config_read import load_config
    from voiceguide.errors import VoiceguideError

    try:
        remote = load_config(config).remote
    except VoiceguideError:
        return None
    if remote is None or remote.listen in ("0.0.0.0", "::"):
        return None
    host = f"[{remote.listen}]" if ":" in remote.listen else remote.listen
    return f"{'https' if remote.tls else 'http'}://{host}:{remote.port}/pair"


def _qr(code: str) -> None:
    try:
        import segno
    except ImportError:
        return
    segno.make(code, micro=False).terminal(compact=True)

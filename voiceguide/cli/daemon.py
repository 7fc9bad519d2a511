"""The daemon's subcommands: ``daemon``, ``ctl``, ``service`` and ``doctor`` (command-line layer: prints)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from voiceguide.daemon.messages import CtlReply

log = logging.getLogger(__name__)

def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommands to ``sub``; each sets ``handler`` (``cli.main`` calls ``args.handler``)."""
    p = sub.add_parser("daemon", help="run in the foreground, starting sessions from a schedule, a button, "
                                      "the wake phrase or 'voiceguide ctl' (for systemd)")
    p.add_argument("--config", metavar="FILE", help="config file (default ~/.config/voiceguide/config.toml)")
    p.set_defaults(handler=cmd_daemon)

    p = sub.add_parser("ctl", help="control the running daemon: start SESSION | stop | pause | resume | skip | "
                                   "slower | status | reload | volume LEVEL")
    p.add_argument("action", choices=["start", "stop", "pause", "resume", "skip", "slower", "status", "reload",
                                      "volume"])
    p.add_argument("session", nargs="?", help="for start: a session id or a path to a .toml script; "
                                              "for volume: a level from 0 to 1")
    p.add_argument("--minutes", type=float, help="for start: fit the session to about this many minutes")
    p.add_argument("--json", action="store_true", help="print the daemon's answer as JSON")
    p.set_defaults(handler=cmd_ctl)

    p = sub.add_parser("service", help="install or remove the systemd user service that runs the daemon")
    p.add_argument("action", choices=["install", "uninstall", "show"])
    p.add_argument("--config", metavar="FILE", help="install: run the daemon with this config file")
    p.set_defaults(handler=cmd_service)

    p = sub.add_parser("doctor", help="check everything the daemon needs and say how to fix what is wrong")
    p.add_argument("--config", metavar="FILE", help="config file (default ~/.config/voiceguide/config.toml)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--no-open", action="store_true", help="do not open the audio output (the daemon may be using it)")
    p.set_defaults(handler=cmd_doctor)


def _path(value: str | None) -> Path | None:
    from pathlib import Path

    return Path(value).expanduser() if value else None


def cmd_daemon(args: argparse.Namespace) -> int:
    from voiceguide.daemon.app import serve
    from voiceguide.safe_text import SafeFormatter

    root = logging.getLogger()
    root.setLevel(logging.INFO)  # one line per event on stderr (journald adds the time)
    for handler in root.handlers:  # script text and requests reach the log: escaped
        handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    return serve(_path(args.config))


def cmd_ctl(args: argparse.Namespace) -> int:
    import json

    from voiceguide.daemon.ctl_socket import request
    from voiceguide.daemon.messages import CtlReply, CtlRequest
    from voiceguide.errors import VoiceguideError
    from voiceguide.safe_text import terminal_safe

    message = CtlRequest(args.action)
    if args.action == "start":
        if not args.session:
            raise VoiceguideError("ctl start needs a SESSION (see 'voiceguide list')")
        message = CtlRequest("start", args.session, args.minutes)
    if args.action == "volume":
        try:
            message = CtlRequest("volume", level=float(args.session))
        except (TypeError, ValueError) as exc:
            raise VoiceguideError("ctl volume needs a LEVEL from 0 to 1, e.g. 'voiceguide ctl volume 0.6'") from exc
    raw = request(message.to_dict())
    reply = CtlReply.from_dict(raw)
    if args.json:
        print(json.dumps(raw))
    else:
        print(terminal_safe(describe_reply(args.action, reply)), file=sys.stdout if reply.ok else sys.stderr)
    return 0 if reply.ok else 1


def describe_reply(action: str, reply: CtlReply) -> str:
    """One line for a person."""
    if not reply.ok:
        return f"voiceguide: {reply.error or 'the daemon refused'}"
    if action == "start":
        return f"playing {reply.session} ({reply.seconds} s)"
    if action == "status":
        line = str(reply.state)
        if reply.session is not None:
            position = f" at {reply.position} of {reply.seconds} s" if reply.position is not None else ""
            line = f"{reply.state}: {reply.session} (from {reply.source}){position}"
        if reply.next is not None:
            line += f"; next scheduled: {reply.next.session} at {reply.next.at}"
        return line
    if action == "volume":
        return f"volume {reply.volume}"
    if action == "reload":
        return f"reloaded: {reply.schedule} scheduled session(s)"
    return f"{reply.state}: {reply.session}"


def cmd_service(args: argparse.Namespace) -> int:
    from voiceguide.daemon import service

    if args.action == "show":
        print(service.unit_text(config=_path(args.config)), end="")
        return 0
    if args.action == "uninstall":
        removed = service.uninstall()
        if removed is None:
            print(f"no service installed ({service.unit_path()})")
            return 0
        print(f"removed {removed}\nnext: systemctl --user disable --now voiceguide; systemctl --user daemon-reload")
        return 0
    path = service.install(_path(args.config))
    user = service.user_name()
    print(f"wrote {path}\nnext:\n"
          "  systemctl --user daemon-reload\n"
          "  systemctl --user enable --now voiceguide\n"
          f"  sudo loginctl enable-linger {user}    # start at boot, without logging in\n"
          "  voiceguide doctor                      # check everything")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from voiceguide.daemon.doctor import diagnose, exit_code
    from voiceguide.safe_text import terminal_safe

    findings = diagnose(_path(args.config), open_output=not args.no_open)
    if args.json:
        import dataclasses
        import json

        print(json.dumps([dataclasses.asdict(f) for f in findings]))
        return exit_code(findings)
    marks = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]"}
    for finding in findings:
        detail = terminal_safe(finding.detail, multiline=True).replace("\n", "\n       ")
        print(f"{marks[finding.level]} {finding.name}: {detail}")
        if finding.fix and finding.level != "ok":
            print(terminal_safe(f"       fix: {finding.fix}"))
    code = exit_code(findings)
    print("everything the daemon needs is in place" if code == 0 else "some things need fixing (see FAIL above)")
    return code

"""The ``voiceguide`` command: argument parsing and the one place our errors become messages and exit codes."""

from __future__ import annotations

import argparse
import logging
import sys

from voiceguide import __version__
from voiceguide.cli import daemon as daemon_cli
from voiceguide.cli import journal as journal_cli
from voiceguide.cli import mqtt as mqtt_cli
from voiceguide.cli import remote as remote_cli
from voiceguide.cli import taught as taught_cli
from voiceguide.safe_text import SafeFormatter, terminal_safe

log = logging.getLogger(__name__)


def _speech_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=["auto", "fake"], default="auto",
                   help="'fake' uses the built-in fake speech, output and clock: a dry run, instant, no hardware")
    p.add_argument("--tts", default=None,
                   help="speech backend: piper (the natural voice: the default for English where "
                        "'voiceguide[piper]' is installed), espeak (espeak-ng: the default for other languages), "
                        "pyttsx3 (the system's voices) or fake; a --voice picks its own")
    p.add_argument("--voice", help="voice id or name from 'voiceguide voices' (its backend is used)")
    p.add_argument("--rate", type=int, help="speech rate in words per minute (default 135)")
    p.add_argument("--volume", type=float, help="master volume 0..1")
    p.add_argument("--sample-rate", type=int, default=48000, help="stream sample rate in Hz (default 48000)")
    p.add_argument("--cache-dir", help="speech cache folder (default: the user cache directory)")
    p.add_argument("--pitch", type=int, help="base pitch 0-100, 50 normal (espeak-ng voices; Piper has none)")
    p.add_argument("--sentence-gap", type=float, help="seconds of silence between the sentences of a line")
    p.add_argument("--soften", action="store_true", help="gently cut the voice's highs (easier at night)")
    g = p.add_argument_group("breathing and sound")
    g.add_argument("--minutes", type=float, help="fit the breathing so the session lasts about this long")
    g.add_argument("--cycles", type=int, help="cycles for every breathing step")
    g.add_argument("--bpm", type=float, help="breaths per minute for every breathing step (coherent: 4.5-7)")
    g.add_argument("--no-holds", action="store_true", help="leave out breath holds (rests stay)")
    g.add_argument("--ambient", help="ambient bed: pink, brown, drone or none")
    g.add_argument("--ambient-volume", type=float, help="ambient level 0..1")


def _cmd_run(args: argparse.Namespace) -> int:
    from voiceguide.cli.run import cmd_run  # the live player's modules load only when something plays

    return cmd_run(args)


def _cmd_record(args: argparse.Namespace) -> int:
    from voiceguide.cli.record import cmd_record  # the microphone's and the walk's modules load only here

    return cmd_record(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="voiceguide", description="Voice-guided breathing and grounding, offline.")
    parser.add_argument("--version", action="version", version=f"voiceguide {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="bundled and user sessions")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--patterns", action="store_true", help="with --json: list the breathing patterns instead")
    p.add_argument("--language", help="only sessions in this language (en, nl ...)")

    p = sub.add_parser("show", help="a session's steps with start times and total length")
    p.add_argument("session", help="a session id or a path to a .toml script")
    _speech_options(p)

    p = sub.add_parser("run", help="play a session live")
    p.add_argument("session", help="a session id or a path to a .toml script")
    p.add_argument("--device", help="output device, by (part of) its name (see 'voiceguide devices')")
    p.add_argument("--timeline", metavar="FILE", help="write the timeline as it actually played, as JSON")
    p.set_defaults(handler=_cmd_run)
    g = p.add_argument_group("listening (for sessions with listen steps)")
    g.add_argument("--no-listen", action="store_true", help="do not record answers: listen steps become quiet pauses")
    g.add_argument("--input", metavar="NAME", help="microphone, by (part of) its name (see 'voiceguide devices')")
    g.add_argument("--journal", metavar="PATH", help="journal database (default: in your user data folder)")
    journal_cli.recognizer_options(g)
    g.add_argument("--no-keep-audio", action="store_true", help="keep only the words of answers, not their audio")
    g.add_argument("--no-voice-commands", action="store_true",
                   help='do not listen for "pause", "resume", "skip", "repeat", "slower" and "stop" '
                        'during the session')
    g.add_argument("--spotter", default="pocketsphinx", metavar="NAME",
                   help="keyword spotter for voice commands in English: pocketsphinx (default), taught (only the "
                        "words taught with 'voiceguide commands teach'), or fake (hears only the test tones of tests "
                        "of the sound path, never a voice); a language with taught words always uses them")
    _speech_options(p)

    p = sub.add_parser("render", help="render a session to a WAV file (no audio device needed)")
    p.add_argument("session", help="a session id or a path to a .toml script")
    p.add_argument("-o", "--output", required=True, metavar="OUT.wav", help="the WAV file to write")
    p.add_argument("--timeline", metavar="FILE", help="also write the timeline as JSON")
    _speech_options(p)

    p = sub.add_parser("validate", help="check session scripts; exit 1 if any is invalid")
    p.add_argument("files", nargs="+", metavar="FILE")

    sub.add_parser("devices", help="audio devices")
    p = sub.add_parser("voices", help="speech voices")
    p.add_argument("--tts", default=None, help="only this speech backend's voices (default: espeak and piper)")
    p.add_argument("--voice", help="also list the Piper voice at this .onnx path, or in this folder")
    p.add_argument("--language", help="only voices for this language code")
    p.add_argument("--packs", action="store_true", help="only the recorded voice packs, with what they cover")

    p = sub.add_parser("record", help="record your own voice for a session's lines (a voice pack)")
    p.add_argument("sessions", nargs="+", metavar="SESSION", help="session ids or script paths, one after another")
    p.add_argument("--pack", default="my-voice", help="the pack to record into (default my-voice); then play "
                                                      "with --voice NAME")
    p.add_argument("--input", metavar="NAME", help="microphone, by (part of) its name (see 'voiceguide devices')")
    p.add_argument("--device", metavar="NAME", help="speaker for playing takes back, by (part of) its name")
    p.add_argument("--redo-skipped", action="store_true", help="ask again for the lines skipped before")
    p.set_defaults(handler=_cmd_record)
    journal_cli.add_parsers(sub)  # transcribe, journal ...
    daemon_cli.add_parsers(sub)  # daemon, ctl, service, doctor
    remote_cli.add_parsers(sub)  # remote pair, devices, revoke
    mqtt_cli.add_parsers(sub)  # mqtt forget
    taught_cli.add_parsers(sub)  # commands teach, list, forget
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # --version and --help end here, having loaded only the parser's modules
    from voiceguide.errors import VoiceguideError

    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))  # script text reaches the log
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[to_stderr])
    handler = getattr(args, "handler", None)
    if handler is None:  # the engine's modules load only for the commands that need them
        from voiceguide.cli import commands

        handler = getattr(commands, f"cmd_{args.command}")
    try:
        code: int = handler(args)
    except VoiceguideError as exc:
        print(terminal_safe(f"voiceguide: {exc}", multiline=True), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("voiceguide: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())

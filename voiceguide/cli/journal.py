"""Command line for spoken answers: ``voiceguide transcribe`` and ``voiceguide journal ...`` (may print)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from voiceguide.journal.export import FORMATS, answer_text
from voiceguide.safe_text import terminal_safe

if TYPE_CHECKING:  # the errors, database and audio modules load only when a command runs (not for the parser)
    from voiceguide.journal.db import Journal
    from voiceguide.journal.entry import Entry

EMPTY = "Your journal is empty. Answers you speak during a session will be kept here, on this device only."


def recognizer_options(p: argparse._ActionsContainer) -> None:
    """``--recognizer`` and ``--model``, as ``run``, ``transcribe`` and ``journal retranscribe`` take them."""
    p.add_argument("--recognizer", default="auto", metavar="NAME",
                   help="speech recognizer for answers: auto (default: faster-whisper where its model is "
                        "installed, else sphinx), faster-whisper, sphinx, sphinx-sr, vosk, whisper or fake")
    p.add_argument("--model", metavar="PATH_OR_NAME",
                   help="model folder (sphinx, vosk, any CTranslate2 Whisper folder), tiny.en or base (the "
                        "packaged Whisper models), or a Whisper model name/path; never downloaded")


def _journal_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--journal", metavar="PATH", help="the journal database (default: in the user data folder)")


def add_parsers(sub: Any) -> None:
    """Register ``transcribe`` and ``journal`` on the main parser's subparsers."""
    p = sub.add_parser("transcribe", help="print the words spoken in an audio file (offline)")
    p.add_argument("file", metavar="FILE.wav", help="audio file (WAV, FLAC ...)")
    p.add_argument("--language", default="en", metavar="CODE", help="language spoken in it (default en; e.g. nl)")
    recognizer_options(p)
    p.set_defaults(handler=cmd_transcribe)

    j = sub.add_parser("journal", help="your private journal of spoken answers")
    jsub = j.add_subparsers(dest="journal_command", required=True, metavar="ACTION")
    for name, help_text, handler in (("list", "entries, oldest first", _list),
                                     ("show", "one entry in full", _show),
                                     ("search", "entries whose answer, question or session contains TEXT", _search),
                                     ("export", "the whole journal as Markdown, CSV or JSON", _export),
                                     ("delete", "delete an entry and its audio at once (no question asked)", _delete),
                                     ("retranscribe", "transcribe kept audio again", _retranscribe)):
        q = jsub.add_parser(name, help=help_text, description=help_text)
        _journal_option(q)
        q.set_defaults(handler=cmd_journal, action=handler)
        if name in ("show", "delete"):
            q.add_argument("id", type=int, help="entry number (see 'voiceguide journal list')")
        elif name == "search":
            q.add_argument("text")
        elif name == "list":
            q.add_argument("--limit", type=int, metavar="N", help="only the N most recent")
        elif name == "export":
            q.add_argument("--format", choices=sorted(FORMATS), default="md")
            q.add_argument("-o", "--output", metavar="FILE", help="write here (mode 0600) instead of stdout")
        elif name == "retranscribe":
            q.add_argument("id", type=int, nargs="?", help="entry number (default: every entry with audio)")
            recognizer_options(q)


def _recognizer(args: argparse.Namespace, language: str | None = None) -> Any:
    from voiceguide.backends import recognizer_with_model

    return recognizer_with_model(args.recognizer, args.model, language)


def cmd_transcribe(args: argparse.Namespace) -> int:
    """Print the transcript of an audio file."""
    from pathlib import Path

    from voiceguide.errors import VoiceguideError

    if not Path(args.file).is_file():
        raise VoiceguideError(f"no such audio file: {args.file}")
    from voiceguide.journal.audio import load

    clip = load(Path(args.file))
    result = _recognizer(args, args.language).transcribe(clip)
    if not result.text:
        print("(no words recognised)", file=sys.stderr)
        return 0
    print(terminal_safe(result.text))
    return 0


def cmd_journal(args: argparse.Namespace) -> int:
    """Open the journal and run the chosen action."""
    from voiceguide.journal.db import Journal
    from voiceguide.journal.health import damaged_advice

    action: Callable[[Journal, argparse.Namespace], int] = args.action
    with Journal(args.journal) as journal:
        if journal.damage is not None:
            print(f"voiceguide: {damaged_advice(journal.path, journal.damage)}", file=sys.stderr)
        return action(journal, args)


def _line(e: Entry) -> str:
    when = e.time[:16].replace("T", " ")
    session = f"  [{e.session_title}]" if e.session_title else ""
    answer = answer_text(e)
    if len(answer) > 60:
        answer = answer[:57] + "..."
    return f"{e.id:>4}  {when}{session}  {e.prompt}  → {answer}"


def _print_entries(entries: list[Entry]) -> None:
    for e in entries:
        print(terminal_safe(_line(e)))


def _list(journal: Journal, args: argparse.Namespace) -> int:
    entries = journal.entries(limit=args.limit)
    if not entries and journal.damage is None:
        print(EMPTY)
        return 0
    _print_entries(entries)
    return 0


def _show(journal: Journal, args: argparse.Namespace) -> int:
    e = journal.require(args.id)
    audio = journal.audio_file(e)
    fields = [("entry", str(e.id)), ("time", e.time),
              ("session", f"{e.session_title or '-'} ({e.session_id or '-'})" + (f", step {e.step}" if e.step else "")),
              ("question", e.prompt), ("kind", e.kind), ("answer", answer_text(e))]
    if e.kind == "rating" and e.transcript:
        fields.append(("words", e.transcript))
    if e.recognizer:
        conf = f", confidence {e.confidence:.2f}" if e.confidence is not None else ""
        fields.append(("heard by", e.recognizer + conf))
    if e.duration is not None:
        fields.append(("length", f"{e.duration:.1f} s"))
    if e.language:
        fields.append(("language", e.language))
    for earlier in journal.history(e.id):
        by = f" (by {earlier.recognizer})" if earlier.recognizer else ""
        fields.append(("before", f"{earlier.transcript!r}{by}, replaced {earlier.replaced[:16].replace('T', ' ')}"))
    refused = journal.audio_refusal(e)
    fields.append(("audio", str(audio) if audio else f"not used: {refused}" if refused else "not kept"))
    for name, value in fields:
        print(terminal_safe(f"{name + ':':<10} {value}"))
    return 0


def _search(journal: Journal, args: argparse.Namespace) -> int:
    if not journal.entries(limit=1) and journal.damage is None:
        print(EMPTY)
        return 0
    found = journal.search(args.text)
    if not found:
        print(f"Nothing in your journal mentions '{args.text}'.")
        return 0
    _print_entries(found)
    return 0


def _export(journal: Journal, args: argparse.Namespace) -> int:
    from voiceguide.errors import JournalError

    entries, readout = journal.readable()
    text = FORMATS[args.format](entries)
    if not args.output:
        sys.stdout.write(terminal_safe(text, multiline=True) if sys.stdout.isatty() else text)
    else:
        try:
            _write_export(args.output, text)
        except OSError as exc:
            raise JournalError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
        print(f"wrote {len(entries)} entries to {args.output}", file=sys.stderr)
    if readout.lost:
        print(f"voiceguide: exported the {len(entries)} entries that could be read; {readout.describe()}",
              file=sys.stderr)
        return 1
    if not entries:
        print(EMPTY, file=sys.stderr)
    return 0


def _write_export(output: str, text: str) -> None:
    """Write the export whole, mode 0600 (the journal's own words): through a temporary file beside a regular
    file (an older export is never half overwritten), straight into anything else (``/dev/stdout``, a pipe)."""
    from pathlib import Path

    from voiceguide import places

    target = Path(output)
    if target.exists() and not target.is_file():
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        return
    with places.replacing(target) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _delete(journal: Journal, args: argparse.Namespace) -> int:
    from voiceguide.errors import JournalError

    e = journal.delete(args.id)
    if e is None:
        raise JournalError(f"no journal entry {args.id} in {journal.path}")
    refused = journal.audio_refusal(e)
    audio = " and its audio" if e.audio_path and refused is None else ""
    print(terminal_safe(f"deleted entry {e.id}{audio} ({e.time[:16].replace('T', ' ')}: {e.prompt} → "
                        f"{answer_text(e)})"))
    if refused is not None:
        print(terminal_safe(f"voiceguide: {refused}: that file was left alone"), file=sys.stderr)
    return 0


def _retranscribe(journal: Journal, args: argparse.Namespace) -> int:
    from voiceguide.errors import VoiceguideError
    from voiceguide.journal.audio import load

    targets = [journal.require(args.id)] if args.id is not None else journal.all()
    with_audio = [e for e in targets if e.audio_path]
    if not with_audio:
        raise VoiceguideError("no kept audio to transcribe" + (f" for entry {args.id}" if args.id else ""))
    recognizers: dict[str, Any] = {}  # one per language the answers were given in
    for e in with_audio:
        path, refused = journal.audio_file(e), journal.audio_refusal(e)
        if refused is not None:
            print(f"{e.id:>4}  not read: {refused}", file=sys.stderr)
            continue
        if path is None or not path.exists():
            print(f"{e.id:>4}  audio missing: {path}", file=sys.stderr)
            continue
        language = e.language or "en"
        if language not in recognizers:
            recognizers[language] = _recognizer(args, language)
        rec = recognizers[language]
        result = rec.transcribe(load(path))
        updated = journal.update_transcript(e.id, result.text, rec.name, result.confidence)
        before = f"  (was: {e.transcript!r}, by {e.recognizer})" if e.transcript is not None else ""
        print(terminal_safe(f"{e.id:>4}  {answer_text(updated)}{before}"))
    return 0

"""``voiceguide commands``: teach voice commands in your own voice (any language), list them, forget them."""

from __future__ import annotations

import argparse
from typing import Any

from voiceguide.safe_text import terminal_safe

ACTIONS = ("pause", "resume", "skip", "repeat", "slower", "stop")
"""The commands a word can be taught for."""


def add_parsers(sub: Any) -> None:
    """Register ``commands`` (teach, list, forget) on the main parser's subparsers."""
    c = sub.add_parser("commands", help="voice commands in your own voice, in any language (teach, list, forget)")
    csub = c.add_subparsers(dest="commands_command", required=True, metavar="ACTION")
    t = csub.add_parser("teach", help="say each command word a few times so it is known in your voice",
                        description="Say each command word a few times, so that sessions in this language hear it "
                                    "in your voice. Takes about a minute; replaces what was taught before.")
    t.add_argument("--language", default="nl", metavar="CODE", help="the sessions' language (default nl)")
    t.add_argument("--input", metavar="NAME", help="microphone, by (part of) its name (see 'voiceguide devices')")
    t.add_argument("--word", action="append", default=[], metavar="COMMAND=WORD", type=_pair,
                   help=f"use your own word for a command ({', '.join(ACTIONS)}), e.g. skip='sla over'; "
                        "only the commands named are taught when any is given")
    t.add_argument("--takes", type=int, default=3, choices=range(2, 7), metavar="N",
                   help="times each word is said (2-6, default 3)")
    t.set_defaults(handler=cmd_commands, action=_teach)
    q = csub.add_parser("list", help="the languages and words taught")
    q.set_defaults(handler=cmd_commands, action=_list)
    f = csub.add_parser("forget", help="delete the words taught for a language")
    f.add_argument("--language", default="nl", metavar="CODE", help="the language (default nl)")
    f.set_defaults(handler=cmd_commands, action=_forget)


def cmd_commands(args: argparse.Namespace) -> int:
    code: int = args.action(args)
    return code


def _pair(text: str) -> tuple[str, str]:
    """A ``--word`` value: (command, word)."""
    action, _, word = text.partition("=")
    word = " ".join(word.split()).lower()
    if action not in ACTIONS or not word or len(word) > 40:
        raise argparse.ArgumentTypeError(f"give COMMAND=WORD with a command of {', '.join(ACTIONS)}")
    return action, word


def _words(args: argparse.Namespace) -> dict[str, Any]:
    from voiceguide.listen.taught_store import DEFAULT_WORDS
    from voiceguide.playback.control import Command

    if not args.word:
        return dict(DEFAULT_WORDS.get(args.language.split("-")[0].lower(), DEFAULT_WORDS["en"]))
    return {word: Command(action) for action, word in args.word}


def _teach(args: argparse.Namespace) -> int:
    from voiceguide import backends
    from voiceguide.listen import taught_store
    from voiceguide.listen.taught_teach import Teacher, confusable, teach

    words = _words(args)
    microphone = backends.audio_input("sounddevice", args.input)
    microphone.check()
    print("Each word is said a few times, on its own, at an ordinary pace. There is no hurry.")
    clock = backends.system_clock()
    try:
        with Teacher(microphone, clock) as teacher:
            taught = teach(teacher, args.language.split("-")[0].lower(), words,
                           lambda text: print(terminal_safe(text)), args.takes)
    finally:
        microphone.close()
        clock.close()
    if taught is None:
        return 1
    for one, other in confusable(taught):
        print(terminal_safe(f"'{one}' and '{other}' sound alike in these takes; another word for one of them "
                            "(--word) may be heard more surely."))
    try:
        path = taught_store.save(taught)
    except OSError as exc:
        from voiceguide.errors import OutputError

        raise OutputError(f"cannot keep the taught words: {exc.strerror or exc}") from exc
    print(terminal_safe(f"Kept privately in {path}. Sessions in '{taught.language}' now listen for these words."))
    return 0


def _list(args: argparse.Namespace) -> int:
    from voiceguide.listen import taught_store

    languages = taught_store.taught_languages()
    if not languages:
        print("No voice commands are taught yet ('voiceguide commands teach --language nl').")
    for language in languages:
        taught = taught_store.load(language)
        if taught is not None:
            words = ", ".join(f"{w} ({c.value}, {len(taught.takes[w])} takes)" for w, c in taught.words.items())
            print(terminal_safe(f"{language}: {words}"))
    return 0


def _forget(args: argparse.Namespace) -> int:
    from voiceguide.listen import taught_store

    if taught_store.forget(args.language):
        print(terminal_safe(f"The voice commands taught for '{args.language}' are deleted."))
    else:
        print(terminal_safe(f"No voice commands were taught for '{args.language}'."))
    return 0

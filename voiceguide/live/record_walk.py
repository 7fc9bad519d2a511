"""The walk through a session's lines for recording a voice pack: show, record, check, play back, keep.

Everything the person sees and does goes through :class:`WalkIO` (the command line gives it a terminal,
a microphone and a speaker; tests give it keys and takes), so the logic is tested without hardware.

It resumes where the person left off: lines already in the pack are not asked again, nor lines skipped before
(unless ``redo_skipped``). Each kept take is saved at once (take first, then the pack's list), so stopping,
a crash or a full disk loses at most the take in hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voiceguide.backends import voice_pack
from voiceguide.engine.pack_lines import Line
from voiceguide.errors import OutputError
from voiceguide.live.take_recorder import MAX_SECONDS, RATE, Recorded
from voiceguide.seams import Samples
from voiceguide.sound import takes

log = logging.getLogger(__name__)

KEEP, REDO, SKIP, QUIT, RECORD = "k", "r", "s", "q", ""


@dataclass(frozen=True)
class WalkIO:
    """How the walk meets the person."""

    ask: Callable[[str, str], str]
    """``ask(prompt, choices)``: the key pressed, one of ``choices`` ("" is Enter)."""
    show: Callable[[str], None]
    """A line of text for the person."""
    record: Callable[[], Recorded]
    """Record one take (with its count-in)."""
    play: Callable[[Samples], None]
    """Play a take back."""


@dataclass
class WalkResult:
    """What one walk did."""

    kept: int = 0
    """Takes kept."""
    skipped: int = 0
    """Lines skipped."""
    left: int = 0
    """Lines not yet recorded when the walk ended."""
    stopped: bool = False
    """The person stopped before the end (or the disk was full)."""


def _choose(io: WalkIO, prompt: str, choices: str, enter: bool = False) -> str:
    """The first key of the answer that is one of ``choices`` (or Enter, "", when ``enter``); asks again."""
    while True:
        key = io.ask(prompt, choices).strip().lower()[:1]
        if (key == "" and enter) or (key and key in choices):
            return key


def intro(lines: Sequence[Line], pack: voice_pack.Pack, session: str) -> list[str]:
    """What the person is told first: how many lines, how many recorded, which stay synthetic and why."""
    recordable = [line for line in lines if line.recordable]
    done = sum(1 for line in recordable if pack.has(line.text))
    out = [f"{session}: {len(recordable)} lines to record in pack '{pack.name}' ({done} already recorded)."]
    synthetic = [line for line in lines if not line.recordable]
    if synthetic:
        out.append(f"{len(synthetic)} line(s) will always be spoken by the synthetic voice:")
        out += [f"  - {line.text[:70]!r}: {line.note}" for line in synthetic]
    rounds = [line for line in recordable if line.note and line.kind == "line"]
    if rounds:
        out.append(f"{len(rounds)} line(s) count rounds: they are recorded as they read now; with other rounds "
                   "the synthetic voice says them.")
    out.append("Each line: Enter records (after a soft count of three), s skips, q stops for now (you can "
               "come back: recorded lines are kept).")
    return out


def walk(pack: voice_pack.Pack, session: str, lines: Sequence[Line], io: WalkIO,
         redo_skipped: bool = False) -> WalkResult:
    """Walk through ``lines`` of ``session`` into ``pack``; returns what was done."""
    for text in intro(lines, pack, session):
        io.show(text)
    remaining = todo(pack, session, lines, redo_skipped)
    result = WalkResult(left=len(remaining))
    for number, line in enumerate(remaining, 1):
        io.show("")
        io.show(f"[{number}/{len(remaining)}] {line.text}" + (f"   ({line.note})" if line.note else ""))
        outcome = _one_line(pack, line, io)
        if outcome == KEEP:
            result.kept += 1
            result.left -= 1
        elif outcome == SKIP:
            result.skipped += 1
            result.left -= 1
        else:
            result.stopped = True
            break
    recorded, total = pack.coverage(session)
    io.show(f"Pack '{pack.name}' now has {recorded} of {total} lines of {session}.")
    return result


def _one_line(pack: voice_pack.Pack, line: Line, io: WalkIO) -> str:
    """Record ``line`` until it is kept, skipped, or the person stops (or the disk is full): KEEP, SKIP, QUIT."""
    key = _choose(io, "Enter to record, s to skip, q to stop", "sq", enter=True)
    while True:
        if key == QUIT:
            return QUIT
        if key == SKIP:
            return _skip(pack, line, io)
        recorded = io.record()
        take = _check(recorded, io)
        if take is None:
            key = _choose(io, "Enter to try again, s to skip, q to stop", "sq", enter=True)
            continue
        io.play(take.samples)
        key = _choose(io, "k to keep, r to redo, s to skip, q to stop", "krsq")
        if key == REDO:
            key = RECORD
            continue
        if key == KEEP:
            try:
                voice_pack.keep_take(pack, line.text, take.samples)
            except OutputError as exc:
                io.show(f"This take could not be saved: {exc}. Every take kept before is safe. Free some space "
                        "and run the same command again to carry on.")
                return QUIT
            return KEEP


def assess(recorded: Recorded) -> tuple[takes.Take | None, list[str]]:
    """The take made ready (None when there is nothing worth playing back or keeping) and what to tell the
    person about it: the one check the terminal walk and the remote's record page share."""
    if recorded.too_long:
        return None, [f"That take ran past {MAX_SECONDS / 60:g} minutes, so it was stopped and not kept."]
    take = takes.prepare(recorded.samples, RATE)
    if not recorded.heard_speech or len(take.samples) == 0:
        return None, ["Nothing was heard: is the microphone on and close by?"]
    if take.denoised:
        log.info("the room's hum was lowered in this take")
    if take.problems:
        return take, ["About this take: " + "; ".join(take.problems) + "."]
    return take, []


def _check(recorded: Recorded, io: WalkIO) -> takes.Take | None:
    """The take made ready, or None (having said why) when there is nothing worth playing back."""
    take, said = assess(recorded)
    for text in said:
        io.show(text + (" Listen, then keep it or try again." if take is not None else ""))
    return take


def skip(pack: voice_pack.Pack, text: str) -> None:
    """Note ``text`` as skipped in ``pack`` (not asked again unless skipped lines are redone)."""
    pack.skipped[voice_pack.line_key(text)] = text
    voice_pack.save_manifest(pack)


def todo(pack: voice_pack.Pack, session: str, lines: Sequence[Line], redo_skipped: bool = False) -> list[Line]:
    """The lines of ``session`` still to record (noting them as the session's lines in ``pack``)."""
    recordable = [line for line in lines if line.recordable]
    keys = [voice_pack.line_key(line.text) for line in recordable]
    if pack.sessions.get(session) != keys:
        pack.sessions[session] = keys
        voice_pack.save_manifest(pack)
    return [line for line in recordable if not pack.has(line.text)
            and (redo_skipped or voice_pack.line_key(line.text) not in pack.skipped)]


def _skip(pack: voice_pack.Pack, line: Line, io: WalkIO) -> str:
    try:
        skip(pack, line.text)
    except OutputError as exc:
        io.show(f"Could not note the skip: {exc}. Every take kept before is safe.")
        return QUIT
    return SKIP

"""Warnings about a valid script: what depends on this machine, or looks like an accident (``validate``).

None of them stops a session from playing: a missing recording is spoken instead, a language may have
no voice installed here yet (the error comes when it is spoken), control characters are not spoken, and
what the engine's safety limits cap (:mod:`~voiceguide.script.holds`) or a placeholder it cannot fill
(:mod:`wording`) is said. A chime file that cannot be decoded is the exception: :func:`chime_problems`.
"""

from __future__ import annotations

from voiceguide.engine import recorded
from voiceguide.safe_text import controls_in
from voiceguide.script import holds, languages, wording
from voiceguide.script.model import Chime, Listen, Say, Session
from voiceguide.sound import sounds


def chime_problems(session: Session) -> list[str]:
    """One located line per chime whose file cannot be decoded (``validate`` counts these as errors).

    Parsing only checks that a chime's file exists and is a regular file of bounded size, so that reading a
    script loads no sound code (the phone remote's process stays without numpy); decoding its header is left
    to here and to compiling, which refuses the file with the same reason.
    """
    out = []
    for step in session.steps:
        act = step.action
        if isinstance(act, Chime):
            reason = sounds.file_problem(act.path)
            if reason is not None:
                out.append(f"step {step.index} (chime): sound file '{act.sound}': {reason}")
    return out


def warnings(session: Session) -> list[str]:
    """One located line per warning: the session's first, then the steps'."""
    out: list[str] = []
    voice = languages.warning(session.language) if not session.voice else None
    if voice is not None:
        out.append(f"[session]: {voice}")
    for key, text in (("title", session.title), ("description", session.description or "")):
        out.extend(_controls("[session]", key, text))
    out.extend(recorded.warnings(session))
    out.extend(holds.hold_warnings(session))
    out.extend(wording.placeholder_warnings(session))
    for step in session.steps:
        act = step.action
        if isinstance(act, Say):
            out.extend(_controls(f"step {step.index} (say)", "say", act.text))
        elif isinstance(act, Listen):
            out.extend(_controls(f"step {step.index} (listen)", "listen", act.prompt))
    return out


def _controls(where: str, key: str, text: str) -> list[str]:
    found = controls_in(text)
    if not found:
        return []
    return [f"{where}: warning: {key} contains control characters ({' '.join(found)}); they are not text "
            "and are shown escaped"]

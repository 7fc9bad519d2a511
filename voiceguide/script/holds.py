"""The hold limits applied to a parsed session: the session-wide bound on rounds with a long hold
(:func:`within_session`, used when compiling) and what ``validate`` says the limits change (:func:`hold_warnings`).

The numbers themselves are in :mod:`voiceguide.script.limits`, which the model imports; this module imports
the model, so the two never import each other.
"""

from __future__ import annotations

import dataclasses

from voiceguide.script.limits import (
    LONG_HOLD_SECONDS,
    MAX_HOLD_SECONDS,
    MAX_LONG_HOLD_ROUNDS,
    MAX_SESSION_LONG_HOLD_ROUNDS,
)
from voiceguide.script.model import Breathe, Session, Step


def _long_rounds(act: Breathe, held: int | None = None) -> int:
    """How many rounds of breathing step ``act`` hold the breath longer than :data:`LONG_HOLD_SECONDS`."""
    if held is not None:
        act = dataclasses.replace(act, held=held)
    return sum(1 for n in range(min(act.cycles, act.held_rounds))
               if any(p.kind == "hold" and p.seconds > LONG_HOLD_SECONDS for p in act.cycle(n)))


def within_session(session: Session) -> Session:
    """``session`` with its rounds of long holds bounded over the whole session: the breathing steps keep
    their long holds in order until :data:`MAX_SESSION_LONG_HOLD_ROUNDS` are used, and later rounds (and
    later steps) breathe the same pattern without the long hold. A session within the bound comes back as it is."""
    left = MAX_SESSION_LONG_HOLD_ROUNDS
    steps = []
    changed = False
    for step in session.steps:
        act = step.action
        if isinstance(act, Breathe) and act.long_holds:
            have = _long_rounds(act)
            if have > left:
                held = 0
                while _long_rounds(act, held + 1) <= left and held < act.held_rounds:
                    held += 1
                act = dataclasses.replace(act, held=held)
                have = _long_rounds(act)
                changed = True
            left -= have
            step = Step(step.index, act)
        steps.append(step)
    return dataclasses.replace(session, steps=tuple(steps)) if changed else session


def hold_warnings(session: Session) -> list[str]:
    """What the limits change in ``session``, one line per step, for ``validate``: holds shortened to the cap,
    and rounds past the cap that are breathed without their hold."""
    warnings = []
    for step in session.steps:
        act = step.action
        if not isinstance(act, Breathe):
            continue
        where = f"step {step.index} (breathe)"
        holds = [p.seconds for p in act.pattern.phases if p.kind == "hold"]
        longest = max(holds, default=0.0)
        prog = act.progress
        if holds and prog is not None and prog.phase == "hold" and prog.by > 0:
            longest = max(longest, prog.seconds(longest, act.cycles - 1))
        if longest > MAX_HOLD_SECONDS:
            warnings.append(f"{where}: warning: a hold of {longest:g} s is capped at {MAX_HOLD_SECONDS:g} s")
        if act.long_holds and act.cycles > act.held_rounds:
            warnings.append(f"{where}: warning: {act.cycles} rounds with a long hold asked for; the first "
                            f"{act.held_rounds} keep the hold and the other {act.cycles - act.held_rounds} are "
                            f"breathed without it (at most {MAX_LONG_HOLD_ROUNDS} rounds with a hold over "
                            f"{LONG_HOLD_SECONDS:g} s)")
    capped = within_session(session)
    left = MAX_SESSION_LONG_HOLD_ROUNDS
    for before, after in zip(session.steps, capped.steps, strict=True):
        if not isinstance(before.action, Breathe) or not before.action.long_holds:
            continue
        assert isinstance(after.action, Breathe)  # within_session changes a step's rounds, never its kind
        asked, kept = _long_rounds(before.action), _long_rounds(after.action)
        if kept < asked:
            most = MAX_SESSION_LONG_HOLD_ROUNDS
            warnings.append(f"step {before.index} (breathe): warning: the session already has {most - left} of "
                            f"its {most} rounds with a long hold; {kept} of this step's {asked} keep the hold and "
                            f"the other {asked - kept} are breathed without it (at most {most} rounds with a hold "
                            f"over {LONG_HOLD_SECONDS:g} s a session)")
        left -= kept
    return warnings

"""Safety limits on held breath that no script or option can exceed.

A held breath is the one part of paced breathing that can make a person light-headed or uneasy, and
for someone whose body learned to brace, a long hold can feel like being unable to breathe. So the
engine (not each script) keeps holds within bounds:

- no single hold lasts longer than :data:`MAX_HOLD_SECONDS`, whatever the pattern, ``--bpm``,
  a progression or any number of "slower" asks for;
- a breathing step gives at most :data:`MAX_LONG_HOLD_ROUNDS` rounds with a long hold (longer than
  :data:`LONG_HOLD_SECONDS`); later rounds of that step breathe the same pattern without the hold;
- a whole session gives at most :data:`MAX_SESSION_LONG_HOLD_ROUNDS` rounds with a long hold, counted across
  all its breathing steps in order (so ``--cycles`` on a session of many breathing steps cannot multiply
  them); once they are used, later steps breathe without the long hold
  (:func:`voiceguide.script.holds.within_session`);
- ``--minutes`` keeps the rounds with a long hold the script asked for and fills the extra time with
  rounds without the hold (see :func:`voiceguide.script.adjust.with_minutes`).
"""

from __future__ import annotations

MAX_HOLD_SECONDS = 10.0
"""The longest any single hold may last, in seconds."""
LONG_HOLD_SECONDS = 5.0
"""A hold longer than this counts as long (4-7-8's seven seconds is long; box's four is not)."""
LONG_HOLD_ROUNDS = 4
"""Rounds with a long hold when nothing asks for a number (Weil's guidance for 4-7-8: begin with four)."""
MAX_LONG_HOLD_ROUNDS = 8
"""The most rounds with a long hold in one breathing step; later rounds are breathed without the hold."""
MAX_SESSION_LONG_HOLD_ROUNDS = 8
"""The most rounds with a long hold in a whole session, over all its breathing steps; with
:data:`MAX_HOLD_SECONDS` this also bounds the time spent holding long to 80 s a session."""

LIGHTHEADED_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("lightheaded", "light-headed", "dizzy"),
    "nl": ("licht in je hoofd", "duizelig", "licht in het hoofd"),
}
"""Words that show a script already warns about light-headedness before its long holds, by language."""
LIGHTHEADED_NOTICE: dict[str, str] = {
    "en": "If you feel light-headed at any point, let the hold go and breathe however is easy.",
    "nl": "Voel je je licht in je hoofd, laat het vasthouden dan los en adem zoals het vanzelf gaat.",
}
"""Said once before the first long hold of a session that does not mention light-headedness itself."""


# --- how large a script may grow once its includes are spliced in -------------------------------------
# (checked while expanding, by voiceguide.script.expansion, so an amplifying script is refused early)
MAX_EXPANDED_STEPS = 5000
"""Most steps a session may have with every include spliced in (the longest bundled one has 133)."""
MAX_INCLUDE_DEPTH = 8
"""Deepest chain of includes (a part that includes a part ... ); the bundled sessions use 1."""
MAX_INCLUDES = 500
"""Most ``include`` steps expanded for one session, counted at every depth."""
MAX_EXPANDED_SECONDS = 24 * 3600.0
"""Longest session, counting its timed parts (pauses, breathing, sleep, quiet after lines, listening)."""
MAX_EXPANDED_CHARS = 400_000
"""Most characters of text to speak in one session (about seven hours of speech)."""
MAX_USER_SCRIPTS = 200
"""Most sessions the phone remote keeps in the user's scripts folder (uploads beyond it are refused)."""
MAX_USER_SCRIPTS_BYTES = 8 * 1024 * 1024
"""Most bytes of scripts the phone remote keeps in the user's scripts folder."""

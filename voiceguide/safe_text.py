"""Text from scripts, journals, configs and requests made safe to show on a terminal or write to a log.

A session title or a spoken line is data: it must not be able to clear the screen (``ESC [2J``), set the
window title (``ESC ]0;...``), ring the bell, move the cursor back over what was printed (``CR``), reverse
the direction of the rest of a line (the bidi overrides and isolates of "Trojan source"), or, in a log,
start a fake new line. Such characters are shown escaped, as ``\\x1b`` or ``\\u202e``, so the person sees
that something odd is in the text rather than having it act.

Escaped: the C0 controls except tab (and newline where a multi-line text is expected), DEL, the C1
controls (U+0080-U+009F), the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069),
the line and paragraph separators (U+2028, U+2029) and lone surrogates (which cannot be encoded). Letters
of every script, combining marks, the left-to-right and right-to-left marks and the zero-width joiners
stay as they are: real text needs them.
"""

from __future__ import annotations

import logging
import re

_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
_ONE_LINE = re.compile(f"[\n{_UNSAFE}]")
_MULTILINE = re.compile(f"[{_UNSAFE}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object, *, multiline: bool = False) -> str:
    """``text`` (made a string) with every character that could act on a terminal or a log escaped.

    With ``multiline``, newlines stay (a message of several lines); otherwise they are escaped too.
    """
    pattern = _MULTILINE if multiline else _ONE_LINE
    return pattern.sub(_escape, text if isinstance(text, str) else str(text))


def controls_in(text: str) -> list[str]:
    """The distinct characters of ``text`` that :func:`terminal_safe` would escape (newlines excepted), shown
    escaped, in order of first appearance: for ``validate``'s warning."""
    seen: dict[str, None] = {}
    for match in _MULTILINE.finditer(text):
        seen.setdefault(_escape(match), None)
    return list(seen)


class SafeFormatter(logging.Formatter):
    """A log formatter that escapes control characters in each message (a traceback keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        saved = record.message
        record.message = terminal_safe(saved)
        try:
            return super().formatMessage(record)
        finally:
            record.message = saved

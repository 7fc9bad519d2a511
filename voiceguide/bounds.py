"""The one table of the numbers a person may give: each range is checked against its row here, by the command
line, the config reader, ``ctl`` and the remote alike, and said the same way ("from 1 to 1440").

It imports nothing, so the light commands (``ctl``) can check a request without loading the engine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """The values a number the person gives may take (on the command line, in the config file, by ``ctl`` or
    from the remote): all of them check it against the same row of this table and say it the same way."""

    low: float
    """The smallest value accepted."""
    high: float
    """The largest value accepted."""
    above_low: bool = False
    """True: ``low`` itself is not accepted, only values above it."""

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return (self.low < value if self.above_low else self.low <= value) and value <= self.high

    def __str__(self) -> str:
        if self.above_low:
            return f"more than {self.low:g} and at most {self.high:g}"
        return f"from {self.low:g} to {self.high:g}"


MINUTES = Bounds(0, 24 * 60, above_low=True)
"""What a session can be fitted to with ``minutes``: anything above nothing, up to a day (the command line's
bound; the config file asked for at least one minute, ``ctl`` and the remote said so but took more than 0)."""
SAMPLE_RATES = Bounds(8000, 192000)
"""The stream's sample rate in Hz."""
LEVEL = Bounds(0, 1)
"""A volume (the session's or the daemon's master volume)."""

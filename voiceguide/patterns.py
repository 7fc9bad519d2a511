"""Bundled breathing patterns, by name."""

from __future__ import annotations

from .model import BreathPattern, Phase


def _pattern(name: str, description: str, *phases: tuple[str, float]) -> BreathPattern:
    return BreathPattern(
        name=name,
        description=description,
        phases=tuple(Phase(kind, seconds) for kind, seconds in phases if seconds > 0),  # type: ignore[arg-type]
    )


PATTERNS: dict[str, BreathPattern] = {
    p.name: p
    for p in (
        _pattern(
            "box",
            "Box breathing: in 4, hold 4, out 4, rest 4. Even and steadying.",
            ("inhale", 4), ("hold", 4), ("exhale", 4), ("rest", 4),
        ),
        _pattern(
            "4-7-8",
            "In 4, hold 7, out slowly for 8. Begin with a full exhale; four cycles to start.",
            ("inhale", 4), ("hold", 7), ("exhale", 8),
        ),
        _pattern(
            "coherent",
            "Resonant breathing at 5.5 breaths a minute: in and out evenly, about 5.5 s each.",
            ("inhale", 60 / 5.5 / 2), ("exhale", 60 / 5.5 / 2),
        ),
        _pattern(
            "sigh",
            "Physiological sigh: a breath in, a short top-up breath in, then a long slow breath out.",
            ("inhale", 2.5), ("inhale", 1.0), ("exhale", 7.0),
        ),
        _pattern(
            "7-11",
            "Count 7 in and 11 out at a gentle pace (3.5 s in, 5.5 s out): a long out-breath to settle.",
            ("inhale", 3.5), ("exhale", 5.5),
        ),
    )
}


def inline_pattern(inhale: float, hold: float, exhale: float, rest: float) -> BreathPattern:
    """A pattern written inline in a script (``{ inhale = 4, hold = 7, exhale = 8 }``)."""
    return _pattern("custom", "Custom phases.", ("inhale", inhale), ("hold", hold),
                    ("exhale", exhale), ("rest", rest))

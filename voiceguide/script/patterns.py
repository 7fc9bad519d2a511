"""Bundled breathing patterns, by name."""

from __future__ import annotations

from voiceguide.script.model import BreathPattern, Phase


def _pattern(name: str, description: str, *phases: tuple[str, float], cycles: int = 1) -> BreathPattern:
    return BreathPattern(
        name=name,
        description=description,
        phases=tuple(Phase(kind, seconds) for kind, seconds in phases if seconds > 0),  # type: ignore[arg-type]
        default_cycles=cycles,
    )


PATTERNS: dict[str, BreathPattern] = {
    p.name: p
    for p in (
        _pattern(
            "box",
            "Box breathing: in 4, hold 4, out 4, rest 4. Even and steadying.",
            ("inhale", 4), ("hold", 4), ("exhale", 4), ("rest", 4), cycles=4,
        ),
        _pattern(
            "4-7-8",
            "In 4, hold 7, out slowly for 8. Begin with a full exhale; four cycles to start.",
            ("inhale", 4), ("hold", 7), ("exhale", 8), cycles=4,
        ),
        _pattern(
            "coherent",
            "Resonant breathing at 5.5 breaths a minute: in and out evenly, about 5.5 s each.",
            ("inhale", 60 / 5.5 / 2), ("exhale", 60 / 5.5 / 2), cycles=11,
        ),
        _pattern(
            "sigh",
            "Physiological sigh: a breath in, a short top-up breath in, then a long slow breath out.",
            ("inhale", 2.5), ("inhale", 1.0), ("exhale", 7.0), cycles=6,
        ),
        _pattern(
            "7-11",
            "Count 7 in and 11 out at a gentle pace (3.5 s in, 5.5 s out): a long out-breath to settle.",
            ("inhale", 3.5), ("exhale", 5.5), cycles=7,
        ),
    )
}


def inline_pattern(inhale: float, hold: float, exhale: float, rest: float) -> BreathPattern:
    """A pattern written inline in a script (``{ inhale = 4, hold = 7, exhale = 8 }``)."""
    return _pattern("custom", "Custom phases.", ("inhale", inhale), ("hold", hold),
                    ("exhale", exhale), ("rest", rest))


def ratio_pattern(ratio: list[float], unit: float) -> BreathPattern:
    """A pattern from ratios (inhale:exhale, inhale:hold:exhale or inhale:hold:exhale:rest) times ``unit`` seconds."""
    parts = {2: ("inhale", "exhale"), 3: ("inhale", "hold", "exhale"), 4: ("inhale", "hold", "exhale", "rest")}
    kinds = parts[len(ratio)]
    text = ":".join(f"{r:g}" for r in ratio)
    return _pattern(f"ratio {text}", f"Ratio {text}, {unit:g} s per unit.",
                    *((kind, r * unit) for kind, r in zip(kinds, ratio, strict=True)))


def scaled(pattern: BreathPattern, bpm: float) -> BreathPattern:
    """The same pattern, every phase stretched so one cycle lasts 60/``bpm`` seconds."""
    factor = 60.0 / bpm / pattern.cycle_seconds
    phases = tuple(Phase(p.kind, p.seconds * factor) for p in pattern.phases)
    return BreathPattern(pattern.name, phases, f"{pattern.description} At {bpm:g} breaths a minute.",
                         pattern.default_cycles)

"""The names a script may use for generated sounds, without the code (and numpy) that makes them: parsing a
script checks against these, so validating one loads no sound code."""

from __future__ import annotations

BEDS = ("pink", "brown", "drone")
"""The ambient beds, in the order they are listed to a person (:data:`voiceguide.sound.ambient.BEDS` makes them)."""

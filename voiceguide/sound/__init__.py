"""Sounds made from numbers and files: bells and tones, ambient beds, and the shaping of a spoken line.
Depends only on the seams."""

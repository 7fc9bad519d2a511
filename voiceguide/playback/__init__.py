"""Playback: a compiled session played live. Importing this package imports nothing else."""

"""Tests through the real audio path (PulseAudio null sink); a package so its conftest stays separate."""

"""An on-disk cache of rendered speech, keyed by engine, voice, rate, volume, pitch and text."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from voiceguide import places
from voiceguide.seams import Clip, Speaker, SpeechParams, Voice

log = logging.getLogger(__name__)

FORMAT = 2
"""Bump to invalidate every cached clip (2: clips from before the pyttsx3 end-of-utterance fix could be cut short)."""


class CachedSpeaker:
    """Wraps a :class:`Speaker`; a line already rendered with the same settings is read from disk."""

    def __init__(self, inner: Speaker, folder: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.folder = folder / "speech"
        self.hits = 0
        self.misses = 0

    def key(self, text: str, params: SpeechParams) -> str:
        """The cache key: a hash of everything that changes the audio."""
        voice = self.inner.resolve_voice(params)
        parts: list[object] = [FORMAT, self.inner.name, voice, params.rate, round(params.volume, 3), text]
        if params.pitch is not None:  # only then, so clips cached before pitch existed stay valid
            parts.append(params.pitch)
        tag = getattr(self.inner, "cache_tag", None)  # a backend's own rendering settings (Piper's pacing)
        if tag is not None:
            parts.append(tag)
        blob = json.dumps(parts)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def is_cached(self, text: str, params: SpeechParams) -> bool:
        """Whether this line is already rendered (so it costs nothing to 'synthesise')."""
        return (self.folder / f"{self.key(text, params)}.wav").is_file()

    def synthesize(self, text: str, params: SpeechParams) -> Clip:
        """From the cache if present, otherwise render and store atomically."""
        import soundfile

        path = self.folder / f"{self.key(text, params)}.wav"
        if path.is_file():
            try:
                data, rate = soundfile.read(str(path), dtype="float32")
                self.hits += 1
                return Clip(np.ascontiguousarray(data, dtype=np.float32), int(rate))
            except (soundfile.LibsndfileError, RuntimeError) as exc:
                log.warning("discarding unreadable cached speech %s: %s", path.name, exc)
        clip = self.inner.synthesize(text, params)
        self.misses += 1
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with places.replacing(path) as tmp:
                soundfile.write(tmp, clip.samples, clip.sample_rate, subtype="FLOAT", format="WAV")
        except (OSError, RuntimeError) as exc:  # a read-only or full cache still lets the session play
            log.warning("could not cache speech in %s: %s", self.folder, exc)
        return clip

    def voices(self) -> list[Voice]:
        """The wrapped backend's voices."""
        return self.inner.voices()

    def close(self) -> None:
        """Close the wrapped speaker."""
        self.inner.close()

    def resolve_voice(self, params: SpeechParams) -> str:
        """The wrapped backend's choice."""
        return self.inner.resolve_voice(params)

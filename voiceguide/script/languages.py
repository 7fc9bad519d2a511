"""Which languages a session may be written in: known statically, and installed on this machine.

A script's ``language`` is an error when no voiceguide backend could ever speak it, and a warning
(from ``validate``) when this machine has no voice for it yet. "Could ever" means espeak-ng has a voice
for its base language: espeak-ng is what pyttsx3 speaks with on Linux and the Pi, and every Piper voice
uses espeak-ng's phonemes, so no backend speaks a language espeak-ng lacks.
"""

from __future__ import annotations

import functools
import logging
import re

log = logging.getLogger(__name__)

ESPEAK_LANGUAGES = frozenset({
    "af", "am", "an", "ar", "as", "az", "ba", "be", "bg", "bn", "bpy", "bs", "ca", "chr", "cmn", "cs", "cv", "cy",
    "da", "de", "el", "en", "eo", "es", "et", "eu", "fa", "fi", "fr", "ga", "gd", "gn", "grc", "gu", "hak", "haw",
    "he", "hi", "hr", "ht", "hu", "hy", "hyw", "ia", "id", "io", "is", "it", "ja", "jbo", "ka", "kk", "kl", "kn",
    "ko", "kok", "ku", "ky", "la", "lb", "lfn", "lt", "ltg", "lv", "mi", "mk", "ml", "mr", "ms", "mt", "my", "nb",
    "nci", "ne", "nl", "nog", "om", "or", "pa", "pap", "piqd", "pl", "pt", "py", "qdb", "qu", "quc", "qya", "ro",
    "ru", "sd", "shn", "si", "sjn", "sk", "sl", "smj", "sq", "sr", "sv", "sw", "ta", "te", "th", "tk", "tn", "tr",
    "tt", "ug", "uk", "ur", "uz", "vi", "yue"
})
"""Base language codes espeak-ng 1.51 has voices for (from ``espeak-ng --voices``, Debian 12)."""

_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def base(code: str) -> str:
    """``en`` for ``en-GB``, ``pt`` for ``pt_BR``."""
    return code.replace("_", "-").split("-")[0].lower()


def problem(code: str) -> str | None:
    """Why no backend could speak a session in ``code``, or None when one could."""
    if not _TAG.fullmatch(code):
        return f"language must be a language code like 'en', 'nl' or 'en-GB', not {code!r}"
    if base(code) not in ESPEAK_LANGUAGES:
        return (f"no voice exists for language '{code}' in any speech backend voiceguide uses; "
                "'voiceguide voices' lists the languages installed here")
    return None


@functools.lru_cache(maxsize=1)
def installed() -> frozenset[str] | None:
    """Base codes of the languages this machine's default backends (pyttsx3, Piper) have voices for;
    None when no backend could be asked (then nothing is claimed about this machine)."""
    from voiceguide import backends
    from voiceguide.backends import piper_tts
    from voiceguide.errors import VoiceguideError

    codes: set[str] = set()
    asked = False
    try:
        speaker = backends.speaker("pyttsx3")
        try:
            codes.update(base(code) for voice in speaker.voices() for code in voice.languages)
        finally:
            speaker.close()
        asked = True
    except VoiceguideError as exc:
        log.info("cannot list the pyttsx3 voices: %s", exc)
    codes.update(base(v.language) for v in piper_tts.find_voices(None))
    return frozenset(codes) if asked or codes else None


def warning(code: str) -> str | None:
    """A warning when this machine has no voice for ``code`` (it could be installed)."""
    here = installed()
    if here is None or base(code) in here:
        return None
    return (f"warning: no voice for language '{code}' is installed here (on Linux: sudo apt install espeak-ng-data; "
            "'voiceguide voices' lists what is here)")

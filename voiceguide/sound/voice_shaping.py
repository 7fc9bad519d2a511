"""Shaping a spoken line: sentences with room between them, one loudness, and an optional softer top end.

The softening filter is a high-shelf biquad from Robert Bristow-Johnson's Audio EQ Cookbook.
scipy is not a dependency, so it is applied in numpy: the filter's impulse response is computed
until it has died away and convolved with the voice by FFT, which equals running the recursive
filter (to within float rounding) without a per-sample Python loop.

Pitch is not shaped here: only backends that can change it do (espeak-ng through pyttsx3). Piper
has no pitch control, and shifting pitch by resampling would change the timing.
"""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt

from voiceguide.seams import Clip, Samples, Speaker, SpeechParams
from voiceguide.sound import sounds

SOFTEN_HZ = 3000.0
"""Corner frequency of the softening shelf: above it sit the sibilance and edge of a voice."""
SOFTEN_DB = -6.0
"""How much the shelf lowers the highs (half the amplitude): gentle, still clear."""
PITCH_RANGE = (0, 100)
"""Pitch as espeak-ng counts it; 50 is a voice's normal pitch."""
SENTENCE_GAP_MAX = 10.0
"""Longest pause between sentences a script may ask for, in seconds."""

_CLOSERS = "\"')]\u201d\u2019"
"""Closing quotes and brackets that stay with the sentence they end."""
_SENTENCE = re.compile(rf"\S.*?(?:[.!?\u2026]+[{re.escape(_CLOSERS)}]*(?=\s|$)|$)", re.DOTALL)
"""A sentence: up to end punctuation (with any closing quotes) followed by a space or the end."""


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, in order. A piece without letters or digits joins the one before it.

    Splitting is by punctuation only, so an abbreviation such as "Dr." also ends a sentence.
    """
    out: list[str] = []
    for match in _SENTENCE.finditer(text):
        piece = match.group(0).strip()
        if not piece:
            continue
        if out and not any(ch.isalnum() for ch in piece):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out or [text.strip()]


def high_shelf(sample_rate: int, hz: float = SOFTEN_HZ, db: float = SOFTEN_DB) -> tuple[tuple[float, ...],
                                                                                          tuple[float, ...]]:
    """RBJ cookbook high-shelf coefficients (shelf slope 1), normalised so ``a[0] == 1``: ``(b, a)``."""
    gain = 10.0 ** (db / 40.0)
    w0 = 2.0 * math.pi * min(hz, 0.45 * sample_rate) / sample_rate
    cos_w0 = math.cos(w0)
    alpha = math.sin(w0) / 2.0 * math.sqrt(2.0)
    root = 2.0 * math.sqrt(gain) * alpha
    b0 = gain * ((gain + 1) + (gain - 1) * cos_w0 + root)
    b1 = -2.0 * gain * ((gain - 1) + (gain + 1) * cos_w0)
    b2 = gain * ((gain + 1) + (gain - 1) * cos_w0 - root)
    a0 = (gain + 1) - (gain - 1) * cos_w0 + root
    a1 = 2.0 * ((gain - 1) - (gain + 1) * cos_w0)
    a2 = (gain + 1) - (gain - 1) * cos_w0 - root
    return (b0 / a0, b1 / a0, b2 / a0), (1.0, a1 / a0, a2 / a0)


def impulse_response(b: tuple[float, ...], a: tuple[float, ...], tolerance: float = 1e-9,
                     limit: int = 1 << 16) -> npt.NDArray[np.float64]:
    """The biquad's impulse response, run until ten samples in a row fall below ``tolerance``."""
    h: list[float] = []
    x1 = x2 = y1 = y2 = 0.0
    quiet = 0
    for n in range(limit):
        x0 = 1.0 if n == 0 else 0.0
        y0 = b[0] * x0 + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
        h.append(y0)
        x2, x1, y2, y1 = x1, x0, y1, y0
        quiet = quiet + 1 if abs(y0) < tolerance else 0
        if n > 2 and quiet >= 10:
            break
    return np.asarray(h, dtype=np.float64)


def filter_fir(samples: Samples, h: npt.NDArray[np.float64]) -> Samples:
    """``samples`` convolved with ``h`` by FFT, cut to the input's length (a causal filter)."""
    n = len(samples)
    if n == 0:
        return samples.astype(np.float32, copy=False)
    size = 1 << (n + len(h) - 2).bit_length()
    out = np.fft.irfft(np.fft.rfft(samples.astype(np.float64), size) * np.fft.rfft(h, size), size)[:n]
    return np.ascontiguousarray(out, dtype=np.float32)


def soften(samples: Samples, sample_rate: int, hz: float = SOFTEN_HZ, db: float = SOFTEN_DB) -> Samples:
    """``samples`` with the highs above ``hz`` lowered by ``-db`` dB (a gentle high shelf)."""
    b, a = high_shelf(sample_rate, hz, db)
    return filter_fir(samples, impulse_response(b, a))


LOUDNESS_TRIM_DB: dict[str, float] = {"piper": 1.5}
"""Peak room (dB over the 0.8 cap) a backend's lines get when they are brought to the one speech RMS, so every
voice measures the same integrated loudness (EBU R128). Piper's voice has higher peaks for its RMS: at the 0.8
cap most of its lines stop short of RMS 0.1 and measured 1.2 LU under espeak-ng's (median -21.3 against
-20.1 LUFS over 30 lines of bedtime, grounding, self-compassion and the breath cues); with 1.5 dB more peak
room both medians measured -20.1 LUFS (docs/benchmarks.md, "Voices")."""


def finish(clip: Clip, sample_rate: int, softened: bool, trim_db: float = 0.0) -> Samples:
    """A voice clip at ``sample_rate``, softened if asked, at the one speech loudness (with ``trim_db`` more room
    for its peaks)."""
    samples = sounds.resample(clip.samples, clip.sample_rate, sample_rate)
    if softened:
        samples = soften(samples, sample_rate)
    return sounds.normalize_speech(Clip(samples, sample_rate), peak=0.8 * 10 ** (trim_db / 20)).samples


def placed_take(clip: Clip, sample_rate: int, softened: bool, peak: float = 0.8) -> Samples:
    """A recorded take at ``sample_rate``, softened if asked. Its loudness was set when it was kept (EBU R128,
    ``sound.takes``), so it is only kept under ``peak`` here, never brought to the synthetic voice's RMS."""
    samples = sounds.resample(clip.samples, clip.sample_rate, sample_rate)
    if softened:
        samples = soften(samples, sample_rate)
    top = float(np.abs(samples).max()) if len(samples) else 0.0
    if top > peak:
        samples = (samples * (peak / top)).astype(np.float32)
    return samples


def join(parts: list[Samples], gap: int) -> Samples:
    """``parts`` one after another with ``gap`` samples of silence between them."""
    if not parts:
        return np.zeros(0, dtype=np.float32)
    silence = np.zeros(max(0, gap), dtype=np.float32)
    pieces: list[Samples] = []
    for i, part in enumerate(parts):
        if i:
            pieces.append(silence)
        pieces.append(part)
    out: Samples = np.concatenate(pieces).astype(np.float32, copy=False)
    return out


MAX_PIECE = 400
"""Most characters handed to a speech backend at once: a long line is split before it reaches the engine
(a 22,000-character line crashed espeak-ng)."""
SPLIT_GAP = 0.3
"""Seconds between the sentence groups of a long line split for the engine (a natural breath)."""
CLAUSE_GAP = 0.15
"""Seconds between the parts of one over-long sentence, split at commas or, failing that, between words."""
_CLAUSE = re.compile(r"(?<=[,;:\u2014\u2013])\s+")
"""A break after a comma, semicolon, colon or dash."""


def _pack(parts: list[str], limit: int, sep: str = " ") -> list[str]:
    """Consecutive ``parts`` joined into pieces of at most ``limit`` characters where they fit."""
    out: list[str] = []
    for part in parts:
        if out and len(out[-1]) + len(sep) + len(part) <= limit:
            out[-1] = f"{out[-1]}{sep}{part}"
        else:
            out.append(part)
    return out


def split_long(sentence: str, limit: int = MAX_PIECE) -> list[str]:
    """``sentence`` in pieces of at most ``limit`` characters: at clause breaks, then between words, and
    a word longer than ``limit`` in slices."""
    if len(sentence) <= limit:
        return [sentence]
    pieces: list[str] = []
    for clause in _pack(_CLAUSE.split(sentence), limit):
        if len(clause) <= limit:
            pieces.append(clause)
            continue
        words: list[str] = []
        for word in clause.split():
            words.extend(word[i:i + limit] for i in range(0, len(word), limit))
        pieces.extend(_pack(words, limit))
    return pieces


def speech_pieces(text: str, by_sentence: bool, limit: int = MAX_PIECE) -> list[list[str]]:
    """What the engine is asked to say, as groups of pieces: silence of the sentence gap (or
    :data:`SPLIT_GAP`) between groups, :data:`CLAUSE_GAP` between the pieces of one group.

    ``by_sentence`` (a sentence gap is set): one group per sentence. Otherwise a line up to ``limit``
    characters is one piece, as before, and a longer one is split by sentence, short sentences packed
    together up to ``limit``. No piece is longer than ``limit``.
    """
    if by_sentence:
        return [split_long(sentence, limit) for sentence in split_sentences(text)]
    if len(text) <= limit:
        return [[text]]
    return [split_long(group, limit) for group in _pack(split_sentences(text), limit)]


def spoken(speaker: Speaker, text: str, params: SpeechParams, sample_rate: int, sentence_gap: float,
           softened: bool) -> Samples:
    """``text`` spoken at ``sample_rate``; with a ``sentence_gap`` each sentence is synthesised on its own
    (and cached on its own) and that many seconds of silence are put between them. A long line is always
    split (see :func:`speech_pieces`), so no backend is handed more than :data:`MAX_PIECE` characters."""
    groups = speech_pieces(text, sentence_gap > 0)
    between = int(round((sentence_gap if sentence_gap > 0 else SPLIT_GAP) * sample_rate))
    if getattr(speaker, "timing_only", False):  # an estimate: the length is all that is needed
        return _silence(_spoken_length(speaker, groups, params, sample_rate, between))
    trim = LOUDNESS_TRIM_DB.get(speaker.name, 0.0)
    joined = [join([finish(speaker.synthesize(piece, params), sample_rate, softened, trim) for piece in group],
                   int(round(CLAUSE_GAP * sample_rate))) for group in groups]
    return join(joined, between)


def resampled_length(n: int, from_rate: int, to_rate: int) -> int:
    """How many samples :func:`~voiceguide.sound.sounds.resample` makes of ``n`` (soxr rounds half up)."""
    if from_rate == to_rate or n == 0:
        return n
    return (2 * n * to_rate + from_rate) // (2 * from_rate)


def _spoken_length(speaker: Speaker, groups: list[list[str]], params: SpeechParams, sample_rate: int,
                   between: int) -> int:
    """The length :func:`spoken` gives, from the clips' lengths alone (shaping never changes a length)."""
    clause = int(round(CLAUSE_GAP * sample_rate))
    total = between * (len(groups) - 1)
    for group in groups:
        total += clause * (len(group) - 1)
        for piece in group:
            clip = speaker.synthesize(piece, params)
            total += resampled_length(len(clip.samples), clip.sample_rate, sample_rate)
    return total


def _silence(n: int) -> Samples:
    """``n`` samples of silence that take no memory (read-only, zero stride): a placeholder for estimates."""
    out: Samples = np.broadcast_to(np.float32(0.0), (n,))
    return out

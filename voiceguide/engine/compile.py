"""Compile a :class:`Session` into a :class:`Timeline`: every sound synthesised and placed by sample index.

All speech is rendered here, before playback, so its length is known and the audio callback
never waits on synthesis. Times inside a step are computed from the step's start in exact
samples (cumulative rounding), so a long breathing step never drifts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from voiceguide.engine import affirmations, recorded
from voiceguide.engine.timeline import Event, EventKind, Timeline
from voiceguide.script import wording
from voiceguide.script.acknowledge import acknowledgements
from voiceguide.script.holds import within_session
from voiceguide.script.limits import LIGHTHEADED_NOTICE, LIGHTHEADED_WORDS
from voiceguide.script.model import Affirm, Breathe, Chime, Listen, Pause, Say, Session, Sleep
from voiceguide.seams import Clip, Samples, Speaker, SpeechParams
from voiceguide.sound import ambient, sounds, voice_shaping

log = logging.getLogger(__name__)

DEFAULT_RATE = 135
"""Calm guidance speed in words per minute (pyttsx3 defaults to a hurried 200)."""
DEFAULT_SAMPLE_RATE = 48000

CUE_WORDS: dict[str, dict[str, str]] = {
    "en": {"inhale": "In", "top-up": "And more", "hold": "Hold", "exhale": "Out", "rest": "Rest"},
    "nl": {"inhale": "In", "top-up": "Nog wat", "hold": "Vast", "exhale": "Uit", "rest": "Rust"},
}
"""Short spoken breath cues by language; unknown languages fall back to English."""
NUMBER_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"),
    "nl": ("een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf", "twaalf"),
}
"""Counting words for ``counts = true``: index 1 is spoken one second into a phase."""
CUE_GAIN = 0.8
"""Spoken breath cues sit a little under the guidance voice."""
LINE_ROOM = 2.0
"""Seconds of quiet after a line the engine adds (the light-headedness and privacy notices)."""
AMBIENT_FADE_OUT = 8.0
"""Seconds the ambient bed fades out at the end of a session without a sleep step."""


class _Builder:
    """Accumulates clips (deduplicated) and events while steps are laid out."""

    def __init__(self, session: Session, speaker: Speaker, sample_rate: int) -> None:
        self.session = session
        self.speaker = speaker
        self.rate = sample_rate
        self.clips: list[Samples] = []
        self.events: list[Event] = []
        self.step_starts: list[int] = []
        self.gates: list[int] = []
        self.cursor = 0
        """End of the steps compiled so far, in samples."""
        self.bed_fade = int(AMBIENT_FADE_OUT * sample_rate)
        self._clip_ids: dict[object, int] = {}

    def clip_id(self, key: object, make: Callable[..., Samples], *args: Any) -> int:
        """Index of the clip for ``key``, made with ``make(*args)`` the first time."""
        if key not in self._clip_ids:
            self._clip_ids[key] = len(self.clips)
            self.clips.append(make(*args))
        return self._clip_ids[key]

    def speech(self, text: str, rate: int | None = None, pitch: int | None = None,
               sentence_gap: float | None = None, audio: Path | None = None) -> tuple[int, int]:
        """Clip id and length in samples of ``text`` spoken with the session's voice.

        Every line is rendered at full engine volume and normalised to one loudness; a line's own
        ``volume`` is applied as mixing gain, so a softer line really is softer. ``pitch`` and
        ``sentence_gap`` override the session's; a playable ``audio`` recording replaces the speech
        (otherwise the text is spoken, with a warning). ``session.soften`` softens every voice line.
        """
        s = self.session
        if audio is not None and (("recording", audio) in self._clip_ids or recorded.playable(audio)):
            cid = self.clip_id(("recording", audio), recorded.load, audio, self.rate, s.soften)
            return cid, len(self.clips[cid])
        params = SpeechParams(language=s.language, voice=s.voice, rate=rate or s.rate or DEFAULT_RATE,
                              pitch=s.pitch if pitch is None else pitch)
        take = self.take(text, params)
        if take is not None:
            return take, len(self.clips[take])
        gap = s.sentence_gap if sentence_gap is None else sentence_gap
        # made at most once per key
        cid = self.clip_id(("speech", text, params, gap), voice_shaping.spoken, self.speaker, text, params,
                           self.rate, gap, s.soften)
        return cid, len(self.clips[cid])

    def take(self, text: str, params: SpeechParams) -> int | None:
        """Clip id of the person's own recording of ``text`` when the voice is a recorded pack that has it
        (``backends.voice_pack``): played as recorded (already trimmed and at the speech loudness)."""
        key = ("take", text, params.voice)
        if key in self._clip_ids:
            return self._clip_ids[key]
        recording: Callable[[str, SpeechParams], Clip | None] | None = getattr(self.speaker, "recording", None)
        clip = recording(text, params) if recording is not None else None
        if clip is None:
            return None
        return self.clip_id(key, voice_shaping.placed_take, clip, self.rate, self.session.soften)

    def timeline(self, final: bool) -> Timeline:
        """The timeline of the steps compiled so far; ``final`` adds the ambient bed's fade-out."""
        events = list(self.events)
        if self.session.ambient is not None:
            fade = self.bed_fade if final else None
            events += _ambient_events(self, self.session.ambient, self.session.ambient_volume, self.cursor, fade)
        events.sort(key=lambda e: (e.start, e.kind))
        return Timeline(self.rate, tuple(events), tuple(self.clips), tuple(self.step_starts), self.cursor,
                        self.session.title, tuple(self.gates))

    def add(self, kind: EventKind, start: int, length: int, step: int, clip: int | None = None,
            gain: float = 1.0, text: str | None = None, phase: str | None = None) -> None:
        self.events.append(Event(kind, start, start + length, step, clip,
                                 gain * self.session.volume, text, phase))


def compile_session(session: Session, speaker: Speaker, sample_rate: int = DEFAULT_SAMPLE_RATE,
                    progress: Callable[[int, int], None] | None = None, day: dt.date | None = None,
                    listening: bool = False) -> Timeline:
    """Synthesise and place every sound of ``session``.

    ``progress(done, total)`` reports steps; ``day`` seeds the day's choice of affirmations (today).
    With ``listening``, each listen step becomes prompt, a soft listening cue, a gate where playback
    holds while the person answers, and a short thank-you; without it, the prompt and a quiet pause.
    """
    total = len(session.steps)
    built: _Builder | None = None
    for done, built in enumerate(compile_steps(session, speaker, sample_rate, day, listening)):  # noqa: B007
        if progress is not None:
            progress(done, total)
    if progress is not None:
        progress(total, total)
    assert built is not None, "a session has at least one step"
    return built.timeline(final=True)


def compile_steps(session: Session, speaker: Speaker, sample_rate: int = DEFAULT_SAMPLE_RATE,
                  day: dt.date | None = None, listening: bool = False) -> Iterator[_Builder]:
    """Compile step by step, yielding the builder after each step (``timeline(final=False)`` is the prefix).

    This is what lets speech be synthesised in the background while the first steps already play.
    The session's long holds are first bounded over the whole session (:func:`within_session`).
    """
    session = within_session(session)
    b = _Builder(session, speaker, sample_rate)
    cursor = 0
    step_starts = b.step_starts
    gates = b.gates
    gap = int(round(session.speech_gap * sample_rate))
    lang = session.language.split("-")[0].lower()
    cues = CUE_WORDS.get(lang, CUE_WORDS["en"])
    numbers = NUMBER_WORDS.get(lang, NUMBER_WORDS["en"])
    bed_fade = int(AMBIENT_FADE_OUT * sample_rate)
    counts = wording.round_counts(session)
    warn_at = _lightheaded_step(session, lang)
    told_privacy = False
    thanks_after = acknowledgements(session)
    for step in session.steps:
        step_starts.append(cursor)
        act = step.action
        n = step.index
        if n == warn_at:  # once, before the first long hold, unless the script has said it already
            notice = LIGHTHEADED_NOTICE.get(lang, LIGHTHEADED_NOTICE["en"])
            cid, length = b.speech(notice)
            b.add(EventKind.SPEECH, cursor, length, n, cid, text=notice)
            cursor += length + int(round(LINE_ROOM * sample_rate))
        if isinstance(act, Say):
            text = wording.fill(act.text, session, *counts[n])
            cid, length = b.speech(text, act.rate, act.pitch, act.sentence_gap, act.audio)
            b.add(EventKind.SPEECH, cursor, length, n, cid, gain=1.0 if act.volume is None else act.volume, text=text)
            cursor += length + (gap if act.after is None else int(round(act.after * sample_rate)))
        elif isinstance(act, Pause | Sleep):
            length = int(round(act.seconds * sample_rate))
            b.add(EventKind.PAUSE if isinstance(act, Pause) else EventKind.SLEEP, cursor, length, n)
            cursor += length
            if isinstance(act, Sleep):
                bed_fade = int(act.fade * sample_rate)
        elif isinstance(act, Chime):
            cid = b.clip_id(("file", str(act.path)), sounds.load, act.path, sample_rate)
            length = len(b.clips[cid])
            b.add(EventKind.CHIME, cursor, length, n, cid, gain=act.volume, text=act.sound)
            cursor += length
        elif isinstance(act, Breathe):
            cursor = _breathe(b, act, n, cursor, cues, numbers)
        elif isinstance(act, Listen):
            if listening and not told_privacy:  # said aloud, so a bedside listener hears it too
                notice = wording.PRIVACY_NOTICE.get(lang, wording.PRIVACY_NOTICE["en"])
                cid, length = b.speech(notice)
                b.add(EventKind.SPEECH, cursor, length, n, cid, text=notice)
                cursor += length + int(round(LINE_ROOM * sample_rate))
                told_privacy = True
            cid, length = b.speech(act.prompt)
            b.add(EventKind.SPEECH, cursor, length, n, cid, text=act.prompt)
            cursor += length + gap
            if listening:
                cid = b.clip_id(("listen-cue",), sounds.listen_cue, sample_rate)
                b.add(EventKind.CHIME, cursor, len(b.clips[cid]), n, cid, text="listening")
                cursor += len(b.clips[cid])
                gates.append(cursor)
                thanks = thanks_after.get(n)  # skipped at run time when nothing was heard
                if thanks is not None:
                    cid, length = b.speech(thanks)
                    b.add(EventKind.SPEECH, cursor, length, n, cid, text=thanks)
                    cursor += length + gap
            else:
                wait = int(round(act.timeout * sample_rate))
                b.add(EventKind.LISTEN, cursor, wait, n, text=act.prompt)
                cursor += wait
        elif isinstance(act, Affirm):
            after = int(round(act.gap * sample_rate))
            lines = affirmations.choose(act.count, session.language, f"{session.id}/{n}",
                                        day or dt.date.today(), act.personal)
            for line in lines:
                cid, length = b.speech(line)
                b.add(EventKind.SPEECH, cursor, length, n, cid, text=line)
                cursor += length + after
        b.cursor, b.bed_fade = cursor, bed_fade
        yield b


def _lightheaded_step(session: Session, lang: str) -> int | None:
    """The index of the first breathing step with long holds when nothing said before it mentions feeling
    light-headed (so the engine says it there), else None."""
    words = LIGHTHEADED_WORDS.get(lang, LIGHTHEADED_WORDS["en"])
    for step in session.steps:
        act = step.action
        text = act.text if isinstance(act, Say) else act.prompt if isinstance(act, Listen) else ""
        if any(word in text.lower() for word in words):
            return None
        if isinstance(act, Breathe) and act.long_holds:
            return step.index
    return None


def _ambient_events(b: _Builder, name: str, volume: float, total: int, fade_out: int | None) -> list[Event]:
    """The ambient bed under ``total`` samples: faded in, looped, and (when ``fade_out`` is given) faded out.

    Without ``fade_out`` (a prefix still being compiled) whole loops cover the prefix and a little
    beyond; the final layout agrees with it everywhere before its fade-out.
    """
    looped = b.clip_id(("ambient", name), ambient.loop, name, b.rate)
    loop = b.clips[looped]
    fade_in = int(ambient.FADE_IN_SECONDS * b.rate)
    events: list[Event] = []
    gain = volume * b.session.volume
    if fade_out is None:
        head = b.clip_id(("ambient", name, "head", fade_in), ambient.faded_head, loop, fade_in)
        events.append(Event(EventKind.AMBIENT, 0, len(loop), 0, head, gain, name))
        events.extend(Event(EventKind.AMBIENT, offset, offset + len(loop), 0, looped, gain, name)
                      for offset in range(len(loop), total + len(loop), len(loop)))
        return events
    for offset, clip in ambient.layout(loop, total, fade_in, fade_out):
        key = ("ambient", name) if clip is loop else ("ambient", name, offset, len(clip), fade_in, fade_out)
        cid = b.clip_id(key, lambda c=clip: c)
        events.append(Event(EventKind.AMBIENT, offset, offset + len(clip), 0, cid, gain, name))
    return events


def _breathe(b: _Builder, act: Breathe, step: int, start: int, cues: dict[str, str],
             numbers: tuple[str, ...]) -> int:
    """Lay out ``act.cycles`` cycles from ``start``; returns the sample after the last phase.

    Phase edges are rounded from the running total in seconds, so many cycles never drift.
    """
    rate = b.rate
    elapsed = 0.0
    for number in range(act.cycles):
        previous = ""
        for phase in act.cycle(number):
            a = start + int(round(elapsed * rate))
            elapsed += phase.seconds
            z = start + int(round(elapsed * rate))
            b.add(EventKind.PHASE, a, z - a, step, phase=phase.kind)
            # a second inhale straight after the first (the sigh's top-up) has its own word and tone
            cue = "top-up" if phase.kind == previous == "inhale" else phase.kind
            previous = phase.kind
            if act.cue in ("tone", "both") and cue in sounds.PACING:
                cid = b.clip_id(("tone", cue, z - a), sounds.pacing_tone, cue, (z - a) / rate, rate)
                b.add(EventKind.TONE, a, len(b.clips[cid]), step, cid, phase=phase.kind)
            if act.cue in ("voice", "both"):
                cid, length = b.speech(cues[cue])
                b.add(EventKind.SPEECH, a, length, step, cid, gain=CUE_GAIN, text=cues[cue], phase=phase.kind)
                if act.counts:
                    for second in range(1, int(phase.seconds)):
                        word = numbers[second] if second < len(numbers) else str(second + 1)
                        cid, length = b.speech(word)
                        b.add(EventKind.SPEECH, a + second * rate, length, step, cid, gain=CUE_GAIN * 0.8, text=word,
                              phase=phase.kind)
    return start + int(round(elapsed * rate))

"""Never over the person, through the real path (issue 17, item 2): the voice yields during the thanks.

``voiceguide run`` plays a one-question session into a null sink; a person (real speech, the pocketsphinx
archive's "cards" clips) answers through the virtual microphone, stops, and speaks again half a second into the
acknowledgement as it is heard. The session's output must fall silent soon after that second part begins (a
fade, not the thanks said over them), the thanks must come again only after the person is done, and the
journal must hold ONE entry whose audio holds both parts (judged by correlation with the clips; the
recognizer is the fake one). Both sides are timed on one clock (``person``).
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio.audio_helpers import Pulse
from tests.audio.person import MIC_RATE, OUT_RATE, Audio, Person, find, person
from tests.audio.test_answer_edges import cue_timing, run_session
from tests.audio.test_thinking_pauses import low, pieces
from tests.speech_data import cards_or_skip

pytestmark = pytest.mark.audio

SCRIPT = '''[session]
title = "Listening"
rate = 60
[[step]]
say = "Hello."
[[step]]
listen = "What can you hear right now?"
timeout = 12
[[step]]
say = "That is all for now."
'''
INTO_THANKS = 0.3
"""The second part's speech begins this long after the acknowledgement is first heard."""
SCRIPT_NAME = "yield.toml"
"""The script's file name, which (through the session's id) picks its acknowledgement: "I heard that. Thank
you.", the longest (about 4.7 s at 60 words a minute with the fake voice), so that a person answering late into
it (a busy machine delays the harness's reaction: 1.56 s late was seen with the 2 s "Thank you.") still speaks
over it."""


def thanks_seconds(script: Path) -> float:
    """How long the acknowledgement after the question lasts (the fake voice's timing, the same in the run)."""
    from voiceguide.backends.fake import FakeSpeaker
    from voiceguide.engine.compile import compile_session
    from voiceguide.script import parse
    from voiceguide.script.acknowledge import acknowledgements

    session = parse.load(script)
    (text,) = acknowledgements(session).values()
    timeline = compile_session(session, FakeSpeaker(), OUT_RATE, listening=True)
    said = next(e for e in timeline.events if e.kind == "speech" and e.text == text)
    return (said.end - said.start) / OUT_RATE


FADED_WITHIN = 1.5
"""Bound from the second part's first sound at the microphone to the session's silence: 0.12 s heard, the
input's buffers (0.2 s), the fade (0.25 s) and the output's buffers (0.1 s), with room for a busy machine."""


def parts() -> tuple[Audio, Audio]:
    cards = {c.name: c for c in cards_or_skip()}
    return tuple(np.asarray(sf.read(cards[n].path, dtype="float32")[0]) for n in ("001", "002"))  # type: ignore[return-value]


def lead(utterance: Audio) -> float:
    """Seconds of quiet before ``utterance``'s speech."""
    return int(np.argmax(np.abs(utterance) > 0.01)) / MIC_RATE


def speak_into_the_thanks(who: Person, first: Audio, second: Audio, to_cue_end: float) -> None:
    """Say ``first`` 0.3 s after the cue ends, and ``second`` INTO_THANKS after the session speaks again."""
    plan: dict[str, float] = {}
    lock = threading.Lock()

    def watch(block: Audio, before: int) -> None:
        loud = np.flatnonzero(np.abs(block) > 0.01)
        if not len(loud):
            return
        at = who.time_of(before + int(loud[0]))
        with lock:
            if "first" not in plan:
                plan["first"] = at + to_cue_end + 0.3
                who.say(first, plan["first"])
            elif len(second) and "second" not in plan and at > plan["first"] + len(first) / MIC_RATE + 1.0:
                plan["second"] = at + INTO_THANKS  # the acknowledgement has begun
                who.say(second, plan["second"] - lead(second))

    who.when_heard(watch)


def silent_from(heard: Audio, start: int) -> int:
    """The first output sample from ``start`` after which 100 ms are silent."""
    size = OUT_RATE // 10
    for i in range(start, len(heard) - size, OUT_RATE // 100):
        if np.max(np.abs(heard[i:i + size])) < 0.005:
            return i
    return len(heard)


def test_speech_during_the_thanks_makes_the_voice_yield_and_stays_one_answer(pulse: Pulse, tmp_path: Path) -> None:
    first, second = parts()
    script = tmp_path / SCRIPT_NAME
    script.write_text(SCRIPT)
    to_cue_end, _ = cue_timing(script)
    with person(pulse.env) as who:
        speak_into_the_thanks(who, first, second, to_cue_end)
        log, journal, found = run_session(who, pulse, script, tmp_path)
        heard = who.recording()
        second_at = who.said_at(second) + lead(second)
        second_end = who.said_at(second) + len(second) / MIC_RATE
        thanks_at = who.said_at(first) + len(first) / MIC_RATE
        origin = who.time_of(0)
        as_heard = {"first": who.as_heard(first), "second": who.as_heard(second)}
    lines = "\n".join(line for line in log.splitlines() if "voiceguide.listen" in line)
    # the session was speaking when the second part began, and was silent soon after
    onset = round((second_at - origin) * OUT_RATE)
    assert np.max(np.abs(heard[onset - OUT_RATE // 5:onset])) > 0.01, "the session was not speaking then\n" + lines
    faded = (silent_from(heard, onset) - onset) / OUT_RATE
    print(f"from the second part's onset to the session's silence: {faded:.3f} s")
    assert faded <= FADED_WITHIN, f"the voice went on {faded:.2f} s over the person\n" + lines
    # a yield, not the thanks ending by itself: it was cut short of its length, with a fade
    began = round((thanks_at - origin) * OUT_RATE)
    began += int(np.flatnonzero(np.abs(heard[began:]) > 0.01)[0])
    said_for = (silent_from(heard, onset) - began) / OUT_RATE
    length = thanks_seconds(script)
    assert said_for < length - 0.3, f"the thanks was said whole ({said_for:.2f} of {length:.2f} s)\n" + lines
    assert "the voice yields" in log
    # and spoke again only after the person was done
    after = silent_from(heard, onset)
    loud = np.flatnonzero(np.abs(heard[after:]) > 0.01)
    assert len(loud) and who.time_of(after + int(loud[0])) > second_end, "spoke again over the person\n" + lines
    # one entry holding both parts
    (entry,) = found["entries"]
    kept, _ = sf.read(str(journal.parent / entry["audio_path"]), dtype="float64")
    kept = low(kept)
    for name, part in as_heard.items():  # what the microphone carried (a stalled feed's gap included)
        scores = [find(kept, low(piece))[1] for piece in pieces(part)]
        assert scores and min(scores) > 0.85, f"the {name} part is not all in the answer: {np.round(scores, 2)}"
    assert thanks_at < second_at


def test_the_voice_does_not_yield_to_its_own_echo(pulse: Pulse, tmp_path: Path) -> None:
    """The session's output is looped into the microphone too (a bedside speaker): its thanks must be said whole
    and nothing of it kept."""
    first, _ = parts()
    script = tmp_path / SCRIPT_NAME
    script.write_text(SCRIPT)
    to_cue_end, _ = cue_timing(script)
    with person(pulse.env) as who:
        loop = subprocess.run(["pactl", "load-module", "module-loopback", f"source={who.out}.monitor",
                               f"sink={who.mic}", "latency_msec=60"], env=pulse.env, capture_output=True,
                              text=True, check=True).stdout.strip()
        try:
            speak_into_the_thanks(who, first, np.zeros(0, dtype=np.float32), to_cue_end)
            log, journal, found = run_session(who, pulse, script, tmp_path)
            heard_self = np.concatenate(who.voice)
        finally:
            subprocess.run(["pactl", "unload-module", loop], env=pulse.env, check=False)
    lines = "\n".join(line for line in log.splitlines() if "voiceguide.listen" in line)
    # the loop really carried the session's voice into the microphone
    assert np.sqrt(np.mean(heard_self[heard_self != 0] ** 2)) > 0.01, "nothing was looped into the microphone"
    assert "the voice yields" not in log, lines
    (entry,) = found["entries"]
    kept, rate = sf.read(str(journal.parent / entry["audio_path"]), dtype="float64")
    # the answer may begin with the cue's own echo (up to 0.8 s looked back, then 0.3 s of pre-roll) and ends
    # 0.3 s after its last sound; the thanks (2 s, after 2.5 s of quiet) would add far more than that
    assert len(kept) / rate < len(first) / MIC_RATE + 1.4 + 0.3 + 0.5, "the thanks was kept too\n" + lines
    # judged against the clip: the microphone carries the looped voice too, so the clip's onset is not found
    # in it clearly enough (0.70 once) to cut out what the microphone carried there
    scores = [find(low(kept), low(piece))[1] for piece in pieces(first)]
    assert scores and min(scores) > 0.85, f"the answer is not all in the entry: {np.round(scores, 2)}"

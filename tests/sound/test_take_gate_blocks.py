"""The take gate worked out a block of frames at a time gives what it gives over the whole take at once (the
block edges, where the three-frame smoothing looks beyond the block, included), so long takes cost little
memory without sounding any different."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.sound import takes


@pytest.mark.parametrize("length", [1024, 1300, 48000 * 3 + 77])
def test_blocks_do_not_change_the_gate(length: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(length)
    voice = (rng.normal(0, 0.05, length) * np.sin(np.arange(length) / 3000)).astype(np.float32)
    room = rng.normal(0, 0.01, 30000).astype(np.float32)
    monkeypatch.setattr(takes, "GATE_BLOCK", 100_000)
    whole = takes._gate(voice, room)
    for block in (1, 2, 7):
        monkeypatch.setattr(takes, "GATE_BLOCK", block)
        assert np.max(np.abs(takes._gate(voice, room) - whole)) < 1e-6
    assert np.max(np.abs(whole - voice)) > 1e-3, "the gate did lower something"

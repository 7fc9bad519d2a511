"""``python -m voiceguide.remote.take_job PACK SESSION KEY ANYWAY`` (the take's WAV on stdin): makes one take
from the phone ready and keeps it (``recording.keep_here``), printing the outcome as JSON. The remote runs it
as a child process so that the take's processing (scipy, a few hundred MB for a long take) leaves nothing
behind in the remote's own process."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict

from voiceguide.remote.recording import MAX_BYTES, keep_here


def main(argv: list[str]) -> int:
    """Run one take job; 0 when an outcome (kept or not) was printed, 2 on wrong arguments."""
    if len(argv) != 4:
        print("usage: python -m voiceguide.remote.take_job PACK SESSION KEY ANYWAY < take.wav", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    raw = sys.stdin.buffer.read(MAX_BYTES + 1)
    pack, session, key, anyway = argv
    outcome = keep_here(pack, session, key, raw, anyway == "1")
    print(json.dumps(asdict(outcome)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

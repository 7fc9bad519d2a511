"""Work that may crash the process it runs in (a speech engine's native code) runs in a child process.

A speech engine is native code: given text it cannot handle, it may die with SIGSEGV rather than raise,
and the daemon must not die with it. :func:`run` does a piece of work in a fresh interpreter
(``multiprocessing`` with the ``spawn`` start method: the daemon has threads and open audio, so it
is never forked) and turns every way that can end into a :class:`VoiceguideError` the daemon reports:
the work raised (its message), the child died of a signal (which one), or it hung past ``timeout``.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection

from voiceguide.errors import SpeechError, VoiceguideError

TIMEOUT = 600.0
"""Longest a child may take before it is taken to be hung and killed (uncached speech of a long
session on a Raspberry Pi takes minutes, so this only catches an engine that never returns)."""


def run(work: Callable[[], object], what: str, timeout: float = TIMEOUT) -> None:
    """Do ``work`` (picklable: a module-level function or a ``functools.partial`` of one) in a child
    process and wait for it. Raises :class:`SpeechError` if the child crashed or hung, and
    :class:`VoiceguideError` with the child's message if ``work`` raised."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, send), name="voiceguide-speech", daemon=True)
    try:
        child.start()
    except (OSError, ValueError) as exc:
        raise SpeechError(f"{what}: cannot start a process for the speech engine: {exc}") from exc
    send.close()
    try:
        if not receive.poll(timeout):
            child.kill()
            raise SpeechError(f"{what}: the speech engine gave no answer in {timeout:g} s and was stopped")
        try:
            outcome: str | None = receive.recv()
        except EOFError:  # the child ended without a word: it crashed
            raise SpeechError(f"{what}: the speech engine {_how_it_ended(child)}; nothing was played") from None
    finally:
        receive.close()
        child.join(5.0)
        if child.is_alive():
            child.kill()
            child.join(1.0)
    if outcome is not None:
        raise VoiceguideError(outcome)


def _how_it_ended(child: multiprocessing.process.BaseProcess) -> str:
    child.join(5.0)
    code = child.exitcode
    if code is None or code >= 0:
        return f"ended unexpectedly (exit status {code})"
    try:
        return f"crashed ({signal.Signals(-code).name})"
    except ValueError:
        return f"crashed (signal {-code})"


def _child(work: Callable[[], object], send: Connection) -> None:
    """In the child: do the work, then send None, or the message of what went wrong."""
    try:
        work()
    except VoiceguideError as exc:
        send.send(str(exc))
    except Exception as exc:  # the parent reports it; a bug here must still give an answer
        send.send(f"unexpected {type(exc).__name__}: {exc}")
    else:
        send.send(None)
    finally:
        send.close()

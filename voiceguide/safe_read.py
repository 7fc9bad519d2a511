"""Reading a file named by the person or by data: regular files of bounded size only, never blocking.

A FIFO, a device (``/dev/zero``), a directory or a symlink to one of those is refused before a byte is read,
and so is a file larger than its kind allows. Opening uses ``O_NONBLOCK`` so that a FIFO with no writer
cannot hang us in ``open()``; ``fstat`` on the open descriptor then decides, so a file swapped after the
check is still the file we judged. At most ``limit + 1`` bytes are ever read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from voiceguide.errors import InputFileError

SCRIPT_LIMIT = 1_000_000
"""Largest session script, included part or ``config.toml``, in bytes (the bundled ones are under 10 kB)."""
LIST_LIMIT = 1_000_000
"""Largest affirmations file, in bytes (about 10,000 lines)."""
VOICE_CONFIG_LIMIT = 4_000_000
"""Largest Piper voice ``.onnx.json``, in bytes (real ones are 5-60 kB)."""
SOUND_LIMIT = 64_000_000
"""Largest sound file (chime, recorded voice, answer audio), in bytes: about 12 minutes of 16-bit 44.1 kHz mono."""
MODEL_LIMIT = 2_000_000_000
"""Largest voice model file handed to its library, in bytes."""

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB" if n >= 1000 else f"{n} bytes"


def _refuse_size(path: Path, limit: int) -> InputFileError:
    return InputFileError(path, f"larger than {_size(limit)}, the most voiceguide reads from a file of this kind")


def open_regular(path: Path | str, limit: int) -> BinaryIO:
    """``path`` opened for binary reading, if it is a regular file of at most ``limit`` bytes.

    Raises :class:`InputFileError` otherwise (with ``missing`` set when there is no such file, for callers
    that treat a missing file as "none").
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}",
                             missing=isinstance(exc, FileNotFoundError)) from exc
    except ValueError as exc:  # a NUL character in the name
        raise InputFileError(path, "cannot read: the file name contains a NUL character") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(path, f"{_kind(info.st_mode)}, not a regular file (voiceguide reads only files)")
        if info.st_size > limit:
            raise _refuse_size(path, limit)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_regular(path: Path | str, limit: int) -> None:
    """Raise :class:`InputFileError` unless ``path`` is a regular file of at most ``limit`` bytes
    (for files handed by name to a library: soundfile, onnxruntime)."""
    open_regular(path, limit).close()


def read_bytes(path: Path | str, limit: int) -> bytes:
    """The content of the regular file ``path``; :class:`InputFileError` if it is anything else or too large."""
    with open_regular(path, limit) as handle:
        try:
            data = handle.read(limit + 1)  # the file may have grown since fstat
        except OSError as exc:
            raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise _refuse_size(Path(path), limit)
    return data


def decode(data: bytes, path: Path | str) -> str:
    """UTF-8 text; :class:`InputFileError` naming the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputFileError(path, f"not UTF-8 text (bad byte at line {line}, column {column}, "
                                   f"offset {exc.start})") from exc


def read_text(path: Path | str, limit: int) -> str:
    """The UTF-8 text of the regular file ``path`` (at most ``limit`` bytes)."""
    return decode(read_bytes(path, limit), path)

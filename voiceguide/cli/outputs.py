"""Files a command writes: checked before any work starts, and written so a failure leaves nothing half done.

A rendered session goes to a temporary file in the same folder and is renamed into place only once it
is complete, so a full disk or a stop part-way never leaves a truncated file where an older good one was.
The sound is mixed block by block with the one :class:`~voiceguide.engine.mix.Mixer` and streamed to the file,
so memory does not grow with the session's length.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from voiceguide import places
from voiceguide.engine.mix import Mixer
from voiceguide.engine.timeline import Timeline
from voiceguide.errors import OutputError

BLOCK = 1 << 16
"""Samples mixed and written at a time (the block size the whole-array render has always used)."""
PROTECTED_SUFFIXES = frozenset({".toml"})
"""Files an output may never replace: session scripts and configs."""
WAV_LIMIT = 0xFFFFFFFF - 44
"""Most data bytes a plain WAV or AIFF file can describe (its size fields are 32-bit)."""


@dataclass(frozen=True)
class SoundFormat:
    """How a file extension is written."""

    format: str
    """libsndfile's major format (``WAV``, ``FLAC`` ...)."""
    subtype: str
    """libsndfile's encoding (``PCM_16``, ``VORBIS`` ...)."""
    bytes_per_sample: int | None = None
    """Bytes per sample for uncompressed formats whose size fields are 32-bit; None for the rest."""


_WANTED: dict[str, SoundFormat] = {
    ".wav": SoundFormat("WAV", "PCM_16", 2),
    ".flac": SoundFormat("FLAC", "PCM_16"),
    ".ogg": SoundFormat("OGG", "VORBIS"),
    ".oga": SoundFormat("OGG", "VORBIS"),
    ".mp3": SoundFormat("MP3", "MPEG_LAYER_III"),
    ".aiff": SoundFormat("AIFF", "PCM_16", 2),
    ".aif": SoundFormat("AIFF", "PCM_16", 2),
    ".rf64": SoundFormat("RF64", "PCM_16"),
}
"""The extensions we write, if the installed libsndfile can write them."""


def sound_formats() -> dict[str, SoundFormat]:
    """The output extensions this machine's libsndfile can write (MP3 needs libsndfile 1.1 or later)."""
    import soundfile

    formats = soundfile.available_formats()
    return {ext: f for ext, f in _WANTED.items()
            if f.format in formats and f.subtype in soundfile.available_subtypes(f.format)}


def sound_format(path: str) -> SoundFormat:
    """The format for ``path`` by its extension, or :class:`OutputError` listing the known ones."""
    known = sound_formats()
    suffix = Path(path).suffix.lower()
    if suffix in known:
        return known[suffix]
    names = ", ".join(known)
    if not suffix:
        raise OutputError(f"cannot tell what kind of sound file {path} should be: give it an extension "
                          f"({names})")
    raise OutputError(f"cannot write {path}: '{suffix}' is not a sound format voiceguide writes ({names})")


def check_writable(path: str, what: str = "", protect: tuple[Path, ...] = ()) -> Path:
    """``path`` as a :class:`Path` if a file can be created there, else :class:`OutputError`.

    Refused: a folder, something that is not a regular file (a device, a FIFO), a missing or unwritable
    folder, any ``.toml`` file, and the files in ``protect`` (the script being rendered). ``what`` names
    the output in the message (``timeline``).
    """
    target = Path(path)
    name = f"{what} {path}" if what else path
    if target.suffix.lower() in PROTECTED_SUFFIXES:
        raise OutputError(f"will not write {name}: .toml files are scripts and settings, never replaced")
    for kept in protect:
        with contextlib.suppress(OSError):
            if target.exists() and os.path.samefile(target, kept):
                raise OutputError(f"will not write {name}: it is the script being used")
    if target.is_dir():
        raise OutputError(f"cannot write {name}: it is a folder; give a file name")
    if target.exists() and not target.is_file():
        raise OutputError(f"cannot write {name}: it is not a regular file")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {name}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise OutputError(f"cannot write {name}: permission denied")
    return target


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[str]:
    """A temporary file next to ``target``, renamed onto it if the block succeeds and removed if not
    (:func:`voiceguide.places.replacing`), with the mode of the file it replaces, or the umask's for a new one.

    Only the temporary file this creates is ever removed; an existing ``target`` is left alone until
    the new one is complete.
    """
    try:
        with places.replacing(target, _mode_for(target)) as tmp:
            yield tmp
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _mode_for(target: Path) -> int:
    """The mode a written ``target`` gets: that of the file being replaced; a new one gets the umask's."""
    with contextlib.suppress(OSError):
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_sound(timeline: Timeline, target: Path, fmt: SoundFormat,
                progress: Callable[[int, int], None] | None = None) -> None:
    """Mix ``timeline`` block by block into ``target`` (through a temporary file); memory stays flat.

    The samples are exactly those of ``Mixer(timeline).render()`` written with ``soundfile.write``.
    """
    import soundfile

    if fmt.bytes_per_sample is not None and timeline.length * fmt.bytes_per_sample > WAV_LIMIT:
        others = ", ".join(ext for ext, f in sound_formats().items() if f.bytes_per_sample is None)
        raise OutputError(f"{timeline.seconds / 3600:.1f} hours at {timeline.sample_rate} Hz is more than a "
                          f"{fmt.format} file can hold (4 GiB); use one of {others}, or a lower --sample-rate")
    mixer = Mixer(timeline, prescale=False)  # gains applied block by block: no second copy of every clip
    with replacing(target) as tmp:
        try:
            with soundfile.SoundFile(tmp, "w", timeline.sample_rate, 1, fmt.subtype, format=fmt.format) as out:
                for start, block in mixer.blocks(BLOCK):
                    out.write(block)
                    if progress is not None:
                        progress(start + len(block), timeline.length)
        except (soundfile.LibsndfileError, RuntimeError, AssertionError) as exc:  # a short write asserts
            detail = str(exc).strip().rstrip(".") or "short write"
            raise OutputError(f"cannot write {target}: writing stopped part-way ({detail}; is the disk full?); "
                              f"nothing was left in its place") from exc

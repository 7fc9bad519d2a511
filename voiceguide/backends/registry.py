"""One registry of backends by name: each entry is its factory with its own flags, and one "unknown name" error.

Speech backends, outputs, microphones, recognizers and rigs were each a dict of factories with its own lookup,
its own error and side tables (which recognizer takes a model, which one is told the language, which speech
backend's voices are searched). A :class:`Registry` is a
mapping from name to :class:`Backend`; tests can still put a plain factory in it (``monkeypatch.setitem``),
which is wrapped with no flags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from voiceguide.errors import BackendError

T = TypeVar("T")


@dataclass(frozen=True)
class Backend(Generic[T]):
    """A backend's factory and what the code around it needs to know about it."""

    factory: Callable[..., T]
    """Builds it (importing its heavy library only now)."""
    model_option: str | None = None
    """Which keyword of the factory a ``--model`` value goes to; None: it takes no model."""
    language_aware: bool = False
    """Whether it is told the session's language."""
    voice_search: bool = False
    """A speech backend whose voices a ``--voice`` without ``--tts`` may name (looked in after the default)."""
    taught: bool = False
    """A keyword spotter that hears the person's own takes of each word (``voiceguide commands teach``), given to
    its factory as ``takes``; it knows no words of its own."""

    def __call__(self, *args: Any, **kwargs: Any) -> T:
        return self.factory(*args, **kwargs)


class Registry(MutableMapping[str, Backend[T]]):
    """Backends of one kind (``what``: "audio output", "recognizer" ...) by name, in the order given."""

    def __init__(self, what: str, entries: dict[str, Backend[T] | Callable[..., T]]) -> None:
        self.what = what
        self._entries: dict[str, Backend[T]] = {}
        for name, entry in entries.items():
            self[name] = entry

    def get_backend(self, name: str) -> Backend[T]:
        """The entry called ``name``; a :class:`BackendError` that lists the known names if there is none."""
        try:
            return self._entries[name]
        except KeyError:
            raise BackendError(f"unknown {self.what} '{name}'; known: {', '.join(self._entries)}") from None

    def make(self, name: str, *args: Any, **kwargs: Any) -> T:
        """Build the backend called ``name``."""
        return self.get_backend(name)(*args, **kwargs)

    def names(self, flag: str) -> list[str]:
        """The names whose entry has ``flag`` set (e.g. ``language_aware``, ``model_option``)."""
        return [name for name, entry in self._entries.items() if getattr(entry, flag)]

    def __getitem__(self, name: str) -> Backend[T]:
        return self._entries[name]

    def __setitem__(self, name: str, entry: Backend[T] | Callable[..., T]) -> None:
        self._entries[name] = entry if isinstance(entry, Backend) else Backend(entry)

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

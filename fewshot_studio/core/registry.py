"""A small name -> entry registry that lists the choices in its errors.

Modelled on torchvision's ``register_model`` / ``get_model`` and Lightning's strategy registry. Each kind
has its own ``register_*`` and ``get_*`` (``register_method``, the decorator of method classes;
``register_backbone`` for backbone specs). The GUI fills its pickers from registries, so a new backbone or
method appears without touching a widget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Ordered mapping of unique names to entries of one kind (``kind`` is used in messages).

    ``loaders`` are called once, the first time a name is missing or the whole list is asked for:
    they register entries whose discovery is expensive (importing torchvision, for example).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._loaders: list[Callable[[], None]] = []

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def remove(self, name: str) -> T:
        """Take an entry out again (plug-ins being unloaded, tests)."""
        self.get(name)
        return self._entries.pop(name)

    def add_loader(self, loader: Callable[[], None]) -> None:
        self._loaders.append(loader)

    def _load_all(self) -> None:
        while self._loaders:
            self._loaders.pop(0)()

    def get(self, name: str) -> T:
        if name not in self._entries:
            self._load_all()
        try:
            return self._entries[name]
        except KeyError:
            choices = ", ".join(self._entries) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; choose one of: {choices}") from None

    def __contains__(self, name: str) -> bool:
        if name not in self._entries:
            self._load_all()
        return name in self._entries

    def names(self, *, load: bool = True) -> list[str]:
        if load:
            self._load_all()
        return list(self._entries)

    def items(self, *, load: bool = True) -> Iterator[tuple[str, T]]:
        if load:
            self._load_all()
        return iter(list(self._entries.items()))

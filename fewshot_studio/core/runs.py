"""The run protocol: every long job of the engine (adapt, meta-train, cross-validation, comparison, ranking,
the embedding map) is a :class:`Run`.

A run is an iterable of events. The command line iterates it; the window iterates it in a worker thread.
``cancel()`` may be called from any thread and is honoured between steps; ``result`` holds what the run
made once iteration has ended (None if it was stopped early). Events common to every run are
:class:`Stage` (preparation, "done of total" items) and :class:`Progress` (one optimisation step);
a run may yield events of its own kinds too (a fold finished, a validation point).

>>> run = AdaptRun(support, "efficientnet_lite0", "prototypical")
>>> for event in run: print(event)
>>> classifier = run.result
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import RunCancelled

R = TypeVar("R")


@dataclass(frozen=True)
class Stage:
    """Preparation before the first step: ``name`` is what is happening, ``done`` of ``total`` items."""

    name: str
    done: int
    total: int


@dataclass(frozen=True)
class Progress:
    """One optimisation step finished."""

    step: int  # 1-based
    total: int
    loss: float
    accuracy: float  # on the images this step saw, 0..1
    lr: float
    elapsed: float  # seconds since the run started
    device: str  # what the user reads: "CPU", "GPU: NVIDIA H100 ..."

    @property
    def eta(self) -> float:
        """Seconds left, from the mean step time so far."""
        return self.elapsed / self.step * (self.total - self.step) if self.step else float("nan")


class Run(Generic[R]):
    """The base of every long job. Subclasses write :meth:`_events` (a generator) and set ``self.result``.

    A run that holds another (cross-validation runs adaptations) follows it with :meth:`_follow`, so a
    ``cancel()`` reaches the run doing the work.
    """

    def __init__(self) -> None:
        self.result: R | None = None
        self._cancel = threading.Event()
        self._child: Run | None = None

    def cancel(self) -> None:
        """Ask the run to stop at its next check (thread-safe)."""
        self._cancel.set()
        child = self._child
        if child is not None:
            child.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def __iter__(self) -> Iterator:
        return self._events()

    def _events(self) -> Iterator:
        raise NotImplementedError

    def run(self, on_event: Callable[[object], None] | None = None) -> R | None:
        """Run to the end, passing each event to ``on_event``; returns ``result``."""
        for event in self:
            if on_event is not None:
                on_event(event)
        return self.result

    # --- helpers for subclasses -----------------------------------------------------------------------------
    def _raise_if_cancelled(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise RunCancelled(done, total)

    def _follow(self, child: Run | None) -> None:
        """Make ``child`` the run that ``cancel()`` also reaches (None: no child any more)."""
        self._child = child
        if child is not None and self._cancel.is_set():
            child.cancel()

    def _until_cancelled(self, gen):
        """Yield from ``gen`` until cancelled; returns its return value, or None when cancelled (``gen`` closed)."""
        try:
            while True:
                if self._cancel.is_set():
                    gen.close()
                    return None
                yield next(gen)
        except StopIteration as stop:
            return stop.value

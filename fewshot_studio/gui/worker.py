"""Long work in a QThread: a thin wrapper that iterates a plain generator (an adaptation run, a batch of
predictions) and hands what it yields to the GUI thread, throttled.

The engine's runs are generators that check for cancellation between steps (superqt's GeneratorWorker
has the same shape). Yields are *batched*, not dropped: every event reaches the GUI, at most
``1 / interval`` times a second, so a plot can show one point per step without being fed faster than it
draws.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Generator

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

DEFAULT_INTERVAL = 0.05  # seconds between emissions: 20 updates a second at most
# Measured and left out (benchmarks/GUI_RESULTS.md): a "nicer" worker thread (under other load it starved
# while holding the GIL: runs 6-10 times longer, stalls not shorter) and glibc's malloc_trim after each job
# (flat memory, but it locks the allocator for 100-140 ms: a stall at the end of every run).


class GeneratorWorker(QObject):
    """Iterates ``make()`` (a generator) in the thread it was moved to."""

    sig_yielded = Signal(list)  # every item yielded since the last emission, in order
    sig_returned = Signal(object)  # the generator's return value, after it ended normally
    sig_failed = Signal(object, str)  # the exception that ended it and its traceback text
    sig_done = Signal()  # always the last signal, after sig_returned or sig_failed

    def __init__(self, make: Callable[[], Generator], *, interval: float = DEFAULT_INTERVAL,
                 on_cancel: Callable[[], None] | None = None):
        super().__init__()
        self._make = make
        self.interval = interval
        self._on_cancel = on_cancel
        self._stop = threading.Event()
        self.last_item = None  # the newest item the generator yielded (read from any thread)
        self.last_item_at_cancel = None  # what the generator had yielded when cancel() was called

    def cancel(self) -> None:
        """Ask the work to stop (thread-safe). With ``on_cancel`` the generator decides how it stops (an
        adaptation run raises RunCancelled after its current step); otherwise it is closed at its next
        yield and ends quietly."""
        self.last_item_at_cancel = self.last_item
        self._stop.set()
        if self._on_cancel is not None:
            self._on_cancel()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        pending: list = []
        last = 0.0
        try:
            gen = self._make()
            try:
                while True:
                    if self._stop.is_set() and self._on_cancel is None:
                        gen.close()
                        break
                    try:
                        item = next(gen)
                    except StopIteration as stop:
                        if pending:
                            self.sig_yielded.emit(pending)
                            pending = []
                        self.sig_returned.emit(stop.value)
                        break
                    self.last_item = item
                    pending.append(item)
                    now = time.monotonic()
                    if now - last >= self.interval:
                        self.sig_yielded.emit(pending)
                        pending, last = [], now
            finally:
                if pending:
                    self.sig_yielded.emit(pending)
        except Exception as exc:  # noqa: BLE001 - reported to the GUI thread, which shows it
            text = traceback.format_exc()
            exc.__traceback__ = None  # the frames hold tensors; do not keep them alive
            self.sig_failed.emit(exc, text)
        finally:
            gen = None  # drop the generator's frames (and their tensors) now, not when the worker is deleted
            self.sig_done.emit()


class Job:
    """A :class:`GeneratorWorker` and the QThread it runs in.

    The thread has no parent and the owner keeps the Job until :attr:`thread` has finished, so no
    QThread is ever destroyed while running. ``sig_done`` quits the thread with a *direct* connection:
    a queued one would wait for the GUI thread, and :meth:`wait` called from the GUI thread would then
    never return.
    """

    def __init__(self, worker: GeneratorWorker, name: str = "job"):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        worker.sig_done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.worker.cancel()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    @property
    def finished(self) -> bool:
        return self.thread.isFinished()

    def wait(self, ms: int = 60000) -> bool:
        return self.thread.wait(ms)

"""Short jobs off the GUI thread (checking dropped files, opening projects, loading models), with their
result handed back to a callback *in the GUI thread*.

Callbacks are called by :class:`TaskRunner` itself, a QObject living in the GUI thread, through a queued
signal: never from the pool's thread, where touching a widget would crash.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Task(QRunnable):
    def __init__(self, runner: TaskRunner, fn: Callable, args: tuple, on_done: Callable, on_failed: Callable | None):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps it until its result is delivered
        self.runner, self.fn, self.args = runner, fn, args
        self.on_done, self.on_failed = on_done, on_failed

    def run(self) -> None:
        try:
            result, ok, text = self.fn(*self.args), True, ""
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, which shows it
            result, ok, text = exc, False, traceback.format_exc()
            exc.__traceback__ = None  # do not keep the worker's frames alive
        try:
            self.runner.sig_result.emit(self, ok, result, text)
        except RuntimeError:  # the runner was deleted while this ran (window closed)
            pass


class TaskRunner(QObject):
    """Runs callables in its own thread pool; ``on_done(result)`` or ``on_failed(exc, traceback)`` then
    run in the GUI thread. :meth:`shutdown` drops queued work and waits for what is running."""

    sig_result = Signal(object, bool, object, str)  # task, succeeded, result or exception, traceback text
    sig_idle = Signal()  # the last running task finished

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._tasks: set[_Task] = set()
        self._closed = False
        self.sig_result.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def submit(self, fn: Callable, *args, on_done: Callable, on_failed: Callable | None = None) -> None:
        if self._closed:
            return
        task = _Task(self, fn, args, on_done, on_failed)
        self._tasks.add(task)
        self.pool.start(task)

    @Slot(object, bool, object, str)
    def _deliver(self, task: _Task, ok: bool, result, text: str) -> None:
        self._tasks.discard(task)
        if not self._closed:
            try:
                if ok:
                    task.on_done(result)
                elif task.on_failed is not None:
                    task.on_failed(result, text)
                else:
                    log.error("background task failed:\n%s", text)
            finally:
                if not self._tasks:
                    self.sig_idle.emit()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        self._closed = True
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)

"""One way to start long work in a worker thread: :class:`Jobs` runs a core :class:`~..core.runs.Run` (or any
generator) in a :class:`~.worker.Job`, hands its events, result and failure to callbacks *in the GUI thread*,
and keeps every job until its thread has ended.

>>> jobs = Jobs(self)
>>> job = jobs.start_run(run, "adapt", threads=2, on_events=self._on_events, on_returned=self._on_classifier,
...                      on_failed=self._on_failed, on_done=self._on_done)
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from PySide6.QtCore import QObject, Signal, Slot

from .worker import GeneratorWorker, Job


def use_torch_threads(threads: int | None) -> None:
    """Set torch's thread count in the thread that does the work (per thread with OpenMP)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


class _Relay(QObject):
    """Lives in the GUI thread: the worker's queued signals reach the callbacks here, never in the worker's
    thread (a plain function connected to a worker's signal would run there)."""

    def __init__(self, owner: Jobs, job: Job, on_events, on_returned, on_failed, on_done):
        super().__init__()  # no parent: Jobs keeps it (a Qt parent deleting it while it is queued crashed)
        self.owner, self.job = owner, job
        self.on_events, self.on_returned, self.on_failed, self.on_done = on_events, on_returned, on_failed, on_done
        worker = job.worker
        worker.sig_yielded.connect(self._events)
        worker.sig_returned.connect(self._returned)
        worker.sig_failed.connect(self._failed)
        worker.sig_done.connect(self._done)

    @Slot(list)
    def _events(self, events: list) -> None:
        if self.on_events is not None:
            self.on_events(events)

    @Slot(object)
    def _returned(self, value) -> None:
        if self.on_returned is not None:
            self.on_returned(value)

    @Slot(object, str)
    def _failed(self, exc: Exception, text: str) -> None:
        if self.on_failed is not None:
            self.on_failed(exc, text)

    @Slot()
    def _done(self) -> None:
        self.owner._finished(self)


class Jobs(QObject):
    """Starts work in worker threads and tracks each :class:`~.worker.Job` until its thread has ended."""

    sig_started = Signal(object)  # a Job, just started
    sig_finished = Signal(object)  # a Job whose thread has ended, after its on_done callback

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._relays: dict[Job, _Relay] = {}
        self._spent: list[_Relay] = []  # the last finished job's relay, dropped outside its own slot

    def start(self, make: Callable[[], Generator], name: str, *, threads: int | None = None,
              on_cancel: Callable[[], None] | None = None, on_events=None, on_returned=None, on_failed=None,
              on_done: Callable[[Job], None] | None = None) -> Job:
        """Iterate the generator ``make()`` in a new thread (torch limited to ``threads`` there). Callbacks run
        in the GUI thread: ``on_events(list)``, ``on_returned(value)``, ``on_failed(exc, traceback)``, then
        ``on_done(job)`` once the thread has ended. Without ``on_cancel`` a cancelled job is closed at its next
        yield."""

        def work():
            use_torch_threads(threads)
            return (yield from make())

        job = Job(GeneratorWorker(work, on_cancel=on_cancel), name)
        self._relays[job] = _Relay(self, job, on_events, on_returned, on_failed, on_done)
        self.sig_started.emit(job)
        job.start()
        return job

    def start_run(self, run, name: str, *, threads: int | None = None, cancel_run: bool = True,
                  returns: Callable[[], object] | None = None, **callbacks) -> Job:
        """Iterate a core Run in a new thread; its return value is ``run.result`` (or ``returns()``). With
        ``cancel_run`` a cancel reaches ``run.cancel()`` (the run decides how it stops: an adaptation raises
        RunCancelled), otherwise the job is closed at its next event."""

        def make():
            yield from run
            return returns() if returns is not None else run.result

        return self.start(make, name, threads=threads, on_cancel=run.cancel if cancel_run else None, **callbacks)

    @Slot()
    def _finished(self, relay: _Relay) -> None:
        job = relay.job
        job.wait(10000)  # returns at once: sig_done quit the thread directly
        self._relays.pop(job, None)
        self._spent = [relay]  # the one before is dropped now, outside its slot
        try:
            if relay.on_done is not None:
                relay.on_done(job)
        finally:
            self.sig_finished.emit(job)

    def __iter__(self):
        return iter(list(self._relays))

    def __len__(self) -> int:
        return len(self._relays)

    def unfinished(self) -> list[Job]:
        return [job for job in self._relays if not job.finished]

    def cancel_all(self) -> None:
        for job in list(self._relays):
            job.cancel()

    def shutdown(self, ms: int = 60000) -> None:
        """Cancel every job and wait for its thread (safe from the GUI thread)."""
        jobs = list(self._relays)
        for job in jobs:
            job.cancel()
        for job in jobs:
            job.wait(ms)

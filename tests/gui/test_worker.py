"""The thread wrapper: a plain generator in a QThread, its yields batched, its end always signalled.

The worker lives in its own thread, so the test listens through a recorder that lives in the GUI thread
(as the window does): pytest-qt's waitSignal on the worker's own signals would run its slot in the worker
thread and stop its timer from there.
"""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QObject, Signal, Slot

from fewshot_studio.gui.worker import GeneratorWorker, Job


class Recorder(QObject):
    """Receives a worker's signals in the GUI thread, as the window does."""

    sig_done = Signal()  # the worker's sig_done arrived here

    def __init__(self):
        super().__init__()
        self.batches, self.returned, self.failed, self.threads = [], [], [], set()

    @Slot(list)
    def on_yielded(self, batch):
        self.threads.add(threading.get_ident())
        self.batches.append(batch)

    @Slot(object)
    def on_returned(self, value):
        self.returned.append(value)

    @Slot(object, str)
    def on_failed(self, exc, text):
        self.failed.append((exc, text))

    @Slot()
    def on_done(self):
        self.threads.add(threading.get_ident())
        self.sig_done.emit()

    @property
    def items(self) -> list:
        return [i for batch in self.batches for i in batch]


def make_job(make, **kw) -> tuple[Job, Recorder]:
    worker = GeneratorWorker(make, **kw)
    rec = Recorder()
    worker.sig_yielded.connect(rec.on_yielded)
    worker.sig_returned.connect(rec.on_returned)
    worker.sig_failed.connect(rec.on_failed)
    worker.sig_done.connect(rec.on_done)
    return Job(worker, "test"), rec


def test_every_item_arrives_in_order_in_fewer_emissions_and_the_return_value_follows(qtbot):
    ran_in = []

    def make():
        ran_in.append(threading.get_ident())
        for i in range(300):
            time.sleep(0.002)  # the work of one step (in the worker thread): 300 steps span many intervals
            yield i
        return "done"

    job, rec = make_job(make, interval=0.05)
    with qtbot.waitSignal(rec.sig_done, timeout=20_000):
        job.start()
    qtbot.waitUntil(job.thread.isFinished)
    assert rec.items == list(range(300)), "nothing dropped, nothing reordered"
    assert 3 <= len(rec.batches) < 60, f"throttled to ~20 emissions a second, not one per item ({len(rec.batches)})"
    assert rec.returned == ["done"] and rec.failed == []
    assert ran_in[0] != threading.main_thread().ident, "the generator ran in the worker thread"
    assert rec.threads == {threading.main_thread().ident}, "its results were handled in the GUI thread"


def test_an_exception_ends_the_job_with_its_traceback(qtbot):
    def make():
        yield 1
        raise ValueError("bad input")

    job, rec = make_job(make)
    with qtbot.waitSignal(rec.sig_done, timeout=20_000):
        job.start()
    qtbot.waitUntil(job.thread.isFinished)
    assert rec.batches == [[1]] and rec.returned == []
    exc, text = rec.failed[0]
    assert isinstance(exc, ValueError) and "bad input" in text and "Traceback" in text


@pytest.mark.parametrize("with_handler", [False, True])
def test_cancel_stops_the_generator_between_items(qtbot, with_handler):
    started = threading.Event()
    stop = threading.Event()
    produced = []

    def make():
        i = 0
        while i < 100_000:  # a long job; each item takes a little work
            started.set()
            if stop.is_set():
                raise RuntimeError("cancelled by the generator itself")
            time.sleep(0.001)
            produced.append(i)
            yield i
            i += 1

    job, rec = make_job(make, on_cancel=stop.set if with_handler else None)
    with qtbot.waitSignal(rec.sig_done, timeout=20_000):
        job.start()
        qtbot.waitUntil(started.is_set)
        job.cancel()
    assert job.wait(5000), "the thread quits without help from the GUI thread"
    assert rec.returned == [] and len(produced) < 100_000
    if with_handler:
        assert isinstance(rec.failed[0][0], RuntimeError), "the generator decided how to stop"
    else:
        assert rec.failed == [], "closed quietly"
    assert rec.items == produced, "every item produced before the stop was delivered"


def test_waiting_for_a_job_from_the_gui_thread_does_not_deadlock(qtbot):
    """KNOWN_TRAPS: a queued quit + wait() deadlocks; the Job quits its thread directly."""
    job, rec = make_job(lambda: iter(range(3)))
    job.start()
    assert job.wait(10_000)
    assert job.finished
    qtbot.waitUntil(lambda: rec.items == [0, 1, 2])

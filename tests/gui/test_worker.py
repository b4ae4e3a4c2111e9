"""The thread wrapper: a plain generator in a QThread, its yields batched, its end always signalled."""

from __future__ import annotations

import threading
import time

import pytest

from fewshot_studio.gui.worker import GeneratorWorker, Job


def run_job(qtbot, make, **kw):
    worker = GeneratorWorker(make, **kw)
    batches, returned, failed = [], [], []
    worker.sig_yielded.connect(batches.append)
    worker.sig_returned.connect(returned.append)
    worker.sig_failed.connect(lambda exc, text: failed.append((exc, text)))
    job = Job(worker, "test")
    return job, worker, batches, returned, failed


def test_every_item_arrives_in_order_in_fewer_emissions_and_the_return_value_follows(qtbot):
    ran_in = []

    def make():
        ran_in.append(threading.get_ident())
        for i in range(300):
            time.sleep(0.002)  # the work of one step (in the worker thread): 300 steps span many intervals
            yield i
        return "done"

    job, worker, batches, returned, failed = run_job(qtbot, make, interval=0.05)
    with qtbot.waitSignals([worker.sig_returned, worker.sig_done], order="strict", timeout=20_000):
        job.start()
    qtbot.waitUntil(job.thread.isFinished)
    assert [i for batch in batches for i in batch] == list(range(300)), "nothing dropped, nothing reordered"
    assert 3 <= len(batches) < 60, f"throttled to ~20 emissions a second, not one per item ({len(batches)})"
    assert returned == ["done"] and failed == []
    assert ran_in and ran_in[0] != threading.main_thread().ident


def test_an_exception_ends_the_job_with_its_traceback(qtbot):
    def make():
        yield 1
        raise ValueError("bad input")

    job, worker, batches, returned, failed = run_job(qtbot, make)
    with qtbot.waitSignals([worker.sig_failed, worker.sig_done], order="strict", timeout=20_000):
        job.start()
    qtbot.waitUntil(job.thread.isFinished)
    assert batches == [[1]] and returned == []
    exc, text = failed[0]
    assert isinstance(exc, ValueError) and "bad input" in text and "Traceback" in text


@pytest.mark.parametrize("with_handler", [False, True])
def test_cancel_stops_the_generator_between_items(qtbot, with_handler):
    started = threading.Event()
    stop = threading.Event()
    seen = []

    def make():
        i = 0
        while True:
            started.set()
            if stop.is_set():
                raise RuntimeError("cancelled by the generator itself")
            seen.append(i)
            yield i
            i += 1
            if i > 10_000_000:  # pragma: no cover - a safety net, never reached
                return

    job, worker, batches, returned, failed = run_job(qtbot, make, on_cancel=stop.set if with_handler else None)
    with qtbot.waitSignal(worker.sig_done, timeout=20_000):
        job.start()
        qtbot.waitUntil(started.is_set)
        job.cancel()
    assert job.wait(5000), "the thread quits without help from the GUI thread"
    assert returned == []
    if with_handler:
        assert isinstance(failed[0][0], RuntimeError), "the generator decided how to stop"
    else:
        assert failed == [], "closed quietly"
    assert [i for batch in batches for i in batch] == seen[:len([i for b in batches for i in b])]


def test_waiting_for_a_job_from_the_gui_thread_does_not_deadlock(qtbot):
    """KNOWN_TRAPS: a queued quit + wait() deadlocks; the Job quits its thread directly."""
    def make():
        yield from range(3)

    job, worker, *_ = run_job(qtbot, make)
    job.start()
    assert job.wait(10_000)
    assert job.finished

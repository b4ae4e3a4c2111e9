"""One helper starts every run in a worker: callbacks in the GUI thread, the job tracked until its thread ends;
and one path from an exception to the user's text."""

from __future__ import annotations

import errno
import threading

from fewshot_studio.core.errors import SupportSetError
from fewshot_studio.core.runs import Run, Stage
from fewshot_studio.gui.jobs import Jobs
from fewshot_studio.gui.notices import error_notice, exception_text


class Count(Run):
    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def _events(self):
        for i in range(self.n):
            self._raise_if_cancelled(i, self.n)
            yield Stage("counting", i + 1, self.n)
        self.result = self.n


def test_a_run_in_a_worker_reports_to_the_gui_thread_and_is_tracked_until_its_thread_ends(qtbot):
    jobs = Jobs()
    seen, returned, done, threads = [], [], [], set()

    def on_events(events):
        threads.add(threading.get_ident())
        seen.extend(events)

    def on_done(job):
        threads.add(threading.get_ident())
        done.append((job, job.finished, job in list(jobs)))

    with qtbot.waitSignal(jobs.sig_finished, timeout=10000):
        job = jobs.start_run(Count(5), "count", threads=1, on_events=on_events, on_returned=returned.append,
                             on_done=on_done)
        assert job in list(jobs)
    assert [e.done for e in seen] == [1, 2, 3, 4, 5] and returned == [5]
    assert done == [(job, True, False)], "on_done comes once the thread has ended and the job is forgotten"
    assert threads == {threading.main_thread().ident}
    assert not list(jobs) and not jobs.unfinished()


def test_a_failed_run_reaches_on_failed_with_its_traceback(qtbot):
    class Broken(Run):
        def _events(self):
            yield Stage("starting", 0, 1)
            raise RuntimeError("boom")

    jobs, failed = Jobs(), []
    with qtbot.waitSignal(jobs.sig_finished, timeout=10000):
        jobs.start_run(Broken(), "broken", on_failed=lambda exc, text: failed.append((exc, text)))
    (exc, text), = failed
    assert isinstance(exc, RuntimeError) and "boom" in text


def test_an_exception_becomes_the_users_text_one_way():
    unexpected = "Ranking failed unexpectedly ({error})."
    assert exception_text(SupportSetError("class 'a' has no images"), unexpected) == ("Class 'a' has no images", False)
    assert exception_text(SupportSetError("no images"), unexpected, full_stop=True)[0] == "No images."
    os_error = OSError(errno.EACCES, "Permission denied", "/tmp/x.png")
    assert exception_text(os_error, unexpected) == ("Permission denied: /tmp/x.png", False)
    assert exception_text(ValueError("bad"), unexpected) == ("Ranking failed unexpectedly (ValueError: bad).", True)
    assert error_notice(ValueError("bad"), "Traceback...", unexpected).details == "Traceback..."
    assert error_notice(os_error, "Traceback...", unexpected).details == ""

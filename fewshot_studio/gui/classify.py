"""Model > Classify images... and the predictions panel's drops: classify image files (folders are walked) with
the window's current classifier in a worker thread, a batch at a time, into the predictions panel."""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject

from . import dialogs
from .model_panel import MSG_NO_MODEL, window_tr
from .notices import Notice, skipped_notice

PREDICT_BATCH = 8


class ClassifyActions(QObject):
    """Classification for a :class:`~.main_window.MainWindow`: one job at a time, a newer one replacing it."""

    def __init__(self, window):
        super().__init__(window)
        self._window = weakref.ref(window)  # the window owns this object: no reference cycle back
        self.predict_job = None
        self._predict_id = 0
        self._predicted = 0
        self._predict_skipped = []

    @property
    def window(self):
        return self._window()

    @property
    def predicting(self) -> bool:
        return self.predict_job is not None

    def choose_and_classify(self) -> None:
        w = self.window
        if w.classifier is None:
            w.notify(Notice("info", window_tr(MSG_NO_MODEL)))
            return
        paths = dialogs.open_images(w, w.settings.last_dir("queries"), self.tr("Classify images"))
        if paths:
            w.settings.set_last_dir("queries", paths[0])
            self.classify(paths)

    def classify(self, paths: list) -> bool:
        """Classify image files (folders are walked) off the GUI thread; results fill the panel."""
        w = self.window
        if w.classifier is None:
            w.notify(Notice("info", window_tr(MSG_NO_MODEL)))
            return False
        if not paths:
            return False
        if self.predict_job is not None:
            self.predict_job.cancel()
            self.predict_job = None  # its results are ignored from now on; _on_predict_done forgets it
        from ..core.classifier import expand_paths

        self._predict_id += 1
        job_id, classifier = self._predict_id, w.classifier
        open_set = w.validation.open_set_for(classifier)
        paths = [Path(p) for p in paths]

        def job():
            files, skipped = expand_paths(paths)
            yield job_id, [], skipped, 0, len(files)
            for start in range(0, len(files), PREDICT_BATCH):
                chunk = files[start:start + PREDICT_BATCH]
                predictions, bad = classifier.predict(chunk, open_set=open_set)
                yield job_id, predictions, bad, start + len(chunk), len(files)
            return job_id

        self._predicted, self._predict_skipped = 0, []
        w.predictions.begin(paths)
        self.predict_job = w.jobs.start(job, "predict", threads=w.torch_threads, on_events=self._on_predict_events,
                                        on_failed=lambda exc, text: self._on_predict_failed(job_id, exc, text),
                                        on_done=self._on_predict_done)
        w.update_actions()
        w.statusBar().showMessage(self.tr("Classifying..."))
        return True

    def _on_predict_events(self, batches: list) -> None:
        for job_id, predictions, skipped, done, total in batches:
            if job_id != self._predict_id:
                continue
            self.window.predictions.add_predictions(predictions, done, total)
            self._predicted += len(predictions)
            self._predict_skipped += skipped
        self.window.update_actions()

    def _on_predict_failed(self, job_id: int, exc: Exception, text: str) -> None:
        if self.predict_job is not None and job_id != self._predict_id:
            return  # a replaced job
        self.window.error(exc, self.tr("Classification"), text)

    def _on_predict_done(self, job) -> None:
        w = self.window
        if self.predict_job is job:
            self.predict_job = None
            w.predictions.finish()
            n = self._predicted
            if self._predict_skipped:
                head = (self.tr("Classified {n} image. ") if n == 1 else self.tr("Classified {n} images. ")).format(n=n)
                w.notify(skipped_notice(self._predict_skipped, 0, head))
            else:
                text = self.tr("Classified {n} image.") if n == 1 else self.tr("Classified {n} images.")
                w.statusBar().showMessage(text.format(n=n), 5000)
            w.update_actions()
            w.sig_predictions_done.emit(n)

    def clear_results(self) -> None:
        if self.predict_job is not None:
            self.predict_job.cancel()
            self.predict_job = None
        self.window.predictions.clear()
        self.window.update_actions()

"""The window's side of validation: Model > Validate and compare... (the :class:`~.validation_page.ValidationPage`
in a window of its own), "Use the best", and the predictions panel's "None of these" toggle, calibrated by
cross-validation when the model was adapted here on the support set as it is now."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from .jobs import Jobs
from .validation_page import ValidationPage
from .worker import Job


class ValidationController(QObject):
    """The window's side of validation: Model > Validate and compare..., "Use the best", and the predictions
    panel's "None of these" toggle. Made by the main window with one line; keeps that file small."""

    sig_calibrated = Signal(object)  # the OpenSetRule that cross-validation gave the current model

    def __init__(self, window):
        super().__init__(window)
        self._window = weakref.ref(window)  # the window owns this object: no reference cycle back to it
        self.page: ValidationPage | None = None
        self.page_window = None
        self.action = QAction(self.tr("&Validate and compare..."), window)
        self.action.setShortcut("Ctrl+Shift+V")
        self.action.setStatusTip(self.tr("Cross-validate the support set: accuracy per class, confusion matrix, "
                                         "methods compared"))
        self.action.triggered.connect(lambda _=False: self.show_page())
        window.addAction(self.action)
        for menu in window.act_meta_train.associatedObjects():
            if hasattr(menu, "insertAction") and menu is not window:
                menu.insertAction(window.act_meta_train, self.action)
        window.predictions.sig_open_set_toggled.connect(self._on_open_set_toggled)
        window.sig_model_loaded.connect(self._on_model_loaded)
        window.sig_run_finished.connect(self._on_run_finished)
        self.calibration_job: Job | None = None  # cross-validation for the open-set threshold
        self._calibrating = None  # the classifier it calibrates
        self.jobs = Jobs(self)

    @property
    def window(self):
        return self._window()

    # --- the page ------------------------------------------------------------------------------------------
    def show_page(self) -> ValidationPage | None:
        w = self.window
        if not w.ready:
            w.statusBar().showMessage(self.tr("The engine is still loading; try again in a moment."), 5000)
            return None
        if self.page is None:
            self.page_window = QMainWindow(w)
            self.page_window.setWindowTitle(self.tr("Validation - Few-shot Studio"))
            self.page = ValidationPage(w.thumbnails)
            self.page.sig_use_best.connect(self._use_best)
            self.page.sig_failed.connect(self._on_page_failed)
            self.page_window.setCentralWidget(self.page)
            self.page_window.resize(1000, 760)
            self.page.refresh = self._refresh
        self._refresh()
        self.page_window.show()
        self.page_window.raise_()
        return self.page

    @Slot(str)
    def _on_page_failed(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def _refresh(self) -> None:
        """Give the page the window's support set (a snapshot) and its current backbone, method and values."""
        w = self.window
        methods = [(m[0], m[1]) for m in w.engine.methods]
        backbones = [b.name for b in w.engine.backbones if b.available]
        self.page.set_context(w.support_snapshot(), w.backbone_picker.current(), w.method_picker.current(),
                              w.params_form.edited_values(), methods=methods, backbones=backbones,
                              torch_threads=w.torch_threads,
                              domain_adaptation=w.model_panel.adaptation_picker.selected())

    @Slot(str, str)
    def _use_best(self, backbone: str, method: str) -> None:
        w = self.window
        w.backbone_picker.set_current(backbone)
        w.method_picker.set_current(method)
        w.statusBar().showMessage(self.tr("Using {method} on {backbone}; press Adapt.").format(
            method=method, backbone=backbone), 8000)

    # --- "None of these" -----------------------------------------------------------------------------------
    @property
    def open_set_on(self) -> bool:
        return self.window.predictions.open_set_box.isChecked()

    def open_set_for(self, classifier) -> bool:
        """Whether to reject unknown images with this classifier; calibrates it first if it has no threshold
        (leave-one-out on its stored support features: instant, and works for older model files)."""
        panel = self.window.predictions
        if classifier is None or not self.open_set_on:
            panel.set_open_set_rule(None)
            return False
        if classifier.open_set is None:
            from ..core.openset import calibrate_from_features

            classifier.open_set = calibrate_from_features(classifier.support_features, classifier.support_labels)
        classifier.open_set.enabled = True
        panel.set_open_set_rule(classifier.open_set)  # the rows say why they were rejected, and how far to trust it
        return True

    @Slot(bool)
    def _on_open_set_toggled(self, on: bool) -> None:
        w = self.window
        clf = w.classifier
        if clf is not None and not on and clf.open_set is not None:
            clf.open_set.enabled = False
        if not on:
            w.predictions.set_open_set_rule(None)
        if on and self.calibrate(clf):
            return  # classifies again when the threshold is ready
        if clf is not None and w.predictions.queries:
            w.classify(w.predictions.queries)

    def _can_cross_validate(self, clf) -> bool:
        """A model adapted here on the support set as it is now, with a frozen backbone: cross-validating its
        method costs a few folds of head fitting on features the engine has cached."""
        w = self.window
        return (clf is not None and clf.open_set is None and not clf.backbone_trained
                and w.model_panel.model_current)

    def calibrate(self, clf) -> bool:
        """Start cross-validating ``clf``'s method on the support set for its open-set threshold (off the GUI
        thread); False when that does not apply (the features-only calibration is used instead)."""
        if not self._can_cross_validate(clf) or self.calibration_job is not None:
            return False
        from ..core.errors import FewShotError
        from ..core.validation import CrossValidation

        w = self.window
        try:
            cv = CrossValidation(w.support_snapshot(), clf.spec.name, clf.method.name, clf.method.params_dict(),
                                 weights=clf.weights)
        except FewShotError:
            return False
        self._calibrating = clf
        self.calibration_job = self.jobs.start_run(cv, "open-set calibration", threads=w.torch_threads,
                                                   on_returned=self._on_calibration_returned,
                                                   on_done=self._calibration_done)
        w.predictions.progress.setRange(0, 0)
        w.predictions.progress.show()
        w.statusBar().showMessage(self.tr("Calibrating \"None of these\" by cross-validation on the support set..."))
        return True

    @Slot(object)
    def _on_calibration_returned(self, result) -> None:
        clf, self._calibrating = self._calibrating, None
        if clf is None:
            return
        if clf.open_set is None or clf.open_set.calibration.startswith("support features"):
            clf.open_set = result.open_set_rule(enabled=self.open_set_on)  # replaces a quick features-only one
        self.sig_calibrated.emit(clf.open_set)

    def _calibration_done(self, _job) -> None:
        self.calibration_job = None
        w = self.window
        w.predictions.progress.hide()
        if w.closed:
            return
        if w.classifier is not None and w.predictions.queries and self.open_set_on:
            w.classify(w.predictions.queries)
        elif w.classifier is not None and w.classifier.open_set is not None:
            w.statusBar().showMessage(self.tr("\"None of these\" is calibrated: similarity threshold {t:.3f}.").format(
                t=w.classifier.open_set.threshold), 8000)

    @Slot(object)
    def _on_run_finished(self, classifier) -> None:
        if self.open_set_on:
            self.calibrate(classifier)

    @Slot(object)
    def _on_model_loaded(self, classifier) -> None:
        """A model saved with "None of these" switched on opens with the box ticked."""
        rule = getattr(classifier, "open_set", None)
        self.window.predictions.open_set_box.setChecked(bool(rule is not None and rule.enabled))

    def shutdown(self) -> None:
        self.jobs.shutdown()
        if self.page is not None:
            self.page.shutdown()

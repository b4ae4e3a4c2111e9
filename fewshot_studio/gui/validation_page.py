"""The validation page: how good is the model? Cross-validation on the support set, and methods compared.

"Validate" cross-validates the chosen backbone and method (core :class:`~..core.validation.CrossValidation`,
run off the GUI thread by a :class:`~.worker.Job`): overall accuracy with its 95% interval, a table per
class and a confusion-matrix heat map; clicking a cell shows the images of that cell as thumbnails.
"Compare methods" cross-validates every checked method with every checked backbone; the table and matrix
then show the best pair (the summary says which), and "Details for:" (or a click on a row) shows another;
"Use the best" sets the window's pickers.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .jobs import Jobs
from .notices import exception_text
from .thumbnails import ThumbnailCache
from .validation_details import THUMB, ConfusionHeatmap, ValidationDetails  # noqa: F401 (the heatmap lived here)
from .worker import Job

FOLD_CHOICES = (("auto", "Automatic"), ("loo", "Leave-one-out"), ("5", "5 folds"), ("10", "10 folds"))


class ValidationPage(QWidget):
    """Cross-validation and method comparison for the window's support set and pickers."""

    sig_validation_finished = Signal(object)  # the ValidationResult
    sig_compare_finished = Signal(object)  # the list of ComparisonRow
    sig_use_best = Signal(str, str)  # backbone, method: the best of the last comparison, chosen by the user
    sig_failed = Signal(str)  # a message for the user (the run stopped; nothing changed)
    sig_ended = Signal()  # a validation or comparison ended (finished, cancelled or failed), its thread joined

    def __init__(self, thumbnails: ThumbnailCache | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.thumbnails = thumbnails or ThumbnailCache(size=THUMB * 2, parent=self)
        self.support = None
        self.backbone, self.method, self.params = "", "", {}
        self.domain_adaptation: list[str] = []
        self.torch_threads = 1
        self.result = None  # the last ValidationResult
        self.rows = []  # the last comparison
        self.compared = []  # its rows that have a result, best first (the details picker's entries)
        self.best = None
        self.job: Job | None = None
        self._work = None  # the CrossValidation or Comparison running
        self.refresh = None  # called before each run to take the window's current support set and pickers
        self.jobs = Jobs(self)  # the validation or comparison running

        self.context_label = QLabel()
        self.context_label.setWordWrap(True)
        self.folds = QComboBox()
        for value, label in FOLD_CHOICES:
            self.folds.addItem(self.tr(label), value)
        self.folds.setToolTip(self.tr("Automatic: leave-one-out up to 50 images when the backbone stays frozen, "
                                      "otherwise 5 stratified folds"))
        self.validate_button = QPushButton(self.tr("Validate"))
        self.validate_button.setToolTip(self.tr("Cross-validate the chosen backbone and method on the support set"))
        self.validate_button.clicked.connect(self.start_validation)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.summary = QLabel(self.tr("Press Validate to cross-validate the support set."))
        self.details_picker = QComboBox()  # after a comparison: whose per-class table and matrix are shown
        self.details_picker.setToolTip(self.tr("The table and the confusion matrix show this method and backbone; "
                                               "choose another pair of the comparison (or click its row) to see it"))
        self.details_picker.currentIndexChanged.connect(self._show_compared)
        self.details_row = QWidget()
        dr = QHBoxLayout(self.details_row)
        dr.setContentsMargins(0, 0, 0, 0)
        dr.addWidget(QLabel(self.tr("Details for:")))
        dr.addWidget(self.details_picker, 1)
        self.details_row.hide()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.details = ValidationDetails(self.thumbnails)
        self.table, self.heatmap = self.details.table, self.details.heatmap  # what the user reads (and tests)
        self.cell_label, self.cell_images = self.details.cell_label, self.details.cell_images
        self.show_cell, self.shown_paths = self.details.show_cell, self.details.shown_paths

        # comparing methods
        self.compare_methods = QListWidget()
        self.compare_backbones = QListWidget()
        for w in (self.compare_methods, self.compare_backbones):
            w.setMaximumHeight(110)
        self.compare_button = QPushButton(self.tr("Compare methods"))
        self.compare_button.setToolTip(self.tr("Cross-validate every checked method with every checked backbone"))
        self.compare_button.clicked.connect(self.start_compare)
        self.compare_table = QTableWidget(0, 5)
        self.compare_table.setHorizontalHeaderLabels([self.tr("Method"), self.tr("Backbone"), self.tr("Accuracy"),
                                                      self.tr("95% interval"), self.tr("Time")])
        self.compare_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compare_table.verticalHeader().hide()
        self.compare_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.compare_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.compare_table.cellClicked.connect(lambda row, _col: self._pick_details(row))
        self.use_best_button = QPushButton(self.tr("Use the best"))
        self.use_best_button.setToolTip(self.tr("Set the window's backbone and method to the most accurate pair"))
        self.use_best_button.setEnabled(False)
        self.use_best_button.clicked.connect(self.use_best)

        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Folds:")))
        top.addWidget(self.folds)
        top.addWidget(self.validate_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.progress, 1)
        compare = QGroupBox(self.tr("Compare methods"))
        cl = QVBoxLayout(compare)
        pick = QHBoxLayout()
        for title, widget in ((self.tr("Methods"), self.compare_methods), (self.tr("Backbones"), self.compare_backbones)):
            col = QVBoxLayout()
            col.addWidget(QLabel(title))
            col.addWidget(widget)
            pick.addLayout(col)
        cl.addLayout(pick)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_best_button)
        cl.addLayout(buttons)
        cl.addWidget(self.compare_table)
        layout = QVBoxLayout(self)
        layout.addWidget(self.context_label)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.details_row)
        layout.addWidget(self.details, 3)
        layout.addWidget(compare, 2)

    # --- context -----------------------------------------------------------------------------------------
    def set_context(self, support, backbone: str, method: str, params: dict, *, methods=(), backbones=(),
                    torch_threads: int = 1, domain_adaptation=()) -> None:
        """What to validate: the window's support set and pickers; ``methods`` [(name, title)] and
        ``backbones`` [name] fill the comparison's lists (the current ones checked); ``domain_adaptation``: the
        stages Adapt would use (with the support set's unlabelled pool), for every fold."""
        self.support, self.backbone, self.method, self.params = support, backbone, method, dict(params)
        self.domain_adaptation = list(domain_adaptation)
        self.torch_threads = torch_threads
        text = self.tr("Support set: {classes} classes, {images} images. Backbone: {backbone}; method: {method}.").format(
            classes=len(support), images=support.n_images, backbone=backbone, method=method)
        if self.domain_adaptation:
            text += " " + self.tr("Domain adaptation: {stages}, with {n} unlabelled images.").format(
                stages=", ".join(self.domain_adaptation), n=len(support.unlabelled))
        self.context_label.setText(text)
        self._fill(self.compare_methods, methods or [(method, method)], {method, "prototypical", "linear_probe"})
        self._fill(self.compare_backbones, [(b, b) for b in (backbones or [backbone])], {backbone})

    @staticmethod
    def _fill(widget: QListWidget, entries, checked: set) -> None:
        before = {widget.item(i).data(Qt.ItemDataRole.UserRole): widget.item(i).checkState()
                  for i in range(widget.count())}
        widget.clear()
        for name, title in entries:
            item = QListWidgetItem(title if title == name else f"{title} ({name})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(before.get(name, Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked))
            widget.addItem(item)

    @staticmethod
    def checked(widget: QListWidget) -> list[str]:
        return [widget.item(i).data(Qt.ItemDataRole.UserRole) for i in range(widget.count())
                if widget.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, widget: QListWidget, names) -> None:
        for i in range(widget.count()):
            item = widget.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in set(names)
                               else Qt.CheckState.Unchecked)

    @property
    def running(self) -> bool:
        return self.job is not None

    # --- running ------------------------------------------------------------------------------------------
    def _start(self, work, on_returned, what: str) -> bool:
        self._work = work
        self.job = self.jobs.start_run(work, what, threads=self.torch_threads, returns=lambda: work,
                                       on_events=self._on_events, on_returned=on_returned,
                                       on_failed=self._on_failed, on_done=self._on_done)
        self.progress.setRange(0, 0)
        self.progress.setFormat(self.tr("Starting..."))
        self._update_buttons()
        return True

    def _error(self, exc: BaseException) -> None:
        text, _bug = exception_text(exc, "{error}")
        self.summary.setText(text)
        self.sig_failed.emit(text)

    def start_validation(self) -> bool:
        if self.running:
            return False
        if self.refresh is not None:
            self.refresh()
        if self.support is None:
            return False
        from ..core.errors import FewShotError
        from ..core.validation import CrossValidation

        try:
            cv = CrossValidation(self.support, self.backbone, self.method, self.params, folds=self.folds.currentData(),
                                 domain_adaptation=self.domain_adaptation)
        except FewShotError as exc:
            self._error(exc)
            return False
        self.summary.setText(self.tr("Cross-validating {method} on {backbone}: {scheme}...").format(
            method=self.method, backbone=self.backbone, scheme=cv.scheme))
        return self._start(cv, self._on_validation_returned, "validate")

    def start_compare(self) -> bool:
        if self.running:
            return False
        if self.refresh is not None:
            self.refresh()
        if self.support is None:
            return False
        from ..core.errors import FewShotError
        from ..core.validation import Candidate, Comparison

        methods, backbones = self.checked(self.compare_methods), self.checked(self.compare_backbones)
        params = {self.method: self.params}
        try:
            comparison = Comparison(self.support, [Candidate(b, m, params.get(m, {})) for b in backbones
                                                   for m in methods], folds=self.folds.currentData(),
                                    domain_adaptation=self.domain_adaptation)
        except FewShotError as exc:
            self._error(exc)
            return False
        self.compare_table.setRowCount(0)
        self.use_best_button.setEnabled(False)
        return self._start(comparison, self._on_compare_returned, "compare")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress.setFormat(self.progress.format() + self.tr(" (cancelling...)"))
            self.cancel_button.setEnabled(False)

    @Slot(list)
    def _on_events(self, events: list) -> None:
        from ..core.runs import Stage
        from ..core.validation import CandidateStarted, FoldDone

        for event in events[-3:]:
            if isinstance(event, CandidateStarted):
                self.summary.setText(self.tr("Comparing: {label} ({i} of {n})...").format(
                    label=event.candidate.label, i=event.index + 1, n=event.total))
            elif isinstance(event, FoldDone):
                self.progress.setRange(0, event.total)
                self.progress.setValue(event.fold)
                self.progress.setFormat(self.tr("Fold {fold} of {total}: {acc:.0%} right so far").format(
                    fold=event.fold, total=event.total, acc=event.correct / max(1, event.seen)))
            elif isinstance(event, Stage):
                if event.total > 1:
                    self.progress.setRange(0, event.total)
                    self.progress.setValue(event.done)
                self.progress.setFormat(event.name[:1].upper() + event.name[1:] + "...")

    @Slot(object)
    def _on_validation_returned(self, cv) -> None:
        self.details_row.hide()
        self.show_result(cv.result)
        self.sig_validation_finished.emit(cv.result)

    def show_result(self, r, head: str = "") -> None:
        """Show a ValidationResult: its summary (after ``head``, rich text), per-class table and matrix."""
        self.result = r
        low, high = r.ci95
        self.summary.setText(head + self.tr("<b>{acc:.1%}</b> right ({right} of {n}; 95% interval {low:.1%} to "
                                            "{high:.1%}), {scheme}, {method} on {backbone}, {secs:.1f} s.").format(
            acc=r.accuracy, right=r.correct, n=r.n, low=low, high=high, scheme=r.scheme, method=r.method,
            backbone=r.backbone, secs=r.seconds)
            + ("" if not r.domain_adaptation else " " + self.tr("Each fold adapted with {stages} and {n} unlabelled "
                                                               "images.").format(stages=", ".join(r.domain_adaptation),
                                                                                 n=r.unlabelled)))
        self.details.show_result(r)
        self.progress.setRange(0, max(1, r.folds))
        self.progress.setValue(max(1, r.folds))
        self.progress.setFormat(self.tr("Done: {folds} folds in {secs:.1f} s").format(folds=r.folds, secs=r.seconds))

    @Slot(object)
    def _on_compare_returned(self, comparison) -> None:
        self.rows, self.best = comparison.rows, comparison.best
        ranked = sorted(self.rows, key=lambda r: (r.result is None, -(r.result.accuracy if r.result else 0),
                                                  r.result.seconds if r.result else 0))
        self.compared = [row for row in ranked if row.result is not None]  # best first, as the table lists them
        self.compare_table.setRowCount(len(ranked))
        for i, row in enumerate(ranked):
            c = row.candidate
            if row.result is None:
                values = (c.method, c.backbone, self.tr("failed"), row.error, "")
            else:
                low, high = row.result.ci95
                values = (c.method + ("  ★" if row is self.best else ""), c.backbone, f"{row.result.accuracy:.1%}",
                          f"{low:.0%} to {high:.0%}", f"{row.result.seconds:.1f} s")
            for j, value in enumerate(values):
                item = QTableWidgetItem(value)
                if row.result is None:
                    item.setToolTip(row.error)
                self.compare_table.setItem(i, j, item)
        self.use_best_button.setEnabled(self.best is not None)
        self.details_picker.blockSignals(True)
        self.details_picker.clear()
        for row in self.compared:
            self.details_picker.addItem(row.candidate.label + ("  ★" if row is self.best else ""))
        self.details_picker.blockSignals(False)
        self.details_row.setVisible(bool(self.compared))
        if self.compared:
            self._pick_details(0)  # the best: the summary, the table and the matrix agree
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(self.tr("Compared {n} pairs").format(n=len(self.rows)))
        self.sig_compare_finished.emit(self.rows)

    def _pick_details(self, index: int) -> None:
        if 0 <= index < len(self.compared):
            if self.details_picker.currentIndex() != index:
                self.details_picker.setCurrentIndex(index)  # shows it, through _show_compared
            else:
                self._show_compared(index)

    @Slot(int)
    def _show_compared(self, index: int) -> None:
        """Show the per-class table and matrix of the ``index``-th pair of the comparison (0: the best)."""
        if not 0 <= index < len(self.compared):
            return
        row, best = self.compared[index], self.best
        head = self.tr("Best: {label}, {acc:.1%} right.").format(label=best.candidate.label, acc=best.result.accuracy)
        shown = self.tr("Details below: the best,") if row is best else self.tr("Details below:")
        self.show_result(row.result, head=f"{head}<br>{shown} ")
        self.progress.setFormat(self.tr("Compared {n} pairs").format(n=len(self.rows)))
        self.compare_table.selectRow(index)

    def use_best(self) -> None:
        if self.best is not None:
            self.backbone, self.method = self.best.candidate.backbone, self.best.candidate.method
            self.sig_use_best.emit(self.best.candidate.backbone, self.best.candidate.method)

    @Slot(object, str)
    def _on_failed(self, exc: Exception, text: str) -> None:
        from ..core.errors import RunCancelled

        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if isinstance(exc, RunCancelled):
            self.progress.setFormat(self.tr("Cancelled"))
            self.summary.setText(self.tr("Cancelled; nothing was changed."))
            return
        self.progress.setFormat(self.tr("Failed"))
        self._error(exc)

    def _on_done(self, _job) -> None:
        self.job = None
        self._work = None
        self._update_buttons()
        self.sig_ended.emit()

    def _update_buttons(self) -> None:
        running = self.running
        self.validate_button.setEnabled(not running)
        self.compare_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def shutdown(self) -> None:
        """Cancel what runs and wait for its thread (the window is closing)."""
        self.jobs.shutdown()

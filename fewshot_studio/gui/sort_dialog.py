"""File > Sort a folder...: put new images into one folder per class (and "unsure") with the current classifier.

The engine is :class:`~fewshot_studio.core.sort.SortRun`, the one ``fewshot-studio sort`` follows; the dialog
starts it through the window's :class:`~.jobs.Jobs` (a worker thread), shows a progress bar with Cancel, and
at the end a notice with the counts and a button that opens the output folder.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from . import dialogs
from .notices import Notice, error_notice, unexpected_text


class SortDialog(QDialog):
    """Model (the window's current classifier), input folders, output folder, mode, minimum confidence; Sort
    starts the run, Cancel stops it (or closes the dialog). ``sig_finished`` carries the
    :class:`~fewshot_studio.core.sort.SortResult` (None when the run failed)."""

    sig_finished = Signal(object)

    def __init__(self, window):
        super().__init__(window)
        self._window = window
        self.classifier = window.classifier
        self.job = None
        self.run = None
        self.setWindowTitle(self.tr("Sort a folder"))
        self.setMinimumWidth(520)
        names = ", ".join(self.classifier.class_names)
        self.model_label = QLabel(self.tr("The current model: {n} classes ({names}), and an \"unsure\" folder")
                                  .format(n=len(self.classifier.class_names), names=names))
        self.model_label.setWordWrap(True)
        self.inputs = QListWidget()
        self.inputs.setMaximumHeight(110)
        add, remove = QPushButton(self.tr("Add folder...")), QPushButton(self.tr("Remove"))
        add.clicked.connect(self._choose_input)
        remove.clicked.connect(lambda: [self.inputs.takeItem(self.inputs.row(i)) for i in self.inputs.selectedItems()])
        self.output = QLineEdit()
        self.output.setPlaceholderText(self.tr("A folder outside the input folders"))
        browse = QPushButton(self.tr("Browse..."))
        browse.clicked.connect(self._choose_output)
        self.mode = QComboBox()
        for mode, label in (("copy", self.tr("Copy the files")), ("move", self.tr("Move the files")),
                            ("link", self.tr("Link to the files"))):
            self.mode.addItem(label, mode)
        self.min_confidence = QSpinBox()
        self.min_confidence.setRange(0, 100)
        self.min_confidence.setSuffix(" %")
        self.min_confidence.setValue(60)
        self.min_confidence.setToolTip(self.tr("Below this confidence an image goes to the \"unsure\" folder"))
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel()
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow(self.tr("Model:"), self.model_label)
        form.addRow(self.tr("Input folders:"), _row(self.inputs, _column(add, remove)))
        form.addRow(self.tr("Output folder:"), _row(self.output, browse))
        form.addRow(self.tr("Mode:"), self.mode)
        form.addRow(self.tr("Minimum confidence:"), self.min_confidence)
        self.buttons = QDialogButtonBox()
        self.sort_button = self.buttons.addButton(self.tr("Sort"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.sort_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    # --- choosing -----------------------------------------------------------------------------------------------
    def add_input(self, folder: str | Path) -> None:
        folder = str(folder)
        if folder and folder not in self.input_folders():
            self.inputs.addItem(folder)

    def input_folders(self) -> list[str]:
        return [self.inputs.item(i).text() for i in range(self.inputs.count())]

    def _choose_input(self) -> None:
        self.add_input(dialogs.open_folder(self, "", self.tr("Folder of images to sort")))

    def _choose_output(self) -> None:
        folder = dialogs.open_folder(self, "", self.tr("Output folder"))
        if folder:
            self.output.setText(folder)

    # --- the run ------------------------------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        from ..core.errors import FewShotError
        from ..core.sort import SortRun

        if not self.input_folders():
            self.status.setText(self.tr("Add a folder of images to sort."))
            return
        if not self.output.text().strip():
            self.status.setText(self.tr("Choose an output folder."))
            return
        try:
            self.run = SortRun(self.classifier, self.input_folders(), self.output.text().strip(),
                               mode=self.mode.currentData(), min_confidence=self.min_confidence.value() / 100,
                               csv_path=Path(self.output.text().strip()) / "sort-report.csv")
        except FewShotError as exc:
            self.status.setText(error_notice(exc, "", unexpected_text(self.tr("Sorting"))).text)
            return
        self._set_running(True)
        self.status.setText(self.tr("Sorting..."))
        self.job = self._window.jobs.start_run(self.run, "sort", on_events=self._events, on_returned=self._returned,
                                               on_failed=self._failed, on_done=self._done)
        self._window.track_job(self.job)

    @Slot()
    def cancel(self) -> None:
        if self.job is not None:
            self.status.setText(self.tr("Stopping after the current image..."))
            self.job.cancel()
        else:
            self.reject()

    def _set_running(self, running: bool) -> None:
        self.sort_button.setEnabled(not running)
        for widget in (self.inputs, self.output, self.mode, self.min_confidence):
            widget.setEnabled(not running)

    def _events(self, events) -> None:
        from ..core.sort import FileSorted

        for event in events:
            if isinstance(event, FileSorted):
                self.progress.setRange(0, event.total)
                self.progress.setValue(event.done)

    def _returned(self, result) -> None:
        counts = ", ".join(f"{name} {n}" for name, n in result.counts.items())
        if result.cancelled:
            text = self.tr("Sorting cancelled: {n} of {total} images sorted into {folder} ({counts}).")
        else:
            text = self.tr("Sorted {n} of {total} images into {folder}: {counts}.")
        text = text.format(n=result.sorted_files, total=result.total, folder=result.out_dir, counts=counts)
        self.status.setText(text)
        folder = QUrl.fromLocalFile(str(Path(result.out_dir).resolve()))
        self._window.notify(Notice("success", text, actions=[
            (self.tr("Open the folder"), lambda: QDesktopServices.openUrl(folder))]))
        self.sig_finished.emit(result)

    def _failed(self, exc, text) -> None:
        self.status.setText(self._window.error(exc, self.tr("Sorting"), text))
        self.sig_finished.emit(None)

    def _done(self, job) -> None:
        self.job = None
        self._set_running(False)
        self._window.job_finished(job)


def _row(*widgets) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w)
    return box


def _column(*widgets) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w)
    layout.addStretch(1)
    return box


def show_sort_dialog(window) -> SortDialog | None:
    """File > Sort a folder...: the dialog, or a notice when there is no model to sort with."""
    if window.classifier is None:
        window.notify(Notice("warning", QCoreApplication.translate(
            "SortDialog", "Adapt or load a model first: sorting uses the current model.")))
        return None
    dialog = SortDialog(window)
    window.sort_dialog = dialog
    dialog.show()
    return dialog

"""File > Export model to ONNX... and File > Export support set as folder...: the window's hooks for
:mod:`..core.export_onnx` and :mod:`..core.imagefolder`.

The work runs in the window's :class:`~.tasks.TaskRunner` pool (off the GUI thread); the outcome is a
message in the window's message bar and one of the signals below. The two file dialogs are functions of
this module, so that tests replace them.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from .notices import Notice

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"


def ask_onnx_path(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, parent.tr("Export model to ONNX"), suggested, ONNX_FILTER)
    if path and not path.lower().endswith(".onnx"):
        path += ".onnx"
    return path


def ask_support_folder(parent: QWidget, folder: str) -> str:
    return QFileDialog.getExistingDirectory(parent, parent.tr("Export the support set into a folder (one "
                                                              "sub-folder per class)"), folder)


class ExportActions(QObject):
    """The two export actions of a :class:`~.main_window.MainWindow`, and what they report."""

    sig_onnx_exported = Signal(str)  # the ONNX file just written
    sig_support_exported = Signal(str)  # the folder the support set was just written to
    sig_export_failed = Signal(str)  # the message shown to the user

    def __init__(self, window):
        super().__init__(window)
        # The window owns this object (and keeps it in ``window.exports``): a strong reference back would be
        # a cycle, and the window's gc.freeze() after the engine loads would keep it (and the window's Python
        # object, after its C++ object is deleted) alive for good.
        self._window = weakref.ref(window)
        self.act_export_onnx = window.make_action(
            self.tr("Export model to &ONNX..."), self.export_onnx, None, None,
            self.tr("Write the adapted model as one ONNX file for onnxruntime and other runtimes"))
        self.act_export_support = window.make_action(
            self.tr("E&xport support set as folder..."), self.export_support, None, None,
            self.tr("Copy the classes' images into a folder with one sub-folder per class"))

    @property
    def window(self):
        return self._window()

    def start_folder(self) -> str:
        """Where the ONNX file dialog opens: the project's folder once it is saved, else the folder of the
        last ONNX export (else of the last saved model, else the home folder)."""
        w = self.window
        if w.project_path is not None and w.project_path.parent.is_dir():
            return str(w.project_path.parent)
        if w.settings.has_last_dir("onnx"):
            return w.settings.last_dir("onnx")
        return w.settings.last_dir("models")

    # --- ONNX ------------------------------------------------------------------------------------------------
    def export_onnx(self, path: str | None = None) -> None:
        w = self.window
        if w.classifier is None:
            w.notify(Notice("info", w.tr("There is no model yet: build the support set and press Adapt "
                                         "(Ctrl+Enter), or load a saved model (Model > Load model...).")))
            return
        if path is None:
            suggested = Path(self.start_folder()) / f"{w.project_title.replace(' ', '_')}.onnx"
            path = ask_onnx_path(w, str(suggested))
            if not path:
                return
        w.settings.set_last_dir("onnx", path)
        from ..core.export_onnx import ExportError, export_onnx, write_example

        def work(clf=w.classifier, path=Path(path)):
            out = export_onnx(clf, path)
            try:
                return out, write_example(out.parent)
            except ExportError:  # another onnx_predict.py is there: keep it, the model is exported
                return out, None

        w.statusBar().showMessage(self.tr("Exporting the model to {name}...").format(name=Path(path).name))
        w.tasks.submit(work, on_done=self._onnx_done,
                       on_failed=lambda exc, text: self._failed(exc, self.tr("Exporting the model to ONNX"), text))

    def _onnx_done(self, result) -> None:
        path, example = result
        p = self.window.classifier.preprocess if self.window.classifier is not None else None
        size = f" {p.input_size}x{p.input_size}" if p else ""
        text = self.tr("Exported the model to {path}: its input is a batch of uint8 RGB images{size}, the class "
                       "names are in its metadata.").format(path=path, size=size)
        if example is not None:
            text += " " + self.tr("{script} beside it classifies images with it, with only onnxruntime, pillow "
                                  "and numpy installed.").format(script=example.name)
        self.window.notify(Notice("success", text))
        self.sig_onnx_exported.emit(str(path))

    # --- support set as folders ------------------------------------------------------------------------------
    def export_support(self, folder: str | None = None) -> None:
        w = self.window
        support = w.support_snapshot()
        if not support.n_images:
            w.notify(Notice("info", self.tr("The support set has no images to export yet.")))
            return
        if folder is None:
            folder = ask_support_folder(w, w.settings.last_dir("folder"))
            if not folder:
                return
        w.settings.set_last_dir("folder", folder)
        from ..core.imagefolder import export_image_folder, fresh_target

        target = fresh_target(folder, w.project_title)
        w.statusBar().showMessage(self.tr("Copying the images to {folder}...").format(folder=target))
        w.tasks.submit(export_image_folder, support, target, on_done=self._support_done,
                       on_failed=lambda exc, text: self._failed(exc, self.tr("Exporting the support set"), text))

    def _support_done(self, result) -> None:
        text = self.tr("Exported {n} images in {c} class folders to {folder}.").format(
            n=len(result.files), c=len(result.classes), folder=result.folder)
        if result.renamed:
            text += " " + self.tr("{k} names were changed to be valid file names.").format(k=len(result.renamed))
        self.window.notify(Notice("success", text, details="\n".join(result.renamed)))
        self.sig_support_exported.emit(str(result.folder))

    def _failed(self, exc: BaseException, what: str, text: str) -> None:
        self.sig_export_failed.emit(self.window.error(exc, what, text))

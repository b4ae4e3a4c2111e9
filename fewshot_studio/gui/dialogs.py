"""Every dialog the window opens, in one place: tests replace these functions, the window never calls
QFileDialog or QMessageBox directly."""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QMessageBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from ..core.images import IMAGE_SUFFIXES


def _filter(kind: str) -> str:
    """A file dialog's filter in the interface's language (the patterns stay as they are)."""
    all_files = QCoreApplication.translate("dialogs", "All files (*)")
    if kind == "images":
        return QCoreApplication.translate("dialogs", "Images ({patterns})").format(
            patterns=" ".join("*" + s for s in sorted(IMAGE_SUFFIXES))) + ";;" + all_files
    if kind == "project":
        return QCoreApplication.translate("dialogs", "Few-shot Studio projects (*.fsproj)") + ";;" + all_files
    if kind == "model":
        return QCoreApplication.translate("dialogs", "Few-shot Studio models (*.safetensors)") + ";;" + all_files
    return QCoreApplication.translate("dialogs", "Weights (*.safetensors *.pth *.pt *.bin *.ckpt)") + ";;" + all_files


def open_images(parent: QWidget, folder: str, title: str = "") -> list[str]:
    title = title or QCoreApplication.translate("dialogs", "Add images")
    paths, _ = QFileDialog.getOpenFileNames(parent, title, folder, _filter("images"))
    return paths


def open_folder(parent: QWidget, folder: str, title: str) -> str:
    return QFileDialog.getExistingDirectory(parent, title, folder)


def open_project(parent: QWidget, folder: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, QCoreApplication.translate("dialogs", "Open project"), folder,
                                          _filter("project"))
    return path


def save_project(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, QCoreApplication.translate("dialogs", "Save project"), suggested,
                                          _filter("project"))
    if path and not path.lower().endswith(".fsproj"):
        path += ".fsproj"
    return path


def open_model(parent: QWidget, folder: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, QCoreApplication.translate("dialogs", "Load model"), folder,
                                          _filter("model"))
    return path


def save_model(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, QCoreApplication.translate("dialogs", "Save model"), suggested,
                                          _filter("model"))
    if path and not path.lower().endswith(".safetensors"):
        path += ".safetensors"
    return path


def open_weights(parent: QWidget, folder: str, backbone: str) -> str:
    title = QCoreApplication.translate("dialogs", "Import weights for {backbone}").format(backbone=backbone)
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, _filter("weights"))
    return path


def ask_save_changes(parent: QWidget, name: str) -> str:
    """"save", "discard" or "cancel"."""
    text = QCoreApplication.translate("dialogs", "The project {name} has changes that are not saved.")
    box = QMessageBox(QMessageBox.Icon.Question, QCoreApplication.translate("dialogs", "Save changes?"),
                      text.format(name=repr(name)), parent=parent)
    box.setInformativeText(QCoreApplication.translate("dialogs", "Save them before closing?"))
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
        QMessageBox.StandardButton(answer), "cancel")


def confirm_clear_feature_cache(parent: QWidget, entries: int, mib: float) -> bool:
    """Whether to clear the feature cache that holds ``entries`` images' features (``mib`` MiB)."""
    text = QCoreApplication.translate("dialogs", "The feature cache holds the features of {n} images ({size} MiB).")
    box = QMessageBox(QMessageBox.Icon.Question, QCoreApplication.translate("dialogs", "Clear feature cache?"),
                      text.format(n=entries, size=f"{mib:.1f}"), parent=parent)
    box.setInformativeText(QCoreApplication.translate(
        "dialogs", "Clear it? Images are embedded again the next time they are used."))
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return QMessageBox.StandardButton(box.exec()) == QMessageBox.StandardButton.Yes


def show_shortcuts(parent: QWidget, actions) -> None:
    """A table of every action that has a keyboard shortcut."""
    rows = [(re.sub(r"\(&\w\)", "", a.text()).replace("&", ""),  # "文件(&F)" -> "文件"
             a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
            for a in actions if not a.shortcut().isEmpty()]
    dialog = QDialog(parent)
    dialog.setWindowTitle(QCoreApplication.translate("dialogs", "Keyboard shortcuts"))
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels([QCoreApplication.translate("dialogs", "Action"),
                                     QCoreApplication.translate("dialogs", "Shortcut")])
    for i, (text, keys) in enumerate(rows):
        table.setItem(i, 0, QTableWidgetItem(text))
        table.setItem(i, 1, QTableWidgetItem(keys))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    layout.addWidget(buttons)
    dialog.resize(460, 520)
    dialog.exec()


def about(parent: QWidget, text: str) -> None:
    QMessageBox.about(parent, QCoreApplication.translate("dialogs", "About Few-shot Studio"), text)

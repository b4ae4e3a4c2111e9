"""Every dialog the window opens, in one place: tests replace these functions, the window never calls
QFileDialog or QMessageBox directly."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QMessageBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from ..core.images import IMAGE_SUFFIXES

IMAGE_FILTER = f"Images ({' '.join('*' + s for s in sorted(IMAGE_SUFFIXES))});;All files (*)"
PROJECT_FILTER = "Few-shot Studio projects (*.fsproj);;All files (*)"
MODEL_FILTER = "Few-shot Studio models (*.safetensors);;All files (*)"
WEIGHTS_FILTER = "Weights (*.safetensors *.pth *.pt *.bin *.ckpt);;All files (*)"


def open_images(parent: QWidget, folder: str, title: str = "Add images") -> list[str]:
    paths, _ = QFileDialog.getOpenFileNames(parent, title, folder, IMAGE_FILTER)
    return paths


def open_folder(parent: QWidget, folder: str, title: str) -> str:
    return QFileDialog.getExistingDirectory(parent, title, folder)


def open_project(parent: QWidget, folder: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", folder, PROJECT_FILTER)
    return path


def save_project(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save project", suggested, PROJECT_FILTER)
    if path and not path.lower().endswith(".fsproj"):
        path += ".fsproj"
    return path


def open_model(parent: QWidget, folder: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Load model", folder, MODEL_FILTER)
    return path


def save_model(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save model", suggested, MODEL_FILTER)
    if path and not path.lower().endswith(".safetensors"):
        path += ".safetensors"
    return path


def open_weights(parent: QWidget, folder: str, backbone: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, f"Import weights for {backbone}", folder, WEIGHTS_FILTER)
    return path


def ask_save_changes(parent: QWidget, name: str) -> str:
    """"save", "discard" or "cancel"."""
    box = QMessageBox(QMessageBox.Icon.Question, "Save changes?",
                      f"The project {name!r} has changes that are not saved.", parent=parent)
    box.setInformativeText("Save them before closing?")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
        QMessageBox.StandardButton(answer), "cancel")


def show_shortcuts(parent: QWidget, actions) -> None:
    """A table of every action that has a keyboard shortcut."""
    rows = [(a.text().replace("&", ""), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
            for a in actions if not a.shortcut().isEmpty()]
    dialog = QDialog(parent)
    dialog.setWindowTitle("Keyboard shortcuts")
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels(["Action", "Shortcut"])
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
    QMessageBox.about(parent, "About Few-shot Studio", text)

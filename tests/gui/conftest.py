"""Fixtures for the window's tests: a shown window with its engine loaded, generated images, and helpers
that drop files or images the way a file manager or another card does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from imagegen import make_image_folder, make_queries
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from fewshot_studio.gui import dialogs
from fewshot_studio.gui.drag_data import MIME_IMAGES
from fewshot_studio.gui.main_window import MainWindow
from fewshot_studio.gui.settings import Settings

ENGINE_TIMEOUT = 120_000  # the first window of a session imports torch and torchvision
RUN_TIMEOUT = 90_000


@pytest.fixture(autouse=True)
def _no_modal_dialogs():
    """A test never blocks on a dialog: closing with unsaved changes discards them. (A patch of its own, so
    that a test's ``monkeypatch.undo()`` cannot remove it before pytest-qt closes the windows.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
        yield


def make_window(qtbot) -> MainWindow:
    window = MainWindow(Settings())
    # pytest-qt closes and deleteLater()s its widgets *before* the fixtures' teardown: a window whose close waits
    # for a run's thread would be deleted while waiting (and never close). Close it the user's way first.
    qtbot.addWidget(window, before_close_func=lambda w: close_window(qtbot, w))
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.sig_ready, timeout=ENGINE_TIMEOUT):
        window.start_engine()
    return window


def close_window(qtbot, window: MainWindow) -> None:
    if not window.closed:
        window.close()
        qtbot.waitUntil(lambda: window.closed, timeout=RUN_TIMEOUT)


@pytest.fixture
def window(qtbot):
    win = make_window(qtbot)
    yield win
    close_window(qtbot, win)


@pytest.fixture
def shapes(tmp_path) -> Path:
    """shapes/<class>/<class>_<i>.png: three classes of four small generated images."""
    return make_image_folder(tmp_path / "shapes", per_class=4, size=64)


@pytest.fixture
def queries(tmp_path) -> dict[Path, str]:
    """Held-out images of the same three classes: path -> true class."""
    return make_queries(tmp_path / "queries", per_class=3, size=64)


# --- what a drag carries, and dropping it ---------------------------------------------------------------------
def url_mime(paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def card_mime(source: str, paths) -> QMimeData:
    """What dragging images out of a card carries."""
    mime = url_mime(paths)
    mime.setData(MIME_IMAGES, json.dumps({"source": source, "paths": [str(p) for p in paths]}).encode())
    return mime


def drop(widget, mime: QMimeData, action=Qt.DropAction.CopyAction) -> QDropEvent:
    """Drag ``mime`` over ``widget`` and release it there; returns the drop event (accepted or not)."""
    pos = QPoint(widget.width() // 2, widget.height() // 2)
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    enter = QDragEnterEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter.setDropAction(action)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return enter
    event = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    event.setDropAction(action)
    QApplication.sendEvent(widget, event)
    return event


def drop_and_wait(qtbot, board, widget, mime: QMimeData):
    """Drop files and wait until they are checked (off the GUI thread) and added; returns the DropPlan."""
    with qtbot.waitSignal(board.sig_import_finished, timeout=30_000) as blocker:
        event = drop(widget, mime)
        assert event.isAccepted()
    return blocker.args[0]

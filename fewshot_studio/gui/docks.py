"""Where a dock of the studio window opens, and how big: the board and the panels keep their room."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

BOTTOM_SHARE = 0.4  # a bottom dock opens at 40 % of the window's height
SIDE_SHARE = 0.25  # a side dock at a quarter of its width


def place_dock(window: QMainWindow, area: Qt.DockWidgetArea, dock: QDockWidget,
               add: Callable[[Qt.DockWidgetArea], None]) -> Qt.DockWidgetArea:
    """Add ``dock`` with ``add(area)`` (QMainWindow.addDockWidget): a side dock that would squeeze the
    central panels below their minimum (a 1024-pixel window) goes to the bottom instead, as a tab beside a
    dock already there; then it is sized to a share of the window. Returns the area used."""
    side = area in (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
    central = window.centralWidget().minimumSizeHint().width()
    if side and window.width() < central + dock.minimumSizeHint().width() + 16:
        area, side = Qt.DockWidgetArea.BottomDockWidgetArea, False
    neighbour = next((d for d in window.findChildren(QDockWidget) if d is not dock and d.isVisible()
                      and window.dockWidgetArea(d) == area), None)
    add(area)
    if neighbour is not None and not side:
        window.tabifyDockWidget(neighbour, dock)
    if side:
        size, orientation = max(280, round(window.width() * SIDE_SHARE)), Qt.Orientation.Horizontal
    else:
        size, orientation = max(200, round(window.height() * BOTTOM_SHARE)), Qt.Orientation.Vertical
    QTimer.singleShot(0, lambda: window.resizeDocks([dock], [size], orientation) if dock.isVisible() else None)
    return area

"""A message strip at the top of the window (like KMessageWidget): what happened, what to do next, and
buttons for it ("Undo", "Import weights..."). Errors appear here, never as a crash or a traceback."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from . import icons

LEVELS = {"info": ("info", "#3b7dd8"), "success": ("ok", "#2e9e5b"), "warning": ("warning", "#e0a526"),
          "error": ("error", "#d64545")}


class MessageBar(QFrame):
    """Shows one message at a time; a new message replaces the old one."""

    sig_shown = Signal(str, str)  # level, text: a message appeared
    sig_closed = Signal()  # the user dismissed the message

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self.level = ""
        self.serial = 0  # counts the messages shown: whoever showed one can tell whether it is still up
        self._colour = QColor(LEVELS["info"][1])
        self._icon = QLabel()
        self._text = QLabel()
        self._text.setObjectName("MessageText")
        self._text.setWordWrap(True)
        self._text.setTextFormat(Qt.TextFormat.PlainText)  # messages quote names and files: "<1 s" is no tag
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._buttons = QHBoxLayout()
        self._buttons.setSpacing(6)
        self._details_button = QToolButton(text=self.tr("Details"))
        self._details_button.setCheckable(True)
        self._details_button.toggled.connect(lambda on: self._details.setVisible(on))
        self._close = QToolButton()
        self._close.setIcon(icons.icon("clear"))
        self._close.setAutoRaise(True)
        self._close.setToolTip(self.tr("Dismiss (Esc)"))
        self._close.clicked.connect(self.dismiss)
        self._details = QPlainTextEdit(readOnly=True)
        self._details.setMaximumHeight(140)
        self._details.hide()

        row = QHBoxLayout()
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self._text, 1)
        row.addLayout(self._buttons)
        row.addWidget(self._details_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addLayout(row)
        outer.addWidget(self._details)
        self.hide()

    def text(self) -> str:
        return self._text.text()

    def details(self) -> str:
        return self._details.toPlainText()

    def buttons(self) -> list[QPushButton]:
        return [self._buttons.itemAt(i).widget() for i in range(self._buttons.count())]

    def show_message(self, level: str, text: str, *, details: str = "",
                     actions: list[tuple[str, Callable[[], None]]] = ()) -> None:
        icon_name, colour = LEVELS.get(level, LEVELS["info"])
        self.level = level
        self.serial += 1
        self._icon.setPixmap(icons.pixmap(icon_name, 20, self.devicePixelRatioF()))
        self._text.setText(text)
        self._details.setPlainText(details)
        self._details_button.setVisible(bool(details))
        self._details_button.setChecked(False)
        self._details.hide()
        while self._buttons.count():
            widget = self._buttons.takeAt(0).widget()
            widget.deleteLater()
        for label, callback in actions:
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, cb=callback: (self.dismiss(), cb()))
            self._buttons.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self._colour = QColor(colour)
        self.show()
        self.update()
        self.sig_shown.emit(level, text)

    def dismiss(self) -> None:
        if self.isVisible():
            self.hide()
            self.sig_closed.emit()

    def paintEvent(self, event) -> None:
        """A tinted strip with a coloured line under it; drawn from the current palette (no style sheet,
        which would itself change the palette)."""
        painter = QPainter(self)
        base = self.palette().color(QPalette.ColorRole.Window)
        c = self._colour
        mix = QColor.fromRgbF(base.redF() * 0.8 + c.redF() * 0.2, base.greenF() * 0.8 + c.greenF() * 0.2,
                              base.blueF() * 0.8 + c.blueF() * 0.2)
        painter.fillRect(self.rect(), mix)
        painter.fillRect(0, self.height() - 2, self.width(), 2, c)
        painter.end()

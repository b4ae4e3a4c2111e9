"""Light and dark palettes (Fusion), following the system's colour scheme unless the user picks one."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")
ACCENT = QColor("#3b7dd8")


def dark_palette() -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: "#2b2d31", role.WindowText: "#e6e6e6", role.Base: "#1f2023", role.AlternateBase: "#2f3136",
        role.ToolTipBase: "#3a3d42", role.ToolTipText: "#f0f0f0", role.PlaceholderText: "#8a8d93",
        role.Text: "#e6e6e6", role.Button: "#35373c", role.ButtonText: "#e6e6e6", role.BrightText: "#ff6b6b",
        role.Link: "#6ea8ff", role.Highlight: ACCENT.name(), role.HighlightedText: "#ffffff",
        role.Light: "#4a4d53", role.Midlight: "#3d4046", role.Mid: "#2a2c30", role.Dark: "#1b1c1f",
        role.Shadow: "#000000",
    }
    for r, c in colours.items():
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#7c7f85"))
    p.setColor(group.Disabled, role.Highlight, QColor("#4a4d53"))
    return p


def light_palette() -> QPalette:
    p = QApplication.style().standardPalette()
    p.setColor(QPalette.ColorRole.Highlight, ACCENT)
    p.setColor(QPalette.ColorRole.Link, ACCENT.darker(115))
    return p


def system_prefers_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


class Theme(QObject):
    """Applies the chosen theme and re-applies it when the system's colour scheme changes."""

    sig_changed = Signal(bool)  # the palette was replaced; True when it is dark

    def __init__(self, app: QApplication, mode: str = "system"):
        super().__init__(app)
        self.app = app
        self.mode = mode if mode in THEMES else "system"
        app.setStyle("Fusion")
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_change)
        self.apply()

    @classmethod
    def ensure(cls, app: QApplication, mode: str = "system") -> Theme:
        """The application's Theme, made on first use (one per application)."""
        theme = app.findChild(Theme)
        return theme if theme is not None else cls(app, mode)

    def set_mode(self, mode: str) -> None:
        self.mode = mode if mode in THEMES else "system"
        self.apply()

    def apply(self) -> None:
        dark = self.mode == "dark" or (self.mode == "system" and system_prefers_dark())
        self.app.setPalette(dark_palette() if dark else light_palette())
        self.sig_changed.emit(dark)

    def _on_system_change(self, _scheme) -> None:
        if self.mode == "system":
            self.apply()

"""Light and dark palettes (Fusion), following the system's colour scheme unless the user picks one.

Widgets follow a theme switched while the studio runs as long as they take their colours from the palette
when they paint. A style sheet is the exception: Qt resolves its ``palette(...)`` colours once, when it is
set, so a widget with one re-applies it on every palette change (:func:`follow_palette`). Text meant to be
quieter uses the ``PlaceholderText`` role (``setForegroundRole``), never a palette copied at start-up.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

THEMES = ("system", "light", "dark")
ACCENT = QColor("#3b7dd8")
# Secondary text (descriptions, counts, hints): opaque, and at least 4.5:1 against the window and base
# colours (WCAG AA for body text). Fusion's light default is half-transparent black, the old dark one 4.1:1.
LIGHT_DIM, DARK_DIM = "#60636a", "#a3a6ac"


def dark_palette() -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: "#2b2d31", role.WindowText: "#e6e6e6", role.Base: "#1f2023", role.AlternateBase: "#2f3136",
        role.ToolTipBase: "#3a3d42", role.ToolTipText: "#f0f0f0", role.PlaceholderText: DARK_DIM,
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
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(LIGHT_DIM))
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


class _PaletteFollower(QObject):
    """Calls ``apply`` on every change of the application's palette, for as long as its widget lives."""

    def __init__(self, widget: QWidget, apply: Callable[[], None]):
        super().__init__(widget)
        self.apply = apply
        self._applying = False
        # The application hears of every palette change; a widget whose palette a style sheet fixed does not
        # (nor does an event filter on it). A signal, not an event filter on the application: that would be a
        # Python call for every event of the program.
        QApplication.instance().paletteChanged.connect(self._on_palette_changed)

    @Slot(QPalette)
    def _on_palette_changed(self, _palette: QPalette) -> None:
        if not self._applying:
            self._applying = True  # re-setting a style sheet sends palette events of its own
            try:
                self.apply()
            finally:
                self._applying = False


def follow_palette(widget: QWidget, apply: Callable[[], None]) -> None:
    """Call ``apply()`` now and whenever the application's palette changes (a theme switched live): for
    what a widget derives from the palette once, such as a style sheet."""
    apply()
    _PaletteFollower(widget, apply)


def set_style_sheet(widget: QWidget, css: str | Callable[[], str]) -> None:
    """``widget.setStyleSheet(css)``, re-applied on every palette change, so that its ``palette(...)``
    colours follow the theme (Qt resolves them only when a style sheet is set)."""

    def apply() -> None:
        widget.setStyleSheet("")
        widget.setStyleSheet(css() if callable(css) else css)

    follow_palette(widget, apply)

"""Icons from ``resources/icons`` (SVG): drawn crisp at every size and device pixel ratio, and tinted with
the palette's text colour so that they read on light and dark palettes alike."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 20, 24, 32, 40, 48, 64, 96, 128)


def icon_dir() -> Path:
    return Path(str(files("fewshot_studio.resources"))) / "icons"


def icon_path(name: str) -> Path:
    return icon_dir() / f"{name}.svg"


def _text_colour() -> str:
    app = QGuiApplication.instance()
    return app.palette().color(QPalette.ColorRole.WindowText).name() if app else "#202020"


@lru_cache(maxsize=256)
def _renderer(name: str, colour: str) -> QSvgRenderer:
    svg = icon_path(name).read_text(encoding="utf-8").replace("currentColor", colour)
    return QSvgRenderer(QByteArray(svg.encode("utf-8")))


def pixmap(name: str, size: int, dpr: float = 1.0, colour: str | None = None) -> QPixmap:
    """``name`` drawn at ``size`` logical pixels for a screen of device pixel ratio ``dpr``."""
    side = max(1, round(size * dpr))
    pm = QPixmap(side, side)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _renderer(name, colour or _text_colour()).render(painter, QRectF(0, 0, side, side))
    painter.end()
    pm.setDevicePixelRatio(dpr)
    return pm


@lru_cache(maxsize=512)
def _icon(name: str, colour: str) -> QIcon:
    result = QIcon()
    for size in SIZES:
        result.addPixmap(pixmap(name, size, 1.0, colour))
    return result


def icon(name: str, colour: QColor | str | None = None) -> QIcon:
    """The named icon, tinted with ``colour`` (default: the application palette's text colour)."""
    colour = colour.name() if isinstance(colour, QColor) else colour
    return _icon(name, colour or _text_colour())

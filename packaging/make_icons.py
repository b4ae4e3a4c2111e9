"""The application icon in every format a desktop wants, drawn from ``resources/icons/fewshot-studio.svg``.

    python packaging/make_icons.py                    # packaging/linux/icons/hicolor/{48x48,128x128,256x256,scalable}
    python packaging/make_icons.py --ico-icns build/icons   # also fewshot-studio.ico (Windows), .icns (macOS)

Rendering uses Qt's SVG renderer (no system tool needed); .ico and .icns are written by Pillow.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVG = HERE.parent / "resources" / "icons" / "fewshot-studio.svg"
APP_ID = "io.github.fewshotstudio.FewShotStudio"
HICOLOR = HERE / "linux" / "icons" / "hicolor"
LINUX_SIZES = (48, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZE = 1024  # Pillow derives the smaller .icns members from the largest image


def render(size: int):
    """The SVG drawn on a transparent ``size`` x ``size`` image, as a PIL image (RGBA)."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return Image.open(io.BytesIO(bytes(data))).convert("RGBA")


def linux_icons() -> list[Path]:
    written = []
    for size in LINUX_SIZES:
        out = HICOLOR / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        render(size).save(out, optimize=True)
        written.append(out)
    out = HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg"
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, out)
    return written + [out]


def ico_icns(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ico, icns = folder / "fewshot-studio.ico", folder / "fewshot-studio.icns"
    render(256).save(ico, sizes=[(s, s) for s in ICO_SIZES])
    render(ICNS_SIZE).save(icns)
    return [ico, icns]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ico-icns", type=Path, metavar="DIR", help="also write .ico and .icns into DIR")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - Qt's painting wants an application
    written = linux_icons()
    if args.ico_icns:
        written += ico_icns(args.ico_icns)
    for path in written:
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

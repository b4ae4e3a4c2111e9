"""Thumbnails loaded off the GUI thread (a QThreadPool of QRunnables) and cached in memory.

Images are decoded with the engine's :func:`load_image` (so EXIF rotation, 16-bit and CMYK files look
as the model sees them) and scaled in the pool; the GUI thread only turns the small QImage into a pixmap.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from ..core.errors import ImageError
from ..core.images import file_key, load_image

DEFAULT_SIZE = 96
MAX_ENTRIES = 3000  # ~ 3000 * 96 * 96 * 4 bytes = 110 MB at most


def render_thumbnail(path: str, size: int) -> QImage:
    """Decode ``path`` and fit it in ``size`` x ``size`` pixels (thread-safe). Raises ImageError."""
    img = load_image(path, draft_size=size * 2)
    scale = size / max(img.size)
    if scale < 1:
        img.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    elif scale > 1:  # small images (28 x 28 digits...) are enlarged, not shown as specks
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.BICUBIC)
    img = img.convert("RGB")
    data = img.tobytes()
    qimage = QImage(data, img.width, img.height, img.width * 3, QImage.Format.Format_RGB888)
    return qimage.copy()  # own the pixels: ``data`` goes away with this frame


class _Load(QRunnable):
    def __init__(self, cache: ThumbnailCache, key: tuple, size: int):
        super().__init__()
        self.cache, self.key, self.size = cache, key, size

    def run(self) -> None:
        try:
            image, error = render_thumbnail(self.key[0], self.size), ""
        except ImageError as exc:
            image, error = None, exc.reason
        except Exception as exc:  # noqa: BLE001 - any failure is shown as a broken thumbnail
            image, error = None, f"{type(exc).__name__}: {exc}"
        try:
            self.cache.loader_threads.add(threading.get_ident())
            self.cache.sig_loaded.emit(self.key, image, error)
        except RuntimeError:  # the cache is gone (window closed)
            pass


class ThumbnailCache(QObject):
    """``pixmap(path)`` gives the cached thumbnail or None, queueing a load; ``sig_ready(path)`` follows."""

    sig_ready = Signal(str)  # a thumbnail (or its failure) for this path has arrived; ask again
    sig_loaded = Signal(object, object, str)  # internal: key, QImage or None, error text (from the pool)

    def __init__(self, size: int = DEFAULT_SIZE, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self.size = size
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._pixmaps: OrderedDict[tuple, QPixmap | None] = OrderedDict()
        self._errors: dict[str, str] = {}
        self._pending: set[tuple] = set()
        self.loader_threads: set[int] = set()  # thread ids that decoded thumbnails (never the GUI's)
        self.loaded = 0
        self._closed = False
        self.sig_loaded.connect(self._on_loaded)

    def pixmap(self, path: str | Path) -> QPixmap | None:
        """The thumbnail if it is ready (None while loading or when the file is unusable)."""
        key = file_key(str(path))
        if key in self._pixmaps:
            self._pixmaps.move_to_end(key)
            return self._pixmaps[key]
        if key not in self._pending and not self._closed:
            self._pending.add(key)
            self.pool.start(_Load(self, key, self.size))
        return None

    def is_ready(self, path: str | Path) -> bool:
        return file_key(str(path)) in self._pixmaps

    def error(self, path: str | Path) -> str | None:
        """Why the thumbnail could not be made, once that is known."""
        return self._errors.get(str(path))

    def scaled(self, path: str | Path, side: int, dpr: float = 1.0) -> QPixmap | None:
        pm = self.pixmap(path)
        if pm is None:
            return None
        out = pm.scaled(round(side * dpr), round(side * dpr), Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)
        out.setDevicePixelRatio(dpr)
        return out

    @Slot(object, object, str)
    def _on_loaded(self, key: tuple, image: QImage | None, error: str) -> None:
        self._pending.discard(key)
        if self._closed:
            return
        self._pixmaps[key] = QPixmap.fromImage(image) if image is not None else None
        if error:
            self._errors[key[0]] = error
        self.loaded += 1
        while len(self._pixmaps) > MAX_ENTRIES:
            self._pixmaps.popitem(last=False)
        self.sig_ready.emit(key[0])

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def clear(self) -> None:
        self._pixmaps.clear()
        self._errors.clear()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Drop queued loads and wait for the running ones (called when the window closes)."""
        self._closed = True
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)

"""What drags carry between the class board, its cards and the panels: images of a class (to move them), or
local files and pasted images from elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

MIME_IMAGES = "application/x-fewshot-studio-images"  # JSON: {"source": class name, "paths": [...]}


def local_paths(mime: QMimeData) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []


def images_mime(source: str, paths: list[Path]) -> QMimeData:
    """What dragging images out of a card carries: their class (to move them) and their files' URLs."""
    mime = QMimeData()
    mime.setData(MIME_IMAGES, json.dumps({"source": source, "paths": [str(p) for p in paths]}).encode("utf-8"))
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def read_images_mime(mime: QMimeData) -> tuple[str, list[Path]] | None:
    if not mime.hasFormat(MIME_IMAGES):
        return None
    try:
        data = json.loads(bytes(mime.data(MIME_IMAGES).data()).decode("utf-8"))
        return str(data["source"]), [Path(p) for p in data["paths"]]
    except (ValueError, KeyError, TypeError):
        return None


def accepts(mime: QMimeData) -> bool:
    return mime.hasFormat(MIME_IMAGES) or bool(local_paths(mime)) or mime.hasImage()

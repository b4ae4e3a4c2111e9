"""The bundled demo: a small real support set and query images (Fashion-MNIST, MIT licence)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def demo_dir() -> Path:
    return Path(str(files("fewshot_studio.resources"))) / "demo"


def demo_support_dir() -> Path:
    """ImageFolder layout: one sub-folder per class."""
    return demo_dir() / "support"


def demo_query_dir() -> Path:
    """Query images, each named ``<true class>_<n>.png``."""
    return demo_dir() / "query"


def true_label(path: Path) -> str:
    return Path(path).stem.rsplit("_", 1)[0]

"""What the window remembers between runs, in an INI file in the studio's folder (``gui.ini``)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ..core.paths import studio_home

MAX_RECENT = 8


class Settings:
    """Typed access to the window's settings. Lists and dicts are stored as JSON: INI files give back a
    plain string for a one-element list."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else studio_home() / "gui.ini"
        self.q = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _json(self, key: str, default):
        raw = self.q.value(key)
        if not isinstance(raw, str):
            return default
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return default
        return value if isinstance(value, type(default)) else default

    def _set_json(self, key: str, value) -> None:
        self.q.setValue(key, json.dumps(value))

    def _str(self, key: str, default: str = "") -> str:
        value = self.q.value(key, default)
        return value if isinstance(value, str) else default

    # --- model choices -------------------------------------------------------------------------------
    @property
    def backbone(self) -> str:
        return self._str("model/backbone")

    @backbone.setter
    def backbone(self, name: str) -> None:
        self.q.setValue("model/backbone", name)

    @property
    def method(self) -> str:
        return self._str("model/method")

    @method.setter
    def method(self, name: str) -> None:
        self.q.setValue("model/method", name)

    def params(self, method: str) -> dict:
        return self._json(f"params/{method}", {})

    def set_params(self, method: str, values: dict) -> None:
        self._set_json(f"params/{method}", values)

    # --- window --------------------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self.q.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def state(self) -> QByteArray | None:
        value = self.q.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def set_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    @property
    def theme(self) -> str:
        return self._str("window/theme", "system")

    @theme.setter
    def theme(self, mode: str) -> None:
        self.q.setValue("window/theme", mode)

    @property
    def language(self) -> str:
        """"system" (follow the system's locale), "en" or "zh_CN"; used at the next start."""
        return self._str("window/language", "system")

    @language.setter
    def language(self, code: str) -> None:
        self.q.setValue("window/language", code)

    # --- files ---------------------------------------------------------------------------------------
    def recent_projects(self) -> list[str]:
        return [p for p in self._json("files/recent", []) if isinstance(p, str) and Path(p).is_file()]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self._json("files/recent", []) if p != path]
        self._set_json("files/recent", recent[:MAX_RECENT])

    def clear_recent(self) -> None:
        self._set_json("files/recent", [])

    def last_dir(self, kind: str) -> str:
        folder = self._str(f"files/last_dir_{kind}")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def has_last_dir(self, kind: str) -> bool:
        """Whether a folder of this kind was used and still exists (else ``last_dir`` is the home folder)."""
        folder = self._str(f"files/last_dir_{kind}")
        return bool(folder) and Path(folder).is_dir()

    def set_last_dir(self, kind: str, path: str | Path) -> None:
        path = Path(path)
        self.q.setValue(f"files/last_dir_{kind}", str(path if path.is_dir() else path.parent))

    # --- engine --------------------------------------------------------------------------------------
    @property
    def torch_threads(self) -> int:
        """Intra-op threads for adaptation and prediction; 0 means the studio's default."""
        try:
            return max(0, int(self.q.value("engine/torch_threads", 0)))
        except (TypeError, ValueError):
            return 0

    @torch_threads.setter
    def torch_threads(self, n: int) -> None:
        self.q.setValue("engine/torch_threads", int(n))

    def sync(self) -> None:
        self.q.sync()

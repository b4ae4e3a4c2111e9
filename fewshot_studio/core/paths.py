"""Where the studio keeps its own files (imported weights, settings for the CLI)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "FEWSHOT_STUDIO_HOME"
ENV_OFFLINE = "FEWSHOT_STUDIO_OFFLINE"


def studio_home() -> Path:
    """``$FEWSHOT_STUDIO_HOME``, else the platform's user data folder (``~/.local/share/fewshot-studio``)."""
    env = os.environ.get(ENV_HOME)
    return Path(env) if env else Path(platformdirs.user_data_dir("fewshot-studio", appauthor=False))


def weights_dir() -> Path:
    return studio_home() / "weights"


def offline() -> bool:
    """True when ``$FEWSHOT_STUDIO_OFFLINE`` is set: never try to download anything."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")

"""`fewshot-studio gui FILE` opens FILE: what the desktop entry runs when a .fsproj is double-clicked."""

from __future__ import annotations

from fewshot_studio import cli
from fewshot_studio.gui import app


def test_gui_passes_the_project_or_folder_to_the_window(monkeypatch):
    seen = []
    monkeypatch.setattr(app, "main", lambda argv=None: seen.append(argv) or 0)
    assert cli.main(["gui", "-odd name.fsproj"]) == 0
    assert cli.main(["gui"]) == 0
    assert seen == [["--", "-odd name.fsproj"], []]
    assert app.parse_args(seen[0]).path == "-odd name.fsproj"

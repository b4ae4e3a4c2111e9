"""A project archive from elsewhere that is refused leaves the user's open project exactly as it was."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from conftest import RUN_TIMEOUT, drop_and_wait, url_mime

from fewshot_studio.core.project import FORMAT, MANIFEST
from fewshot_studio.gui import dialogs


def snapshot(window) -> list[tuple[str, list[bytes]]]:
    return [(c.name, [Path(p).read_bytes() for p in c.images]) for c in window.support.classes]


def bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps({"format": FORMAT, "version": 1,
                                          "classes": [{"name": "a", "images": ["images/0/a.bmp"]}]}))
        zf.writestr("images/0/a.bmp", bytes(20 * 2**20))
    return path


def escape(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(MANIFEST, json.dumps({"format": FORMAT, "version": 1,
                                          "classes": [{"name": "a", "images": ["images/0/a.png"]}]}))
        zf.writestr("../../../evil.png", b"x")
    return path


@pytest.mark.parametrize("make, why", [(bomb, "expands more than 100-fold"), (escape, "points outside")])
def test_a_refused_archive_leaves_the_open_project_and_its_unsaved_edits_as_they_were(
        qtbot, window, shapes, tmp_path, monkeypatch, make, why):
    saved = tmp_path / "mine.fsproj"
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    monkeypatch.setattr(dialogs, "save_project", lambda parent, suggested: str(saved))
    with qtbot.waitSignal(window.sig_project_saved, timeout=RUN_TIMEOUT):
        window.act_save.trigger()
    window.board.rename_class("red_circle", "circles")  # an edit not saved yet
    before, file_before = snapshot(window), saved.read_bytes()
    assert window.isWindowModified()

    hostile = make(tmp_path / "from_elsewhere.fsproj")
    replaced = []
    window.sig_support_replaced.connect(lambda: replaced.append(True))
    with qtbot.waitSignal(window.message_bar.sig_shown, timeout=RUN_TIMEOUT,
                          check_params_cb=lambda level, text: level == "error"):
        window.projects.open_project(str(hostile))
    text = window.message_bar.text()
    assert "from_elsewhere.fsproj: the project file is damaged or unsafe" in text and why in text
    assert not replaced
    assert snapshot(window) == before and window.support.class_names[-1] == "circles"
    assert window.project_path == saved and window.isWindowModified(), "the unsaved edit is still there"
    assert saved.read_bytes() == file_before
    assert not (tmp_path.parent / "evil.png").exists() and not (tmp_path / "evil.png").exists()
    with qtbot.waitSignal(window.sig_project_saved, timeout=RUN_TIMEOUT):
        window.act_save.trigger()  # and it can still be saved
    assert not window.isWindowModified()

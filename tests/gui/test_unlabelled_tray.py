"""The board's Unlabelled images tray and the model panel's Domain adaptation: drop a pool, see it, clear it,
keep it in a project, adapt with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RUN_TIMEOUT, card_mime, close_window, drop, drop_and_wait, make_window, url_mime
from imagegen import make_domain_shift

from fewshot_studio.gui import dialogs


@pytest.fixture
def shift(tmp_path):
    """(support folder of 3 classes x 2 images, pool folder of 6 images, a broken file beside the pool)."""
    support, pool, _ = make_domain_shift(tmp_path / "shift", kinds=("circle", "square", "triangle"), shots=2,
                                         unlabelled=2, queries=0, size=48)
    broken = tmp_path / "shift" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    return support, pool, broken


def drop_on_tray(qtbot, window, paths):
    tray = window.board.tray
    with qtbot.waitSignal(tray.sig_import_finished, timeout=30_000) as blocker:
        assert drop(tray, url_mime(paths)).isAccepted()
    return blocker.args[0]


def adapt(qtbot, window):
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    return window.classifier


def test_dropped_images_join_the_pool_with_thumbnails_a_count_and_the_bad_file_named(qtbot, window, shift):
    support, pool, broken = shift
    tray = window.board.tray
    assert tray.count_label.text() == "0 unlabelled images" and not tray.clear_button.isEnabled()
    scan = drop_on_tray(qtbot, window, [pool, broken])
    expected = sorted(pool.iterdir())
    assert window.support.unlabelled == expected and len(expected) == 6
    assert [s.path for s in scan.skipped] == [broken]
    assert window.message_bar.level == "warning" and "broken.png" in window.message_bar.text()
    assert tray.count_label.text() == "6 unlabelled images" and tray.clear_button.isEnabled()
    assert tray.paths() == expected
    qtbot.waitUntil(tray.thumbnails_ready, timeout=20_000)
    assert all(window.thumbnails.pixmap(p) is not None for p in expected)
    assert not window.support.classes, "the pool is not a class"
    assert window.isWindowModified()

    drop_on_tray(qtbot, window, [expected[0]])  # already there: nothing added twice
    assert len(window.support.unlabelled) == 6 and "already" in window.message_bar.text()


def test_images_dragged_from_a_class_onto_the_tray_lose_their_label_and_undo_gives_it_back(qtbot, window, shift):
    support, _, _ = shift
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([support]))
    circle = list(window.support["circle"].images)
    accepted = drop(window.board.tray, card_mime("circle", circle[:1])).isAccepted()
    assert accepted
    assert window.support["circle"].images == circle[1:] and window.support.unlabelled == circle[:1]
    assert window.board.card("circle").image_paths() == circle[1:] and window.board.tray.paths() == circle[:1]
    assert "Moved 1 image from 'circle' to the unlabelled images" in window.message_bar.text()
    [b for b in window.message_bar.buttons() if b.text() == "Undo"][0].click()
    assert sorted(window.support["circle"].images) == circle and window.support.unlabelled == []


def test_the_add_button_and_the_edit_menu_open_file_dialogs_for_the_pool(qtbot, window, shift, monkeypatch):
    _, pool, broken = shift
    tray = window.board.tray
    files = sorted(pool.iterdir())
    asked = []
    monkeypatch.setattr(dialogs, "open_images", lambda parent, folder, title="": asked.append(title) or [])
    tray.act_add_images.trigger()  # the dialog cancelled: nothing changes, nothing is said
    assert asked == ["Add unlabelled images"] and window.support.unlabelled == []
    assert not window.isWindowModified()

    monkeypatch.setattr(dialogs, "open_images", lambda parent, folder, title="": [str(files[0]), str(broken)])
    with qtbot.waitSignal(tray.sig_import_finished, timeout=30_000):
        assert tray.add_button.menu().actions() == [tray.act_add_images, tray.act_add_folder]
        tray.act_add_images.trigger()
    assert window.support.unlabelled == files[:1] and tray.count_label.text() == "1 unlabelled image"
    assert "broken.png" in window.message_bar.text()

    folders = []
    monkeypatch.setattr(dialogs, "open_folder", lambda parent, folder, title: folders.append(folder) or str(pool))
    with qtbot.waitSignal(tray.sig_import_finished, timeout=30_000):
        window.act_add_unlabelled_folder.trigger()  # Edit > Add a folder of unlabelled images...
    assert window.support.unlabelled == files and tray.paths() == files
    assert folders == [str(pool)], "the dialog opens where the last unlabelled images came from"
    assert "Added 5 unlabelled images" in window.message_bar.text()
    assert not window.support.classes


def test_clear_empties_the_pool_and_undo_brings_it_back(qtbot, window, shift):
    _, pool, _ = shift
    tray = window.board.tray
    drop_on_tray(qtbot, window, [pool])
    images = window.support.unlabelled
    tray.clear_button.click()
    assert window.support.unlabelled == [] and tray.paths() == []
    assert tray.count_label.text() == "0 unlabelled images" and not tray.clear_button.isEnabled()
    assert "Cleared 6 unlabelled images" in window.message_bar.text()
    [b for b in window.message_bar.buttons() if b.text() == "Undo"][0].click()
    assert window.support.unlabelled == images and tray.paths() == images


def test_the_pool_and_the_chosen_adaptation_come_back_with_the_project(qtbot, window, shift, tmp_path, monkeypatch):
    support, pool, _ = shift
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([support]))
    drop_on_tray(qtbot, window, [pool])
    expected = [p.read_bytes() for p in window.support.unlabelled]
    assert window.model_panel.adaptation_picker.set_selected(["adabn"]) == ["adabn"]
    path = tmp_path / "saved" / "pool.fsproj"
    monkeypatch.setattr(dialogs, "save_project", lambda parent, suggested: str(path))
    with qtbot.waitSignal(window.sig_project_saved, timeout=RUN_TIMEOUT):
        window.act_save.trigger()

    other = make_window(qtbot)
    try:
        with qtbot.waitSignal(other.sig_project_opened, timeout=RUN_TIMEOUT):
            other.projects.open_project(str(path))
        assert [Path(p).read_bytes() for p in other.support.unlabelled] == expected
        assert other.board.tray.count_label.text() == "6 unlabelled images"
        assert other.board.tray.paths() == other.support.unlabelled
        assert other.model_panel.adaptation_picker.selected() == ["adabn"]
        assert not other.isWindowModified()
    finally:
        close_window(qtbot, other)


def test_adapting_with_soft_kmeans_uses_the_pool_and_pool_edits_then_put_the_model_out_of_date(qtbot, window, shift):
    support, pool, _ = shift
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([support]))
    panel = window.model_panel
    assert window.backbone_picker.set_current("efficientnet_lite0")
    assert window.method_picker.set_current("prototypical")
    assert panel.adaptation_picker.set_selected(["soft_kmeans"]) == ["soft_kmeans"]
    with qtbot.waitSignal(window.message_bar.sig_shown, timeout=RUN_TIMEOUT,
                          check_params_cb=lambda level, text: level == "error"):
        assert not window.start_adapt()  # no pool yet: the core's message, in one line
    assert "needs unlabelled images of the target domain" in window.message_bar.text()
    assert "Unlabelled images tray" in window.message_bar.text() and window.classifier is None

    drop_on_tray(qtbot, window, [pool])
    classifier = adapt(qtbot, window)
    assert [s["name"] for s in classifier.info["domain_adaptation"]] == ["soft_kmeans"]
    assert classifier.info["support"]["unlabelled"] == 6 and classifier.uses_unlabelled
    assert panel.model_current and "Model ready" in panel.model_label.text()
    window.board.tray.remove([window.support.unlabelled[0]])
    assert panel.model_stale and "Adapt again" in panel.model_label.text()

    panel.adaptation_picker.set_selected([])  # no stage: the pool plays no part in the model
    adapt(qtbot, window)
    assert not window.classifier.uses_unlabelled and "domain_adaptation" not in window.classifier.info
    window.board.tray.clear()
    assert panel.model_current, "a model that does not use the pool is not out of date when it changes"


def test_validate_cross_validates_with_the_chosen_domain_adaptation_and_the_pool(qtbot, window, shift):
    support, pool, _ = shift  # 3 classes x 2 images, a pool of 6
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([support]))
    drop_on_tray(qtbot, window, [pool])
    assert window.backbone_picker.set_current("efficientnet_lite0")
    assert window.method_picker.set_current("prototypical")
    assert window.model_panel.adaptation_picker.set_selected(["soft_kmeans"]) == ["soft_kmeans"]
    window.validation.action.trigger()
    page = window.validation.page
    assert "Domain adaptation: soft_kmeans, with 6 unlabelled images" in page.context_label.text()
    with qtbot.waitSignals([page.sig_validation_finished, page.sig_ended], order="strict", timeout=RUN_TIMEOUT):
        assert page.start_validation()
    r = page.result
    assert r.domain_adaptation == ["soft_kmeans"] and r.unlabelled == 6 and r.n == 6
    assert "Each fold adapted with soft_kmeans and 6 unlabelled images" in page.summary.text()

    window.model_panel.adaptation_picker.set_selected([])  # the page follows the window's choice
    with qtbot.waitSignals([page.sig_validation_finished, page.sig_ended], order="strict", timeout=RUN_TIMEOUT):
        assert page.start_validation()
    assert page.result.domain_adaptation == [] and page.result.unlabelled == 0
    assert "Domain adaptation" not in page.context_label.text()

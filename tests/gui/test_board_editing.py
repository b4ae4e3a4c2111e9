"""Building the support set on the board: drops, renaming, moving, deleting, pasting, file dialogs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import card_mime, drop, drop_and_wait, url_mime
from imagegen import draw_shape
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from fewshot_studio.core.paths import studio_home
from fewshot_studio.gui import dialogs


def names_on_cards(window) -> list[str]:
    return [card.name_edit.text() for card in window.board.cards()]


def test_dropping_a_folder_of_class_folders_on_the_board_makes_one_card_per_class(qtbot, window, shapes):
    plan = drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.support.class_names == ["blue_square", "green_triangle", "red_circle"]
    assert names_on_cards(window) == window.support.class_names
    assert [c.count_label.text() for c in window.board.cards()] == ["4 images"] * 3
    assert [len(c.image_paths()) for c in window.board.cards()] == [4, 4, 4]
    assert plan.skipped == []
    assert "Added 12 images in 3 new classes" in window.message_bar.text()
    assert window.isWindowModified()


def test_thumbnails_are_loaded_off_the_gui_thread_and_shown(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    qtbot.waitUntil(lambda: all(card.thumbnails_ready() for card in window.board.cards()), timeout=20_000)
    assert window.thumbnails.loaded >= 12
    assert threading.main_thread().ident not in window.thumbnails.loader_threads
    item = window.board.cards()[0].thumbs.item(0)
    assert not item.icon().isNull()
    assert item.icon().availableSizes(), "the real thumbnail replaced the placeholder"


def test_dropping_files_and_folders_on_a_card_adds_them_to_that_class(qtbot, window, shapes, tmp_path):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    extra = [tmp_path / "x1.png", tmp_path / "x2.jpg"]
    draw_shape("ellipse", (220, 40, 40), 5).save(extra[0])
    draw_shape("ellipse", (220, 40, 40), 6).save(extra[1])
    card = window.board.card("red_circle")
    drop_and_wait(qtbot, window.board, card, url_mime(extra))
    assert window.support["red_circle"].images[-2:] == extra
    assert card.count_label.text() == "6 images"

    more = tmp_path / "more" / "deep"
    more.mkdir(parents=True)
    draw_shape("rectangle", (40, 60, 220), 7).save(more / "b.png")
    drop_and_wait(qtbot, window.board, window.board.card("blue_square").thumbs.viewport(), url_mime([more.parent]))
    assert window.support["blue_square"].images[-1] == more / "b.png"
    assert len(window.support) == 3, "dropping on a card never creates a class"


def test_loose_images_dropped_on_the_board_start_a_new_class_named_after_their_folder(qtbot, window, tmp_path):
    folder = tmp_path / "cats"
    folder.mkdir()
    files = [folder / f"{i}.png" for i in range(3)]
    for i, f in enumerate(files):
        draw_shape("triangle", (40, 180, 60), i).save(f)
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime(files))
    assert window.support.class_names == ["cats"]
    assert window.support["cats"].images == files
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime(files[:1]))
    assert window.support.class_names == ["cats", "cats 2"], "loose images always make a new class"
    assert window.board.current_class == "cats 2"


def test_bad_files_are_skipped_with_a_specific_message_and_nothing_is_lost(qtbot, window, shapes, tmp_path):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    before = [(c.name, list(c.images)) for c in window.support.classes]
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    good = tmp_path / "good.png"
    draw_shape("cross", (230, 200, 30), 1).save(good)

    plan = drop_and_wait(qtbot, window.board, window.board.card("green_triangle"),
                         url_mime([notes, empty, fake, good]))
    assert sorted(s.path.name for s in plan.skipped) == ["empty.png", "fake.jpg", "notes.txt"]
    text = window.message_bar.text()
    assert window.message_bar.level == "warning" and window.message_bar.isVisible()
    assert "Added 1 image" in text and "3 files were skipped" in text
    assert "notes.txt: not an image file" in text
    assert "empty.png: file is empty (0 bytes)" in text
    assert "fake.jpg" in text
    assert "fake.jpg" in window.message_bar.details()
    after = [(c.name, list(c.images)) for c in window.support.classes]
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1] == (before[1][0], before[1][1] + [good])

    only_bad = drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([notes]))
    assert only_bad.classes == []
    assert "Nothing was added. 1 file was skipped: notes.txt" in window.message_bar.text()
    assert [(c.name, list(c.images)) for c in window.support.classes] == after


def test_a_class_is_renamed_in_place_and_a_duplicate_name_is_refused(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    card = window.board.card("red_circle")
    card.start_rename()
    qtbot.keyClicks(card.name_edit, "apple")
    qtbot.keyClick(card.name_edit, Qt.Key.Key_Return)
    assert window.support.class_names == ["blue_square", "green_triangle", "apple"]
    assert card.name_edit.text() == "apple"
    assert window.board.card("apple") is card, "the same card, renamed"

    card.start_rename()
    qtbot.keyClicks(card.name_edit, "blue_square")
    qtbot.keyClick(card.name_edit, Qt.Key.Key_Return)
    assert window.support.class_names == ["blue_square", "green_triangle", "apple"]
    assert card.name_edit.text() == "apple"
    assert "already a class called 'blue_square'" in window.message_bar.text()
    assert window.message_bar.level == "error"

    card.start_rename()
    qtbot.keyClicks(card.name_edit, "pear")
    qtbot.keyClick(card.name_edit, Qt.Key.Key_Escape)
    assert card.name_edit.text() == "apple" and window.support.class_names[2] == "apple"


def test_an_image_dragged_to_another_card_moves_there(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    image = window.support["red_circle"].images[1]
    target = window.board.card("blue_square")
    event = drop(target.thumbs.viewport(), card_mime("red_circle", [image]), Qt.DropAction.MoveAction)
    assert event.isAccepted() and event.dropAction() == Qt.DropAction.MoveAction
    assert image not in window.support["red_circle"].images
    assert window.support["blue_square"].images[-1] == image
    assert image in target.image_paths()
    assert image not in window.board.card("red_circle").image_paths()
    assert window.board.card("red_circle").count_label.text() == "3 images"

    # Dropped on the board itself, an image leaves its class for a new one.
    drop(window.board.canvas, card_mime("blue_square", [image]), Qt.DropAction.MoveAction)
    assert window.support.class_names == ["blue_square", "green_triangle", "red_circle", "class"]
    assert window.support["class"].images == [image]


def test_a_class_is_deleted_and_undo_brings_it_back(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    images = list(window.support["green_triangle"].images)
    qtbot.mouseClick(window.board.card("green_triangle").delete_button, Qt.MouseButton.LeftButton)
    assert window.support.class_names == ["blue_square", "red_circle"]
    assert names_on_cards(window) == ["blue_square", "red_circle"]
    assert all(p.exists() for p in images), "files stay on disk"
    assert "Deleted class 'green_triangle'" in window.message_bar.text()
    undo = [b for b in window.message_bar.buttons() if b.text() == "Undo"][0]
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert window.support.class_names == ["blue_square", "green_triangle", "red_circle"]
    assert window.support["green_triangle"].images == images


def test_selected_images_are_removed_with_the_delete_key_and_the_context_menu(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    card = window.board.card("blue_square")
    first, second = card.thumbs.item(0), card.thumbs.item(1)
    card.thumbs.setFocus()
    first.setSelected(True)
    second.setSelected(True)
    removed = [Path(first.data(Qt.ItemDataRole.UserRole)), Path(second.data(Qt.ItemDataRole.UserRole))]
    qtbot.keyClick(card.thumbs, Qt.Key.Key_Delete)
    assert [p for p in removed if p in window.support["blue_square"].images] == []
    assert card.count_label.text() == "2 images"
    assert "Removed 2 images from 'blue_square'" in window.message_bar.text()

    other = window.board.card("red_circle")
    target = Path(other.thumbs.item(0).data(Qt.ItemDataRole.UserRole))
    menu = other.build_menu([target])
    remove = [a for a in menu.actions() if a.text().startswith("Remove 1 image")][0]
    remove.trigger()
    assert target not in window.support["red_circle"].images
    move = [a for a in menu.actions() if a.text() == "Move to"][0]
    assert [a.text() for a in move.menu().actions() if a.text()] == ["blue_square", "green_triangle", "New class"]


def test_an_image_pasted_from_the_clipboard_is_saved_as_png_and_added(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    window.board.set_current("green_triangle")
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkGreen)
    mime = QMimeData()
    mime.setImageData(image)
    clipboard = QApplication.clipboard()
    clipboard.setMimeData(mime)  # the clipboard now owns this Python-made object...
    try:
        with qtbot.waitSignal(window.board.sig_import_finished, timeout=20_000):
            window.act_paste.trigger()
    finally:
        clipboard.clear()  # ...so it must free it while Python runs, not in Qt's exit handlers (segfault)
    pasted = window.support["green_triangle"].images[-1]
    assert pasted.parent == studio_home() / "pasted"
    assert pasted.suffix == ".png" and QImage(str(pasted)).size() == image.size()


def test_images_chosen_in_the_open_dialog_go_to_the_current_class(qtbot, window, shapes, monkeypatch):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    extra = shapes.parent / "chosen.png"
    draw_shape("cross", (230, 200, 30), 3).save(extra)
    monkeypatch.setattr(dialogs, "open_images", lambda parent, folder, title="": [str(extra)])
    window.board.set_current("red_circle")
    with qtbot.waitSignal(window.board.sig_import_finished, timeout=20_000):
        window.act_add_images.trigger()
    assert window.support["red_circle"].images[-1] == extra


def test_new_class_button_adds_an_empty_card_ready_to_rename(qtbot, window):
    qtbot.mouseClick(window.board.new_button, Qt.MouseButton.LeftButton)
    assert window.support.class_names == ["class 1"]
    card = window.board.card("class 1")
    assert card.name_edit.hasFocus() or card.name_edit.selectedText() == "class 1"
    assert window.support.problems()[0].startswith("a support set needs at least 2 classes")
    assert "Before adapting: a support set needs at least 2 classes" in window.model_panel.model_label.text()


@pytest.mark.parametrize("on_card", [True, False])
def test_text_dragged_from_another_application_is_refused(window, on_card):
    mime = QMimeData()
    mime.setText("hello")
    window.board.add_class("red_circle")
    widget = window.board.card("red_circle") if on_card else window.board.canvas
    assert not drop(widget, mime).isAccepted()
    assert window.support.class_names == ["red_circle"]

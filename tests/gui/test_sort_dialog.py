"""File > Sort a folder...: adapt in the window, fill the dialog, press Sort, wait for it to finish, read the
folders and the notice; cancel; refusals shown in the dialog."""

from __future__ import annotations

from pathlib import Path

from conftest import RUN_TIMEOUT, drop_and_wait, url_mime
from imagegen import make_queries


def adapt(qtbot, window, shapes) -> None:
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("efficientnet_lite0")
    assert window.method_picker.set_current("prototypical")
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()


def test_sort_a_folder_from_the_file_menu(qtbot, window, shapes, queries, tmp_path):
    window.act_sort_folder.trigger()  # no model yet: a notice, no dialog
    assert "Adapt or load a model first" in window.message_bar.text()
    adapt(qtbot, window, shapes)
    window.act_sort_folder.trigger()
    dialog = window.sort_dialog
    qtbot.waitExposed(dialog)
    assert "3 classes" in dialog.model_label.text()

    folder = next(iter(queries)).parent
    dialog.sort_button.click()
    assert dialog.status.text() == "Add a folder of images to sort."
    dialog.add_input(folder)
    dialog.output.setText(str(folder / "sorted"))
    dialog.sort_button.click()
    assert "inside the input folder" in dialog.status.text() and dialog.job is None

    out = tmp_path / "sorted"
    dialog.output.setText(str(out))
    dialog.mode.setCurrentIndex(dialog.mode.findData("move"))
    dialog.min_confidence.setValue(0)
    with qtbot.waitSignal(dialog.sig_finished, timeout=RUN_TIMEOUT) as finished:
        dialog.sort_button.click()
        assert not dialog.sort_button.isEnabled()
    result = finished.args[0]
    assert result.sorted_files == 9 and not result.cancelled
    assert dialog.progress.value() == dialog.progress.maximum() == 9
    right = sum((out / label / path.name).is_file() for path, label in queries.items())
    assert right >= 8 and not any(path.exists() for path in queries)  # moved
    assert (out / "sort-report.csv").read_text().count("\n") == 10
    assert "Sorted 9 of 9 images into" in window.message_bar.text()
    qtbot.waitUntil(lambda: dialog.job is None and dialog.sort_button.isEnabled())


def test_cancel_stops_the_sort_and_says_how_far_it_got(qtbot, window, shapes, tmp_path):
    adapt(qtbot, window, shapes)
    inbox = make_queries(tmp_path / "many", per_class=15, size=64)
    window.act_sort_folder.trigger()
    dialog = window.sort_dialog
    dialog.add_input(tmp_path / "many")
    dialog.output.setText(str(tmp_path / "out"))

    with qtbot.waitSignal(dialog.sig_finished, timeout=RUN_TIMEOUT) as finished:
        dialog.sort_button.click()
        dialog.cancel_button.click()  # at once: the run stops at its next file
        assert dialog.status.text() == "Stopping after the current image..."
    result = finished.args[0]
    assert result.cancelled and result.sorted_files < len(inbox)
    assert len(list(Path(tmp_path / "out").rglob("*.png"))) == result.sorted_files
    assert "Sorting cancelled" in dialog.status.text()
    qtbot.waitUntil(lambda: dialog.job is None)
    dialog.cancel_button.click()  # now it closes the dialog
    assert not dialog.isVisible()

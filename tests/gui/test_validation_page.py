"""How good is the model, in the window: cross-validation with a clickable confusion matrix, methods compared,
and "None of these" for images unlike every class."""

from __future__ import annotations

from pathlib import Path

from conftest import RUN_TIMEOUT, drop_and_wait, url_mime
from imagegen import make_confusable_folder, make_image_folder, make_queries
from PySide6.QtCore import Qt


def test_validate_from_the_window_and_click_a_cell_to_see_the_misclassified_images(qtbot, window, tmp_path):
    folder = make_confusable_folder(tmp_path / "confusable", per_class=5)
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([folder]))
    assert window.backbone_picker.set_current("efficientnet_lite0")
    assert window.method_picker.set_current("prototypical")
    window.validation.action.trigger()
    page = window.validation.page
    assert page is not None and window.validation.page_window.isVisible()

    with qtbot.waitSignals([page.sig_validation_finished, page.sig_ended], order="strict", timeout=RUN_TIMEOUT):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
        assert not page.validate_button.isEnabled() and page.cancel_button.isEnabled()
    r = page.result
    assert r.scheme == "leave-one-out" and r.n == 15
    assert page.progress.format().startswith("Done: 15 folds")
    assert page.table.rowCount() == 3 and "right" in page.summary.text()
    rows = {page.table.item(i, 0).text(): page.table.item(i, 3).text() for i in range(3)}
    assert rows["blue_square"] == "100%"
    names = page.heatmap.names
    a, b = names.index("circle_a"), names.index("circle_b")
    m = page.heatmap.matrix
    t, p = (a, b) if m[a][b] else (b, a)
    assert m[t][p] > 0, m

    qtbot.mouseClick(page.heatmap, Qt.MouseButton.LeftButton, pos=page.heatmap.cell_rect(t, p).center())
    assert page.heatmap.selected == (t, p)
    shown = page.shown_paths()
    assert len(shown) == m[t][p] == page.cell_images.count()
    assert all(Path(s).parent.name == names[t] for s in shown)
    assert f"predicted as {names[p]}" in page.cell_label.text() and "misclassified" in page.cell_label.text()
    qtbot.waitUntil(lambda: all(not page.cell_images.item(i).icon().isNull() for i in range(len(shown))),
                    timeout=20_000)  # the thumbnails arrive off the GUI thread

    page.set_checked(page.compare_methods, ["prototypical"])
    page.set_checked(page.compare_backbones, ["conv4", "efficientnet_lite0"])
    with qtbot.waitSignals([page.sig_compare_finished, page.sig_ended], order="strict", timeout=RUN_TIMEOUT):
        qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    assert page.compare_table.rowCount() == 2 and page.use_best_button.isEnabled()
    # the summary names the best pair, and the table and matrix below show that pair (issue 11, item 4)
    best_result = page.best.result
    summary = page.summary.text()
    assert summary.startswith(f"Best: {page.best.candidate.label}, {best_result.accuracy:.1%} right.")
    assert "Details below: the best," in summary and f"{best_result.accuracy:.1%}</b> right" in summary
    assert page.details_row.isVisible() and page.details_picker.currentIndex() == 0
    assert page.details_picker.currentText() == page.best.candidate.label + "  ★"
    shown = {page.table.item(i, 0).text(): page.table.item(i, 3).text() for i in range(page.table.rowCount())}
    assert shown == {c["name"]: f"{c['accuracy']:.0%}" for c in best_result.per_class()}
    assert page.heatmap.matrix == best_result.confusion()
    other = page.compared[1]  # the other pair: a click on its row shows it, and says which it is
    rect = page.compare_table.visualItemRect(page.compare_table.item(1, 1))
    qtbot.mouseClick(page.compare_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.details_picker.currentIndex() == 1 and page.result is other.result
    assert page.heatmap.matrix == other.result.confusion()
    assert page.summary.text().startswith(f"Best: {page.best.candidate.label}")
    assert f"Details below: <b>{other.result.accuracy:.1%}</b> right" in page.summary.text()
    assert f"{other.candidate.method} on {other.candidate.backbone}" in page.summary.text()
    page.details_picker.setCurrentIndex(0)  # back to the best, from the picker
    assert page.result is best_result and page.compare_table.currentRow() == 0
    best = page.best.candidate
    window.backbone_picker.set_current("conv4" if best.backbone != "conv4" else "efficientnet_lite0")
    with qtbot.waitSignal(page.sig_use_best):
        qtbot.mouseClick(page.use_best_button, Qt.MouseButton.LeftButton)
    assert window.backbone_picker.current() == best.backbone and window.method_picker.current() == best.method


def test_the_none_of_these_toggle_turns_an_unlike_image_into_none_of_these(qtbot, window, shapes, tmp_path):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("efficientnet_lite0")
    assert window.method_picker.set_current("prototypical")
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    unseen = list(make_queries(tmp_path / "unseen", classes=("yellow_cross",), per_class=4, size=64))
    known = make_queries(tmp_path / "known", per_class=2, size=64)
    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        assert window.classify(unseen + list(known))
    model = window.predictions.model
    shown = [model.data(model.index(i)) for i in range(model.rowCount())]
    assert not any("None of these" in s for s in shown), "off by default"

    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        qtbot.mouseClick(window.predictions.open_set_box, Qt.MouseButton.LeftButton)
    assert window.predictions.open_set_box.isChecked() and window.classifier.open_set is not None
    assert window.classifier.open_set.calibration == "cross-validation (leave-one-out)", "the method, held out"
    by_path = {p.path: model.data(model.index(i)) for i, p in enumerate(window.predictions.predictions)}
    assert sum("None of these" in by_path[str(u)] for u in unseen) >= 3, by_path
    accepted = [k for k, truth in known.items() if f": {truth} (" in by_path[str(k)]]
    assert len(accepted) >= 4, by_path
    assert "None of these" in window.predictions.summary.text()

    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        window.predictions.open_set_box.setChecked(False)
    assert not any(p.unknown for p in window.predictions.predictions)


def test_none_of_these_says_why_it_rejects_and_that_two_examples_per_class_are_too_few(qtbot, window, tmp_path):
    few = make_image_folder(tmp_path / "few", per_class=2, size=64)  # 1-2 examples per class, as a new user has
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([few]))
    assert window.backbone_picker.set_current("efficientnet_lite0")
    assert window.method_picker.set_current("prototypical")
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    unseen = list(make_queries(tmp_path / "unseen", classes=("yellow_cross",), per_class=3, size=64))
    known = list(make_queries(tmp_path / "known", per_class=1, size=64))
    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        assert window.classify(unseen + known)
    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        qtbot.mouseClick(window.predictions.open_set_box, Qt.MouseButton.LeftButton)
    rule = window.classifier.open_set
    assert rule.held_out <= 6 and not rule.reliable
    panel = window.predictions
    model = panel.model
    tips = [model.data(model.index(i), Qt.ItemDataRole.ToolTipRole) for i in range(model.rowCount())]
    threshold = f"{rule.threshold:.2f}"
    for p, tip in zip(panel.predictions, tips):
        sim = f"{p.similarity:.2f}"
        if p.unknown:
            assert f"its similarity to the closest support image, {sim}, is below the threshold {threshold}." in tip
        else:
            assert f"its similarity to the closest support image, {sim}, reaches the threshold {threshold}." in tip
        assert f"calibrated on {rule.held_out} held-out image(s): unreliable; add examples" in tip, tip
    assert any(p.unknown for p in panel.predictions), tips
    assert f"\"None of these\" rejects below a similarity of {threshold}. The threshold was calibrated on " \
           f"{rule.held_out} held-out image(s): unreliable; add examples" in panel.summary.text()
    assert "unreliable; add examples" in panel.open_set_box.toolTip()

    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        panel.open_set_box.setChecked(False)  # off: no reasons, no warning
    assert "threshold" not in panel.summary.text()
    assert "threshold" not in model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)


def test_a_long_validation_shows_progress_and_cancel_stops_it(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("conv4")
    assert window.method_picker.set_current("linear_probe")
    window.params_form.set_values({"steps": 1000})  # a fraction of a second per fold, 12 folds
    page = window.validation.show_page()
    with qtbot.waitSignal(page.sig_ended, timeout=RUN_TIMEOUT):
        assert page.start_validation()
        qtbot.waitUntil(lambda: page.progress.format().startswith("Fold "), timeout=RUN_TIMEOUT)
        assert page.progress.maximum() == 12 and 1 <= page.progress.value() < 12
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
        assert "cancelling" in page.progress.format()
    assert page.progress.format() == "Cancelled" and page.result is None
    assert page.validate_button.isEnabled() and not page.cancel_button.isEnabled()

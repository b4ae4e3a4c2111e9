"""Adapting and classifying: live progress and plots, cancelling, closing mid-run, errors, saved models."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from conftest import RUN_TIMEOUT, close_window, drop, drop_and_wait, make_window, url_mime
from PySide6.QtCore import Qt

from fewshot_studio.core.algorithms.base import StepReport
from fewshot_studio.core.algorithms.linear_probe import LinearProbe
from fewshot_studio.gui import dialogs


def load_shapes(qtbot, window, shapes) -> None:
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))


def choose(window, backbone: str, method: str, **values) -> None:
    assert window.backbone_picker.set_current(backbone)
    assert window.method_picker.set_current(method)
    window.params_form.set_values(values)
    assert {k: window.params_form.values()[k] for k in values} == values


def adapt(qtbot, window):
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict",
                           timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    return window.classifier


def classify(qtbot, window, paths) -> list:
    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        assert window.classify(paths)
    return window.predictions.predictions


def start_long_run(qtbot, window, shapes) -> None:
    """A run that would take minutes (fine-tuning Conv-4 for 100 000 steps), stopped in the test."""
    choose(window, "conv4", "finetune", steps=100_000, batch_size=4)
    with qtbot.waitSignal(window.sig_progress, timeout=RUN_TIMEOUT):
        assert window.start_adapt()


def test_adapt_shows_live_progress_and_the_model_classifies_held_out_images(qtbot, window, shapes, queries):
    load_shapes(qtbot, window, shapes)
    steps = 300
    choose(window, "efficientnet_lite0", "linear_probe", steps=steps)
    reported, batches = [], []
    window.sig_progress.connect(reported.extend)
    window.sig_progress.connect(batches.append)
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        qtbot.mouseClick(window.model_panel.adapt_button, Qt.MouseButton.LeftButton)
        assert window.model_panel.adapt_button.text() == "Cancel", "the button turns into Cancel"
        assert not window.method_picker.isEnabled() and window.act_cancel.isEnabled()

    assert [e.step for e in reported] == list(range(1, steps + 1)), "every step reached the window, in order"
    assert 1 < len(batches) < steps, "progress is throttled: batches of steps, not one signal per step"
    assert window.model_panel.plots.point_count == steps
    np.testing.assert_array_equal(window.model_panel.plots.steps(), np.arange(1, steps + 1))
    np.testing.assert_allclose(window.model_panel.plots.losses(), [e.loss for e in reported])
    np.testing.assert_allclose(window.model_panel.plots.accuracies(), [100 * e.accuracy for e in reported])
    assert window.model_panel.plots.losses()[-1] < window.model_panel.plots.losses()[0]
    assert window.model_panel.progress.value() == window.model_panel.progress.maximum() == steps
    assert window.model_panel.progress.format().startswith(f"Done: {steps} steps in")
    assert window.model_panel.adapt_button.text() == "Adapt" and window.method_picker.isEnabled()
    assert "Model ready" in window.model_panel.model_label.text() and "Linear probe" in window.model_panel.model_label.text()
    assert window.statusBar().currentMessage().startswith("Adapted Linear probe on efficientnet_lite0 in")

    predictions = classify(qtbot, window, [next(iter(queries)).parent])  # the folder
    assert len(predictions) == len(queries) == window.predictions.model.rowCount()
    for p in predictions:
        truth = queries[Path(p.path)]
        assert p.label == truth, p
        assert [c for c, _ in p.top_k][0] == truth
        assert p.top_k == sorted(p.top_k, key=lambda t: -t[1]) and sum(s for _, s in p.top_k) <= 1.0001
        assert p.nearest and p.nearest[0][1] == truth
        assert Path(p.nearest[0][0]).parent.name == truth, "the closest examples are support images of that class"
    summary = window.predictions.summary.text()
    assert summary.startswith("9 images: ") and all(f"{c} 3" in summary for c in set(queries.values()))
    first = predictions[0]  # the rows on screen load their thumbnails (off the GUI thread)
    qtbot.waitUntil(lambda: all(window.thumbnails.is_ready(p) for p in [first.path] + [n[0] for n in first.nearest]),
                    timeout=20_000)

    window.act_clear.trigger()
    assert window.predictions.model.rowCount() == 0 and not window.act_clear.isEnabled()


def test_images_dropped_on_the_predictions_panel_are_classified_and_bad_ones_reported(qtbot, window, shapes,
                                                                                      queries, tmp_path):
    drop(window.predictions.view.viewport(), url_mime(list(queries)))
    assert "no model yet" in window.message_bar.text() and not window.predicting

    load_shapes(qtbot, window, shapes)
    choose(window, "efficientnet_lite0", "prototypical")
    adapt(qtbot, window)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    files = list(queries)[:2] + [notes]
    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT) as blocker:
        event = drop(window.predictions.view.viewport(), url_mime(files))
        assert event.isAccepted()
    assert blocker.args == [2]
    assert [Path(p.path) for p in window.predictions.predictions] == files[:2]
    assert "Classified 2 images. 1 file was skipped: notes.txt: not an image file" in window.message_bar.text()


def test_cancel_stops_within_a_step_and_keeps_the_previous_model(qtbot, window, shapes, queries):
    load_shapes(qtbot, window, shapes)
    choose(window, "efficientnet_lite0", "prototypical")
    previous = adapt(qtbot, window)
    assert window.classifier is previous

    start_long_run(qtbot, window, shapes)
    qtbot.waitUntil(lambda: window.model_panel.plots.point_count >= 2, timeout=RUN_TIMEOUT)
    fmt = window.model_panel.progress.format()
    assert fmt.startswith("Step ") and "of 100000" in fmt and "left" in fmt, fmt
    worker, clicked = window.model_panel.adapt_job.worker, time.monotonic()
    cancelled = []
    window.sig_run_cancelled.connect(cancelled.append)
    with qtbot.waitSignals([window.sig_run_cancelled, window.sig_run_ended], order="strict", timeout=30_000):
        qtbot.mouseClick(window.model_panel.adapt_button, Qt.MouseButton.LeftButton)
        assert window.model_panel.adapt_button.text() == "Cancel" and not window.model_panel.adapt_button.isEnabled()
        assert "cancelling" in window.model_panel.progress.format()
    stopped, running_at_click = cancelled[0], worker.last_item_at_cancel.step
    assert stopped.total == 100_000
    assert running_at_click <= stopped.step <= running_at_click + 1, "it stops within one step"
    assert window.model_panel.plots.point_count == stopped.step, "every finished step is on the plot"
    assert time.monotonic() - clicked < 15
    assert window.classifier is previous, "the previous model is kept"
    assert "the previous model is kept" in window.message_bar.text()
    assert window.model_panel.progress.format() == f"Cancelled at step {stopped.step} of 100000"
    assert window.model_panel.adapt_button.text() == "Adapt" and not window.running
    assert classify(qtbot, window, list(queries)[:3])[0].label == queries[Path(list(queries)[0])]


def test_closing_the_window_mid_run_cancels_and_joins_the_thread(qtbot, shapes, qtlog):
    window = make_window(qtbot)
    load_shapes(qtbot, window, shapes)
    start_long_run(qtbot, window, shapes)
    thread = window.model_panel.adapt_job.thread
    assert thread.isRunning()
    window.close()
    assert not window.isVisible(), "the window goes at once"
    qtbot.waitUntil(lambda: window.closed, timeout=30_000)
    assert thread.isFinished() and not window.running
    assert window.classifier is None
    window.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(window), timeout=10_000)
    assert not [r.message for r in qtlog.records if "QThread" in r.message or "Destroyed" in r.message]


def test_a_support_set_that_cannot_be_adapted_says_why(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes / "red_circle"]))
    assert not window.start_adapt()
    assert not window.running
    assert window.message_bar.level == "error"
    assert "Cannot adapt yet: a support set needs at least 2 classes (it has 1); add another class" in \
        window.message_bar.text()


def test_a_diverging_run_is_reported_with_what_to_do_and_the_model_is_kept(qtbot, window, shapes, monkeypatch):
    load_shapes(qtbot, window, shapes)
    choose(window, "efficientnet_lite0", "prototypical")
    previous = adapt(qtbot, window)

    def diverge(self, task):
        self.n_classes = task.n_classes
        yield StepReport(float("nan"), 0.0, 0.01)

    original = LinearProbe.fit
    monkeypatch.setattr(LinearProbe, "fit", diverge)
    choose(window, "efficientnet_lite0", "linear_probe")
    failed = []
    window.sig_run_failed.connect(failed.append)
    with qtbot.waitSignals([window.sig_run_failed, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        window.start_adapt()
    message = failed[0]
    assert "The loss became nan at step 1" in message and "Lower the learning rate" in message
    assert window.message_bar.text() == message and window.message_bar.level == "error"
    retry = [b for b in window.message_bar.buttons() if b.text() == "Lower the learning rate and retry"]
    assert retry
    assert window.classifier is previous
    monkeypatch.setattr(LinearProbe, "fit", original)
    with qtbot.waitSignal(window.sig_run_finished, timeout=RUN_TIMEOUT):
        retry[0].click()
    assert window.params_form.values()["lr"] == pytest.approx(0.001)


def test_a_backbone_without_weights_offline_fails_with_a_way_out(qtbot, window, shapes):
    load_shapes(qtbot, window, shapes)
    choose(window, "resnet18", "prototypical")
    with qtbot.waitSignal(window.sig_run_failed, timeout=RUN_TIMEOUT) as blocker:
        window.start_adapt()
    qtbot.waitUntil(lambda: not window.running, timeout=RUN_TIMEOUT)
    assert "Import weights" in blocker.args[0]
    assert [b.text() for b in window.message_bar.buttons()] == ["Import weights..."]
    assert window.classifier is None and window.model_panel.adapt_button.text() == "Adapt"


def test_an_unexpected_error_is_shown_with_details_and_the_window_keeps_working(qtbot, window, shapes,
                                                                               monkeypatch):
    load_shapes(qtbot, window, shapes)

    def broken(self, task):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    original = LinearProbe.fit
    monkeypatch.setattr(LinearProbe, "fit", broken)
    choose(window, "efficientnet_lite0", "linear_probe")
    with qtbot.waitSignals([window.sig_run_failed, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        window.start_adapt()
    assert "Adaptation failed unexpectedly (RuntimeError: boom)" in window.message_bar.text()
    assert "Traceback" in window.message_bar.details() and "boom" in window.message_bar.details()
    monkeypatch.setattr(LinearProbe, "fit", original)
    adapt(qtbot, window)
    assert window.classifier is not None


def test_a_model_is_saved_and_loaded_in_the_engine_format(qtbot, window, shapes, queries, tmp_path, monkeypatch):
    load_shapes(qtbot, window, shapes)
    choose(window, "efficientnet_lite0", "linear_probe", steps=10)
    adapt(qtbot, window)
    path = tmp_path / "shapes.safetensors"
    monkeypatch.setattr(dialogs, "save_model", lambda parent, suggested: str(path))
    with qtbot.waitSignal(window.sig_model_saved, timeout=RUN_TIMEOUT):
        window.act_save_model.trigger()
    assert path.is_file() and f"Saved the model to {path}" in window.message_bar.text()

    from fewshot_studio.core.model_io import read_metadata

    assert read_metadata(path)["class_names"] == ["blue_square", "green_triangle", "red_circle"]

    other = make_window(qtbot)
    try:
        assert not other.act_classify.isEnabled()
        monkeypatch.setattr(dialogs, "open_model", lambda parent, folder: str(path))
        with qtbot.waitSignal(other.sig_model_loaded, timeout=RUN_TIMEOUT):
            other.act_load_model.trigger()
        assert "Model loaded" in other.model_panel.model_label.text() and other.act_classify.isEnabled()
        predictions = classify(qtbot, other, list(queries))
        assert [p.label for p in predictions] == [queries[Path(p.path)] for p in predictions]

        broken = tmp_path / "broken.safetensors"
        broken.write_bytes(path.read_bytes()[:1000])
        with qtbot.waitSignal(other.message_bar.sig_shown, timeout=RUN_TIMEOUT,
                              check_params_cb=lambda level, text: level == "error"):
            other.model_files.load_model(str(broken))
        assert "broken.safetensors" in other.message_bar.text() and "not a readable model file" in \
            other.message_bar.text()
    finally:
        close_window(qtbot, other)


def test_the_time_left_reads_naturally():
    from fewshot_studio.gui.model_panel import format_duration

    assert [format_duration(s) for s in (0.2, 3, 59.6, 125, 3720, math.nan)] == \
        ["<1 s", "3 s", "1 min", "2 min 5 s", "1 h 2 min", "?"]

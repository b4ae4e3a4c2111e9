"""The meta-training page as a user drives it: pick a base dataset, start, watch, stop."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from fewshot_studio.core.backbones import get_backbone, rescan_checkpoints
from fewshot_studio.gui.meta_train_page import MetaTrainPage

TIMEOUT = 180_000


@pytest.fixture
def page(qtbot, shared_data):
    page = MetaTrainPage()
    qtbot.addWidget(page)
    page.show()
    page.add_dataset(str(shared_data / "omniglot" / "images_background_small1.zip"))
    page.method.setCurrentIndex(page.method.findData("prototypical"))
    page.backbone.setCurrentText("conv4")
    page.image_size.setValue(28)
    page.queries.setValue(3)
    page.meta_batch.setValue(1)
    page.val_episodes.setValue(4)
    yield page
    page.shutdown()


def test_only_episodic_methods_are_offered(page):
    names = [page.method.itemData(i) for i in range(page.method.count())]
    assert "prototypical" in names and "maml" in names and "relation" in names
    assert "linear_probe" not in names and "finetune" not in names
    page.method.setCurrentIndex(page.method.findData("maml"))
    assert "inner_lr" in page.params.values()


def test_a_preset_fills_the_form_and_what_the_user_changes_afterwards_wins(page):
    from fewshot_studio.core.presets import get_preset

    assert page.preset.currentData() is None  # custom: the form as it is
    assert page.config().preset is None and page.config().params.get("distance") != "l2"
    titles = [page.preset.itemText(i) for i in range(page.preset.count())]
    assert get_preset("protonet").title in titles and get_preset("maml").title in titles
    page.preset.setCurrentIndex(page.preset.findData("protonet"))
    page.preset.activated.emit(page.preset.currentIndex())  # as a click on the item does
    preset = get_preset("protonet").values
    assert (page.ways.value(), page.shots.value(), page.queries.value()) == (preset["ways"], 1, preset["queries"])
    assert page.rotations.isChecked() and page.image_size.value() == 28 and page.params.values()["distance"] == "l2"
    config = page.config()
    assert config.preset == "protonet" and config.val_ways == 5 and config.params["distance"] == "l2"
    page.ways.setValue(30)
    assert page.config().ways == 30 and page.config().shots == 1  # the user's change wins, the rest stays
    maml = get_preset("maml").values
    page.meta_batch.setValue(maml["meta_batch"] + 1)  # so that the preset has something to set
    page.choose_preset("maml")
    assert page.method.currentData() == "maml" and page.meta_batch.value() == maml["meta_batch"]
    assert (page.ways.value(), page.queries.value()) == (maml["ways"], maml["queries"])
    assert "inner_lr" in page.params.values()


def test_a_run_plots_every_step_and_its_checkpoint_becomes_a_backbone(qtbot, page):
    page.steps.setValue(6)
    page.val_every.setValue(3)
    with qtbot.waitSignal(page.sig_checkpoint_saved, timeout=TIMEOUT) as saved:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
        assert page.start_button.text() == "Stop"
    qtbot.waitUntil(lambda: page.job.finished, timeout=TIMEOUT)
    path = Path(saved.args[0])
    assert path.exists()
    x, y = page.loss_curve.getData()
    assert list(x) == [1, 2, 3, 4, 5, 6]
    assert [v[0] for v in page.validations] == [3, 6]
    assert page.val_curve.getData()[0].tolist() == [3, 6]
    assert page.start_button.text() == "Start meta-training"
    assert "now a backbone" in page.status.text()
    rescan_checkpoints()
    assert get_backbone(path.stem).family == "checkpoint"


def test_stop_ends_the_run_after_the_current_step(qtbot, page):
    page.steps.setValue(100000)
    page.val_every.setValue(100000)
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.losses) >= 2, timeout=TIMEOUT)
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.job.finished, timeout=TIMEOUT)
    # the status is written by the queued failure signal, which may arrive just after the job is marked finished
    qtbot.waitUntil(lambda: "Stopped after step" in page.status.text(), timeout=TIMEOUT)
    assert len(page.losses) < 100


def test_the_page_explains_itself_and_its_accuracy_axis_stays_0_to_100_percent(qtbot, page):
    assert "base dataset" in page.intro.text() and "Omniglot" in page.intro.text()
    page.ways.setValue(5)
    page.meta_batch.setValue(2)
    page.steps.setValue(100000)
    page.val_every.setValue(100000)  # no validation point during the test
    explained = page.explain.text()
    assert "Each step: 2 episode(s) of 5 classes" in explained and "(chance: 20%)" in explained
    assert "(40 images a step)" in explained
    assert "1 example(s) to learn from and 3 to be tested on" in explained
    page.ways.setValue(4)
    assert "(chance: 25%)" in page.explain.text()
    assert "Shots:" in page.shots.toolTip() and "Meta-batch:" in page.meta_batch.toolTip()

    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.losses) >= 2, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "elapsed" in page.status.text(), timeout=TIMEOUT)
    assert not page.validations
    axis = page.val_plot.getAxis("left")
    assert "Validation acc. (%)" in axis.labelString() and "m%" not in axis.labelString()
    low, high = page.val_plot.viewRange()[1]
    assert -5 < low <= 0 and 100 <= high < 105, (low, high)
    assert page.status.text().startswith("Step ") and " left on " in page.status.text()
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.job.finished, timeout=TIMEOUT)
    assert page.val_plot.viewRange()[1] == [low, high]


def test_durations_read_as_minutes_and_hours():
    from fewshot_studio.gui.meta_train_page import duration

    assert [duration(s) for s in (0, 42.4, 725, 3723, float("nan"))] == ["0:00", "0:42", "12:05", "1:02:03", "?"]


def test_bad_dataset_is_reported_not_raised(qtbot, page, tmp_path):
    page.add_dataset(str(tmp_path / "nothing.npz"))
    with qtbot.waitSignal(page.sig_message, timeout=TIMEOUT) as message:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.job is None or page.job.finished, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "dataset not found" in page.status.text(), timeout=TIMEOUT)
    assert message.args[0] in ("info", "error")


def test_the_studio_opens_the_page_and_lists_its_checkpoint(qtbot, shared_data):
    from conftest import make_window

    window = make_window(qtbot)
    window.act_meta_train.trigger()
    page = window.meta_page
    assert window.meta_window.isVisible()
    page.add_dataset(str(shared_data / "omniglot" / "images_background_small1.zip"))
    page.method.setCurrentIndex(page.method.findData("prototypical"))
    for box, value in ((page.image_size, 28), (page.queries, 3), (page.meta_batch, 1), (page.steps, 2),
                       (page.val_every, 2), (page.val_episodes, 3)):
        box.setValue(value)
    with qtbot.waitSignal(page.sig_checkpoint_saved, timeout=TIMEOUT) as saved:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: Path(saved.args[0]).stem in window.backbone_picker.names(), timeout=TIMEOUT)
    assert window.backbone_picker.set_current(Path(saved.args[0]).stem)


def test_two_domains_added_weighted_and_validated_each(qtbot, monkeypatch, tmp_path):
    from imagegen import make_look_dataset
    from PySide6.QtWidgets import QFileDialog

    folders = [make_look_dataset(tmp_path / name, look, classes=15, per_class=3) for name, look in  # 3 held out
               (("light", "light"), ("dark", "dark"), ("extra", "light"))]
    chosen = iter(str(f) for f in folders)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: next(chosen))
    page = MetaTrainPage()
    qtbot.addWidget(page)
    page.show()
    assert not page.dataset_weight.isEnabled()
    for _ in folders:
        qtbot.mouseClick(page.add_folder_button, Qt.MouseButton.LeftButton)
    assert page.dataset_paths() == [str(f) for f in folders] and page.dataset_weight.isEnabled()
    page.datasets.item(2).setSelected(True)
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert page.dataset_paths() == [str(f) for f in folders[:2]]
    page.dataset_weight.setCurrentIndex(page.dataset_weight.findData("proportional"))
    page.method.setCurrentIndex(page.method.findData("prototypical"))
    for box, value in ((page.image_size, 28), (page.ways, 3), (page.queries, 2), (page.meta_batch, 2),
                       (page.steps, 2), (page.val_every, 2), (page.val_episodes, 3)):
        box.setValue(value)
    assert page.config().dataset_weight == "proportional"
    with qtbot.waitSignal(page.sig_checkpoint_saved, timeout=TIMEOUT):
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.job.finished, timeout=TIMEOUT)
    shown = page.val_domains.text()
    assert shown.startswith("Validation at step 2: light ") and "%, dark " in shown and "(mean " in shown
    mean = float(shown.split("(mean ")[1].rstrip("%)"))
    assert mean == pytest.approx(page.validations[-1][1], abs=0.05)
    page.shutdown()

"""The meta-training page: choose a base dataset, a method and a backbone, watch the training loss and the
validation accuracy live, stop when you like; the best checkpoint then appears in the backbone picker.

A view over the engine's :class:`~fewshot_studio.core.meta_train.MetaTrainRun`, iterated in a worker
thread; this page does no maths.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QListWidget, QProgressBar, QPushButton, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from .jobs import Jobs
from .notices import exception_text
from .pickers import ParamsForm
from .worker import Job

BUILTIN_BACKBONES = ("conv4", "resnet12", "efficientnet_lite0")
# The engine's stage names, for the translators (shown through self.tr(event.name)).
ENGINE_STAGES = (QT_TRANSLATE_NOOP("MetaTrainPage", "loading dataset"),
                 QT_TRANSLATE_NOOP("MetaTrainPage", "building backbone"))


def duration(seconds: float) -> str:
    """Seconds as the user reads a duration: "0:42", "12:05", "1:02:03"."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tip)
    return box


class MetaTrainPage(QWidget):
    """Form, Start/Stop, progress and live plots for one meta-training run at a time."""

    sig_checkpoint_saved = Signal(str)  # path of the best checkpoint, after a run that saved one
    sig_message = Signal(str, str)  # level ("info", "success", "warning", "error"), text for the user

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.job: Job | None = None
        self.jobs = Jobs(self)
        self.run = None
        self.datasets = QListWidget()  # one base dataset (domain) a row
        self.datasets.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.datasets.setMaximumHeight(90)
        self.datasets.setToolTip(self.tr("Omniglot .npz / .zip files, or folders with one sub-folder per class. With "
                                         "several, each episode is drawn from one of them (a domain)"))
        self.add_folder_button = QToolButton(text=self.tr("Add folder..."))
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.add_file_button = QToolButton(text=self.tr("Add file..."))
        self.add_file_button.clicked.connect(self._choose_file)
        self.remove_button = QToolButton(text=self.tr("Remove"))
        self.remove_button.clicked.connect(self.remove_selected_datasets)
        buttons = QHBoxLayout()
        for button in (self.add_folder_button, self.add_file_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        row = QVBoxLayout()
        row.addWidget(self.datasets)
        row.addLayout(buttons)
        self.dataset_weight = QComboBox()
        self.dataset_weight.addItem(self.tr("Uniform"), "uniform")
        self.dataset_weight.addItem(self.tr("Proportional to classes"), "proportional")
        self.dataset_weight.setToolTip(self.tr("With several base datasets: how often each gives the episode, "
                                               "equally often, or in proportion to its number of classes"))

        self.preset = QComboBox()  # a measured recipe fills the form (core/presets.py); the form's values win
        self.preset.addItem(self.tr("Custom (the values below)"), None)
        self.preset.setToolTip(self.tr("A recipe measured on held-out characters: choosing one fills in the form "
                                       "below; what you change afterwards wins"))
        self.preset.activated.connect(self._on_preset)

        self.method = QComboBox()
        self.method.setToolTip(self.tr("Episodic methods: they learn how to learn from many small tasks"))
        self.method.currentIndexChanged.connect(self._on_method)
        self.backbone = QComboBox(editable=True)
        self.backbone.addItems(list(BUILTIN_BACKBONES))
        self.backbone.setToolTip(
            self.tr("Conv-4 is the classic choice for Omniglot; a name from the backbone list also works"))
        self.params = ParamsForm()
        self.ways = _spin(2, 100, 5, self.tr("Ways: how many classes each practice task (episode) has; 5 is usual. "
                                             "Train with at least as many as you will later teach the studio"))
        self.shots = _spin(1, 100, 1, self.tr("Shots: how many labelled examples of each class an episode gives "
                                              "the model to learn from (its support set); 1 or 5 are usual"))
        self.queries = _spin(1, 100, 15, self.tr("Queries: how many other images of each class the episode then "
                                                 "asks the model to classify; its loss is measured on these"))
        self.meta_batch = _spin(1, 1024, 4, self.tr("Meta-batch: how many episodes are averaged into one training "
                                                    "step (more: steadier but slower steps)"))
        self.steps = _spin(1, 10_000_000, 1000, self.tr("Steps: how many times the backbone is updated; the time "
                                                        "left is estimated once the first steps have run"))
        self.val_every = _spin(1, 1_000_000, 100, self.tr("Validate on held-out classes every this many steps "
                                                          "(a point on the lower plot; the best is kept)"))
        self.val_episodes = _spin(1, 100_000, 100, self.tr("Episodes per validation (more: a narrower "
                                                           "confidence interval, a longer pause)"))
        self.image_size = _spin(0, 1024, 28,
                                self.tr("Model input side in pixels (0: the backbone's own; Omniglot: 28)"))
        self.lr = QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=1.0, singleStep=1e-4, value=1e-3)
        self.lr.setToolTip(self.tr("Meta learning rate (Adam)"))
        self.rotations = QCheckBox(self.tr("Rotations as new classes"))
        self.rotations.setToolTip(self.tr("Add each class rotated by 90, 180 and 270 degrees as three more classes"))

        self.intro = QLabel(self.tr(
            "<b>Meta-training</b> teaches a backbone how to learn from a few examples. It practises on many small "
            "tasks, <i>episodes</i>, drawn from a <b>base dataset</b>: one with many classes, such as the Omniglot "
            "background set (images_background.npz: 964 handwritten characters of 30 alphabets, 20 images each), "
            "or a folder with one sub-folder per class. The classes you later teach the studio need not be among "
            "them. The best checkpoint then appears as a backbone in the main window."))
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.explain = QLabel()  # what the numbers mean, for the numbers chosen
        self.explain.setWordWrap(True)
        self.explain.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        for box in (self.ways, self.shots, self.queries, self.meta_batch, self.steps, self.val_every,
                    self.val_episodes):
            box.valueChanged.connect(self._explain)

        form = QFormLayout()
        form.addRow(self.tr("Base datasets"), row)
        form.addRow(self.tr("Domain weighting"), self.dataset_weight)
        form.addRow(self.tr("Preset"), self.preset)
        form.addRow(self.tr("Method"), self.method)
        form.addRow(self.tr("Backbone"), self.backbone)
        form.addRow(self.tr("Image size"), self.image_size)
        episode = QHBoxLayout()
        for label, box in ((self.tr("ways"), self.ways), (self.tr("shots"), self.shots),
                           (self.tr("queries"), self.queries)):
            episode.addWidget(box)
            episode.addWidget(QLabel(label))
        form.addRow(self.tr("Episodes"), episode)
        form.addRow(self.tr("Meta-batch"), self.meta_batch)
        form.addRow(self.tr("Steps"), self.steps)
        form.addRow(self.tr("Learning rate"), self.lr)
        form.addRow(self.tr("Validate every"), self.val_every)
        form.addRow(self.tr("Validation episodes"), self.val_episodes)
        form.addRow("", self.rotations)

        self.start_button = QPushButton(self.tr("Start meta-training"))
        self.start_button.clicked.connect(self.start_or_stop)
        self.progress = QProgressBar()
        self.status = QLabel(
            self.tr("Choose a base dataset with many classes (the Omniglot background set, for example)."))
        self.status.setWordWrap(True)
        self.val_domains = QLabel()  # the last validation, domain by domain
        self.val_domains.setWordWrap(True)

        self.plots = pg.GraphicsLayoutWidget()
        self.loss_plot = self.plots.addPlot(row=0, col=0)
        self.loss_plot.setLabel("left", self.tr("Training loss"))
        self.val_plot = self.plots.addPlot(row=1, col=0)
        self.val_plot.setLabel("left", self.tr("Validation acc. (%)"))
        self.val_plot.setLabel("bottom", self.tr("Step"))
        self.val_plot.setXLink(self.loss_plot)
        self.val_plot.setYRange(0, 100, padding=0.03)  # fixed: no "m%" from -400 to 400 before the first point
        self.val_plot.enableAutoRange("y", False)
        self.val_plot.setMouseEnabled(y=False)
        self.val_plot.getAxis("left").enableAutoSIPrefix(False)
        for plot in (self.loss_plot, self.val_plot):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.showGrid(x=True, y=True, alpha=0.25)
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#3b7dd8", width=2))
        self.val_curve = self.val_plot.plot(pen=pg.mkPen("#2e9e5b", width=2), symbol="o", symbolSize=6)
        self.val_bars = pg.ErrorBarItem(pen=pg.mkPen("#2e9e5b"))
        self.val_plot.addItem(self.val_bars)
        self.steps_seen: list[int] = []
        self.losses: list[float] = []
        self.validations: list[tuple[int, float, float]] = []  # (step, mean %, ci95 %)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.explain)
        left.addWidget(QLabel(self.tr("Method hyperparameters")))
        left.addWidget(self.params)
        left.addStretch(1)
        left.addWidget(self.start_button)
        right = QVBoxLayout()
        right.addWidget(self.plots, 1)
        right.addWidget(self.progress)
        right.addWidget(self.status)
        right.addWidget(self.val_domains)
        columns = QHBoxLayout()
        columns.addLayout(left, 0)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(columns, 1)
        self._fill_methods()
        self._fill_presets()
        self._explain()
        self._on_datasets_changed()

    # --- choices ---------------------------------------------------------------------------------------------
    def _fill_methods(self) -> None:
        from fewshot_studio.core.algorithms import is_meta_learner, list_methods

        for cls in list_methods():
            if is_meta_learner(cls):
                self.method.addItem(cls.title, cls.name)
                self.method.setItemData(self.method.count() - 1, cls.description, 3)  # Qt.ToolTipRole
        self._on_method()

    def _fill_presets(self) -> None:
        from fewshot_studio.core.presets import list_presets

        for preset in list_presets():
            self.preset.addItem(preset.title, preset.name)
            self.preset.setItemData(self.preset.count() - 1, f"{preset.description}. {preset.evidence}", 3)

    def choose_preset(self, name: str | None) -> None:
        """Select the preset ``name`` (None: custom) and fill the form with its values, as choosing it does."""
        self.preset.setCurrentIndex(max(0, self.preset.findData(name)))
        self._on_preset()

    def _on_preset(self, *_args) -> None:
        from fewshot_studio.core.presets import get_preset

        name = self.preset.currentData()
        if not name:
            return
        values = get_preset(name).values
        if "method" in values:
            self.method.setCurrentIndex(self.method.findData(values["method"]))
        if "backbone" in values:
            self.backbone.setCurrentText(values["backbone"])
        boxes = {"image_size": self.image_size, "ways": self.ways, "shots": self.shots, "queries": self.queries,
                 "meta_batch": self.meta_batch, "steps": self.steps, "lr": self.lr}
        for key, box in boxes.items():
            if key in values:
                box.setValue(values[key] or 0)
        if "rotations" in values:
            self.rotations.setChecked(bool(values["rotations"]))
        from fewshot_studio.core.algorithms import get_method

        self.params.set_specs(get_method(self.method.currentData()).param_specs(), values.get("params", {}))

    def _on_method(self, *_args) -> None:
        from fewshot_studio.core.algorithms import get_method

        name = self.method.currentData()
        if name:
            self.params.set_specs(get_method(name).param_specs())

    def _explain(self, *_args) -> None:
        ways, shots, queries = self.ways.value(), self.shots.value(), self.queries.value()
        batch = self.meta_batch.value()
        self.explain.setText(self.tr(
            "Each step: {batch} episode(s) of {ways} classes, each class with {shots} example(s) to learn from and "
            "{queries} to be tested on ({images} images a step). {steps} steps: {episodes} episodes. Every {every} "
            "steps, {val} episodes of held-out classes measure the validation accuracy (chance: {chance}%).").format(
            batch=batch, ways=ways, shots=shots, queries=queries, images=batch * ways * (shots + queries),
            steps=self.steps.value(), episodes=batch * self.steps.value(), every=self.val_every.value(),
            val=self.val_episodes.value(), chance=f"{100 / ways:.0f}"))

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Base dataset: a folder with one sub-folder per class"))
        if path:
            self.add_dataset(path)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Base dataset"), "", "Omniglot (*.npz *.zip)")
        if path:
            self.add_dataset(path)

    def add_dataset(self, path: str) -> None:
        """Add a base dataset (a domain) to the list, once."""
        path = str(path).strip()
        if path and path not in self.dataset_paths():
            self.datasets.addItem(path)
        self._on_datasets_changed()

    def remove_selected_datasets(self) -> None:
        for item in self.datasets.selectedItems():
            self.datasets.takeItem(self.datasets.row(item))
        self._on_datasets_changed()

    def dataset_paths(self) -> list[str]:
        return [self.datasets.item(i).text() for i in range(self.datasets.count())]

    def _on_datasets_changed(self) -> None:
        self.dataset_weight.setEnabled(self.datasets.count() > 1)  # one domain: nothing to weigh
        self.remove_button.setEnabled(self.datasets.count() > 0)

    def config(self):
        """The run the form describes: the chosen preset's values, with the form's over them (as on the command
        line, so the preset also gives what the form does not show, such as the validation's ways)."""
        from fewshot_studio.core.meta_train import MetaTrainConfig
        from fewshot_studio.core.presets import preset_values

        form = dict(
            dataset_weight=self.dataset_weight.currentData(), method=self.method.currentData(),
            params=self.params.values(), backbone=self.backbone.currentText().strip(),
            image_size=self.image_size.value() or None, ways=self.ways.value(), shots=self.shots.value(),
            queries=self.queries.value(), meta_batch=self.meta_batch.value(), steps=self.steps.value(),
            lr=self.lr.value(), val_every=self.val_every.value(), val_episodes=self.val_episodes.value(),
            rotations=self.rotations.isChecked())
        return MetaTrainConfig(datasets=self.dataset_paths(), **preset_values(self.preset.currentData(), form))

    # --- running ---------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start_or_stop(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    def start(self) -> bool:
        from fewshot_studio.core.errors import FewShotError
        from fewshot_studio.core.meta_train import MetaTrainRun

        if not self.dataset_paths():
            self._say("warning", self.tr("Choose a base dataset first."))
            return False
        try:
            self.run = MetaTrainRun(self.config())
        except FewShotError as exc:
            self._say("error", str(exc))
            return False
        run = self.run
        self.steps_seen, self.losses, self.validations = [], [], []
        self._redraw()
        self.val_domains.clear()
        self.progress.setRange(0, run.config.steps)
        self.progress.setValue(0)
        self.job = self.jobs.start_run(run, "meta-train", on_events=self._on_events, on_failed=self._on_failed,
                                       on_done=self._on_done)
        self.start_button.setText(self.tr("Stop"))
        self._say("info", self.tr("Meta-training {method} on {dataset}...").format(
            method=run.method.title, dataset=", ".join(Path(d).name for d in run.config.datasets)))
        return True

    def stop(self) -> None:
        if self.running:
            self.job.cancel()
            self.status.setText(self.tr("Stopping after this step..."))

    def shutdown(self, ms: int = 60000) -> None:
        """Cancel a running job and wait for its thread (the window is closing)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.job.wait(ms)

    def _on_events(self, events: list) -> None:
        from fewshot_studio.core.runs import Progress, Stage
        from fewshot_studio.core.meta_train import Validation

        for event in events:
            if isinstance(event, Progress):
                self.steps_seen.append(event.step)
                self.losses.append(event.loss)
                self.progress.setValue(event.step)
                self.status.setText(self.tr("Step {step} of {total}, loss {loss}; {elapsed} elapsed, about {left} "
                                            "left on {device}.").format(
                    step=event.step, total=event.total, loss=f"{event.loss:.3f}", elapsed=duration(event.elapsed),
                    left=duration(event.eta), device=event.device))
            elif isinstance(event, Validation):
                r = event.result
                self.validations.append((event.step, 100 * r.mean, 100 * r.ci95))
                self.val_domains.setText(self._domains_text(event))
                if event.best:
                    self._say("info", self.tr("Step {step}: validation {mean}% ± {ci}% (best so far, checkpoint "
                                              "saved)").format(step=event.step, mean=f"{100 * r.mean:.1f}",
                                                               ci=f"{100 * r.ci95:.1f}"))
            elif isinstance(event, Stage):
                self.status.setText(self.tr(event.name) + "...")
        self._redraw()

    def _domains_text(self, event) -> str:
        """The validation of each domain, compactly: "Validation at step 40: light 81.0%, dark 64.0% (mean 72.5%)"."""
        domains = ", ".join(f"{name} {100 * r.mean:.1f}%" for name, r in event.per_domain.items())
        return self.tr("Validation at step {step}: {domains} (mean {mean}%)").format(
            step=event.step, domains=domains, mean=f"{100 * event.result.mean:.1f}")

    def _redraw(self) -> None:
        self.loss_curve.setData(np.asarray(self.steps_seen, float), np.asarray(self.losses, float))
        if self.validations:
            x, y, ci = (np.asarray(v, float) for v in zip(*self.validations))
            self.val_curve.setData(x, y)
            self.val_bars.setData(x=x, y=y, height=2 * ci)
        else:
            self.val_curve.setData([], [])
            self.val_bars.setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))

    def _on_failed(self, exc: Exception, text: str) -> None:
        from fewshot_studio.core.errors import RunCancelled

        if isinstance(exc, RunCancelled):
            self._say("info", self.tr("Stopped after step {step}; the best checkpoint so far is kept.").format(
                step=exc.step))
        else:
            self._say("error", exception_text(exc, self.tr("Meta-training failed unexpectedly: {error}"))[0])

    def _on_done(self, _job=None) -> None:
        self.start_button.setText(self.tr("Start meta-training"))
        run = self.run
        if run is not None and run.config.output_path().exists():
            path = str(run.config.output_path())
            best = self.tr(" (validation {mean}% ± {ci}%)").format(
                mean=f"{100 * run.best.mean:.1f}", ci=f"{100 * run.best.ci95:.1f}") if run.best else ""
            self._say("success", self.tr("Checkpoint {name}{best} is now a backbone in the picker.").format(
                name=Path(path).stem, best=best))
            self.sig_checkpoint_saved.emit(path)

    def _say(self, level: str, text: str) -> None:
        self.status.setText(text)
        self.sig_message.emit(level, text)


def show_meta_training(window) -> None:
    """Make (on first use) and show the window's meta-training page, in a window of its own."""
    if window.meta_window is None:
        from PySide6.QtWidgets import QMainWindow

        window.meta_window = QMainWindow(window)
        window.meta_window.setWindowTitle(QCoreApplication.translate("MainWindow", "Meta-training - Few-shot Studio"))
        window.meta_page = MetaTrainPage()
        window.meta_page.sig_checkpoint_saved.connect(window.model_files.on_checkpoint_saved)
        window.meta_page.sig_message.connect(lambda level, text: window.statusBar().showMessage(text, 8000))
        window.meta_window.setCentralWidget(window.meta_page)
        window.meta_window.resize(1100, 760)
    window.meta_window.show()
    window.meta_window.raise_()

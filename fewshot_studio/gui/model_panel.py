"""The model panel: backbone and method pickers, hyperparameters, Adapt/Cancel, the live plots, and the life of
an adaptation run (starting, progress, cancel, success, failure, and what the message bar says about it).

The panel owns the current classifier (adapted here, loaded, or restored with a project), what it shows about it
(:attr:`ModelPanel.model_state`, JSON that a project keeps) and the fingerprint of the support set it was adapted
on (:func:`~..core.fingerprint.support_fingerprint`), which says whether it is out of date.
"""

from __future__ import annotations

import html
import math
import weakref

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ..core.errors import BackboneError, DivergedError, FewShotError, RunCancelled, WeightsUnavailableError
from ..core.fingerprint import support_fingerprint
from . import icons
from .i18n import core_text
from .notices import Notice
from .adaptation_picker import AdaptationPicker
from .pickers import BackbonePicker, MethodPicker, ParamsForm

# Translated where they are shown (translate("MainWindow", MSG_...)); QT_TRANSLATE_NOOP marks them for lupdate.
MSG_LOADING = QT_TRANSLATE_NOOP("MainWindow", "The engine is still loading (PyTorch takes a few seconds the first "
                                "time); Adapt is enabled when it is ready.")
MSG_NO_MODEL = QT_TRANSLATE_NOOP("MainWindow", "There is no model yet: build the support set and press Adapt "
                                 "(Ctrl+Enter), or load a saved model (Model > Load model...).")
# The engine's stage names during a run, for the translators (shown through translate("MainWindow", name)).
# ``adapted_on`` for a model adapted on a support set that has changed since (a project saved that way).
CHANGED = "changed"
ENGINE_STAGES = (QT_TRANSLATE_NOOP("MainWindow", "building backbone"),
                 QT_TRANSLATE_NOOP("MainWindow", "loading images"),
                 QT_TRANSLATE_NOOP("MainWindow", "embedding support images"))


def escape(text: str) -> str:
    """Plain text for a rich-text label: <, > and & escaped (quotes need not be)."""
    return html.escape(text, quote=False)


def window_tr(text: str) -> str:
    """``text`` translated in the window's context (the messages above)."""
    return QCoreApplication.translate("MainWindow", text)


def format_duration(seconds: float) -> str:
    """3 -> "3 s", 125 -> "2 min 5 s", 3720 -> "1 h 2 min"."""
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    if s < 1:
        return QCoreApplication.translate("MainWindow", "<1 s")
    if s < 60:
        return QCoreApplication.translate("MainWindow", "{s} s").format(s=s)
    if s < 3600:
        if s % 60:
            return QCoreApplication.translate("MainWindow", "{m} min {s} s").format(m=s // 60, s=s % 60)
        return QCoreApplication.translate("MainWindow", "{m} min").format(m=s // 60)
    return QCoreApplication.translate("MainWindow", "{h} h {m} min").format(h=s // 3600, m=s % 3600 // 60)


def _title_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _method_title(title: str) -> str:
    """A method's title as the method picker shows it (translated there, see pickers.ENGINE_STRINGS)."""
    return QCoreApplication.translate("MethodPicker", title)


def summary_text(state: dict) -> str:
    """The model panel's rich text for a model state (every piece escaped): {"kind": "adapted", "method_title",
    "backbone", "classes", "seconds", "device"} or {"kind": "loaded", "file", "method", "backbone", "class_names"}."""
    def e(key, default=""):
        return escape(str(state.get(key, default)))

    if state.get("kind") == "loaded":
        return QCoreApplication.translate(
            "ModelPanel", "<b>Model loaded</b> from {file}: {method} on {backbone}, classes {classes}.").format(
            file=e("file"), method=e("method"), backbone=e("backbone"),
            classes=escape(", ".join(map(str, state.get("class_names", [])))))
    seconds = state.get("seconds")
    duration = format_duration(float(seconds)) if isinstance(seconds, (int, float)) else "?"
    return QCoreApplication.translate(
        "ModelPanel", "<b>Model ready</b>: {method} on {backbone}, {n} classes, adapted in {duration} on "
        "{device}.").format(method=escape(_method_title(str(state.get("method_title", "")))),
                            backbone=e("backbone"), n=e("classes", "?"), duration=escape(duration),
                            device=e("device", "CPU"))


def _section(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setContentsMargins(0, 8, 0, 0)
    return label


class ModelPanel(QScrollArea):
    """The window's model panel, and the classifier it produces."""

    sig_state_changed = Signal()  # a run started or ended: the window's actions follow
    sig_classifier_changed = Signal(object)  # the current classifier, just adapted or loaded
    sig_progress = Signal(list)  # Progress events of the current run, as the plot received them
    sig_run_finished = Signal(object)  # the new classifier: the run ended normally
    sig_run_cancelled = Signal(object)  # RunCancelled: the run stopped and the previous model is kept
    sig_run_failed = Signal(str)  # the message shown to the user; the previous model is kept
    sig_run_ended = Signal()  # after finished, cancelled or failed, with the run's thread joined
    sig_import_weights_requested = Signal(str)  # the backbone whose weights the user wants to import

    def __init__(self, window):
        super().__init__()
        # The window owns the panel: a weak reference back, no cycle (gc.freeze() would keep it for good).
        self._window = weakref.ref(window)
        self.classifier = None  # FewShotClassifier once adapted or loaded
        self.model_state: dict = {}  # what the panel shows about the classifier (see summary_text)
        self.adapted_on: str | None = None  # the support set's fingerprint when the model was adapted here
        self.adapt_job = None
        self._discard_run = False  # the support set was replaced: the running adaptation no longer applies
        self._run_banner = -1  # the message bar's serial of the last banner a run showed
        self._run = None
        self._run_total = 0
        self._run_names = ("", "", "")
        self._run_fingerprint = None

        self.backbone_picker = BackbonePicker()
        self.backbone_picker.sig_changed.connect(self._on_backbone_changed)
        self.backbone_picker.sig_import_requested.connect(self.sig_import_weights_requested)
        self.method_picker = MethodPicker()
        self.method_picker.sig_changed.connect(self._on_method_changed)
        self.params_form = ParamsForm()
        self.params_form.sig_changed.connect(self.save_params)
        self.adaptation_picker = AdaptationPicker()  # domain adaptation stages, with the board's unlabelled images
        self.adapt_button = QPushButton(icons.icon("adapt"), "Adapt")
        self.adapt_button.setObjectName("AdaptButton")
        self.adapt_button.setMinimumHeight(36)
        font = self.adapt_button.font()
        font.setBold(True)
        self.adapt_button.setFont(font)
        self.adapt_button.clicked.connect(self.adapt_or_cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setTextVisible(True)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setTextFormat(Qt.TextFormat.RichText)  # always: every piece put in it is escaped
        self.model_label.setMinimumHeight(3 * self.model_label.fontMetrics().lineSpacing())
        self.model_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # pyqtgraph takes ~0.4 s to import: the engine loader imports it off the GUI thread after the first
        # paint, and the plots are made when the engine is ready.
        self.plots = None
        self.plots_slot = QVBoxLayout()
        self.plots_slot.setContentsMargins(0, 0, 0, 0)
        panel = QWidget()
        panel.setMinimumWidth(300)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(10, 4, 10, 10)
        layout.addWidget(_section(self.tr("Backbone")))
        layout.addWidget(self.backbone_picker)
        layout.addWidget(_section(self.tr("Method")))
        layout.addWidget(self.method_picker)
        layout.addWidget(_section(self.tr("Hyperparameters")))
        layout.addWidget(self.params_form)
        layout.addWidget(_section(self.tr("Domain adaptation")))
        layout.addWidget(self.adaptation_picker)
        layout.addSpacing(8)
        layout.addWidget(self.adapt_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.model_label)
        layout.addLayout(self.plots_slot, 1)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(panel)
        self.setMinimumWidth(290)

    @property
    def window(self):
        return self._window()

    @property
    def running(self) -> bool:
        return self.adapt_job is not None

    # --- the engine and the pickers ------------------------------------------------------------------------
    def build_plots(self) -> None:
        """Make the live plots (pyqtgraph is imported by then)."""
        if self.plots is None:
            from .plots import TrainingPlots

            self.plots = TrainingPlots()
            self.plots_slot.addWidget(self.plots)

    def set_engine(self, info) -> None:
        """The engine is loaded: fill the pickers, choosing what the settings remember."""
        settings = self.window.settings
        saved_backbone, saved_method = settings.backbone, settings.method
        self.build_plots()
        self.backbone_picker.set_backbones(info.backbones, offline=info.offline)
        if not self.backbone_picker.set_current(saved_backbone):
            self.backbone_picker.set_current(info.default_backbone)
        self.method_picker.set_methods(info.methods)
        self.adaptation_picker.set_stages(info.adaptations)
        if not self.method_picker.set_current(saved_method):
            self.method_picker.set_current(info.default_method)

    def add_backbone(self, info) -> None:
        """A new backbone (a meta-trained checkpoint) joins the picker; the chosen one stays chosen."""
        engine = self.window.engine
        engine.backbones.append(info)
        current = self.backbone_picker.current()
        self.backbone_picker.set_backbones(engine.backbones, offline=engine.offline)
        self.backbone_picker.set_current(current)

    def _on_backbone_changed(self, name: str) -> None:
        info = self.backbone_picker.info(name)
        if info is not None:
            self.params_form.set_kind(info.kind)  # untouched hyperparameters take this backbone's defaults
        if self.window.engine is not None and name:
            self.window.settings.backbone = name

    def _on_method_changed(self, name: str) -> None:
        engine = self.window.engine
        if engine is None or not name:
            return
        self.window.settings.method = name
        self.params_form.set_specs(engine.param_specs.get(name, []), self.window.settings.params(name))

    def save_params(self) -> None:
        """Remember the hyperparameters shown for the current method."""
        method = self.method_picker.current()
        if self.window.engine is not None and method:
            self.window.settings.set_params(method, self.params_form.edited_values())

    def project_settings(self) -> dict:
        """The backbone, method and hyperparameters, as a project file keeps them."""
        if self.window.engine is None:
            return {}
        return {"backbone": self.backbone_picker.current(), "method": self.method_picker.current(),
                "params": self.params_form.values(), "domain_adaptation": self.adaptation_picker.selected()}

    def apply_project_settings(self, settings: dict) -> None:
        if self.window.engine is None or not settings:
            return
        if isinstance(settings.get("backbone"), str):
            self.backbone_picker.set_current(settings["backbone"])
        if isinstance(settings.get("method"), str) and self.method_picker.set_current(settings["method"]):
            if isinstance(settings.get("params"), dict):
                self.params_form.set_values(settings["params"])
        self.adaptation_picker.set_selected(settings.get("domain_adaptation"))  # none in older projects

    # --- state ---------------------------------------------------------------------------------------------
    def update_state(self) -> None:
        running, ready = self.running, self.window.engine is not None
        for widget in (self.backbone_picker, self.method_picker, self.params_form, self.adaptation_picker):
            widget.setEnabled(ready and not running)
        self.adapt_button.setEnabled(ready)
        if running:
            self.adapt_button.setText(self.tr("Cancel"))
            self.adapt_button.setIcon(icons.icon("cancel"))
            self.adapt_button.setToolTip(self.tr("Stop after the current step; the previous model is kept (Esc)"))
        else:
            self.adapt_button.setText(self.tr("Adapt") if ready else self.tr("Loading the engine..."))
            self.adapt_button.setIcon(icons.icon("adapt"))
            self.adapt_button.setToolTip(self.tr("Fit the method to the support set (Ctrl+Enter)") if ready
                                         else window_tr(MSG_LOADING))

    @property
    def model_current(self) -> bool:
        """Whether the classifier was adapted here, on the support set as it is now (and pool, if it uses one)."""
        pool = self.classifier is None or self.classifier.uses_unlabelled
        return self.adapted_on is not None and self.adapted_on == support_fingerprint(self.window.support, pool=pool)

    @property
    def model_stale(self) -> bool:
        """Whether the classifier was adapted here on a support set that has changed since."""
        return self.adapted_on is not None and not self.model_current

    def update_model_label(self) -> None:
        if self.classifier is None:
            problems = [core_text(p) for p in self.window.support.problems()]
            hint = (self.tr("Before adapting: {problem}.").format(problem=problems[0]) if problems
                    else self.tr("Press Adapt (Ctrl+Enter)."))
            self.model_label.setText(escape(self.tr("No model yet. {hint}").format(hint=hint)))
            return
        text = self.model_summary
        if self.model_stale:
            text += "<br><i>" + escape(self.tr("The support set changed since this model was adapted: Adapt "
                                                    "again to include the changes.")) + "</i>"
        self.model_label.setText(text)

    @property
    def model_summary(self) -> str:
        """The "Model ready: ..." line (rich text; every name and number in it escaped)."""
        return summary_text(self.model_state) if self.classifier is not None else ""

    def set_classifier(self, classifier, state: dict, adapted_on: str | None = None) -> None:
        """Make ``classifier`` the current one, shown as ``state`` (see :func:`summary_text`); ``adapted_on``: the
        fingerprint it was adapted on (None when loaded from a file, :data:`CHANGED` when it is known to be out
        of date). The window's panels hear of it through ``sig_classifier_changed``."""
        self.classifier, self.model_state, self.adapted_on = classifier, dict(state), adapted_on
        self.window.predictions.set_stale(True)
        self.sig_classifier_changed.emit(classifier)

    def forget_model(self) -> None:
        """The support set was replaced (New project, Open project, the demo): no model, no predictions, no
        curves; a running adaptation is cancelled and its result dropped."""
        w = self.window
        if self.running:
            self._discard_run = True
            self.adapt_job.cancel()
        if self._run_banner == w.message_bar.serial:
            w.message_bar.dismiss()
        w.classification.clear_results()
        if self.plots is not None:
            self.plots.clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        had_model = self.classifier is not None
        self.classifier, self.model_state, self.adapted_on = None, {}, None
        if had_model:
            self.sig_classifier_changed.emit(None)
        self.update_model_label()

    def project_model(self) -> dict:
        """The keyword arguments of :func:`~..core.project.save_project` that keep the current model in a project
        (empty without a model)."""
        if self.classifier is None:
            return {}
        up_to_date = None if self.adapted_on is None else self.model_current
        return {"classifier": self.classifier, "up_to_date": up_to_date, "model_state": dict(self.model_state)}

    def _run_notify(self, notice: Notice) -> None:
        """A banner that belongs to the current run: the next run replaces it."""
        self.window.notify(notice)
        self._run_banner = self.window.message_bar.serial

    # --- a run ---------------------------------------------------------------------------------------------
    def adapt_or_cancel(self) -> None:
        if self.running:
            self.cancel_adapt()
        else:
            self.start_adapt()

    def start_adapt(self) -> bool:
        """Start a run on the support set with the chosen backbone, method and hyperparameters."""
        w = self.window
        if self.running:
            return False
        if w.engine is None:
            w.notify(Notice("info", window_tr(MSG_LOADING)))
            return False
        problems = [core_text(p) for p in w.support.problems()]
        if problems:
            w.notify(Notice("error", self.tr("Cannot adapt yet: {problems}.").format(problems="; ".join(problems))))
            return False
        from ..core.engine import AdaptRun

        backbone, method, values = self.backbone_picker.current(), self.method_picker.current(), self.params_form.values()
        self._run_names = (backbone, method, method)
        try:
            run = AdaptRun(w.support, backbone, method, values, domain_adaptation=self.adaptation_picker.selected())
        except FewShotError as exc:
            self.show_run_error(exc, "")
            return False
        self._run, self._run_fingerprint = run, support_fingerprint(w.support, pool=run.uses_unlabelled)
        self._run_total = run.method.total_steps()
        self._run_names = (backbone, method, run.method.title)
        self.plots.start(self._run_total)
        self.progress.setRange(0, 0)
        self.progress.setFormat(self.tr("Starting..."))
        if w.message_bar.level == "error" or w.message_bar.serial == self._run_banner:
            w.message_bar.dismiss()  # a run's banner belongs to that run
        self.adapt_job = w.jobs.start_run(run, "adapt", threads=w.torch_threads, on_events=self._on_run_events,
                                          on_returned=self._on_run_returned, on_failed=self._on_run_failed,
                                          on_done=self._on_run_done)
        self.sig_state_changed.emit()
        w.statusBar().showMessage(self.tr("Adapting {method} on {backbone}...").format(
            method=_method_title(run.method.title), backbone=backbone))
        return True

    def cancel_adapt(self) -> None:
        if self.adapt_job is not None:
            self.adapt_job.cancel()
            self.progress.setFormat(self.progress.format() + self.tr(" — cancelling..."))
            self.adapt_button.setEnabled(False)
            self.window.statusBar().showMessage(self.tr("Cancelling after the current step..."))

    @Slot(list)
    def _on_run_events(self, events: list) -> None:
        from ..core.runs import Progress, Stage

        if self._discard_run:
            return
        progress = [e for e in events if isinstance(e, Progress)]
        stages = [e for e in events if isinstance(e, Stage)]
        cancelling = self._run is not None and self._run.cancelled
        suffix = self.tr(" — cancelling...") if cancelling else ""
        if progress:
            self.plots.append(progress)
            last = progress[-1]
            self.progress.setRange(0, last.total)
            self.progress.setValue(last.step)
            left = "" if last.step >= last.total else \
                self.tr(" · about {duration} left").format(duration=format_duration(last.eta))
            self.progress.setFormat(self.tr("Step {step} of {total}").format(step=last.step, total=last.total)
                                    + left + suffix)
            self.sig_progress.emit(progress)
        elif stages:
            stage = stages[-1]
            name = _title_case(window_tr(stage.name))
            if stage.total > 1:
                self.progress.setRange(0, stage.total)
                self.progress.setValue(stage.done)
                self.progress.setFormat(f"{name} ({stage.done}/{stage.total}){suffix}")
            else:
                self.progress.setRange(0, 0)
                self.progress.setFormat(f"{name}...{suffix}")

    @Slot(object)
    def _on_run_returned(self, classifier) -> None:
        w = self.window
        self.plots.flush()
        if self._discard_run:
            return
        backbone, method, title = self._run_names
        seconds = classifier.info.get("seconds", 0.0)
        state = {"kind": "adapted", "method": method, "method_title": title, "backbone": backbone,
                 "classes": len(classifier.class_names), "seconds": seconds,
                 "device": w.engine.device if w.engine else "CPU"}
        self.progress.setRange(0, max(1, self._run_total))
        self.progress.setValue(max(1, self._run_total))
        self.progress.setFormat((self.tr("Done: {n} step in {duration}") if self._run_total == 1 else
                                 self.tr("Done: {n} steps in {duration}")).format(n=self._run_total,
                                                                                    duration=format_duration(seconds)))
        self.set_classifier(classifier, state, self._run_fingerprint)
        if not w.is_demo:
            w.setWindowModified(True)  # a project keeps its model: closing now asks to save it
        if w.message_bar.serial == self._run_banner:
            w.message_bar.dismiss()
        # The status bar, not the message bar: a strip appearing would re-lay out (and repaint) the window.
        w.statusBar().showMessage(self.tr("Adapted {method} on {backbone} in {duration}. Drop images on the "
                                            "Predictions panel to classify them (Ctrl+K).").format(
            method=_method_title(title), backbone=backbone, duration=format_duration(seconds)), 15000)
        if w.is_demo and not w.predictions.predictions:
            self._run_notify(Notice("info", self.tr("The demo model is ready. Classify the demo's query images (15 "
                                                    "images it has not seen), or drop your own on the Predictions "
                                                    "panel."),
                                    actions=[(self.tr("Classify the demo's query images"), w.classify_demo_queries)]))
        self.sig_run_finished.emit(classifier)

    @Slot(object, str)
    def _on_run_failed(self, exc: Exception, text: str) -> None:
        self.plots.flush()
        if self._discard_run:
            return
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if isinstance(exc, RunCancelled):
            self.progress.setFormat(self.tr("Cancelled at step {step} of {total}").format(step=exc.step,
                                                                                           total=exc.total))
            text = (self.tr("Cancelled after step {step} of {total}; the previous model is kept.")
                    if self.classifier is not None else
                    self.tr("Cancelled after step {step} of {total}; there is still no model."))
            self._run_notify(Notice("info", text.format(step=exc.step, total=exc.total)))
            self.sig_run_cancelled.emit(exc)
            return
        self.progress.setFormat(self.tr("Failed"))
        self.show_run_error(exc, text)

    def show_run_error(self, exc: Exception, text: str) -> None:
        """Say what went wrong and offer the next step; the previous model is untouched."""
        actions = []
        backbone = self._run_names[0]
        if isinstance(exc, (WeightsUnavailableError, BackboneError)):
            actions.append((self.tr("Import weights..."), lambda: self.sig_import_weights_requested.emit(backbone)))
        if isinstance(exc, DivergedError) and any(n.endswith("lr") for n in self.params_form.editors):
            actions.append((self.tr("Lower the learning rate and retry"), self.lower_lr_and_retry))
        message = self.window.error(exc, self.tr("Adaptation"), text, actions)
        self._run_banner = self.window.message_bar.serial
        self.sig_run_failed.emit(message)

    def lower_lr_and_retry(self) -> None:
        values = self.params_form.values()
        self.params_form.set_values({k: v / 10 for k, v in values.items() if k.endswith("lr") and isinstance(v, float)})
        self.start_adapt()

    def _on_run_done(self, _job) -> None:
        self.adapt_job = None
        self._run = None
        self._discard_run = False
        self.sig_state_changed.emit()
        self.update_model_label()
        self.sig_run_ended.emit()

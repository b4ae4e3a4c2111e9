"""The studio window: the class board in the middle, the model panel (backbone, method, hyperparameters,
Adapt, live plots) and the predictions panel beside it, a message bar on top and a status bar below.

The window owns one :class:`~fewshot_studio.core.support.SupportSet` and the current classifier; the
panels are views of them. Adaptation and prediction run in QThreads (:mod:`.worker`), file work in a
thread pool (:mod:`.tasks`), thumbnails in another (:mod:`.thumbnails`): the GUI thread only draws.
"""

from __future__ import annotations

import gc
import math
import os
import re
import weakref
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (QApplication, QFrame, QLabel, QMainWindow, QProgressBar, QPushButton, QScrollArea,
                               QSplitter, QToolBar, QVBoxLayout, QWidget)

from .. import __version__
from ..core.errors import BackboneError, DivergedError, FewShotError, RunCancelled, WeightsUnavailableError
from ..core.project import SUFFIX as PROJECT_SUFFIX
from ..core.project import open_project as read_project
from ..core.project import save_project as write_project
from ..core.support import SupportSet
from . import dialogs, i18n, icons
from .class_board import ClassBoard, Notice
from .engine_loader import EngineInfo, EngineLoader, backbone_info
from .exports import ExportActions
from .i18n import LANGUAGES
from .message_bar import MessageBar
from .pickers import BackbonePicker, MethodPicker, ParamsForm
from .prediction_panel import PredictionPanel
from .settings import Settings
from .tasks import TaskRunner
from .thumbnails import ThumbnailCache
from .worker import GeneratorWorker, Job

APP_NAME = "Few-shot Studio"
# Leave one core to the GUI: on 2 cores a second torch thread made runs 5-25 times slower under load and the
# window no smoother (benchmarks/GUI_RESULTS.md). Settings (engine/torch_threads) can override it.
DEFAULT_TORCH_THREADS = max(1, (os.cpu_count() or 2) - 1)
PREDICT_BATCH = 8

# Translated where they are shown (self.tr(MSG_...)); QT_TRANSLATE_NOOP only marks them for lupdate.
MSG_LOADING = QT_TRANSLATE_NOOP("MainWindow", "The engine is still loading (PyTorch takes a few seconds the first "
                                "time); Adapt is enabled when it is ready.")
MSG_NO_MODEL = QT_TRANSLATE_NOOP("MainWindow", "There is no model yet: build the support set and press Adapt "
                                 "(Ctrl+Enter), or load a saved model (Model > Load model...).")
MSG_UNEXPECTED = QT_TRANSLATE_NOOP("MainWindow", "{what} failed unexpectedly ({error}). The previous model is kept. "
                                   "If it happens again, please report it with the details below.")


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


# The engine's stage names during a run, for the translators (shown through self.tr(stage.name)).
ENGINE_STAGES = (QT_TRANSLATE_NOOP("MainWindow", "building backbone"),
                 QT_TRANSLATE_NOOP("MainWindow", "loading images"),
                 QT_TRANSLATE_NOOP("MainWindow", "embedding support images"))


def _title_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _method_title(title: str) -> str:
    """A method's title as the method picker shows it (translated there, see pickers.ENGINE_STRINGS)."""
    return QCoreApplication.translate("MethodPicker", title)


class MainWindow(QMainWindow):
    """Few-shot Studio's main window."""

    sig_ready = Signal()  # the engine is loaded: pickers are filled and Adapt is enabled
    sig_support_replaced = Signal()  # a project, the demo or a new empty project replaced the support set
    sig_progress = Signal(list)  # Progress events of the current run, as the plot received them
    sig_run_finished = Signal(object)  # the new classifier: the run ended normally
    sig_run_cancelled = Signal(object)  # RunCancelled: the run stopped and the previous model is kept
    sig_run_failed = Signal(str)  # the message shown to the user; the previous model is kept
    sig_run_ended = Signal()  # after finished, cancelled or failed, with the run's thread joined
    sig_predictions_done = Signal(int)  # how many images the last classification classified
    sig_project_saved = Signal(str)  # the project file just written
    sig_model_saved = Signal(str)  # the model file just written
    sig_model_loaded = Signal(object)  # the classifier read from a model file
    sig_weights_imported = Signal(str)  # the backbone whose weights were imported

    def __init__(self, settings: Settings | None = None, *, torch_threads: int | None = None):
        super().__init__()
        self.settings = settings or Settings()
        self.torch_threads = torch_threads or self.settings.torch_threads or DEFAULT_TORCH_THREADS
        self.support = SupportSet()
        self.classifier = None  # FewShotClassifier once adapted or loaded
        self.meta_window: QMainWindow | None = None  # the meta-training page's window, made on first use
        self.camera_dialog = None  # camera.CameraDialog, made when Take photos... finds a camera
        self.meta_page = None
        self.model_summary = ""
        self._model_key = None  # the support set the model was adapted on, to tell when it is out of date
        self.engine: EngineInfo | None = None
        self.project_path: Path | None = None
        self.project_title = self.tr("Untitled")
        self.is_demo = False  # the support set is the bundled demo
        self.adapt_job: Job | None = None
        self.predict_job: Job | None = None
        self._jobs_alive: set[Job] = set()  # every started job until its thread has finished
        self._run = None
        self._run_total = 0
        self._predict_id = 0
        self._predicted = 0
        self._predict_skipped = []
        self._close_pending = False
        self.closed = False
        self._icon_targets: list[tuple[object, str]] = []

        self.setWindowIcon(QIcon(str(icons.icon_path("fewshot-studio"))))
        self.setAcceptDrops(False)
        self.tasks = TaskRunner(self)
        dpr = max(1.0, QGuiApplication.primaryScreen().devicePixelRatio()) if QGuiApplication.primaryScreen() else 1.0
        self.thumbnails = ThumbnailCache(size=int(96 * dpr), parent=self)
        self.loader = EngineLoader(self)
        self.loader.sig_loaded.connect(self._on_engine_loaded)
        self.loader.sig_failed.connect(self._on_engine_failed)

        self.message_bar = MessageBar()
        self.board = ClassBoard(self.support, self.thumbnails, self.tasks)
        self.board.sig_notify.connect(self.notify)
        self.board.sig_add_images_requested.connect(self.add_images)
        self.board.sig_demo_requested.connect(self.open_demo)
        self.board.sig_current_changed.connect(self._update_actions)
        self._build_model_panel()
        self.predictions = PredictionPanel(self.thumbnails)
        self.predictions.setMinimumWidth(300)
        self.predictions.sig_classify_requested.connect(self.classify)
        self.predictions.sig_reclassify_requested.connect(lambda: self.classify(self.predictions.queries))
        self.board.setMinimumWidth(240)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("MainSplitter")
        self.splitter.setChildrenCollapsible(False)
        for widget, stretch in ((self.board, 5), (self.model_panel, 3), (self.predictions, 4)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.message_bar)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self._build_actions()
        from .validation_page import ValidationController

        self.validation = ValidationController(self)  # Model > Validate and compare..., "None of these"
        self._build_status_bar()
        self.support.changed.connect(self._on_support_changed)
        self.sig_run_finished.connect(self._camera_model_changed)
        self.sig_model_loaded.connect(self._camera_model_changed)
        self._restore_layout()
        self._update_title()
        self._update_actions()
        self._update_model_label()

    # ------------------------------------------------------------------------------------------------------
    # building
    # ------------------------------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, icon: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if icon:
            action.setIcon(icons.icon(icon))
            self._icon_targets.append((action, icon))
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
        plain = re.sub(r"\(&\w\)", "", text).replace("&", "").rstrip(".").rstrip("…")  # "新建(&N)..." too
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or plain} ({shown})" if shown else (tip or plain))
        action.setStatusTip(tip or plain)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        A = self._action
        K = QKeySequence.StandardKey
        self.act_new = A(self.tr("&New project"), self.new_project, K.New, "new", self.tr("Start an empty project"))
        self.act_open = A(self.tr("&Open project..."), self.open_project, K.Open, "open",
                          self.tr("Open a .fsproj project file"))
        self.act_save = A(self.tr("&Save project"), self.save_project, K.Save, "save",
                          self.tr("Save the classes and their images in one project file"))
        self.act_save_as = A(self.tr("Save project &as..."), self.save_project_as, "Ctrl+Shift+S", None,
                             self.tr("Save the project under a new name"))
        self.act_demo = A(self.tr("Open &demo project"), self.open_demo, "Ctrl+Shift+D", "demo",
                          self.tr("Five Fashion-MNIST classes with five images each, and query images to classify"))
        self.act_import_folder = A(self.tr("&Import class folders..."), self.import_folder, "Ctrl+Shift+I", "folder",
                                   self.tr("A folder with one sub-folder of images per class"))
        self.act_quit = A(self.tr("&Quit"), self.close, K.Quit, None, self.tr("Close the studio"))

        self.act_new_class = A(self.tr("&New class"), lambda: self.board.add_class(), "Ctrl+Shift+N", "add-class",
                               self.tr("Add an empty class"))
        self.act_add_images = A(self.tr("&Add images..."), lambda: self.add_images(), "Ctrl+I", "add-images",
                                self.tr("Add image files to the current class"))
        self.act_paste = A(self.tr("&Paste image"), self.paste, K.Paste, "paste",
                           self.tr("Paste an image or image files from the clipboard into the current class"))
        self.act_camera = A(self.tr("Take p&hotos..."), self.show_camera, "Ctrl+Shift+C", "camera",
                            self.tr("Take photos with a webcam into a class, and classify what it sees live"))
        self.act_remove = A(self.tr("&Remove selected images"), self.board.remove_selected,
                            QKeySequence.StandardKey.Delete, "delete",
                            self.tr("Remove the selected images from their classes (the files stay on disk)"))
        self.act_rename = A(self.tr("Re&name class"), self.rename_current_class, "F2", "rename",
                            self.tr("Rename the current class"))
        self.act_delete_class = A(self.tr("&Delete class"), self.delete_current_class, "Ctrl+Backspace", None,
                                  self.tr("Delete the current class (Undo brings it back)"))

        self.act_import_weights = A(
            self.tr("&Import weights..."), lambda: self.import_weights(), None, "import-weights",
            self.tr("Use a weights file you have for the selected backbone (.safetensors, .pth)"))

        self.act_adapt = A(self.tr("&Adapt"), self.start_adapt, ["Ctrl+Return", "Ctrl+Enter"], "adapt",
                           self.tr("Fit the method to the support set"))
        self.act_cancel = A(self.tr("&Cancel run"), self.cancel_adapt, "Esc", "cancel",
                            self.tr("Stop after the current step and keep the previous model"))
        self.act_classify = A(self.tr("&Classify images..."), self.choose_and_classify, "Ctrl+K", "classify",
                              self.tr("Classify image files or a folder with the current model"))
        self.act_clear = A(self.tr("C&lear results"), self.clear_results, "Ctrl+L", "clear",
                           self.tr("Remove every prediction shown"))
        self.act_save_model = A(
            self.tr("&Save model..."), self.save_model, "Ctrl+Alt+S", "model-save",
            self.tr("Save the adapted model (.safetensors) to use it later or with the command line"))
        self.act_load_model = A(self.tr("&Load model..."), self.load_model, "Ctrl+Alt+O", "model-open",
                                self.tr("Load a model saved by the studio or the command line"))
        self.act_meta_train = A(self.tr("&Meta-train..."), self.show_meta_training, "Ctrl+Shift+M", None,
                                self.tr("Meta-train a method on a base dataset; the result becomes a backbone"))
        self.act_shortcuts = A(self.tr("&Keyboard shortcuts"), self.show_shortcuts, K.HelpContents, "keyboard")
        self.act_about = A(self.tr("&About Few-shot Studio"), self.show_about, None, "help")
        self.predictions.set_actions(self.act_classify, self.act_clear)

        bar = self.menuBar()
        m = bar.addMenu(self.tr("&File"))
        m.addActions([self.act_new, self.act_open])
        self.recent_menu = m.addMenu(self.tr("Open &recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        m.addActions([self.act_save, self.act_save_as])
        m.addSeparator()
        m.addActions([self.act_demo, self.act_import_folder])
        self.exports = ExportActions(self)  # Export model to ONNX..., Export support set as folder...
        m.addActions([self.exports.act_export_support, self.exports.act_export_onnx])
        m.addSeparator()
        m.addAction(self.act_quit)
        m = bar.addMenu(self.tr("&Edit"))
        m.addActions([self.act_new_class, self.act_add_images, self.act_paste, self.act_camera])
        m.addSeparator()
        m.addActions([self.act_rename, self.act_remove, self.act_delete_class])
        m = bar.addMenu(self.tr("&Backbone"))
        m.addAction(self.act_import_weights)
        m = bar.addMenu(self.tr("&Model"))
        m.addActions([self.act_adapt, self.act_cancel])
        m.addSeparator()
        m.addActions([self.act_classify, self.act_clear])
        m.addSeparator()
        m.addActions([self.act_save_model, self.act_load_model])
        m.addSeparator()
        m.addAction(self.act_meta_train)
        self.act_label_next = A(self.tr("&Label next..."), self.show_label_next, None, None,
                                self.tr("Rank unlabelled images by how much labelling each would help; drag the "
                                        "top ones onto class cards"))
        m.addAction(self.act_label_next)
        self.view_menu = bar.addMenu(self.tr("&View"))
        theme_menu = self.view_menu.addMenu(self.tr("&Theme"))
        group = QActionGroup(self)
        self.theme_actions = {}
        for mode, label in (("system", self.tr("Follow the &system")), ("light", self.tr("&Light")),
                            ("dark", self.tr("&Dark"))):
            action = theme_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(mode == self.settings.theme)
            action.triggered.connect(lambda _=False, m=mode: self.set_theme(m))
            group.addAction(action)
            self.theme_actions[mode] = action
        language_menu = self.view_menu.addMenu(self.tr("&Language"))
        group = QActionGroup(self)
        self.language_actions = {}
        # Each language under its own name, in every language (i18n.LANGUAGES).
        for code, label in (("system", self.tr("Follow the &system")), *LANGUAGES.items()):
            action = language_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(code == self.settings.language)
            action.triggered.connect(lambda _=False, c=code: self.set_language(c))
            group.addAction(action)
            self.language_actions[code] = action
        self.view_menu.addSeparator()
        for widget, label in ((self.model_panel, self.tr("&Model panel")),
                              (self.predictions, self.tr("&Predictions panel"))):
            action = self.view_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(widget.setVisible)
        m = bar.addMenu(self.tr("&Help"))
        m.addActions([self.act_shortcuts, self.act_about])

        tb = QToolBar(self.tr("Main toolbar"))
        tb.setObjectName("MainToolbar")
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tb.addActions([self.act_open, self.act_save])
        tb.addSeparator()
        tb.addActions([self.act_new_class, self.act_add_images, self.act_paste, self.act_import_folder])
        tb.addSeparator()
        tb.addActions([self.act_adapt, self.act_cancel])
        tb.addSeparator()
        tb.addActions([self.act_classify, self.act_clear])
        tb.addSeparator()
        tb.addAction(self.act_demo)
        self.addToolBar(tb)
        self.toolbar = tb
        self.view_menu.addAction(tb.toggleViewAction())
        self.act_embedding_map = A(self.tr("&Embedding map"), self.show_embedding_map, None, None,
                                   self.tr("Support and query images as points in 2-D, coloured by class"))
        self.view_menu.addAction(self.act_embedding_map)

    def _section(self, text: str) -> QLabel:
        label = QLabel(text)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        label.setContentsMargins(0, 8, 0, 0)
        return label

    def _build_model_panel(self) -> None:
        self.backbone_picker = BackbonePicker()
        self.backbone_picker.sig_changed.connect(self._on_backbone_changed)
        self.backbone_picker.sig_import_requested.connect(self.import_weights)
        self.method_picker = MethodPicker()
        self.method_picker.sig_changed.connect(self._on_method_changed)
        self.params_form = ParamsForm()
        self.params_form.sig_changed.connect(self._on_params_changed)
        self.adapt_button = QPushButton(icons.icon("adapt"), "Adapt")
        self.adapt_button.setObjectName("AdaptButton")
        self.adapt_button.setMinimumHeight(36)
        font = self.adapt_button.font()
        font.setBold(True)
        self.adapt_button.setFont(font)
        self.adapt_button.clicked.connect(self._adapt_or_cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setTextVisible(True)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
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
        layout.addWidget(self._section(self.tr("Backbone")))
        layout.addWidget(self.backbone_picker)
        layout.addWidget(self._section(self.tr("Method")))
        layout.addWidget(self.method_picker)
        layout.addWidget(self._section(self.tr("Hyperparameters")))
        layout.addWidget(self.params_form)
        layout.addSpacing(8)
        layout.addWidget(self.adapt_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.model_label)
        layout.addLayout(self.plots_slot, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(panel)
        scroll.setMinimumWidth(290)
        self.model_panel = scroll

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.engine_label = QLabel(self.tr("Loading PyTorch..."))
        self.engine_busy = QProgressBar()
        self.engine_busy.setRange(0, 0)
        self.engine_busy.setMaximumWidth(90)
        self.engine_busy.setMaximumHeight(12)
        self.engine_busy.setTextVisible(False)
        self.device_label = QLabel()
        self.device_label.setToolTip(self.tr("Where adaptation and prediction run"))
        self.device_icon = QLabel()
        bar.addPermanentWidget(self.engine_label)
        bar.addPermanentWidget(self.engine_busy)
        bar.addPermanentWidget(self.device_icon)
        bar.addPermanentWidget(self.device_label)
        bar.showMessage(self.tr("Drop a folder of class sub-folders on the board, or open the demo project "
                                "(Ctrl+Shift+D)."))

    def _restore_layout(self) -> None:
        geometry, state = self.settings.geometry(), self.settings.state()
        if geometry is None or not self.restoreGeometry(geometry):
            screen = QGuiApplication.primaryScreen()
            avail = screen.availableGeometry().size() if screen else QSize(1600, 1000)
            width, height = min(1480, avail.width() - 40), min(900, avail.height() - 40)
            self.resize(width, height)
            self.splitter.setSizes([int(width * 0.4), int(width * 0.25), int(width * 0.35)])
        if state is not None:
            self.splitter.restoreState(state)

    # ------------------------------------------------------------------------------------------------------
    # the engine
    # ------------------------------------------------------------------------------------------------------
    def start_engine(self, in_thread: bool = True) -> None:
        """Load pyqtgraph, torch and the registries (call once the window is shown)."""
        if self.engine is None and (self.loader.thread is None or not self.loader.thread.is_alive()):
            self.loader.start(in_thread)

    def build_plots(self) -> None:
        """Make the live plots (pyqtgraph is imported by then)."""
        if self.plots is None:
            from .plots import TrainingPlots

            self.plots = TrainingPlots()
            self.plots_slot.addWidget(self.plots)

    @property
    def ready(self) -> bool:
        return self.engine is not None

    @Slot(object)
    def _on_engine_loaded(self, info: EngineInfo) -> None:
        if self.closed:
            return
        saved_backbone, saved_method = self.settings.backbone, self.settings.method
        self.build_plots()
        self.engine = info
        self.backbone_picker.set_backbones(info.backbones, offline=info.offline)
        if not self.backbone_picker.set_current(saved_backbone):
            self.backbone_picker.set_current(info.default_backbone)
        self.method_picker.set_methods(info.methods)
        if not self.method_picker.set_current(saved_method):
            self.method_picker.set_current(info.default_method)
        self._on_method_changed(self.method_picker.current())
        self.engine_label.setText("")
        self.engine_busy.hide()
        gpu = not info.device.startswith("CPU")
        self.device_icon.setPixmap(icons.pixmap("gpu" if gpu else "cpu", 16, self.devicePixelRatioF()))
        self.device_label.setText(info.device)
        threads = (self.tr(" ({n} thread)") if self.torch_threads == 1 else self.tr(" ({n} threads)")).format(
            n=self.torch_threads)
        self.device_label.setToolTip(self.tr("Adaptation and prediction run on: {device}").format(device=info.device)
                                     + ("" if gpu else threads))
        self.statusBar().showMessage(self.tr("Engine ready in {seconds} s.").format(seconds=f"{info.seconds:.1f}"),
                                     4000)
        # The engine brought ~10^6 long-lived objects; a full garbage collection walking them all stalled the
        # event loop for up to ~250 ms during runs. Freezing them keeps later collections short.
        gc.freeze()
        self._update_actions()
        self._update_model_label()
        self.sig_ready.emit()

    @Slot(object, str)
    def _on_engine_failed(self, exc: Exception, text: str) -> None:
        self.engine_label.setText(self.tr("Engine failed to load"))
        self.engine_busy.hide()
        self.notify(Notice("error", self.tr("The engine could not be loaded ({error}). Check that PyTorch is "
                                            "installed: pip install fewshot-studio").format(
                                                error=f"{type(exc).__name__}: {exc}"),
                           details=text))

    def _on_backbone_changed(self, name: str) -> None:
        if self.engine is not None and name:
            self.settings.backbone = name

    def _on_method_changed(self, name: str) -> None:
        if self.engine is None or not name:
            return
        self.settings.method = name
        self.params_form.set_specs(self.engine.param_specs.get(name, []), self.settings.params(name))

    def _on_params_changed(self) -> None:
        method = self.method_picker.current()
        if self.engine is not None and method:
            self.settings.set_params(method, self.params_form.values())

    # ------------------------------------------------------------------------------------------------------
    # messages and state
    # ------------------------------------------------------------------------------------------------------
    @Slot(object)
    def notify(self, notice: Notice) -> None:
        self.message_bar.show_message(notice.level, notice.text, details=notice.details, actions=notice.actions)
        self.statusBar().showMessage(notice.text.split(". ")[0].rstrip(".") + ".", 6000)

    def error(self, exc: BaseException, what: str, text: str = "", actions=()) -> str:
        """Show an error: a FewShotError's own message (written for users), or a short line and the traceback."""
        if isinstance(exc, FewShotError):
            message = _title_case(str(exc))
            message = message if message.endswith(".") else message + "."
            self.notify(Notice("error", message, actions=list(actions)))
        else:
            message = self.tr(MSG_UNEXPECTED).format(what=what, error=f"{type(exc).__name__}: {exc}")
            self.notify(Notice("error", message, details=text, actions=list(actions)))
        return message

    @property
    def running(self) -> bool:
        return self.adapt_job is not None

    @property
    def predicting(self) -> bool:
        return self.predict_job is not None

    def _update_actions(self, *_args) -> None:
        running, ready = self.running, self.ready
        self.act_adapt.setEnabled(ready and not running)
        self.act_cancel.setEnabled(running)
        self.act_classify.setEnabled(self.classifier is not None)
        self.act_save_model.setEnabled(self.classifier is not None)
        self.exports.act_export_onnx.setEnabled(self.classifier is not None)
        self.act_load_model.setEnabled(ready)
        self.act_import_weights.setEnabled(ready)
        self.act_clear.setEnabled(bool(self.predictions.predictions) or self.predicting)
        self.act_rename.setEnabled(bool(self.board.current_class))
        self.act_delete_class.setEnabled(bool(self.board.current_class))
        for widget in (self.backbone_picker, self.method_picker, self.params_form):
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
                                         else self.tr(MSG_LOADING))

    def _support_key(self):
        return tuple((c.name, tuple(c.images)) for c in self.support.classes)

    def _update_model_label(self) -> None:
        if self.classifier is None:
            problems = self.support.problems()
            hint = (self.tr("Before adapting: {problem}.").format(problem=problems[0]) if problems
                    else self.tr("Press Adapt (Ctrl+Enter)."))
            self.model_label.setText(self.tr("No model yet. {hint}").format(hint=hint))
            return
        text = self.model_summary
        if self._model_key is not None and self._model_key != self._support_key():
            text += "<br><i>" + self.tr("The support set changed since: Adapt again to include the changes.") + "</i>"
        self.model_label.setText(text)

    def _on_support_changed(self) -> None:
        self.setWindowModified(True)
        self._update_model_label()
        self._update_actions()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.project_title}[*] — {APP_NAME}")

    # ------------------------------------------------------------------------------------------------------
    # the support set
    # ------------------------------------------------------------------------------------------------------
    def set_support(self, support: SupportSet, title: str, path: Path | None, *, demo: bool = False) -> None:
        """Show another support set (an opened project, the demo, a new project)."""
        self.is_demo = demo
        self.support.changed.disconnect(self._on_support_changed)
        self.support = support
        self.support.changed.connect(self._on_support_changed)
        self.board.set_support(support)
        self.project_path = path
        self.project_title = title
        self._update_title()
        self.setWindowModified(False)
        self._update_model_label()
        self._update_actions()
        self.sig_support_replaced.emit()

    def add_images(self, target: str | None = None) -> None:
        where = target or self.board.current_class
        paths = dialogs.open_images(self, self.settings.last_dir("images"),
                                    self.tr("Add images to {name}").format(name=where) if where
                                    else self.tr("Add images to a new class"))
        if paths:
            self.settings.set_last_dir("images", paths[0])
            self.board.import_paths(paths, target or self.board.current_class or None)

    def import_folder(self) -> None:
        folder = dialogs.open_folder(self, self.settings.last_dir("folder"),
                                     self.tr("Import a folder with one sub-folder of images per class"))
        if folder:
            self.settings.set_last_dir("folder", folder)
            self.board.import_paths([folder], None)

    def paste(self) -> None:
        self.board.paste(QApplication.clipboard().mimeData())

    def rename_current_class(self) -> None:
        if self.board.current_class:
            self.board.card(self.board.current_class).start_rename()

    def delete_current_class(self) -> None:
        if self.board.current_class:
            self.board.delete_class(self.board.current_class)

    # ------------------------------------------------------------------------------------------------------
    # adaptation
    # ------------------------------------------------------------------------------------------------------
    def _adapt_or_cancel(self) -> None:
        if self.running:
            self.cancel_adapt()
        else:
            self.start_adapt()

    def start_adapt(self) -> bool:
        """Start a run on the support set with the chosen backbone, method and hyperparameters."""
        if self.running:
            return False
        if not self.ready:
            self.notify(Notice("info", self.tr(MSG_LOADING)))
            return False
        problems = self.support.problems()
        if problems:
            self.notify(Notice("error", self.tr("Cannot adapt yet: {problems}.").format(problems="; ".join(problems))))
            return False
        from ..core.engine import AdaptRun

        backbone, method, values = self.backbone_picker.current(), self.method_picker.current(), self.params_form.values()
        self._run_names = (backbone, method, method)
        try:
            run = AdaptRun(self.support, backbone, method, values)
        except FewShotError as exc:
            self._show_run_error(exc, "")
            return False
        threads = self.torch_threads

        def job():
            import torch

            torch.set_num_threads(threads)  # per thread with OpenMP: set it where the work runs
            yield from run
            return run.result

        worker = GeneratorWorker(job, on_cancel=run.cancel)
        worker.sig_yielded.connect(self._on_run_events)
        worker.sig_returned.connect(self._on_run_returned)
        worker.sig_failed.connect(self._on_run_failed)
        worker.sig_done.connect(self._on_run_done)
        self._run, self._run_key = run, self._support_key()
        self._run_total = run.method.total_steps()
        self._run_names = (backbone, method, run.method.title)
        self.adapt_job = Job(worker, "adapt")
        self._jobs_alive.add(self.adapt_job)
        self.plots.start(self._run_total)
        self.progress.setRange(0, 0)
        self.progress.setFormat(self.tr("Starting..."))
        if self.message_bar.level == "error":
            self.message_bar.dismiss()
        self._update_actions()
        self.statusBar().showMessage(self.tr("Adapting {method} on {backbone}...").format(
            method=_method_title(run.method.title), backbone=backbone))
        self.adapt_job.start()
        return True

    def cancel_adapt(self) -> None:
        if self.adapt_job is not None:
            self.adapt_job.cancel()
            self.progress.setFormat(self.progress.format() + self.tr(" — cancelling..."))
            self.adapt_button.setEnabled(False)
            self.statusBar().showMessage(self.tr("Cancelling after the current step..."))

    @Slot(list)
    def _on_run_events(self, events: list) -> None:
        from ..core.runs import Progress, Stage

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
            if stage.total > 1:
                self.progress.setRange(0, stage.total)
                self.progress.setValue(stage.done)
                self.progress.setFormat(f"{_title_case(self.tr(stage.name))} ({stage.done}/{stage.total}){suffix}")
            else:
                self.progress.setRange(0, 0)
                self.progress.setFormat(f"{_title_case(self.tr(stage.name))}...{suffix}")

    @Slot(object)
    def _on_run_returned(self, classifier) -> None:
        self.plots.flush()
        self.classifier = classifier
        self._model_key = self._run_key
        backbone, method, title = self._run_names
        seconds = classifier.info.get("seconds", 0.0)
        n = len(classifier.class_names)
        self.model_summary = self.tr("<b>Model ready</b>: {method} on {backbone}, {n} classes, adapted in {duration} "
                                     "on {device}.").format(method=_method_title(title), backbone=backbone, n=n,
                                                            duration=format_duration(seconds),
                                                            device=self.engine.device if self.engine else "CPU")
        self.progress.setRange(0, max(1, self._run_total))
        self.progress.setValue(max(1, self._run_total))
        self.progress.setFormat((self.tr("Done: {n} step in {duration}") if self._run_total == 1 else
                                 self.tr("Done: {n} steps in {duration}")).format(n=self._run_total,
                                                                                  duration=format_duration(seconds)))
        self.predictions.set_stale(True)
        # The status bar, not the message bar: a strip appearing would re-lay out (and repaint) the window.
        self.statusBar().showMessage(self.tr("Adapted {method} on {backbone} in {duration}. Drop images on the "
                                             "Predictions panel to classify them (Ctrl+K).").format(
            method=_method_title(title), backbone=backbone, duration=format_duration(seconds)), 15000)
        if self.is_demo and not self.predictions.predictions:
            self.notify(Notice("info", self.tr("The demo model is ready. Classify the demo's query images (15 images "
                                               "it has not seen), or drop your own on the Predictions panel."),
                               actions=[(self.tr("Classify the demo's query images"), self.classify_demo_queries)]))
        self.sig_run_finished.emit(classifier)

    @Slot(object, str)
    def _on_run_failed(self, exc: Exception, text: str) -> None:
        self.plots.flush()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if isinstance(exc, RunCancelled):
            self.progress.setFormat(self.tr("Cancelled at step {step} of {total}").format(step=exc.step,
                                                                                         total=exc.total))
            text = (self.tr("Cancelled after step {step} of {total}; the previous model is kept.")
                    if self.classifier is not None else
                    self.tr("Cancelled after step {step} of {total}; there is still no model."))
            self.notify(Notice("info", text.format(step=exc.step, total=exc.total)))
            self.sig_run_cancelled.emit(exc)
            return
        self.progress.setFormat(self.tr("Failed"))
        self._show_run_error(exc, text)

    def _show_run_error(self, exc: Exception, text: str) -> None:
        """Say what went wrong and offer the next step; the previous model is untouched."""
        actions = []
        backbone = self._run_names[0]
        if isinstance(exc, (WeightsUnavailableError, BackboneError)):
            actions.append((self.tr("Import weights..."), lambda: self.import_weights(backbone)))
        if isinstance(exc, DivergedError) and any(n.endswith("lr") for n in self.params_form.editors):
            actions.append((self.tr("Lower the learning rate and retry"), self._lower_lr_and_retry))
        message = self.error(exc, self.tr("Adaptation"), text, actions)
        self.sig_run_failed.emit(message)

    def _lower_lr_and_retry(self) -> None:
        values = self.params_form.values()
        self.params_form.set_values({k: v / 10 for k, v in values.items() if k.endswith("lr") and isinstance(v, float)})
        self.start_adapt()

    @Slot()
    def _on_run_done(self) -> None:
        job, self.adapt_job = self.adapt_job, None
        if job is not None:
            job.wait(10000)  # returns at once: sig_done quit the thread directly
            self._jobs_alive.discard(job)
        self._run = None
        self._update_actions()
        self._update_model_label()
        self.sig_run_ended.emit()
        self._maybe_finish_close()

    # ------------------------------------------------------------------------------------------------------
    # classification
    # ------------------------------------------------------------------------------------------------------
    def choose_and_classify(self) -> None:
        if self.classifier is None:
            self.notify(Notice("info", self.tr(MSG_NO_MODEL)))
            return
        paths = dialogs.open_images(self, self.settings.last_dir("queries"), self.tr("Classify images"))
        if paths:
            self.settings.set_last_dir("queries", paths[0])
            self.classify(paths)

    def classify(self, paths: list) -> bool:
        """Classify image files (folders are walked) off the GUI thread; results fill the panel."""
        if self.classifier is None:
            self.notify(Notice("info", self.tr(MSG_NO_MODEL)))
            return False
        if not paths:
            return False
        if self.predict_job is not None:
            self.predict_job.cancel()
            self.predict_job = None  # its results are ignored from now on; _on_predict_done forgets it
        from ..core.classifier import expand_paths

        self._predict_id += 1
        job_id, classifier, threads = self._predict_id, self.classifier, self.torch_threads
        open_set = self.validation.open_set_for(classifier)
        paths = [Path(p) for p in paths]

        def job():
            import torch

            torch.set_num_threads(threads)
            files, skipped = expand_paths(paths)
            yield job_id, [], skipped, 0, len(files)
            for start in range(0, len(files), PREDICT_BATCH):
                chunk = files[start:start + PREDICT_BATCH]
                predictions, bad = classifier.predict(chunk, open_set=open_set)
                yield job_id, predictions, bad, start + len(chunk), len(files)
            return job_id

        worker = GeneratorWorker(job)
        worker.sig_yielded.connect(self._on_predict_events)
        worker.sig_failed.connect(self._on_predict_failed)
        worker.sig_done.connect(self._on_predict_done)
        self.predict_job = Job(worker, "predict")
        self._jobs_alive.add(self.predict_job)
        self._predicted, self._predict_skipped = 0, []
        self.predictions.begin(paths)
        self._update_actions()
        self.statusBar().showMessage(self.tr("Classifying..."))
        self.predict_job.start()
        return True

    @Slot(list)
    def _on_predict_events(self, batches: list) -> None:
        for job_id, predictions, skipped, done, total in batches:
            if job_id != self._predict_id:
                continue
            self.predictions.add_predictions(predictions, done, total)
            self._predicted += len(predictions)
            self._predict_skipped += skipped
        self._update_actions()

    @Slot(object, str)
    def _on_predict_failed(self, exc: Exception, text: str) -> None:
        if self.sender() is not None and self.predict_job is not None and self.sender() is not self.predict_job.worker:
            return
        self.error(exc, self.tr("Classification"), text)

    @Slot()
    def _on_predict_done(self) -> None:
        worker = self.sender()
        for job in list(self._jobs_alive):
            if job.worker is worker:
                job.wait(10000)
                self._jobs_alive.discard(job)
        if self.predict_job is not None and self.predict_job.worker is worker:
            self.predict_job = None
            self.predictions.finish()
            n = self._predicted
            if self._predict_skipped:
                from .class_board import skipped_notice

                head = (self.tr("Classified {n} image. ") if n == 1 else self.tr("Classified {n} images. ")).format(n=n)
                self.notify(skipped_notice(self._predict_skipped, 0, head))
            else:
                text = self.tr("Classified {n} image.") if n == 1 else self.tr("Classified {n} images.")
                self.statusBar().showMessage(text.format(n=n), 5000)
            self._update_actions()
            self.sig_predictions_done.emit(n)
        self._maybe_finish_close()

    def clear_results(self) -> None:
        if self.predict_job is not None:
            self.predict_job.cancel()
            self.predict_job = None
        self.predictions.clear()
        self._update_actions()

    # ------------------------------------------------------------------------------------------------------
    # models and weights
    # ------------------------------------------------------------------------------------------------------
    def save_model(self, path: str | None = None) -> None:
        if self.classifier is None:
            self.notify(Notice("info", self.tr(MSG_NO_MODEL)))
            return
        if path is None:
            suggested = Path(self.settings.last_dir("models")) / f"{self.project_title.replace(' ', '_')}.safetensors"
            path = dialogs.save_model(self, str(suggested))
            if not path:
                return
        self.settings.set_last_dir("models", path)
        self.tasks.submit(self.classifier.save, Path(path), on_done=self._model_saved,
                          on_failed=lambda exc, text: self.error(exc, self.tr("Saving the model"), text))

    def _model_saved(self, path: Path) -> None:
        self.notify(Notice("success", self.tr("Saved the model to {path}. Use it with: fewshot-studio predict {path} "
                                              "IMAGES").format(path=path)))
        self.sig_model_saved.emit(str(path))

    def load_model(self, path: str | None = None) -> None:
        if not self.ready:
            self.notify(Notice("info", self.tr(MSG_LOADING)))
            return
        if path is None:
            path = dialogs.open_model(self, self.settings.last_dir("models"))
            if not path:
                return
        self.settings.set_last_dir("models", path)
        from ..core.classifier import FewShotClassifier

        self.statusBar().showMessage(self.tr("Loading {name}...").format(name=Path(path).name))
        self.tasks.submit(FewShotClassifier.load, Path(path), on_done=lambda clf: self._model_loaded(clf, Path(path)),
                          on_failed=lambda exc, text: self.error(exc, self.tr("Loading the model"), text))

    def _model_loaded(self, classifier, path: Path) -> None:
        self.classifier = classifier
        self._model_key = None
        meta = getattr(classifier, "meta", {})
        method = meta.get("method", {}).get("name", classifier.method.name)
        self.model_summary = self.tr("<b>Model loaded</b> from {file}: {method} on {backbone}, classes "
                                     "{classes}.").format(
            file=path.name, method=method, backbone=classifier.spec.name, classes=", ".join(classifier.class_names))
        self.predictions.set_stale(True)
        self._update_actions()
        self._update_model_label()
        self.notify(Notice("success", self.tr("Loaded the model {file} ({n} classes).").format(
            file=path.name, n=len(classifier.class_names))))
        self.sig_model_loaded.emit(classifier)

    def import_weights(self, backbone: str | None = None) -> None:
        backbone = backbone or self.backbone_picker.current()
        if not self.ready or not backbone:
            self.notify(Notice("info", self.tr(MSG_LOADING)))
            return
        path = dialogs.open_weights(self, self.settings.last_dir("weights"), backbone)
        if not path:
            return
        self.settings.set_last_dir("weights", path)
        from ..core.backbones import get_backbone, import_weights

        def work():
            target = import_weights(backbone, path)
            return target, backbone_info(get_backbone(backbone))

        def done(result) -> None:
            target, info = result
            self.backbone_picker.set_status(info)
            self.notify(Notice("success", self.tr("Imported weights for {backbone}; the studio keeps a copy at "
                                                  "{path}.").format(backbone=backbone, path=target)))
            self.sig_weights_imported.emit(backbone)

        self.statusBar().showMessage(self.tr("Checking the weights for {backbone}...").format(backbone=backbone))
        self.tasks.submit(work, on_done=done,
                          on_failed=lambda exc, text: self.error(exc, self.tr("Importing weights"), text))

    # ------------------------------------------------------------------------------------------------------
    # projects
    # ------------------------------------------------------------------------------------------------------
    def _project_settings(self) -> dict:
        if not self.ready:
            return {}
        return {"backbone": self.backbone_picker.current(), "method": self.method_picker.current(),
                "params": self.params_form.values()}

    def _apply_project_settings(self, settings: dict) -> None:
        if not self.ready or not settings:
            return
        if isinstance(settings.get("backbone"), str):
            self.backbone_picker.set_current(settings["backbone"])
        if isinstance(settings.get("method"), str) and self.method_picker.set_current(settings["method"]):
            if isinstance(settings.get("params"), dict):
                self.params_form.set_values(settings["params"])

    def _ok_to_discard(self) -> bool:
        if not self.isWindowModified() or not self.support.n_images:
            return True
        answer = dialogs.ask_save_changes(self, self.project_title)
        if answer == "save":
            return self._save_now()
        return answer == "discard"

    def _save_now(self) -> bool:
        """Save in the GUI thread (used when closing: the window must not go before the file is written)."""
        path = self.project_path or self._ask_project_path()
        if not path:
            return False
        try:
            write_project(self._snapshot(), path, self._project_settings())
        except FewShotError as exc:
            self.error(exc, self.tr("Saving the project"))
            return False
        self._project_saved(Path(path))
        return True

    def new_project(self) -> None:
        if self._ok_to_discard():
            self.set_support(SupportSet(), self.tr("Untitled"), None)

    def open_project(self, path: str | None = None) -> None:
        if not self._ok_to_discard():
            return
        if path is None:
            path = dialogs.open_project(self, self.settings.last_dir("projects"))
            if not path:
                return
        path = Path(path)
        self.settings.set_last_dir("projects", path)
        self.statusBar().showMessage(self.tr("Opening {name}...").format(name=path.name))
        self.tasks.submit(read_project, path, on_done=self._project_opened,
                          on_failed=lambda exc, text: self.error(exc, self.tr("Opening the project"), text))

    def _project_opened(self, project) -> None:
        self.set_support(project.support, project.path.stem, project.path)
        self._apply_project_settings(project.settings)
        self.settings.add_recent(project.path)
        n = project.support.n_images
        if project.skipped:
            from .class_board import skipped_notice

            notice = skipped_notice(project.skipped, n)
            self.notify(notice)
        else:
            self.notify(Notice("success", self.tr("Opened {file}: {k} classes, {n} images.").format(
                file=project.path.name, k=len(project.support), n=n)))

    def _ask_project_path(self) -> str:
        suggested = self.project_path or Path(self.settings.last_dir("projects")) / f"{self.project_title}{PROJECT_SUFFIX}"
        return dialogs.save_project(self, str(suggested))

    def _snapshot(self) -> SupportSet:
        return SupportSet((c.name, list(c.images)) for c in self.support.classes)

    def save_project(self, path: str | None = None) -> None:
        path = path or self.project_path or self._ask_project_path()
        if not path:
            return
        path = Path(path)
        self.tasks.submit(write_project, self._snapshot(), path, self._project_settings(),
                          on_done=self._project_saved,
                          on_failed=lambda exc, text: self.error(exc, self.tr("Saving the project"), text))

    def save_project_as(self) -> None:
        path = self._ask_project_path()
        if path:
            self.save_project(path)

    def _project_saved(self, path: Path) -> None:
        self.project_path = Path(path)
        self.project_title = Path(path).stem
        self.is_demo = False
        self.settings.add_recent(path)
        self.settings.set_last_dir("projects", path)
        self._update_title()
        self.setWindowModified(False)
        self.statusBar().showMessage(self.tr("Saved {path}.").format(path=path), 5000)
        self.sig_project_saved.emit(str(path))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_projects()
        for i, path in enumerate(recent):
            action = self.recent_menu.addAction(f"&{i + 1} {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_project(p))
        if not recent:
            self.recent_menu.addAction(self.tr("No recent projects")).setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(self.tr("Clear the list")).triggered.connect(self.settings.clear_recent)

    def open_demo(self) -> None:
        if not self._ok_to_discard():
            return
        from ..core.demo import demo_support_dir

        self.statusBar().showMessage(self.tr("Opening the demo..."))
        self.tasks.submit(SupportSet.from_folder, demo_support_dir(), on_done=self._demo_opened,
                          on_failed=lambda exc, text: self.error(exc, self.tr("Opening the demo"), text))

    def _demo_opened(self, result) -> None:
        support, _skipped = result
        self.set_support(support, self.tr("Demo"), None, demo=True)
        self.notify(Notice("info", self.tr("The demo: {k} Fashion-MNIST classes, {n} images. Press Adapt, then "
                                           "classify the demo's query images.").format(k=len(support),
                                                                                       n=support.n_images),
                           actions=[(self.tr("Adapt"), self.start_adapt)]))

    def classify_demo_queries(self) -> bool:
        from ..core.demo import demo_query_dir

        self.message_bar.dismiss()
        return self.classify([demo_query_dir()])

    def open_path(self, path: str | os.PathLike) -> None:
        """Open what was given on the command line: a project file or a folder of classes."""
        path = Path(path)
        if path.is_file() and path.suffix.lower() == PROJECT_SUFFIX:
            self.open_project(str(path))
        elif path.exists():
            self.board.import_paths([path], None)
        else:
            self.notify(Notice("error", self.tr("{path}: not found; give a project file (.fsproj) or a folder of "
                                                "classes.").format(path=path)))

    # ------------------------------------------------------------------------------------------------------
    # help, theme
    # ------------------------------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        dialogs.show_shortcuts(self, self.actions())

    def show_about(self) -> None:
        dialogs.about(self, f"<b>{APP_NAME}</b> {__version__}<br>" + self.tr(
            "Teach a computer new image classes from a handful of examples.<br>Engine: PyTorch; window: PySide6 and "
            "pyqtgraph."))

    def set_theme(self, mode: str) -> None:
        from .theme import Theme

        self.settings.theme = mode
        Theme.ensure(QApplication.instance(), mode).set_mode(mode)

    def set_language(self, code: str) -> None:
        """Remember the interface language ("system", "en", "zh_CN"); it applies at the next start."""
        self.settings.language = code
        if code in self.language_actions:
            self.language_actions[code].setChecked(True)
        lang = i18n.choose_language(None, code, env={})
        if lang != i18n.current():
            text = self.tr("The language changes the next time you start the studio.")
            other = i18n.NEXT_START.get(lang, text)  # said in the chosen language too
            self.notify(Notice("info", text if other == text else f"{text} {other}"))

    # ------------------------------------------------------------------------------------------------------
    # the camera
    # ------------------------------------------------------------------------------------------------------
    def show_camera(self) -> bool:
        """The camera window: photos into a class, live classification. Without QtMultimedia or a camera
        the message bar says why and nothing else happens."""
        from . import camera

        if self.camera_dialog is not None and self.camera_dialog.isVisible():
            self.camera_dialog.raise_()
            self.camera_dialog.activateWindow()
            return True
        problem = camera.camera_problem()
        if problem:
            self.notify(Notice("info", problem))
            return False
        if self.camera_dialog is not None:
            self.camera_dialog.deleteLater()
        window = weakref.ref(self)  # no reference cycle through the dialog: gc.freeze() would make it immortal
        self.camera_dialog = camera.CameraDialog(self.board, lambda: getattr(window(), "classifier", None),
                                                 threads=self.torch_threads, parent=self)
        self.camera_dialog.panel.start()
        self.camera_dialog.show()
        return True

    def _camera_model_changed(self, *_args) -> None:
        if self.camera_dialog is not None:
            self.camera_dialog.panel.update_model()

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.PaletteChange:
            for target, name in self._icon_targets:
                target.setIcon(icons.icon(name))
            self._update_actions()
        super().changeEvent(event)

    # ------------------------------------------------------------------------------------------------------
    # closing
    # ------------------------------------------------------------------------------------------------------
    def _jobs(self) -> list[Job]:
        return list(self._jobs_alive)

    # ------------------------------------------------------------------------------------------------------
    # meta-training
    # ------------------------------------------------------------------------------------------------------
    def show_meta_training(self) -> None:
        """The meta-training page, in a window of its own (one per studio window)."""
        if self.meta_window is None:
            from .meta_train_page import MetaTrainPage

            self.meta_window = QMainWindow(self)
            self.meta_window.setWindowTitle(self.tr("Meta-training - Few-shot Studio"))
            self.meta_page = MetaTrainPage()
            self.meta_page.sig_checkpoint_saved.connect(self._on_checkpoint_saved)
            self.meta_page.sig_message.connect(lambda level, text: self.statusBar().showMessage(text, 8000))
            self.meta_window.setCentralWidget(self.meta_page)
            self.meta_window.resize(1100, 640)
        self.meta_window.show()
        self.meta_window.raise_()

    @Slot(str)
    def _on_checkpoint_saved(self, path: str) -> None:
        from ..core.backbones import get_backbone, rescan_checkpoints
        rescan_checkpoints()
        name = Path(path).stem
        if self.engine is not None and name not in self.backbone_picker.names():
            self.engine.backbones.append(backbone_info(get_backbone(name)))
            current = self.backbone_picker.current()
            self.backbone_picker.set_backbones(self.engine.backbones, offline=self.engine.offline)
            self.backbone_picker.set_current(current)

    def show_label_next(self) -> None:
        """The "Label next" dock (made on first use): rank unlabelled images, drag the top ones into classes."""
        from .label_next_panel import show_label_next

        show_label_next(self)

    def show_embedding_map(self) -> None:
        """The embedding map dock (made on first use), drawn with the current model."""
        from .embedding_map import show_embedding_map

        show_embedding_map(self)

    def closeEvent(self, event) -> None:
        if not self._close_pending and not self._ok_to_discard():
            event.ignore()
            return
        if self.meta_page is not None:  # only once the close is certain: "Cancel" keeps meta-training going
            self.meta_page.shutdown()
        self.validation.shutdown()
        jobs = [j for j in self._jobs() if not j.finished]
        if jobs:
            # Cancel, hide at once, and close for real when the threads have stopped (within a step).
            self._close_pending = True
            for job in jobs:
                job.cancel()
            self.hide()
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def _maybe_finish_close(self) -> None:
        if self._close_pending and not [j for j in self._jobs() if not j.finished]:
            QTimer.singleShot(0, self.close)

    def track_job(self, job: Job) -> None:
        """A job started by a panel: closing the window waits for it, as for the window's own."""
        self._jobs_alive.add(job)

    def job_finished(self, job: Job) -> None:
        """A tracked job's thread has ended (a close that was waiting for it goes on)."""
        self._jobs_alive.discard(job)
        self._maybe_finish_close()

    def shutdown(self) -> None:
        """Stop everything the window started and remember its layout (idempotent)."""
        if self.closed:
            return
        for job in self._jobs():
            job.cancel()
        for job in self._jobs():
            job.wait(60000)  # safe from the GUI thread: the worker quits its thread directly
        self.settings.set_layout(self.saveGeometry(), self.splitter.saveState())
        if self.ready:
            self._on_params_changed()
        self.settings.sync()
        if self.camera_dialog is not None:
            self.camera_dialog.panel.shutdown()
        self.tasks.shutdown()
        self.thumbnails.shutdown()
        self.support.changed.disconnect(self._on_support_changed)
        self.board.set_support(None)
        self.closed = True

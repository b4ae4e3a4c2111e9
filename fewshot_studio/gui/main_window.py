"""The studio window, a composition root: the class board in the middle, the model panel (:mod:`.model_panel`)
and the predictions panel beside it, a message bar on top and a status bar below; the menus' work is done by
action objects (:mod:`.projects`, :mod:`.model_files`, :mod:`.classify`, :mod:`.exports`, validation).

The window owns one :class:`~fewshot_studio.core.support.SupportSet`; the model panel owns the current
classifier and says when it changes (``sig_classifier_changed``). Runs and predictions go through one
:class:`~.jobs.Jobs` (QThreads), file work through a thread pool (:mod:`.tasks`), thumbnails another
(:mod:`.thumbnails`): the GUI thread only draws.
"""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QVBoxLayout, QWidget

from .. import __version__
from ..core.support import SupportSet
from . import dialogs, i18n, icons
from .class_board import ClassBoard
from .classify import ClassifyActions
from .docks import place_dock
from .engine_loader import EngineInfo, EngineLoader
from .jobs import Jobs
from .message_bar import MessageBar
from .model_files import ModelFiles
from .model_panel import ModelPanel
from .notices import Notice, error_notice, status_line, unexpected_text
from .prediction_panel import PredictionPanel
from .settings import Settings
from .tasks import TaskRunner
from .thumbnails import ThumbnailCache
from .validation_controller import ValidationController
from .window_menus import WindowMenus

APP_NAME = "Few-shot Studio"
# Leave one core to the GUI: on 2 cores a second torch thread made runs 5-25 times slower under load and the
# window no smoother (benchmarks/GUI_RESULTS.md). Settings (engine/torch_threads) can override it.
DEFAULT_TORCH_THREADS = max(1, (os.cpu_count() or 2) - 1)


class MainWindow(QMainWindow):
    """Few-shot Studio's main window."""

    sig_ready = Signal()  # the engine is loaded: pickers are filled and Adapt is enabled
    sig_support_replaced = Signal()  # a project, the demo or a new empty project replaced the support set
    sig_classifier_changed = Signal(object)  # the current classifier, just adapted or loaded
    sig_progress = Signal(list)  # Progress events of the current run, as the plot received them
    sig_run_finished = Signal(object)  # the new classifier: the run ended normally
    sig_run_cancelled = Signal(object)  # RunCancelled: the run stopped and the previous model is kept
    sig_run_failed = Signal(str)  # the message shown to the user; the previous model is kept
    sig_run_ended = Signal()  # after finished, cancelled or failed, with the run's thread joined
    sig_predictions_done = Signal(int)  # how many images the last classification classified
    sig_project_saved = Signal(str)  # the project file just written
    sig_project_opened = Signal(str)  # a project file is open, with its settings and model (if it had one) restored
    sig_model_saved = Signal(str)  # the model file just written
    sig_model_loaded = Signal(object)  # the classifier read from a model file
    sig_weights_imported = Signal(str)  # the backbone whose weights were imported

    def __init__(self, settings: Settings | None = None, *, torch_threads: int | None = None):
        super().__init__()
        self.settings = settings or Settings()
        self.torch_threads = torch_threads or self.settings.torch_threads or DEFAULT_TORCH_THREADS
        self.support = SupportSet()
        self.meta_window: QMainWindow | None = None  # the meta-training page's window, made on first use
        self.camera_dialog = None  # camera.CameraDialog, made when Take photos... finds a camera
        self.meta_page = None
        self.engine: EngineInfo | None = None
        self.project_path: Path | None = None
        self.project_title = self.tr("Untitled")
        self.is_demo = False  # the support set is the bundled demo
        self._close_pending = False
        self.closed = False
        self._icon_targets: list[tuple[object, str]] = []

        self.setWindowIcon(QIcon(str(icons.icon_path("fewshot-studio"))))
        self.setAcceptDrops(False)
        self.tasks = TaskRunner(self)
        self.jobs = Jobs(self)  # every run and classification, until its thread has ended
        self.jobs.sig_finished.connect(self._maybe_finish_close)
        self._panel_jobs: set = set()  # jobs that the docks started (track_job)
        dpr = max(1.0, QGuiApplication.primaryScreen().devicePixelRatio()) if QGuiApplication.primaryScreen() else 1.0
        self.thumbnails = ThumbnailCache(size=int(96 * dpr), parent=self)
        self.loader = EngineLoader(self)
        self.loader.sig_loaded.connect(self._on_engine_loaded)
        self.loader.sig_failed.connect(self._on_engine_failed)

        self.message_bar = MessageBar()
        self.board = ClassBoard(self.support, self.thumbnails, self.tasks)
        self.board.sig_notify.connect(self.notify)
        self.board.sig_add_images_requested.connect(self.add_images)
        self.board.tray.sig_add_requested.connect(self.add_unlabelled)
        self.board.sig_current_changed.connect(self.update_actions)
        self.model_panel = ModelPanel(self)
        self.backbone_picker = self.model_panel.backbone_picker
        self.method_picker = self.model_panel.method_picker
        self.params_form = self.model_panel.params_form
        self.model_files = ModelFiles(self)  # Save model..., Load model..., Import weights...
        self.classification = ClassifyActions(self)  # Classify images..., Clear results
        mp = self.model_panel
        mp.sig_state_changed.connect(self.update_actions)
        mp.sig_import_weights_requested.connect(self.model_files.import_weights)
        for name in ("sig_classifier_changed", "sig_progress", "sig_run_finished", "sig_run_cancelled",
                     "sig_run_failed", "sig_run_ended"):
            getattr(mp, name).connect(getattr(self, name))
        self.predictions = PredictionPanel(self.thumbnails)
        # Never narrower than its header needs (an explicit minimum would override the layout's and clip it).
        self.predictions.setMinimumWidth(max(300, self.predictions.minimumSizeHint().width()))
        # The model panel scrolls vertically only: room for its contents' minimum and the scroll bar.
        inner, bar = mp.widget(), mp.verticalScrollBar().sizeHint().width()  # the board: its title, "New class"
        mp.setMinimumWidth(max(inner.minimumWidth(), inner.minimumSizeHint().width()) + bar)
        self.predictions.sig_classify_requested.connect(self.classify)
        self.predictions.sig_reclassify_requested.connect(lambda: self.classify(self.predictions.queries))
        self.board.setMinimumWidth(max(240, self.board.canvas.minimumSizeHint().width() + bar))
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
        self.menus = WindowMenus(self)  # the actions (window.act_*), menus and toolbar
        self.board.sig_demo_requested.connect(self.projects.open_demo)
        self.validation = ValidationController(self)  # Model > Validate and compare..., "None of these"
        self.menus.build_status_bar()
        self.support.changed.connect(self._on_support_changed)
        self.sig_classifier_changed.connect(self._camera_model_changed)
        self._restore_layout()
        self.update_title()
        self.update_actions()
        self.model_panel.update_model_label()

    # --- the panels' view of the window --------------------------------------------------------------------
    @property
    def classifier(self):
        """The current classifier (adapted or loaded), or None; ``sig_classifier_changed`` says when it changes."""
        return self.model_panel.classifier

    @property
    def ready(self) -> bool:
        return self.engine is not None

    @property
    def running(self) -> bool:
        return self.model_panel.running

    @property
    def predicting(self) -> bool:
        return self.classification.predicting

    def support_snapshot(self) -> SupportSet:
        """A copy of the support set as it is now (for work off the GUI thread)."""
        return SupportSet(((c.name, list(c.images)) for c in self.support.classes), self.support.unlabelled)

    def start_adapt(self) -> bool:
        return self.model_panel.start_adapt()

    def classify(self, paths: list) -> bool:
        return self.classification.classify(paths)

    def classify_demo_queries(self) -> bool:
        return self.projects.classify_demo_queries()

    # --- building ------------------------------------------------------------------------------------------
    def make_action(self, text: str, slot, shortcut=None, icon: str | None = None, tip: str = "") -> QAction:
        """A window action: its icon follows the theme, its tooltip shows its shortcut."""
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

    def addDockWidget(self, area, dock, *args) -> None:
        """Docks (Label next, the embedding map) open where and at a size that leaves the panels room
        (:func:`.docks.place_dock`)."""
        place_dock(self, area, dock, lambda a: super(MainWindow, self).addDockWidget(a, dock, *args))

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

    # --- the engine ----------------------------------------------------------------------------------------
    def start_engine(self, in_thread: bool = True) -> None:
        """Load pyqtgraph, torch and the registries (call once the window is shown)."""
        if self.engine is None and (self.loader.thread is None or not self.loader.thread.is_alive()):
            self.loader.start(in_thread)

    @Slot(object)
    def _on_engine_loaded(self, info: EngineInfo) -> None:
        if self.closed:
            return
        self.model_panel.set_engine(info)
        self.engine = info
        self.model_panel._on_method_changed(self.method_picker.current())
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
        self.update_actions()
        self.model_panel.update_model_label()
        self.sig_ready.emit()

    @Slot(object, str)
    def _on_engine_failed(self, exc: Exception, text: str) -> None:
        self.engine_label.setText(self.tr("Engine failed to load"))
        self.engine_busy.hide()
        self.notify(Notice("error", self.tr("The engine could not be loaded ({error}). Check that PyTorch is "
                                            "installed: pip install fewshot-studio").format(
                                                error=f"{type(exc).__name__}: {exc}"),
                           details=text))

    # --- messages and state --------------------------------------------------------------------------------
    @Slot(object)
    def notify(self, notice: Notice) -> None:
        self.message_bar.show_message(notice.level, notice.text, details=notice.details, actions=notice.actions)
        self.statusBar().showMessage(status_line(notice.text), 6000)

    def error(self, exc: BaseException, what: str, text: str = "", actions=()) -> str:
        """Show an error in the message bar (see :mod:`.notices`) and return its text."""
        notice = error_notice(exc, text, unexpected_text(what), actions=actions, full_stop=True)
        self.notify(notice)
        return notice.text

    def update_actions(self, *_args) -> None:
        running, ready, model = self.running, self.ready, self.classifier is not None
        self.act_adapt.setEnabled(ready and not running)
        self.act_cancel.setEnabled(running)
        self.act_classify.setEnabled(model)
        self.act_save_model.setEnabled(model)
        self.exports.act_export_onnx.setEnabled(model)
        self.act_load_model.setEnabled(ready)
        self.act_import_weights.setEnabled(ready)
        self.act_clear.setEnabled(bool(self.predictions.predictions) or self.predicting)
        self.act_rename.setEnabled(bool(self.board.current_class))
        self.act_delete_class.setEnabled(bool(self.board.current_class))
        self.model_panel.update_state()

    def _on_support_changed(self) -> None:
        self.setWindowModified(True)
        self.model_panel.update_model_label()
        self.update_actions()

    def update_title(self) -> None:
        self.setWindowTitle(f"{self.project_title}[*] — {APP_NAME}")

    # --- the support set -----------------------------------------------------------------------------------
    def set_support(self, support: SupportSet, title: str, path: Path | None, *, demo: bool = False) -> None:
        """Show another support set (an opened project, the demo, a new project): the previous model, its
        predictions and its run go with the previous support set."""
        self.model_panel.forget_model()
        self.is_demo = demo
        self.support.changed.disconnect(self._on_support_changed)
        self.support = support
        self.support.changed.connect(self._on_support_changed)
        self.board.set_support(support)
        self.project_path = path
        self.project_title = title
        self.update_title()
        self.setWindowModified(False)
        self.model_panel.update_model_label()
        self.update_actions()
        self.sig_support_replaced.emit()

    def add_images(self, target: str | None = None) -> None:
        where = target or self.board.current_class
        paths = dialogs.open_images(self, self.settings.last_dir("images"),
                                    self.tr("Add images to {name}").format(name=where) if where
                                    else self.tr("Add images to a new class"))
        if paths:
            self.settings.set_last_dir("images", paths[0])
            self.board.import_paths(paths, target or self.board.current_class or None)

    def add_unlabelled(self, kind: str = "images") -> None:
        """A file dialog for the unlabelled pool: image files (``kind="images"``) or a folder (all images in it)."""
        add_unlabelled_from_dialog(self, kind)

    def import_folder(self) -> None:
        folder = dialogs.open_folder(self, self.settings.last_dir("folder"),
                                     self.tr("Import a folder with one sub-folder of images per class"))
        if folder:
            self.settings.set_last_dir("folder", folder)
            self.board.import_paths([folder], None)

    def paste(self) -> None:
        self.board.paste(QApplication.clipboard().mimeData())

    # --- help, theme, language ------------------------------------------------------------------------------
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

    # --- the camera, meta-training, the docks ---------------------------------------------------------------
    def show_camera(self) -> bool:
        """The camera window: photos into a class, live classification. Without QtMultimedia or a camera
        the message bar says why and nothing else happens."""
        from .camera import show_camera

        return show_camera(self)

    def _camera_model_changed(self, *_args) -> None:
        if self.camera_dialog is not None:
            self.camera_dialog.panel.update_model()

    def show_meta_training(self) -> None:
        """The meta-training page, in a window of its own (one per studio window)."""
        from .meta_train_page import show_meta_training

        show_meta_training(self)

    def show_label_next(self) -> None:
        """The "Label next" dock (made on first use): rank unlabelled images, drag the top ones into classes."""
        from .label_next_panel import show_label_next

        show_label_next(self)

    def show_embedding_map(self) -> None:
        """The embedding map dock (made on first use), drawn with the current model."""
        from .embedding_map import show_embedding_map

        show_embedding_map(self)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.PaletteChange:
            for target, name in self._icon_targets:
                target.setIcon(icons.icon(name))
            self.update_actions()
        super().changeEvent(event)

    # --- closing -------------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if not self._close_pending and not self.projects.ok_to_discard():
            event.ignore()
            return
        if self.meta_page is not None:  # only once the close is certain: "Cancel" keeps meta-training going
            self.meta_page.shutdown()
        self.validation.shutdown()
        jobs = self._unfinished_jobs()
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

    def _unfinished_jobs(self) -> list:
        return self.jobs.unfinished() + [j for j in self._panel_jobs if not j.finished]

    def _maybe_finish_close(self, *_args) -> None:
        if self._close_pending and not self._unfinished_jobs():
            QTimer.singleShot(0, self.close)

    def track_job(self, job) -> None:
        """A job started by a panel: closing the window waits for it, as for the window's own."""
        self._panel_jobs.add(job)

    def job_finished(self, job) -> None:
        """A tracked job's thread has ended (a close that was waiting for it goes on)."""
        self._panel_jobs.discard(job)
        self._maybe_finish_close()

    def shutdown(self) -> None:
        """Stop everything the window started and remember its layout (idempotent)."""
        if self.closed:
            return
        panel_jobs = list(self._panel_jobs)
        for job in panel_jobs:
            job.cancel()
        self.jobs.shutdown()  # safe from the GUI thread: the worker quits its thread directly
        for job in panel_jobs:
            job.wait(60000)
        self.settings.set_layout(self.saveGeometry(), self.splitter.saveState())
        if self.ready:
            self.model_panel.save_params()
        self.settings.sync()
        if self.camera_dialog is not None:
            self.camera_dialog.panel.shutdown()
        self.tasks.shutdown()
        self.thumbnails.shutdown()
        self.support.changed.disconnect(self._on_support_changed)
        self.board.set_support(None)
        self.closed = True


def add_unlabelled_from_dialog(window: MainWindow, kind: str) -> None:
    start = window.settings.last_dir("unlabelled")
    if kind == "folder":
        picked = dialogs.open_folder(window, start, QCoreApplication.translate("MainWindow",
                                                                               "Add a folder of unlabelled images"))
        paths = [picked] if picked else []
    else:
        paths = dialogs.open_images(window, start, QCoreApplication.translate("MainWindow", "Add unlabelled images"))
    if paths:
        window.settings.set_last_dir("unlabelled", paths[0])
        window.board.tray.import_paths(paths)

"""The window's actions, menus, toolbar and status bar, built once for a :class:`~.main_window.MainWindow`.

The actions stay on the window (``window.act_adapt``, ``window.act_save``...), where the rest of the window
and the tests find them; what they do lives in the window and its action objects.
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QProgressBar, QToolBar

from .exports import ExportActions
from .i18n import LANGUAGES
from .projects import ProjectActions
from .sort_dialog import show_sort_dialog


class WindowMenus(QObject):
    """Builds the window's actions and menus (at once) and its status bar (:meth:`build_status_bar`)."""

    def __init__(self, window):
        super().__init__(window)
        self._window = weakref.ref(window)  # the window owns this object: no reference cycle back
        w = window
        A = w.make_action
        K = QKeySequence.StandardKey
        w.projects = ProjectActions(w)  # New, Open, Save, Save as, Open recent, the demo
        p = w.projects
        w.act_new, w.act_open, w.act_save, w.act_save_as, w.act_demo = (
            p.act_new, p.act_open, p.act_save, p.act_save_as, p.act_demo)
        w.act_import_folder = A(self.tr("&Import class folders..."), w.import_folder, "Ctrl+Shift+I", "folder",
                                self.tr("A folder with one sub-folder of images per class"))
        w.act_quit = A(self.tr("&Quit"), w.close, K.Quit, None, self.tr("Close the studio"))

        w.act_new_class = A(self.tr("&New class"), lambda: w.board.add_class(), "Ctrl+Shift+N", "add-class",
                            self.tr("Add an empty class"))
        w.act_add_images = A(self.tr("&Add images..."), lambda: w.add_images(), "Ctrl+I", "add-images",
                             self.tr("Add image files to the current class"))
        w.act_add_unlabelled = A(self.tr("Add &unlabelled images..."), lambda: w.add_unlabelled("images"), None,
                                 "add-images", self.tr("Add images of the domain you will classify, without a "
                                                       "class (domain adaptation and transductive methods use them)"))
        w.act_add_unlabelled_folder = A(self.tr("Add a &folder of unlabelled images..."),
                                        lambda: w.add_unlabelled("folder"), None, "folder",
                                        self.tr("Add every image in a folder to the unlabelled images"))
        w.act_paste = A(self.tr("&Paste image"), w.paste, K.Paste, "paste",
                        self.tr("Paste an image or image files from the clipboard into the current class"))
        w.act_camera = A(self.tr("Take p&hotos..."), w.show_camera, "Ctrl+Shift+C", "camera",
                         self.tr("Take photos with a webcam into a class, and classify what it sees live"))
        w.act_remove = A(self.tr("&Remove selected images"), w.board.remove_selected,
                         QKeySequence.StandardKey.Delete, "delete",
                         self.tr("Remove the selected images from their classes (the files stay on disk)"))
        w.act_rename = A(self.tr("Re&name class"), w.board.rename_current, "F2", "rename",
                         self.tr("Rename the current class"))
        w.act_delete_class = A(self.tr("&Delete class"), w.board.delete_current, "Ctrl+Backspace", None,
                               self.tr("Delete the current class (Undo brings it back)"))

        w.act_import_weights = A(
            self.tr("&Import weights..."), lambda: w.model_files.import_weights(), None, "import-weights",
            self.tr("Use a weights file you have for the selected backbone (.safetensors, .pth)"))
        w.act_clear_feature_cache = A(
            self.tr("&Clear feature cache..."), lambda: w.model_files.clear_feature_cache(), None, None,
            self.tr("Forget the image features the studio keeps on disk (shows how much they take)"))

        w.act_adapt = A(self.tr("&Adapt"), w.model_panel.start_adapt, ["Ctrl+Return", "Ctrl+Enter"], "adapt",
                        self.tr("Fit the method to the support set"))
        w.act_cancel = A(self.tr("&Cancel run"), w.model_panel.cancel_adapt, "Esc", "cancel",
                         self.tr("Stop after the current step and keep the previous model"))
        w.act_classify = A(self.tr("&Classify images..."), w.classification.choose_and_classify, "Ctrl+K", "classify",
                           self.tr("Classify image files or a folder with the current model"))
        w.act_clear = A(self.tr("C&lear results"), w.classification.clear_results, "Ctrl+L", "clear",
                        self.tr("Remove every prediction shown"))
        w.act_save_model = A(
            self.tr("&Save model..."), w.model_files.save_model, "Ctrl+Alt+S", "model-save",
            self.tr("Save the adapted model (.safetensors) to use it later or with the command line"))
        w.act_load_model = A(self.tr("&Load model..."), w.model_files.load_model, "Ctrl+Alt+O", "model-open",
                             self.tr("Load a model saved by the studio or the command line"))
        w.act_meta_train = A(self.tr("&Meta-train..."), w.show_meta_training, "Ctrl+Shift+M", None,
                             self.tr("Meta-train a method on a base dataset; the result becomes a backbone"))
        w.act_shortcuts = A(self.tr("&Keyboard shortcuts"), w.show_shortcuts, K.HelpContents, "keyboard")
        w.act_about = A(self.tr("&About Few-shot Studio"), w.show_about, None, "help")
        w.predictions.set_actions(w.act_classify, w.act_clear)

        bar = w.menuBar()
        m = bar.addMenu(self.tr("&File"))
        m.addActions([w.act_new, w.act_open])
        w.recent_menu = m.addMenu(self.tr("Open &recent"))
        w.projects.attach_recent_menu(w.recent_menu)
        m.addActions([w.act_save, w.act_save_as])
        m.addSeparator()
        m.addActions([w.act_demo, w.act_import_folder])
        w.exports = ExportActions(w)  # Export model to ONNX..., Export support set as folder...
        m.addActions([w.exports.act_export_support, w.exports.act_export_onnx])
        w.act_sort_folder = A(self.tr("Sor&t a folder..."), lambda: show_sort_dialog(w), None, None,
                              self.tr("Put new images into one folder per class with the current model"))
        m.addAction(w.act_sort_folder)
        m.addSeparator()
        m.addAction(w.act_quit)
        m = bar.addMenu(self.tr("&Edit"))
        m.addActions([w.act_new_class, w.act_add_images, w.act_paste, w.act_camera])
        m.addSeparator()
        m.addActions([w.act_add_unlabelled, w.act_add_unlabelled_folder])
        m.addSeparator()
        m.addActions([w.act_rename, w.act_remove, w.act_delete_class])
        m = bar.addMenu(self.tr("&Backbone"))
        m.addAction(w.act_import_weights)
        m.addAction(w.act_clear_feature_cache)
        m = bar.addMenu(self.tr("&Model"))
        m.addActions([w.act_adapt, w.act_cancel])
        m.addSeparator()
        m.addActions([w.act_classify, w.act_clear])
        m.addSeparator()
        m.addActions([w.act_save_model, w.act_load_model])
        m.addSeparator()
        m.addAction(w.act_meta_train)
        w.act_label_next = A(self.tr("&Label next..."), w.show_label_next, None, None,
                             self.tr("Rank unlabelled images by how much labelling each would help; drag the "
                                     "top ones onto class cards"))
        m.addAction(w.act_label_next)
        w.view_menu = bar.addMenu(self.tr("&View"))
        theme_menu = w.view_menu.addMenu(self.tr("&Theme"))
        group = QActionGroup(w)
        w.theme_actions = {}
        for mode, label in (("system", self.tr("Follow the &system")), ("light", self.tr("&Light")),
                            ("dark", self.tr("&Dark"))):
            action = theme_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(mode == w.settings.theme)
            action.triggered.connect(lambda _=False, m=mode: w.set_theme(m))
            group.addAction(action)
            w.theme_actions[mode] = action
        language_menu = w.view_menu.addMenu(self.tr("&Language"))
        group = QActionGroup(w)
        w.language_actions = {}
        # Each language under its own name, in every language (i18n.LANGUAGES).
        for code, label in (("system", self.tr("Follow the &system")), *LANGUAGES.items()):
            action = language_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(code == w.settings.language)
            action.triggered.connect(lambda _=False, c=code: w.set_language(c))
            group.addAction(action)
            w.language_actions[code] = action
        w.view_menu.addSeparator()
        for widget, label in ((w.model_panel, self.tr("&Model panel")),
                              (w.predictions, self.tr("&Predictions panel"))):
            action = w.view_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(widget.setVisible)
        m = bar.addMenu(self.tr("&Help"))
        m.addActions([w.act_shortcuts, w.act_about])

        tb = QToolBar(self.tr("Main toolbar"))
        tb.setObjectName("MainToolbar")
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tb.addActions([w.act_open, w.act_save])
        tb.addSeparator()
        tb.addActions([w.act_new_class, w.act_add_images, w.act_paste, w.act_import_folder])
        tb.addSeparator()
        tb.addActions([w.act_adapt, w.act_cancel])
        tb.addSeparator()
        tb.addActions([w.act_classify, w.act_clear])
        tb.addSeparator()
        tb.addAction(w.act_demo)
        w.addToolBar(tb)
        w.toolbar = tb
        w.view_menu.addAction(tb.toggleViewAction())
        w.act_embedding_map = A(self.tr("&Embedding map"), w.show_embedding_map, None, None,
                                self.tr("Support and query images as points in 2-D, coloured by class"))
        w.view_menu.addAction(w.act_embedding_map)

    def build_status_bar(self) -> None:
        w = self.window
        bar = w.statusBar()
        w.engine_label = QLabel(self.tr("Loading PyTorch..."))
        w.engine_busy = QProgressBar()
        w.engine_busy.setRange(0, 0)
        w.engine_busy.setMaximumWidth(90)
        w.engine_busy.setMaximumHeight(12)
        w.engine_busy.setTextVisible(False)
        w.device_label = QLabel()
        w.device_label.setToolTip(self.tr("Where adaptation and prediction run"))
        w.device_icon = QLabel()
        bar.addPermanentWidget(w.engine_label)
        bar.addPermanentWidget(w.engine_busy)
        bar.addPermanentWidget(w.device_icon)
        bar.addPermanentWidget(w.device_label)
        bar.showMessage(self.tr("Drop a folder of class sub-folders on the board, or open the demo project "
                                "(Ctrl+Shift+D)."))

    @property
    def window(self):
        return self._window()

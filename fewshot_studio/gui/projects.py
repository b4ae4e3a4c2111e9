"""File > New project, Open project..., Open recent, Save project, Save project as... and Open demo project: the
window's projects, like :class:`~.exports.ExportActions`. Files are read and written in the window's task pool.

A project keeps its adapted model: saving writes the model panel's classifier into the file, opening restores it
("Model ready" when the support set is unchanged, "adapt again" when it has changed)."""

from __future__ import annotations

import os
import weakref
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QKeySequence

from ..core.errors import FewShotError
from ..core.fingerprint import support_fingerprint
from ..core.project import SUFFIX as PROJECT_SUFFIX
from ..core.project import open_project as read_project
from ..core.project import save_project as write_project
from ..core.support import SupportSet
from . import dialogs
from .model_panel import CHANGED
from .notices import Notice, skipped_notice


class ProjectActions(QObject):
    """The project actions of a :class:`~.main_window.MainWindow` (which keeps the project's path and title)."""

    def __init__(self, window):
        super().__init__(window)
        self._window = weakref.ref(window)  # the window owns this object: no reference cycle back
        A, K = window.make_action, QKeySequence.StandardKey
        self.act_new = A(self.tr("&New project"), self.new_project, K.New, "new", self.tr("Start an empty project"))
        self.act_open = A(self.tr("&Open project..."), self.open_project, K.Open, "open",
                          self.tr("Open a .fsproj project file"))
        self.act_save = A(self.tr("&Save project"), self.save_project, K.Save, "save",
                          self.tr("Save the classes and their images in one project file"))
        self.act_save_as = A(self.tr("Save project &as..."), self.save_project_as, "Ctrl+Shift+S", None,
                             self.tr("Save the project under a new name"))
        self.act_demo = A(self.tr("Open &demo project"), self.open_demo, "Ctrl+Shift+D", "demo",
                          self.tr("Five Fashion-MNIST classes with five images each, and query images to classify"))
        self.recent_menu = None  # File > Open recent, filled each time it opens (see attach_recent_menu)

    @property
    def window(self):
        return self._window()

    def attach_recent_menu(self, menu) -> None:
        self.recent_menu = menu
        menu.aboutToShow.connect(self.fill_recent_menu)

    def ok_to_discard(self) -> bool:
        w = self.window
        if not w.isWindowModified() or not w.support.n_images:
            return True
        answer = dialogs.ask_save_changes(w, w.project_title)
        if answer == "save":
            return self.save_now()
        return answer == "discard"

    def save_now(self) -> bool:
        """Save in the GUI thread (used when closing: the window must not go before the file is written)."""
        w = self.window
        path = w.project_path or self._ask_project_path()
        if not path:
            return False
        model = w.model_panel.project_model()
        try:
            write_project(w.support_snapshot(), path, w.model_panel.project_settings(), **model)
        except FewShotError as exc:
            w.error(exc, self.tr("Saving the project"))
            return False
        self._project_saved(Path(path), model)
        return True

    def new_project(self) -> None:
        if self.ok_to_discard():
            self.window.set_support(SupportSet(), self.tr("Untitled"), None)

    def open_project(self, path: str | None = None) -> None:
        if not self.ok_to_discard():
            return
        w = self.window
        if path is None:
            path = dialogs.open_project(w, w.settings.last_dir("projects"))
            if not path:
                return
        path = Path(path)
        w.settings.set_last_dir("projects", path)
        w.statusBar().showMessage(self.tr("Opening {name}...").format(name=path.name))
        w.tasks.submit(read_project, path, on_done=self._project_opened,
                       on_failed=lambda exc, text: self.window.error(exc, self.tr("Opening the project"), text))

    def _project_opened(self, project) -> None:
        w = self.window
        w.set_support(project.support, project.path.stem, project.path)  # the previous model goes
        pool = project.model is None or project.model.unlabelled  # the pool counts if the model uses it
        opened_as = support_fingerprint(project.support, pool=pool)  # before any edit: "current" means this
        w.settings.add_recent(project.path)
        n = project.support.n_images
        if project.skipped:
            w.notify(skipped_notice(project.skipped, n))
        elif project.model_problem:
            w.notify(Notice("warning", project.model_problem[:1].upper() + project.model_problem[1:] + "."))
        elif project.model is None:
            w.notify(Notice("success", self.tr("Opened {file}: {k} classes, {n} images.").format(
                file=project.path.name, k=len(project.support), n=n)))
        self._when_ready(lambda: self._restore(project, opened_as))

    def _when_ready(self, callback) -> None:
        """``callback()`` now if the engine is loaded, else once it is (settings and models need it)."""
        w = self.window
        if w.ready:
            callback()
            return

        def once() -> None:
            self.window.sig_ready.disconnect(once)
            callback()

        w.sig_ready.connect(once)

    def _restore(self, project, opened_as: str) -> None:
        w = self.window
        if w.support is not project.support:
            return  # another project (or a new one) came first
        w.model_panel.apply_project_settings(project.settings)
        if project.model is None:
            w.sig_project_opened.emit(str(project.path))
            return
        w.statusBar().showMessage(self.tr("Loading the project's model..."))
        w.tasks.submit(project.load_model, on_done=lambda clf: self._model_restored(project, opened_as, clf),
                       on_failed=lambda exc, text: self._model_failed(project, exc, text))

    def _model_restored(self, project, opened_as: str, classifier) -> None:
        w = self.window
        if w.support is not project.support:
            return
        model = project.model
        adapted_on = {"current": opened_as, "changed": CHANGED}.get(model.status)
        state = model.state if model.state.get("kind") in ("adapted", "loaded") else {
            "kind": "loaded", "file": project.path.name, "method": classifier.method.name,
            "backbone": classifier.spec.name, "class_names": list(classifier.class_names)}
        w.model_panel.set_classifier(classifier, state, adapted_on)
        w.update_actions()
        w.model_panel.update_model_label()
        w.statusBar().clearMessage()
        if not project.skipped:
            k, n = len(project.support), project.support.n_images
            if model.status == "changed":
                w.notify(Notice("warning", self.tr("Opened {file}: {k} classes, {n} images. The support set changed "
                                                   "since this model was adapted: adapt again to include the "
                                                   "changes.").format(file=project.path.name, k=k, n=n)))
            else:
                w.notify(Notice("success", self.tr("Opened {file}: {k} classes, {n} images, and its model: drop "
                                                   "images on the Predictions panel to classify them.").format(
                                                       file=project.path.name, k=k, n=n)))
        w.sig_project_opened.emit(str(project.path))

    def _model_failed(self, project, exc: Exception, text: str) -> None:
        w = self.window
        if w.support is project.support:
            w.error(exc, self.tr("Opening the project's model"), text)
            w.sig_project_opened.emit(str(project.path))

    def _ask_project_path(self) -> str:
        w = self.window
        suggested = w.project_path or Path(w.settings.last_dir("projects")) / f"{w.project_title}{PROJECT_SUFFIX}"
        return dialogs.save_project(w, str(suggested))

    def save_project(self, path: str | None = None) -> None:
        w = self.window
        path = path or w.project_path or self._ask_project_path()
        if not path:
            return
        path = Path(path)
        model = w.model_panel.project_model()
        w.statusBar().showMessage(self.tr("Saving {name}...").format(name=path.name))
        w.tasks.submit(partial(write_project, **model), w.support_snapshot(), path, w.model_panel.project_settings(),
                       on_done=lambda saved: self._project_saved(saved, model),
                       on_failed=lambda exc, text: self.window.error(exc, self.tr("Saving the project"), text))

    def save_project_as(self) -> None:
        path = self._ask_project_path()
        if path:
            self.save_project(path)

    def _project_saved(self, path: Path, model: dict) -> None:
        w = self.window
        w.project_path = Path(path)
        w.project_title = Path(path).stem
        w.is_demo = False
        w.settings.add_recent(path)
        w.settings.set_last_dir("projects", path)
        w.update_title()
        w.setWindowModified(False)
        if not model:
            text = self.tr("Saved {path} (no model: adapt to include one).")
        elif model["up_to_date"] is False:
            text = self.tr("Saved {path}, with a model that is out of date: adapt again to update it.")
        else:
            text = self.tr("Saved {path}, with its model.")
        w.statusBar().showMessage(text.format(path=path), 8000)
        w.sig_project_saved.emit(str(path))

    def fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.window.settings.recent_projects()
        for i, path in enumerate(recent):
            action = menu.addAction(f"&{i + 1} {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_project(p))
        if not recent:
            menu.addAction(self.tr("No recent projects")).setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction(self.tr("Clear the list")).triggered.connect(self.window.settings.clear_recent)

    def open_demo(self) -> None:
        if not self.ok_to_discard():
            return
        from ..core.demo import demo_support_dir

        w = self.window
        w.statusBar().showMessage(self.tr("Opening the demo..."))
        w.tasks.submit(SupportSet.from_folder, demo_support_dir(), on_done=self._demo_opened,
                       on_failed=lambda exc, text: self.window.error(exc, self.tr("Opening the demo"), text))

    def _demo_opened(self, result) -> None:
        support, _skipped = result
        w = self.window
        w.set_support(support, self.tr("Demo"), None, demo=True)
        w.notify(Notice("info", self.tr("The demo: {k} Fashion-MNIST classes, {n} images. Press Adapt, then "
                                        "classify the demo's query images.").format(k=len(support), n=support.n_images),
                        actions=[(self.tr("Adapt"), w.start_adapt)]))

    def classify_demo_queries(self) -> bool:
        from ..core.demo import demo_query_dir

        w = self.window
        w.message_bar.dismiss()
        return w.classify([demo_query_dir()])

    def open_path(self, path: str | os.PathLike) -> None:
        """Open what was given on the command line: a project file or a folder of classes."""
        path = Path(path)
        w = self.window
        if path.is_file() and path.suffix.lower() == PROJECT_SUFFIX:
            self.open_project(str(path))
        elif path.exists():
            w.board.import_paths([path], None)
        else:
            w.notify(Notice("error", self.tr("{path}: not found; give a project file (.fsproj) or a folder of "
                                             "classes.").format(path=path)))

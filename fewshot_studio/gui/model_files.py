"""Model > Save model..., Model > Load model..., Backbone > Import weights... and a meta-trained checkpoint that
becomes a backbone: the files behind the model panel. The work runs in the window's task pool."""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject, Slot

from . import dialogs
from .engine_loader import backbone_info
from .model_panel import MSG_LOADING, MSG_NO_MODEL, window_tr
from .notices import Notice


class ModelFiles(QObject):
    """Saving and loading classifiers and importing backbone weights for a :class:`~.main_window.MainWindow`."""

    def __init__(self, window):
        super().__init__(window)
        self._window = weakref.ref(window)  # the window owns this object: no reference cycle back

    @property
    def window(self):
        return self._window()

    def save_model(self, path: str | None = None) -> None:
        w = self.window
        if w.classifier is None:
            w.notify(Notice("info", window_tr(MSG_NO_MODEL)))
            return
        if path is None:
            suggested = Path(w.settings.last_dir("models")) / f"{w.project_title.replace(' ', '_')}.safetensors"
            path = dialogs.save_model(w, str(suggested))
            if not path:
                return
        w.settings.set_last_dir("models", path)
        w.tasks.submit(w.classifier.save, Path(path), on_done=self._model_saved,
                       on_failed=lambda exc, text: self.window.error(exc, self.tr("Saving the model"), text))

    def _model_saved(self, path: Path) -> None:
        self.window.notify(Notice("success", self.tr("Saved the model to {path}. Use it with: fewshot-studio predict "
                                                     "{path} IMAGES").format(path=path)))
        self.window.sig_model_saved.emit(str(path))

    def load_model(self, path: str | None = None) -> None:
        w = self.window
        if not w.ready:
            w.notify(Notice("info", window_tr(MSG_LOADING)))
            return
        if path is None:
            path = dialogs.open_model(w, w.settings.last_dir("models"))
            if not path:
                return
        w.settings.set_last_dir("models", path)
        from ..core.classifier import FewShotClassifier

        w.statusBar().showMessage(self.tr("Loading {name}...").format(name=Path(path).name))
        w.tasks.submit(FewShotClassifier.load, Path(path), on_done=lambda clf: self._model_loaded(clf, Path(path)),
                       on_failed=lambda exc, text: self.window.error(exc, self.tr("Loading the model"), text))

    def _model_loaded(self, classifier, path: Path) -> None:
        w = self.window
        meta = getattr(classifier, "meta", {})
        method = meta.get("method", {}).get("name", classifier.method.name)
        state = {"kind": "loaded", "file": path.name, "method": method, "backbone": classifier.spec.name,
                 "class_names": list(classifier.class_names)}
        w.model_panel.set_classifier(classifier, state, None)
        w.update_actions()
        w.model_panel.update_model_label()
        w.notify(Notice("success", self.tr("Loaded the model {file} ({n} classes).").format(
            file=path.name, n=len(classifier.class_names))))
        w.sig_model_loaded.emit(classifier)

    def import_weights(self, backbone: str | None = None) -> None:
        w = self.window
        backbone = backbone or w.model_panel.backbone_picker.current()
        if not w.ready or not backbone:
            w.notify(Notice("info", window_tr(MSG_LOADING)))
            return
        path = dialogs.open_weights(w, w.settings.last_dir("weights"), backbone)
        if not path:
            return
        w.settings.set_last_dir("weights", path)
        from ..core.backbones import get_backbone, import_weights

        def work():
            target = import_weights(backbone, path)
            return target, backbone_info(get_backbone(backbone))

        def done(result) -> None:
            target, info = result
            self.window.model_panel.backbone_picker.set_status(info)
            self.window.notify(Notice("success", self.tr("Imported weights for {backbone}; the studio keeps a copy "
                                                         "at {path}.").format(backbone=backbone, path=target)))
            self.window.sig_weights_imported.emit(backbone)

        w.statusBar().showMessage(self.tr("Checking the weights for {backbone}...").format(backbone=backbone))
        w.tasks.submit(work, on_done=done,
                       on_failed=lambda exc, text: self.window.error(exc, self.tr("Importing weights"), text))

    def clear_feature_cache(self) -> None:
        """Backbone > Clear feature cache...: shows its size, asks, then empties it (in memory and on disk)."""
        w = self.window
        from ..core.feature_store import feature_store

        info = feature_store().info()
        if not dialogs.confirm_clear_feature_cache(w, info.entries, info.bytes / 2**20):
            return

        def work():
            from ..core.backbones.cache import clear_feature_cache

            clear_feature_cache()
            return info.entries

        def done(entries) -> None:
            self.window.notify(Notice("success", self.tr("Cleared the feature cache ({n} images).").format(n=entries)))

        w.tasks.submit(work, on_done=done,
                       on_failed=lambda exc, text: self.window.error(exc, self.tr("Clearing the feature cache"), text))

    @Slot(str)
    def on_checkpoint_saved(self, path: str) -> None:
        """A meta-trained checkpoint was written: it joins the backbone picker."""
        from ..core.backbones import get_backbone, rescan_checkpoints
        rescan_checkpoints()
        name = Path(path).stem
        w = self.window
        if w.engine is not None and name not in w.model_panel.backbone_picker.names():
            w.model_panel.add_backbone(backbone_info(get_backbone(name)))

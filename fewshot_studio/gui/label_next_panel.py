"""The "Label next" panel: unlabelled images ranked by how much a label for each would help the model.

Choose a folder, press Rank: the images are embedded off the GUI thread (:class:`~..core.label_next.RankRun`
in a :class:`~.worker.Job`) and listed most uncertain first, with the model's current guess. Drag the top
ones onto a class card: the drag carries the board's own MIME format (:func:`~.drag_data.images_mime`),
so the card adds the files to its class exactly as for files dropped from a file manager. The list is a
view of the support set too: an image leaves it as soon as it belongs to a class.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal, Slot
from PySide6.QtGui import QDrag, QIcon
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDockWidget, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from . import dialogs, icons
from .drag_data import images_mime
from .jobs import Jobs
from .notices import Notice, error_notice, skipped_notice
from .thumbnails import ThumbnailCache
from .worker import Job

DRAG_SOURCE = ""  # the "class" a drag from this list comes from: none (class names are never empty)
ICON = 64
DIVERSITY_ON = 0.3  # the engine's default (core.label_next.DEFAULT_DIVERSITY)


def _key(path: str | os.PathLike) -> str:
    return os.path.normcase(os.path.abspath(str(path)))


class RankedList(QListWidget):
    """Ranked images, best to label first; dragging the selected ones carries them to a class card."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setIconSize(QSize(ICON, ICON))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)

    def paths(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def selected_paths(self) -> list[Path]:
        return [Path(item.data(Qt.ItemDataRole.UserRole)) for item in self.selectedItems()]

    def drag_mime(self, paths: list[Path]):
        """What a drag of ``paths`` carries: the board's image MIME data and the files' URLs."""
        return images_mime(DRAG_SOURCE, paths)

    def startDrag(self, actions) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        drag = QDrag(self)
        drag.setMimeData(self.drag_mime(paths))
        drag.setPixmap(self.selectedItems()[0].icon().pixmap(QSize(48, 48)))
        drag.exec(Qt.DropAction.CopyAction | Qt.DropAction.MoveAction, Qt.DropAction.CopyAction)
        # Nothing else: a drop on a card adds the images to the support set, whose signal prunes this list.


class LabelNextPanel(QWidget):
    """Rank a folder of unlabelled images for the current model; drag the top ones into classes."""

    sig_ranked = Signal(object)  # the core Ranking now listed, after a run ended normally
    sig_notify = Signal(object)  # a Notice for the window's message bar
    sig_job_started = Signal(object)  # a Job the window must wait for before it closes
    sig_job_done = Signal(object)  # that Job's thread has finished

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None, torch_threads: int = 1):
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.torch_threads = torch_threads
        self.classifier = None
        self.support = None
        self.folder: Path | None = None
        self.ranking = None
        self.job: Job | None = None
        self.jobs = Jobs(self)
        self.jobs.sig_started.connect(self.sig_job_started)
        self._items: dict[str, QListWidgetItem] = {}

        self.folder_button = QPushButton(icons.icon("folder"), self.tr("Choose folder..."))
        self.folder_button.setToolTip(self.tr("A folder of images that are not labelled yet (sub-folders too)"))
        self.folder_button.clicked.connect(lambda: self.choose_folder())
        self.folder_label = QLabel(self.tr("No folder chosen."))
        self.folder_label.setWordWrap(True)
        self.by_combo = QComboBox()
        self.by_combo.addItem(self.tr("Margin (top two classes)"), "margin")
        self.by_combo.setItemData(0, self.tr("How close the two likeliest classes are: the images the model is "
                                             "torn between two classes on come first (recommended)"),
                                  Qt.ItemDataRole.ToolTipRole)
        self.by_combo.addItem(self.tr("Entropy (all classes)"), "entropy")
        self.by_combo.setItemData(1, self.tr("How spread the probabilities are over every class: images unlike "
                                             "any class come first"), Qt.ItemDataRole.ToolTipRole)
        self.by_combo.setToolTip(self.tr("How uncertainty is measured"))
        self.diverse_box = QCheckBox(self.tr("Spread out near-duplicates"))
        self.diverse_box.setChecked(True)
        self.diverse_box.setToolTip(self.tr("Move images that look almost the same as one listed above them "
                                            "further down, so the top of the list covers more ground"))
        self.top_spin = QSpinBox()
        self.top_spin.setRange(0, 100000)
        self.top_spin.setValue(50)
        self.top_spin.setSpecialValueText(self.tr("all"))
        self.top_spin.setPrefix(self.tr("show "))
        self.top_spin.setToolTip(self.tr("How many of the ranked images to list (0: all)"))
        self.rank_button = QPushButton(icons.icon("adapt"), self.tr("Rank"))
        self.rank_button.setToolTip(self.tr("Rank the folder's images with the current model"))
        self.rank_button.clicked.connect(self._rank_or_cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.order_label = QLabel()  # how the list below is ordered (shown with a ranking)
        self.order_label.setWordWrap(True)
        self.order_label.hide()
        self.list = RankedList(self)

        options = QHBoxLayout()
        options.addWidget(self.by_combo, 1)
        options.addWidget(self.top_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.rank_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(buttons)
        layout.addWidget(self.folder_label)
        layout.addLayout(options)
        layout.addWidget(self.diverse_box)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.order_label)
        layout.addWidget(self.list, 1)
        thumbnails.sig_ready.connect(self._on_thumbnail)
        self._update()

    # --- what it is a view of ------------------------------------------------------------------------------
    def set_classifier(self, classifier) -> None:
        stale = self.classifier is not None and classifier is not self.classifier and self.list.count()
        self.classifier = classifier
        self._update()
        if stale:
            self.status.setText(self.tr("The model changed since this ranking: press Rank to rank again "
                                        "with what it has learnt."))

    def set_support(self, support) -> None:
        if self.support is not None:
            self.support.changed.disconnect(self._prune)
        self.support = support
        if support is not None:
            support.changed.connect(self._prune)
        self._prune()

    def _labelled(self) -> set[str]:
        if self.support is None:
            return set()
        return {_key(p) for c in self.support.classes for p in c.images}

    @Slot()
    def _prune(self) -> None:
        """Take out the images that now belong to a class."""
        labelled = self._labelled()
        gone = [key for key in self._items if key in labelled]
        for key in gone:
            item = self._items.pop(key)
            self.list.takeItem(self.list.row(item))
        if gone:
            n = len(gone)
            self.status.setText(self.tr("{n} labelled; {left} left in the list. Adapt again, then Rank, to see "
                                        "what the model still hesitates on.").format(n=n, left=self.list.count()))

    # --- ranking -------------------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = dialogs.open_folder(self, str(self.folder or Path.home()), self.tr("Unlabelled images"))
        if folder:
            self.set_folder(folder)
            self.rank()

    def set_folder(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.folder_label.setText(str(self.folder))
        self.folder_label.setToolTip(str(self.folder))
        self._update()

    @property
    def running(self) -> bool:
        return self.job is not None

    def _rank_or_cancel(self) -> None:
        if self.running:
            self.cancel()
        elif self.folder is None:
            self.choose_folder()
        else:
            self.rank()

    def rank(self, folder: str | os.PathLike | None = None) -> bool:
        """Rank the images of ``folder`` (or the chosen one) off the GUI thread."""
        if folder is not None:
            self.set_folder(folder)
        if self.running or self.folder is None:
            return False
        if self.classifier is None:
            self.sig_notify.emit(Notice("info", self.tr("There is no model yet: adapt one (Ctrl+Enter) or load "
                                                        "one, then rank the unlabelled images.")))
            return False
        from ..core.errors import FewShotError
        from ..core.label_next import RankRun

        try:
            run = RankRun(self.classifier, [self.folder], by=self.by_combo.currentData(),
                          diversity=DIVERSITY_ON if self.diverse_box.isChecked() else 0.0)
        except FewShotError as exc:
            self.sig_notify.emit(error_notice(exc, "", self.tr("Ranking failed unexpectedly ({error}).")))
            return False
        self.job = self.jobs.start_run(run, "label-next", threads=self.torch_threads, cancel_run=False,
                                       on_events=self._on_events, on_returned=self._on_returned,
                                       on_failed=self._on_failed, on_done=self._on_done)
        self.progress.setRange(0, 0)
        self.progress.setFormat(self.tr("Starting..."))
        self.status.setText("")
        self._update()
        return True

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress.setFormat(self.tr("Cancelling..."))

    @Slot(list)
    def _on_events(self, events: list) -> None:
        stage = events[-1]
        if stage.total > 1:
            self.progress.setRange(0, stage.total)
            self.progress.setValue(stage.done)
            self.progress.setFormat(self.tr("Looking at the images ({done}/{total})").format(
                done=stage.done, total=stage.total) if stage.name == "embedding images" else self.tr("Ranking..."))

    @Slot(object)
    def _on_returned(self, ranking) -> None:
        if ranking is None:  # cancelled
            return
        self.show_ranking(ranking)
        self.sig_ranked.emit(ranking)

    @Slot(object, str)
    def _on_failed(self, exc: Exception, text: str) -> None:
        notice = error_notice(exc, text, self.tr("Ranking failed unexpectedly ({error})."))
        self.status.setText(notice.text)
        self.sig_notify.emit(notice)

    def _on_done(self, job) -> None:
        self.job = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.ranking is not None else 0)
        self.progress.setFormat("")
        self._update()
        self.sig_job_done.emit(job)

    def show_ranking(self, ranking) -> None:
        """List the first N images of a core Ranking (those already in a class are left out)."""
        self.ranking = ranking
        self.list.clear()
        self._items.clear()
        labelled = self._labelled()
        limit = self.top_spin.value() or None
        lowest_above = float("inf")  # the least uncertain image ranked above this one
        for item in ranking.items:
            moved_down = lowest_above < item.score  # listed below a less uncertain image: variety moved it
            lowest_above = min(lowest_above, item.score)
            key = _key(item.path)
            if key in labelled:
                continue
            if limit is not None and len(self._items) >= limit:
                break
            self._items[key] = self._make_item(item, moved_down)
            self.list.addItem(self._items[key])
        self.order_label.setText(
            self.tr("Ordered by uncertainty and variety: similar images are spread out, so an image much like one "
                    "above it moves down (marked ↓).") if ranking.diversity > 0 else
            self.tr("Ordered by uncertainty alone: the most uncertain first."))
        self.order_label.show()
        n = len(ranking.items)
        by = self.tr("margin") if ranking.by == "margin" else self.tr("entropy")
        self.status.setText(self.tr("{n} images ranked by {by}; the top {shown} are listed. Drag the first ones "
                                    "onto a class card to label them.").format(n=n, by=by, shown=self.list.count()))
        if ranking.skipped:
            self.sig_notify.emit(skipped_notice(ranking.skipped, 0))

    def _make_item(self, ranked, moved_down: bool = False) -> QListWidgetItem:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, ranked.path)
        others = ", ".join(f"{c} {s:.0%}" for c, s in ranked.top_k[1:])
        first, rest = self.tr("#{rank}  uncertainty {score:.2f}\nguess: {label} {confidence:.0%}\n{name}").format(
            rank=ranked.rank, score=ranked.score, label=ranked.label, confidence=ranked.confidence,
            name=Path(ranked.path).name).split("\n", 1)
        item.setText(f"{first}  ↓\n{rest}" if moved_down else f"{first}\n{rest}")
        tip = self.tr("{path}\nGuess: {label} {confidence:.1%}{others}\nMargin {margin:.3f}, entropy "
                      "{entropy:.3f}\nDrag it onto a class card to label it.").format(
            path=ranked.path, label=ranked.label, confidence=ranked.confidence,
            others=f" (then {others})" if others else "", margin=ranked.margin, entropy=ranked.entropy)
        if moved_down:
            tip += "\n" + self.tr("Moved down: it looks much like an image listed above it, so labelling that one "
                                   "teaches the model most of what this one would.")
        item.setToolTip(tip)
        self._set_icon(item, ranked.path)
        return item

    def _set_icon(self, item: QListWidgetItem, path: str) -> None:
        pm = self.thumbnails.pixmap(path)
        if pm is not None:
            item.setIcon(QIcon(pm))
        elif self.thumbnails.error(path):
            item.setIcon(icons.icon("broken-image"))
        else:
            item.setIcon(icons.icon("image"))

    @Slot(str)
    def _on_thumbnail(self, path: str) -> None:
        item = self._items.get(_key(path))
        if item is not None:
            self._set_icon(item, path)

    def _update(self) -> None:
        running = self.running
        self.rank_button.setText(self.tr("Cancel") if running else self.tr("Rank"))
        self.rank_button.setIcon(icons.icon("cancel" if running else "adapt"))
        self.rank_button.setEnabled(running or self.classifier is not None)
        self.progress.setVisible(running)
        self.rank_button.setToolTip(self.tr("Stop ranking") if running else (
            self.tr("Rank the folder's images with the current model") if self.classifier is not None else
            self.tr("Adapt a model (or load one) first")))
        for widget in (self.folder_button, self.by_combo, self.diverse_box, self.top_spin):
            widget.setEnabled(not running)
        if self.classifier is None and not self.list.count():
            self.status.setText(self.tr("No model yet: adapt one (Ctrl+Enter) or load one, then rank a folder "
                                        "of unlabelled images."))
        elif self.folder is None and not self.list.count():
            self.status.setText(self.tr("Choose a folder of unlabelled images: they are ranked by how much "
                                        "labelling each would help the model."))

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait(60000)


def show_label_next(window) -> LabelNextPanel:
    """Make (on first use) and show the window's "Label next" dock; returns its panel."""
    panel = getattr(window, "label_next_panel", None)
    if panel is None:
        panel = LabelNextPanel(window.thumbnails, torch_threads=window.torch_threads)
        dock = QDockWidget(QCoreApplication.translate("LabelNextPanel", "Label next"), window)
        dock.setObjectName("LabelNextDock")
        dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        window.label_next_panel, window.label_next_dock = panel, dock
        panel.set_support(window.support)
        panel.set_classifier(window.classifier)
        window.sig_support_replaced.connect(lambda: panel.set_support(window.support))
        window.sig_classifier_changed.connect(panel.set_classifier)
        panel.sig_notify.connect(window.notify)
        follow_jobs(window, panel)
    window.label_next_dock.show()
    window.label_next_dock.raise_()
    return panel


def follow_jobs(window, panel) -> None:
    """The window waits for a panel's jobs (``sig_job_started``/``sig_job_done``) when it closes, as for its
    own (see MainWindow.closeEvent)."""

    panel.sig_job_started.connect(window.track_job)
    panel.sig_job_done.connect(window.job_finished)

"""The embedding map: the model's support images and some query images as points in 2-D (pyqtgraph).

One ScatterPlotItem per class and kind, so the legend lists the classes: support images are discs in
their class's colour, query images triangles in the colour of the class the model predicts for them.
Hovering a point shows its thumbnail, class and path beside the plot. The map is computed off the GUI
thread (:class:`~..core.embedding_map.EmbeddingMapRun` in a :class:`~.worker.Job`).
"""

from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QComboBox, QDockWidget, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from . import dialogs, icons
from .jobs import Jobs
from .label_next_panel import follow_jobs
from .notices import error_notice, skipped_notice
from .thumbnails import ThumbnailCache
from .worker import Job

# Tableau 10: distinct in light and dark themes and for the commonest colour-vision deficiencies.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
SYMBOLS = {"support": "o", "query": "t"}
PREVIEW = 128


def class_colour(index: int, n_classes: int) -> QColor:
    """The colour of class ``index``: the palette's, then evenly spaced hues beyond ten classes."""
    if n_classes <= len(PALETTE):
        return QColor(PALETTE[index])
    return pg.intColor(index, hues=n_classes, values=1, maxValue=220, minValue=150)


class EmbeddingMapView(QWidget):
    """Draw a core EmbeddingMap; choose the projection and the query images; hover to see an image."""

    sig_drawn = Signal(object)  # the core EmbeddingMap now drawn
    sig_hovered = Signal(int)  # index of the point now shown in the preview (in the map's order)
    sig_notify = Signal(object)  # a Notice for the window's message bar
    sig_job_started = Signal(object)  # a Job the window must wait for before it closes
    sig_job_done = Signal(object)  # that Job's thread has finished

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None, torch_threads: int = 1):
        super().__init__(parent)
        from ..core.embedding_map import tsne_available

        self.thumbnails = thumbnails
        self.torch_threads = torch_threads
        self.classifier = None
        self.queries: list[Path] = []
        self.map = None
        self._drawn_in = None  # the text colour the map was last drawn in
        self.job: Job | None = None
        self.jobs = Jobs(self)
        self.jobs.sig_started.connect(self.sig_job_started)
        self.items: dict[tuple[str, str], pg.ScatterPlotItem] = {}  # (class, kind) -> its points
        self.hovered: int | None = None
        self._again = False  # run again when the current run has stopped
        self._inputs: tuple | None = None  # (model, queries, projection) of the last run started

        self.method_combo = QComboBox()
        self.method_combo.addItem(self.tr("PCA"), "pca")
        self.method_combo.setItemData(0, self.tr("Principal components: fast, and distances along the axes "
                                                 "mean something"), Qt.ItemDataRole.ToolTipRole)
        self.method_combo.addItem(self.tr("t-SNE"), "tsne")
        if tsne_available():
            self.method_combo.setItemData(1, self.tr("Keeps neighbours together: clusters show better, but "
                                                     "distances between clusters mean little"),
                                          Qt.ItemDataRole.ToolTipRole)
        else:
            self.method_combo.model().item(1).setEnabled(False)
            self.method_combo.setItemData(1, self.tr("t-SNE needs scikit-learn, which is not installed: "
                                                     "pip install 'fewshot-studio[tsne]'"),
                                          Qt.ItemDataRole.ToolTipRole)
        self.method_combo.setToolTip(self.tr("How the features are laid out in 2-D"))
        self.method_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.queries_button = QPushButton(icons.icon("folder"), self.tr("Query images..."))
        self.queries_button.setToolTip(self.tr("A folder of images to place among the support images"))
        self.queries_button.clicked.connect(lambda: self.choose_queries())
        self.refresh_button = QPushButton(icons.icon("adapt"), self.tr("Draw"))
        self.refresh_button.setToolTip(self.tr("Draw the map with the current model"))
        self.refresh_button.clicked.connect(self._draw_or_cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # it quotes class names, devices and errors

        self.plot = pg.PlotWidget()
        self.plot.setMinimumSize(320, 180)  # fits a dock of 40 % of a 680-pixel window
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setAspectLocked(False)
        for name in ("left", "bottom"):
            # Before any label is shown: turned off later, pyqtgraph recomputes a prefix scale from the range
            # anyway (a theme switch then showed PCA's -0.4..0.4 as -400..400).
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(8, 8))
        self._restyle()

        self.preview_image = QLabel()
        self.preview_image.setFixedSize(PREVIEW, PREVIEW)
        self.preview_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_image.setFrameShape(QLabel.Shape.StyledPanel)
        self.preview_text = QLabel(self.tr("Hover a point to see its image."))
        self.preview_text.setWordWrap(True)
        self.preview_text.setMaximumWidth(PREVIEW + 40)
        self.preview_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        side = QVBoxLayout()
        side.addWidget(self.preview_image)
        side.addWidget(self.preview_text)
        side.addStretch(1)
        controls = QHBoxLayout()
        controls.addWidget(QLabel(self.tr("Projection:")))
        controls.addWidget(self.method_combo)
        controls.addWidget(self.queries_button)
        controls.addStretch(1)
        controls.addWidget(self.refresh_button)
        body = QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(controls)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)
        thumbnails.sig_ready.connect(self._on_thumbnail)
        self._update()

    # --- inputs --------------------------------------------------------------------------------------------
    def set_classifier(self, classifier) -> None:
        self.classifier = classifier
        self._update()
        if classifier is not None and self.isVisible():
            self.refresh()

    def set_queries(self, paths) -> None:
        self.queries = [Path(p) for p in paths]
        self._update()

    def choose_queries(self) -> None:
        start = str(self.queries[0] if self.queries else Path.home())
        folder = dialogs.open_folder(self, start, self.tr("Query images for the map"))
        if folder:
            self.set_queries([folder])
            self.refresh()

    @property
    def method(self) -> str:
        return self.method_combo.currentData()

    def set_method(self, method: str) -> bool:
        index = self.method_combo.findData(method)
        if index < 0 or not self.method_combo.model().item(index).isEnabled():
            return False
        self.method_combo.setCurrentIndex(index)
        return True

    # --- computing -----------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    def _draw_or_cancel(self) -> None:
        if self.running:
            self.job.cancel()
            self.progress.setFormat(self.tr("Cancelling..."))
        else:
            self.refresh()

    def refresh(self) -> bool:
        """Compute the map off the GUI thread (a run already going is cancelled first)."""
        if self.classifier is None:
            return False
        if self.job is not None:  # one run at a time: stop this one, then start again with what is asked now
            self._again = True
            self.job.cancel()
            return True
        self._again = False
        from ..core.embedding_map import EmbeddingMapRun
        from ..core.errors import FewShotError

        try:
            run = EmbeddingMapRun(self.classifier, self.queries, method=self.method)
        except FewShotError as exc:
            self._show_error(exc, "")
            return False
        self.job = self.jobs.start_run(run, "embedding-map", threads=self.torch_threads, cancel_run=False,
                                       on_events=self._on_events, on_returned=self._on_returned,
                                       on_failed=self._on_failed, on_done=self._on_done)
        self._inputs = self._wanted()
        self.progress.setRange(0, 0)
        self.progress.setFormat(self.tr("Starting..."))
        self._update()
        return True

    @Slot(list)
    def _on_events(self, events: list) -> None:
        stage = events[-1]
        if stage.name == "embedding images" and stage.total > 1:
            self.progress.setRange(0, stage.total)
            self.progress.setValue(stage.done)
            self.progress.setFormat(self.tr("Looking at the query images ({done}/{total})").format(
                done=stage.done, total=stage.total))
        elif stage.name.startswith("projecting"):
            self.progress.setRange(0, 0)
            self.progress.setFormat(self.tr("Projecting..."))

    @Slot(object)
    def _on_returned(self, result) -> None:
        if result is not None:
            self.draw(result)

    @Slot(object, str)
    def _on_failed(self, exc: Exception, text: str) -> None:
        self._show_error(exc, text)

    def _show_error(self, exc: Exception, text: str) -> None:
        notice = error_notice(exc, text, self.tr("The map could not be drawn ({error})."))
        self.status.setText(notice.text)
        self.sig_notify.emit(notice)

    def _on_done(self, job) -> None:
        self.job = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.map is not None else 0)
        self.progress.setFormat("")
        self._update()
        self.sig_job_done.emit(job)
        if self._again:
            self.refresh()

    def _wanted(self) -> tuple:
        return (id(self.classifier), tuple(self.queries), self.method)

    @property
    def up_to_date(self) -> bool:
        """Whether the map drawn (or being drawn) is for the current model, queries and projection."""
        return (self.map is not None or self.running) and self._inputs == self._wanted()

    # --- drawing -------------------------------------------------------------------------------------------
    def draw(self, result) -> None:
        """Show a core EmbeddingMap: one scatter item per (class, kind), a legend entry per class."""
        self.map = result
        self._drawn_in = self.palette().color(QPalette.ColorRole.Text)
        self.plot.clear()
        self.legend.clear()
        self.items.clear()
        self.hovered = None
        n = len(result.class_names)
        for ci, name in enumerate(result.class_names):
            colour = class_colour(ci, n)
            for kind in ("support", "query"):
                index = result.indices(label=name, kind=kind)
                if not index:
                    continue
                fill = QColor(colour)
                if kind == "query":
                    fill.setAlpha(150)
                item = pg.ScatterPlotItem(
                    x=result.coords[index, 0], y=result.coords[index, 1], data=index, symbol=SYMBOLS[kind],
                    size=11 if kind == "support" else 10, pen=pg.mkPen(colour.darker(140), width=1),
                    brush=pg.mkBrush(fill), hoverable=True, hoverSize=16,
                    hoverPen=pg.mkPen(self.palette().color(QPalette.ColorRole.Text), width=2),
                    tip=None, name=name if kind == "support" or not result.indices(label=name, kind="support")
                    else None)
                item.sigHovered.connect(self._on_hovered)
                self.plot.addItem(item)
                self.items[(name, kind)] = item
        grey = pg.mkBrush("#9a9a9a")
        for kind, text in (("support", self.tr("support image (its class)")),
                           ("query", self.tr("query image (predicted class)"))):
            if kind in result.kinds:
                self.legend.addItem(pg.ScatterPlotItem(symbol=SYMBOLS[kind], brush=grey, pen=None, size=10), text)
        self.plot.setLabel("bottom", self._axis_label(result, 0))
        self.plot.setLabel("left", self._axis_label(result, 1))
        self.plot.autoRange()
        n_support = result.kinds.count("support")
        self.status.setText(self.tr("{n} points: {s} support images, {q} query images. Hover a point to see its "
                                    "image.").format(n=len(result), s=n_support, q=len(result) - n_support))
        if result.skipped:
            self.sig_notify.emit(skipped_notice(result.skipped, 0))
        self.sig_drawn.emit(result)

    def _axis_label(self, result, axis: int) -> str:
        if result.method == "tsne":
            return self.tr("t-SNE {n}").format(n=axis + 1)
        share = result.explained[axis] if result.explained else 0.0
        return self.tr("PC{n} ({share:.0%} of the variance)").format(n=axis + 1, share=share)

    @Slot(object, object, object)
    def _on_hovered(self, item, points, event) -> None:
        if len(points):
            self.show_point(int(points[0].data()))

    def show_point(self, index: int) -> None:
        """Show point ``index``'s thumbnail, class and path in the preview."""
        m = self.map
        self.hovered = index
        path = m.paths[index]
        kind = m.kinds[index]
        if kind == "support":
            text = self.tr("<b>{label}</b> (support image)").format(label=html.escape(m.labels[index]))
        else:
            text = self.tr("<b>{label}</b> {confidence:.0%} (predicted; query image)").format(
                label=html.escape(m.labels[index]), confidence=m.confidence[index] or 0.0)
        self.preview_text.setText(f"{text}<br>{html.escape(Path(path).name)}")
        self.preview_text.setToolTip(path)
        self._show_thumbnail(path)
        self.sig_hovered.emit(index)

    def _show_thumbnail(self, path: str) -> None:
        dpr = self.devicePixelRatioF()
        pm = self.thumbnails.scaled(path, PREVIEW, dpr) if path else None
        if pm is not None:
            self.preview_image.setPixmap(pm)
        else:
            self.preview_image.setPixmap(icons.pixmap("broken-image" if path and self.thumbnails.error(path)
                                                      else "image", 48, dpr))

    @property
    def preview_path(self) -> str | None:
        return self.map.paths[self.hovered] if self.map is not None and self.hovered is not None else None

    @Slot(str)
    def _on_thumbnail(self, path: str) -> None:
        if path == self.preview_path:
            self._show_thumbnail(path)

    # --- palette -------------------------------------------------------------------------------------------
    def _restyle(self) -> None:
        """Follow the theme like the training plots: Base background, Text axes."""
        pal = self.palette()
        self.plot.setBackground(pal.color(QPalette.ColorRole.Base))
        text = pal.color(QPalette.ColorRole.Text)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        self.legend.setLabelTextColor(text)
        for item in self.items.values():
            item.opts["hoverPen"] = pg.mkPen(text, width=2)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.PaletteChange:
            self._restyle()
            # the legend's labels keep the colour they were made with: make them again when it changed
            if self.map is not None and self.palette().color(QPalette.ColorRole.Text) != self._drawn_in:
                self.draw(self.map)
        super().changeEvent(event)

    def _update(self) -> None:
        running = self.running
        self.refresh_button.setText(self.tr("Cancel") if running else self.tr("Draw"))
        self.refresh_button.setEnabled(running or self.classifier is not None)
        self.progress.setVisible(running)
        if self.classifier is None and self.map is None:
            self.status.setText(self.tr("No model yet: adapt one (Ctrl+Enter) or load one to see where its images "
                                        "lie."))
        elif not running and self.map is None:
            n = len(self.queries)
            self.status.setText(self.tr("Support images only; add query images with Query images...") if not n
                                else self.tr("Press Draw."))

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait(60000)


def show_embedding_map(window) -> EmbeddingMapView:
    """Make (on first use) and show the window's embedding map dock, and draw it with the current model."""
    view = getattr(window, "embedding_map", None)
    if view is None:
        view = EmbeddingMapView(window.thumbnails, torch_threads=window.torch_threads)
        dock = QDockWidget(QCoreApplication.translate("EmbeddingMapView", "Embedding map"), window)
        dock.setObjectName("EmbeddingMapDock")
        dock.setWidget(view)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        window.embedding_map, window.embedding_map_dock = view, dock
        window.sig_classifier_changed.connect(view.set_classifier)
        view.sig_notify.connect(window.notify)
        follow_jobs(window, view)
    if not view.queries:  # the images the user is working on: Label next's folder, else the predictions' queries
        panel = getattr(window, "label_next_panel", None)
        folder = panel.folder if panel is not None else None
        view.set_queries([folder] if folder else getattr(window.predictions, "queries", []))
    window.embedding_map_dock.show()
    window.embedding_map_dock.raise_()
    view.classifier = window.classifier
    if window.classifier is not None and not view.up_to_date:
        view.refresh()
    else:
        view._update()
    return view


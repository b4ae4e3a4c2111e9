"""The predictions panel: drop images or a folder on it (or open them) to classify them.

Each row shows the image, the predicted class, the top classes with probability bars, and the support
images it is closest to. Rows are painted by a delegate over a list model, so thousands of results stay
cheap; the classification itself runs off the GUI thread (see the window).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractListModel, QCoreApplication, QModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QLabel, QListView, QProgressBar, QPushButton, QSizePolicy,
                               QStyle, QStyledItemDelegate, QToolButton, QVBoxLayout, QWidget)

from .drag_data import local_paths
from .thumbnails import ThumbnailCache

if TYPE_CHECKING:  # the classifier module imports torch, which loads after the window is shown
    from ..core.classifier import Prediction

ROW_HEIGHT = 118
THUMB = 92
NEAR = 50
TEXT_MIN = 180  # the name, the predicted class and the bars
BAR_COLOURS = ("#3b7dd8", "#8a8d93", "#8a8d93", "#8a8d93", "#8a8d93")


def shown_label(p, translator=None) -> str:
    """The class name, or "None of these" for an image the open-set threshold rejected (in the panel's
    translation context, whoever asks: the model, the delegate or the panel)."""
    return QCoreApplication.translate("PredictionPanel", "None of these") if getattr(p, "unknown", False) \
        else str(p.label)


def open_set_reason(p, rule) -> str:
    """Why "None of these" rejected (or accepted) ``p``: its similarity against the threshold, and how far the
    threshold can be trusted; "" when open-set rejection was off."""
    similarity = getattr(p, "similarity", None)
    if rule is None or similarity is None:
        return ""
    sim, t = f"{similarity:.2f}", f"{rule.threshold:.2f}"
    text = (QCoreApplication.translate("PredictionPanel", "None of these: its similarity to the closest support "
                                       "image, {sim}, is below the threshold {threshold}.")
            if getattr(p, "unknown", False) else
            QCoreApplication.translate("PredictionPanel", "Accepted: its similarity to the closest support image, "
                                       "{sim}, reaches the threshold {threshold}.")).format(sim=sim, threshold=t)
    return text + " " + threshold_trust(rule)


def threshold_trust(rule) -> str:
    """How many images the "None of these" threshold was calibrated on, and whether that is enough."""
    if rule.held_out <= 0:
        return QCoreApplication.translate("PredictionPanel", "The number of images it was calibrated on is not "
                                          "recorded (an older model file): it may be unreliable.")
    if not rule.reliable:
        return QCoreApplication.translate("PredictionPanel", "The threshold was calibrated on {n} held-out "
                                          "image(s): unreliable; add examples (about {need} images in all "
                                          "make it dependable).").format(n=rule.held_out, need=rule.min_reliable)
    return QCoreApplication.translate("PredictionPanel", "The threshold was calibrated on {n} held-out "
                                      "images.").format(n=rule.held_out)


class PredictionModel(QAbstractListModel):
    """The predictions shown, in the order they arrived."""

    PredictionRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.predictions: list[Prediction] = []
        self.open_set_rule = None  # the "None of these" rule the predictions were made with (None: off)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.predictions)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.predictions):
            return None
        p = self.predictions[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{Path(p.path).name}: {shown_label(p, self)} ({p.confidence:.0%})"
        if role == Qt.ItemDataRole.ToolTipRole:
            top = "\n".join(f"  {c}: {s:.1%}" for c, s in p.top_k)
            near = "\n".join("  " + self.tr("{name} ({cls}, similarity {sim})").format(
                name=Path(path).name, cls=c, sim=f"{s:.2f}") for path, c, s in p.nearest)
            text = self.tr("{path}\nPredicted: {label} ({confidence})\nTop classes:\n{top}").format(
                path=p.path, label=shown_label(p, self), confidence=f"{p.confidence:.1%}", top=top)
            text += "\n" + self.tr("Closest support images:") + "\n" + near if near else ""
            why = open_set_reason(p, self.open_set_rule)
            return text + ("\n\n" + why if why else "")
        if role == self.PredictionRole:
            return p
        return None

    def extend(self, predictions: list[Prediction]) -> None:
        if not predictions:
            return
        start = len(self.predictions)
        self.beginInsertRows(QModelIndex(), start, start + len(predictions) - 1)
        self.predictions.extend(predictions)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.predictions = []
        self.endResetModel()


def _fit(pm_size: QSize, box: QRect) -> QRect:
    """The largest rectangle of ``pm_size``'s shape centred in ``box``."""
    if pm_size.isEmpty():
        return box
    scale = min(box.width() / pm_size.width(), box.height() / pm_size.height())
    w, h = round(pm_size.width() * scale), round(pm_size.height() * scale)
    return QRect(box.x() + (box.width() - w) // 2, box.y() + (box.height() - h) // 2, w, h)


class PredictionDelegate(QStyledItemDelegate):
    """Paints a row: thumbnail | name, predicted class, probability bars | closest support images."""

    def __init__(self, thumbnails: ThumbnailCache, parent=None):
        super().__init__(parent)
        self.thumbnails = thumbnails

    def sizeHint(self, option, index) -> QSize:
        return QSize(THUMB + 28 + TEXT_MIN, ROW_HEIGHT)  # as wide as the list: it never scrolls sideways

    def _image(self, painter: QPainter, path: str, box: QRect, pal: QPalette) -> None:
        pm = self.thumbnails.pixmap(path)
        painter.setPen(pal.color(QPalette.ColorRole.Mid))
        if pm is None:
            painter.fillRect(box, pal.color(QPalette.ColorRole.AlternateBase))
            return
        target = _fit(pm.size() / pm.devicePixelRatio(), box)
        painter.drawPixmap(target, pm)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(target.adjusted(0, 0, -1, -1))

    def paint(self, painter: QPainter, option, index) -> None:
        p: Prediction = index.data(PredictionModel.PredictionRole)
        if p is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = option.palette
        r = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(r, pal.color(QPalette.ColorRole.Highlight).lighter(180) if pal.color(
                QPalette.ColorRole.Window).lightness() > 128 else pal.color(QPalette.ColorRole.Highlight).darker(200))
        painter.setPen(pal.color(QPalette.ColorRole.Midlight))
        painter.drawLine(r.bottomLeft(), r.bottomRight())

        self._image(painter, p.path, QRect(r.left() + 8, r.top() + (r.height() - THUMB) // 2, THUMB, THUMB), pal)

        # as many closest examples as fit beside a text column of TEXT_MIN pixels (all of them in the tooltip)
        fit = (r.width() - THUMB - 28 - TEXT_MIN - 8) // (NEAR + 8)
        nearest = list(p.nearest)[:max(0, fit)]
        show_near = bool(nearest)
        near_w = (NEAR + 8) * len(nearest) + 8 if show_near else 0
        x = r.left() + THUMB + 20
        w = r.right() - x - near_w - 8
        base = QFont(option.font)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.9)
        big = QFont(base)
        big.setPointSizeF(base.pointSizeF() * 1.2)
        big.setBold(True)
        text = pal.color(QPalette.ColorRole.Text)
        dim = pal.color(QPalette.ColorRole.PlaceholderText)

        y = r.top() + 8
        painter.setFont(small)
        painter.setPen(dim)
        fm = QFontMetrics(small)
        painter.drawText(QRect(x, y, w, fm.height()), Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(Path(p.path).name, Qt.TextElideMode.ElideMiddle, w))
        y += fm.height() + 2
        painter.setFont(big)
        painter.setPen(text)
        fb = QFontMetrics(big)
        painter.drawText(QRect(x, y, w, fb.height()), Qt.AlignmentFlag.AlignLeft,
                         fb.elidedText(f"{shown_label(p, self)}  {p.confidence:.0%}" if not getattr(p, "unknown", False)
                                       else shown_label(p, self), Qt.TextElideMode.ElideRight, w))
        y += fb.height() + 4

        painter.setFont(small)
        label_w = min(110, max(60, w // 3))
        pct_w = fm.horizontalAdvance("100%") + 6
        bar_w = max(20, w - label_w - pct_w - 6)
        bar_h = max(8, fm.height() - 6)
        for i, (cls, score) in enumerate(p.top_k[:3]):
            row = QRect(x, y, w, fm.height())
            painter.setPen(text if i == 0 else dim)
            painter.drawText(QRect(x, y, label_w, fm.height()), Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(cls, Qt.TextElideMode.ElideRight, label_w - 4))
            track = QRectF(x + label_w, row.center().y() - bar_h / 2 + 1, bar_w, bar_h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.AlternateBase).darker(110))
            painter.drawRoundedRect(track, 3, 3)
            painter.setBrush(QColor(BAR_COLOURS[min(i, len(BAR_COLOURS) - 1)]))
            painter.drawRoundedRect(QRectF(track.x(), track.y(), max(2.0, track.width() * score), track.height()), 3, 3)
            painter.setPen(text if i == 0 else dim)
            painter.drawText(QRect(x + label_w + bar_w + 6, y, pct_w, fm.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, f"{score:.0%}")
            y += fm.height() + 1

        if show_near:
            nx = r.right() - near_w + 8
            painter.setPen(dim)
            painter.drawText(QRect(nx, r.top() + 6, near_w, fm.height()), Qt.AlignmentFlag.AlignLeft,
                             self.tr("Closest examples"))
            for j, (path, cls, _sim) in enumerate(nearest):
                box = QRect(nx + j * (NEAR + 8), r.top() + 8 + fm.height(), NEAR, NEAR)
                self._image(painter, path, box, pal)
                painter.setPen(text if cls == p.label else dim)
                painter.drawText(QRect(box.left() - 4, box.bottom() + 2, NEAR + 8, fm.height()),
                                 Qt.AlignmentFlag.AlignHCenter,
                                 fm.elidedText(cls, Qt.TextElideMode.ElideRight, NEAR + 8))
        painter.restore()


class _ResultsView(QListView):
    """The list of results; it takes drops and says what to do while empty."""

    def __init__(self, panel: PredictionPanel):
        super().__init__(panel)
        self.panel = panel
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setUniformItemSizes(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.placeholder = self.tr("Drop images or a folder here to classify them, or use Classify images... (Ctrl+K)")

    def dragEnterEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.panel.sig_classify_requested.emit(paths)
        else:
            event.ignore()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.model() is not None and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(16, 16, -16, -16),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)


class _Header(QWidget):
    """The title and the panel's controls on one row when they fit, else the buttons on a second row: no
    control is ever squeezed below its text ("Clas…ages", "None of thes")."""

    SPACING = 6

    def __init__(self, title: QLabel, controls: list[QWidget]):
        super().__init__()
        self.title, self.controls = title, controls
        for w in controls:  # a control gets the width its text needs, or moves to the next row
            w.setSizePolicy(QSizePolicy.Policy.Fixed, w.sizePolicy().verticalPolicy())
        self.rows = [QHBoxLayout(), QHBoxLayout()]
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        for row in self.rows:
            row.setSpacing(self.SPACING)
            column.addLayout(row)
        self.two_rows: bool | None = None
        self._arrange(False)

    def _width(self, widgets) -> int:
        return sum(w.sizeHint().width() for w in widgets) + self.SPACING * len(widgets)

    def _arrange(self, two_rows: bool) -> None:
        if two_rows == self.two_rows:
            return
        self.two_rows = two_rows
        for row in self.rows:
            while row.count():
                row.takeAt(0)
        first, second = self.rows
        first.addWidget(self.title)
        first.addStretch(1)
        split = 1 if two_rows else len(self.controls)  # the check box stays beside the title
        for w in self.controls[:split]:
            first.addWidget(w)
        if two_rows:
            second.addStretch(1)
            for w in self.controls[split:]:
                second.addWidget(w)

    def minimumSizeHint(self) -> QSize:
        width = max(self._width([self.title, self.controls[0]]) + 12, self._width(self.controls[1:]))
        return QSize(width, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        self._arrange(event.size().width() < self._width([self.title, *self.controls]) + 12)
        super().resizeEvent(event)


class PredictionPanel(QWidget):
    """Results of classifying query images, newest run first cleared by "Clear results"."""

    sig_classify_requested = Signal(list)  # paths (files or folders) the user dropped to classify
    sig_reclassify_requested = Signal()  # classify the same images again with the current model
    sig_open_set_toggled = Signal(bool)  # the user switched "None of these" (open-set rejection) on or off

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None):
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.model = PredictionModel(self)
        self.view = _ResultsView(self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(PredictionDelegate(thumbnails, self.view))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.stale = QWidget()
        stale_row = QHBoxLayout(self.stale)
        stale_row.setContentsMargins(0, 0, 0, 0)
        self.stale_label = QLabel(self.tr("These results come from an earlier model."))
        self.stale_button = QPushButton(self.tr("Classify again"))
        self.stale_button.setToolTip(self.tr("Classify the same images with the current model"))
        self.stale_button.clicked.connect(self.sig_reclassify_requested)
        stale_row.addWidget(self.stale_label, 1)
        stale_row.addWidget(self.stale_button)
        self.stale.hide()
        self.classify_button = QToolButton()
        self.clear_button = QToolButton()
        for button in (self.classify_button, self.clear_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.title = QLabel(self.tr("Predictions"))
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.open_set_box = QCheckBox(self.tr("None of these"))
        self.open_set_box.setToolTip(self.tr("Report images unlike every class as \"None of these\" (a similarity "
                                             "threshold calibrated on the support set by leave-one-out)"))
        self.open_set_box.toggled.connect(self.sig_open_set_toggled)
        self.header = _Header(self.title, [self.open_set_box, self.classify_button, self.clear_button])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.header)
        layout.addWidget(self.summary)
        layout.addWidget(self.stale)
        layout.addWidget(self.progress)
        layout.addWidget(self.view, 1)
        self.queries: list[Path] = []  # what was asked to be classified, for "Classify again"
        thumbnails.sig_ready.connect(self._on_thumbnail)
        self._update_summary()

    def set_actions(self, classify: QAction, clear: QAction) -> None:
        self.classify_button.setDefaultAction(classify)
        self.clear_button.setDefaultAction(clear)

    # --- results ---------------------------------------------------------------------------------------
    @property
    def predictions(self) -> list[Prediction]:
        return self.model.predictions

    def begin(self, paths: list[Path]) -> None:
        """A new classification starts: old results go."""
        self.model.clear()
        self.queries = list(paths)
        self.stale.hide()
        self.progress.setRange(0, 0)
        self.progress.show()
        self._update_summary()

    def add_predictions(self, predictions: list[Prediction], done: int = 0, total: int = 0) -> None:
        self.model.extend(predictions)
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self._update_summary()

    def finish(self) -> None:
        self.progress.hide()
        self._update_summary()

    def clear(self) -> None:
        self.model.clear()
        self.queries = []
        self.stale.hide()
        self.progress.hide()
        self._update_summary()

    def set_open_set_rule(self, rule) -> None:
        """The "None of these" rule the next results are made with (None: off): rows and summary explain it."""
        self.model.open_set_rule = rule
        tip = self.tr("Report images unlike every class as \"None of these\" (a similarity "
                      "threshold calibrated on the support set by leave-one-out)")
        if rule is not None:
            tip += "\n" + self.tr("Threshold {threshold}.").format(threshold=f"{rule.threshold:.2f}") + " " + \
                threshold_trust(rule)
        self.open_set_box.setToolTip(tip)
        self._update_summary()

    def set_stale(self, stale: bool) -> None:
        self.stale.setVisible(stale and bool(self.model.predictions))

    def _update_summary(self) -> None:
        preds = self.model.predictions
        if not preds:
            self.summary.setText(self.tr("No results yet."))
            return
        counts = Counter(shown_label(p, self) for p in preds)
        parts = ", ".join(f"{label} {n}" for label, n in counts.most_common())
        n = len(preds)
        text = (self.tr("{n} image: {parts}") if n == 1 else self.tr("{n} images: {parts}")).format(n=n, parts=parts)
        rule = self.model.open_set_rule
        if rule is not None and not rule.reliable:
            text += "\n" + self.tr("\"None of these\" rejects below a similarity of {threshold}.").format(
                threshold=f"{rule.threshold:.2f}") + " " + threshold_trust(rule)
        self.summary.setText(text)

    def _on_thumbnail(self, _path: str) -> None:
        self.view.viewport().update()

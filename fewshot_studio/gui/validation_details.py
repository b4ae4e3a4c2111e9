"""One cross-validation in detail: a table per class and a confusion-matrix heat map; clicking a cell shows
the held-out images of that cell as thumbnails. Part of the :class:`~.validation_page.ValidationPage`, which
shows in it the last validation, or the pair of a comparison the user picked (the best at first)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFontMetrics, QIcon, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QListView, QListWidget, QListWidgetItem,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .reliability import ReliabilityDiagram
from .thumbnails import ThumbnailCache

THUMB = 72


class ConfusionHeatmap(QWidget):
    """Rows: true class; columns: predicted class; colour: share of the row. Click a cell to open it."""

    sig_cell_clicked = Signal(int, int)  # true class index, predicted class index

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.names: list[str] = []
        self.matrix: list[list[int]] = []
        self.selected: tuple[int, int] | None = None
        self.setMinimumSize(220, 180)
        self.setMouseTracking(True)

    def set_matrix(self, names: list[str], matrix: list[list[int]]) -> None:
        self.names, self.matrix, self.selected = list(names), [list(r) for r in matrix], None
        self.update()

    def _geometry(self) -> tuple[int, int, int]:
        """(left margin, top margin, cell side)."""
        fm = QFontMetrics(self.font())
        left = min(140, max(fm.horizontalAdvance(self.tr("true class")),
                            *(fm.horizontalAdvance(n) for n in self.names)) + 12)
        top = fm.height() * 2 + 6
        n = max(1, len(self.names))
        side = max(16, min((self.width() - left - 4) // n, (self.height() - top - 4) // n))
        return left, top, side

    def cell_rect(self, true: int, predicted: int) -> QRect:
        left, top, side = self._geometry()
        return QRect(left + predicted * side, top + true * side, side, side)

    def cell_at(self, pos) -> tuple[int, int] | None:
        left, top, side = self._geometry()
        n = len(self.names)
        col, row = (pos.x() - left) // side, (pos.y() - top) // side
        if pos.x() < left or pos.y() < top or not (0 <= row < n and 0 <= col < n):
            return None
        return int(row), int(col)

    def mousePressEvent(self, event) -> None:
        cell = self.cell_at(event.position().toPoint())
        if cell is not None:
            self.selected = cell
            self.update()
            self.sig_cell_clicked.emit(*cell)

    def mouseMoveEvent(self, event) -> None:
        cell = self.cell_at(event.position().toPoint())
        if cell is None:
            self.setToolTip("")
            return
        t, p = cell
        self.setToolTip(self.tr("{n} image(s) of {true} predicted as {pred}").format(
            n=self.matrix[t][p], true=self.names[t], pred=self.names[p]))

    def paintEvent(self, event) -> None:
        if not self.names:
            return
        painter = QPainter(self)
        pal = self.palette()
        fm = QFontMetrics(self.font())
        left, top, side = self._geometry()
        text = pal.color(QPalette.ColorRole.WindowText)
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(QRect(left, 0, side * len(self.names), fm.height()), Qt.AlignmentFlag.AlignCenter,
                         self.tr("predicted class"))
        painter.drawText(QRect(0, fm.height() + 2, left - 6, fm.height()),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.tr("true class"))
        for i, name in enumerate(self.names):
            painter.setPen(text)
            painter.drawText(QRect(left + i * side, fm.height() + 2, side, fm.height()), Qt.AlignmentFlag.AlignCenter,
                             fm.elidedText(name, Qt.TextElideMode.ElideRight, side - 2))
            painter.drawText(QRect(0, top + i * side, left - 6, side),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(name, Qt.TextElideMode.ElideRight, left - 8))
        for t, row in enumerate(self.matrix):
            total = max(1, sum(row))
            for p, count in enumerate(row):
                share = count / total
                base = QColor(46, 125, 50) if t == p else QColor(198, 40, 40)
                colour = QColor(base)
                colour.setAlphaF(0.08 + 0.85 * share if count else 0.04)
                r = self.cell_rect(t, p)
                painter.fillRect(r.adjusted(1, 1, -1, -1), colour)
                if self.selected == (t, p):
                    painter.setPen(pal.color(QPalette.ColorRole.Highlight))
                    painter.drawRect(r.adjusted(1, 1, -2, -2))
                painter.setPen(QColor("white") if share > 0.55 else text)
                painter.drawText(r, Qt.AlignmentFlag.AlignCenter, str(count))
        painter.end()


class ValidationDetails(QSplitter):
    """The per-class table (left) and the confusion matrix with the images of its clicked cell (right)."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.thumbnails = thumbnails
        self.thumbnails.sig_ready.connect(self._on_thumbnail)
        self.result = None  # the ValidationResult shown
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels([self.tr("Class"), self.tr("Images"), self.tr("Right"),
                                              self.tr("Accuracy"), self.tr("Precision")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.heatmap = ConfusionHeatmap()
        self.heatmap.sig_cell_clicked.connect(self.show_cell)
        self.cell_label = QLabel(self.tr("Click a cell of the matrix to see its images."))
        self.cell_label.setWordWrap(True)
        self.cell_images = QListWidget()
        self.cell_images.setViewMode(QListView.ViewMode.IconMode)
        self.cell_images.setIconSize(QSize(THUMB, THUMB))
        self.cell_images.setResizeMode(QListView.ResizeMode.Adjust)
        self.cell_images.setMovement(QListView.Movement.Static)
        self.cell_images.setMinimumHeight(THUMB + 40)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.heatmap, 2)
        rv.addWidget(self.cell_label)
        rv.addWidget(self.cell_images, 1)
        self.reliability = ReliabilityDiagram()  # how far the confidences can be trusted
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.table, 3)
        lv.addWidget(self.reliability, 2)
        self.addWidget(left)
        self.addWidget(right)

    def show_result(self, r) -> None:
        """Show a ValidationResult's classes and confusion matrix."""
        self.result = r
        rows = r.per_class()
        self.table.setRowCount(len(rows))
        for i, c in enumerate(rows):
            prec = "-" if c["precision"] is None else f"{c['precision']:.0%}"
            for j, value in enumerate((c["name"], str(c["images"]), str(c["correct"]), f"{c['accuracy']:.0%}", prec)):
                item = QTableWidgetItem(value)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.heatmap.set_matrix(r.class_names, r.confusion())
        self.reliability.show_result(r)
        self.cell_images.clear()
        wrong = len(r.misclassified())
        self.cell_label.setText(self.tr("{n} image(s) misclassified. Click a cell of the matrix to see its images.")
                                .format(n=wrong))

    @Slot(int, int)
    def show_cell(self, true: int, predicted: int) -> None:
        """Thumbnails of the held-out images of class ``true`` predicted as ``predicted``."""
        r = self.result
        if r is None:
            return
        self.cell_images.clear()
        index = {p: i for i, p in enumerate(r.paths)}
        paths = r.cell(true, predicted)
        for path in paths:
            i = index[path]
            item = QListWidgetItem(f"{Path(path).name}\n{r.confidence[i]:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(self.tr("{path}\ntrue class: {true}; predicted: {pred} ({conf:.0%})").format(
                path=path, true=r.class_names[true], pred=r.class_names[predicted], conf=r.confidence[i]))
            pm = self.thumbnails.pixmap(path)
            if pm is not None:
                item.setIcon(QIcon(pm))
            self.cell_images.addItem(item)
        kind = self.tr("right") if true == predicted else self.tr("misclassified")
        self.cell_label.setText(self.tr("{n} image(s) of {true} predicted as {pred} ({kind}).").format(
            n=len(paths), true=r.class_names[true], pred=r.class_names[predicted], kind=kind))

    def shown_paths(self) -> list[str]:
        return [self.cell_images.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.cell_images.count())]

    @Slot(str)
    def _on_thumbnail(self, path: str) -> None:
        for i in range(self.cell_images.count()):
            item = self.cell_images.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == path and item.icon().isNull():
                pm = self.thumbnails.pixmap(path)
                if pm is not None:
                    item.setIcon(QIcon(pm))


"""A class card on the board: the class's name (edited in place), its image count and its thumbnails.

A card is a view of one :class:`~fewshot_studio.core.support.ImageClass`; every edit it offers is a call on
its board (:class:`~.class_board.ClassBoard`), which calls the support set.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QDrag, QIcon, QKeySequence, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QMenu, QSizePolicy, QStyle, QStyledItemDelegate, QToolButton, QVBoxLayout,
                               QWidget)

from ..core.support import ImageClass
from . import icons
from .drag_data import accepts, images_mime, read_images_mime

THUMB = 72  # thumbnail side on a card, in logical pixels
MAX_ROWS = 3  # a card grows to this many rows of thumbnails, then scrolls


def set_flag(widget: QWidget, name: str, on: bool) -> None:
    """Set a boolean property that the style sheet reads, and restyle the widget."""
    if widget.property(name) != on:
        widget.setProperty(name, on)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class ThumbDelegate(QStyledItemDelegate):
    """A thumbnail centred in its cell; selected, it gets a highlight frame around the image itself (the
    default icon-mode highlight sat below the image, over the empty text area)."""

    def paint(self, painter: QPainter, option, index) -> None:
        cell = option.rect
        side = THUMB
        box = QRect(cell.x() + (cell.width() - side) // 2, cell.y() + (cell.height() - side) // 2, side, side)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        painter.save()
        if isinstance(icon, QIcon) and not icon.isNull():
            icon.paint(painter, box, Qt.AlignmentFlag.AlignCenter)
        if option.state & QStyle.StateFlag.State_Selected:
            colour = option.palette.color(QPalette.ColorRole.Highlight)
            tint = QColor(colour)
            tint.setAlpha(60)
            painter.fillRect(box, tint)
            pen = QPen(colour, 3)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box.adjusted(1, 1, -2, -2))
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        return QSize(THUMB + 8, THUMB + 8)


class ThumbList(QListWidget):
    """A class's images as a wrapping grid of thumbnails. Drags carry the selected images to other cards."""

    def __init__(self, card: ClassCard):
        super().__init__(card)
        self.card = card
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 8, THUMB + 8))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        self.setItemDelegate(ThumbDelegate(self))
        self._fit()

    def paths(self) -> list[Path]:
        return [Path(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())]

    def selected_paths(self) -> list[Path]:
        return [Path(item.data(Qt.ItemDataRole.UserRole)) for item in self.selectedItems()]

    # height follows the number of rows the images need
    def _fit(self) -> None:
        per_row = max(1, self.viewport().width() // self.gridSize().width())
        rows = min(MAX_ROWS, max(1, math.ceil(self.count() / per_row)))
        height = rows * self.gridSize().height() + 2 * self.frameWidth() + 4
        if self.height() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter,
                             self.tr("Drop images here, paste one (Ctrl+V) or use Add images..."))

    # drag out
    def startDrag(self, actions) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        drag = QDrag(self)
        drag.setMimeData(images_mime(self.card.name, paths))
        item = self.selectedItems()[0]
        drag.setPixmap(item.icon().pixmap(QSize(48, 48)))
        drag.exec(Qt.DropAction.MoveAction | Qt.DropAction.CopyAction, Qt.DropAction.MoveAction)
        # Nothing else here: the drop changed the support set, whose signal updated every card.

    # drops land on the card
    def dragEnterEvent(self, event) -> None:
        self.card.dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        self.card.dragMoveEvent(event)

    def dragLeaveEvent(self, event) -> None:
        self.card.dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        self.card.dropEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selectedItems():
            self.card.board.remove_images(self.card.name, self.selected_paths())
            return
        if event.key() == Qt.Key.Key_F2:
            self.card.start_rename()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:
        item = self.itemAt(event.pos())
        if item is not None and not item.isSelected():
            self.setCurrentItem(item)
        self.card.show_menu(self.mapToGlobal(event.pos()), self.selected_paths())


class ClassCard(QFrame):
    """One class: its name (edit it in place), how many images it has, and their thumbnails."""

    def __init__(self, board, cls: ImageClass):  # board: the ClassBoard that shows this card
        super().__init__(board.canvas)
        self.board = board
        self.cls = cls
        self.setObjectName("ClassCard")
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)

        self.name_edit = QLineEdit(cls.name)
        self.name_edit.setObjectName("ClassName")
        self.name_edit.setFrame(False)
        self.name_edit.setAcceptDrops(False)
        self.name_edit.setToolTip(self.tr("Class name: click to edit, Enter to apply, Esc to undo (F2)"))
        self.name_edit.setAccessibleName(self.tr("Class name"))
        font = self.name_edit.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.name_edit.setFont(font)
        self.name_edit.editingFinished.connect(self._apply_rename)
        self.name_edit.installEventFilter(self)
        self.count_label = QLabel()
        self.count_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.add_button = QToolButton()
        self.add_button.setIcon(icons.icon("add-images"))
        self.add_button.setAutoRaise(True)
        self.add_button.setToolTip(self.tr("Add images to this class... (Ctrl+I)"))
        self.add_button.clicked.connect(lambda: self.board.sig_add_images_requested.emit(self.name))
        self.delete_button = QToolButton()
        self.delete_button.setIcon(icons.icon("delete"))
        self.delete_button.setAutoRaise(True)
        self.delete_button.setToolTip(self.tr("Delete this class (its files stay on disk; Undo brings it back)"))
        self.delete_button.clicked.connect(lambda: self.board.delete_class(self.name))
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.name_edit, 1)
        header.addWidget(self.count_label)
        header.addWidget(self.add_button)
        header.addWidget(self.delete_button)
        self.thumbs = ThumbList(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.thumbs)
        self._items: dict[str, QListWidgetItem] = {}

    @property
    def name(self) -> str:
        return self.cls.name

    def image_paths(self) -> list[Path]:
        return self.thumbs.paths()

    # --- follow the model ------------------------------------------------------------------------------
    def sync(self) -> None:
        if not self.name_edit.hasFocus() or not self.name_edit.isModified():
            self.name_edit.setText(self.cls.name)
            self.name_edit.setModified(False)
        n = len(self.cls.images)
        self.count_label.setText((self.tr("{n} image") if n == 1 else self.tr("{n} images")).format(n=n))
        want = [str(p) for p in self.cls.images]
        have = [self.thumbs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.thumbs.count())]
        if want == have:
            return
        wanted = set(want)
        for path in [p for p in have if p not in wanted]:
            item = self._items.pop(path)
            self.thumbs.takeItem(self.thumbs.row(item))
        for path in want:
            if path not in self._items:
                self._items[path] = self._make_item(path)
                self.thumbs.addItem(self._items[path])
        if [self.thumbs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.thumbs.count())] != want:
            selected = set(map(str, self.thumbs.selected_paths()))
            for i in reversed(range(self.thumbs.count())):
                self.thumbs.takeItem(i)
            for path in want:
                self.thumbs.addItem(self._items[path])
                self._items[path].setSelected(path in selected)
        self.thumbs._fit()
        self.thumbs.viewport().update()  # no highlight left where a removed image was

    def _make_item(self, path: str) -> QListWidgetItem:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setSizeHint(self.thumbs.gridSize())
        self.update_thumbnail(path, item)
        return item

    def update_thumbnail(self, path: str, item: QListWidgetItem | None = None) -> None:
        item = item or self._items.get(path)
        if item is None:
            return
        cache = self.board.thumbnails
        pm = cache.pixmap(path)
        name = Path(path).name
        if pm is not None:
            item.setIcon(QIcon(pm))
            item.setToolTip(f"{name}\n{Path(path).parent}\n" + self.tr(
                "Drag it to another class to move it; Delete removes it from the class (the file stays on disk)"))
        elif cache.error(path):
            item.setIcon(icons.icon("broken-image"))
            item.setToolTip(f"{name}: {cache.error(path)}")
        else:
            item.setIcon(icons.icon("image"))
            item.setToolTip(name)

    def thumbnails_ready(self) -> bool:
        return all(self.board.thumbnails.is_ready(p) for p in self._items)

    # --- renaming --------------------------------------------------------------------------------------
    def start_rename(self) -> None:
        self.name_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.name_edit.selectAll()

    def _apply_rename(self) -> None:
        new = self.name_edit.text().strip()
        if new != self.cls.name:
            self.board.rename_class(self.cls.name, new)
        self.name_edit.setModified(False)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.name_edit and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            self.name_edit.setText(self.cls.name)
            self.name_edit.setModified(False)
            self.thumbs.setFocus()
            return True
        return super().eventFilter(obj, event)

    # --- drops -----------------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if accepts(event.mimeData()):
            moving = read_images_mime(event.mimeData())
            event.setDropAction(Qt.DropAction.MoveAction if moving else Qt.DropAction.CopyAction)
            event.accept()
            set_flag(self, "dropTarget", True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dragLeaveEvent(self, event) -> None:
        set_flag(self, "dropTarget", False)

    def dropEvent(self, event) -> None:
        set_flag(self, "dropTarget", False)
        if self.board.drop(event.mimeData(), self.name):
            moving = read_images_mime(event.mimeData())
            event.setDropAction(Qt.DropAction.MoveAction if moving else Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # the icons are drawn in the text colour: redraw them
            self.add_button.setIcon(icons.icon("add-images"))
            self.delete_button.setIcon(icons.icon("delete"))
        super().changeEvent(event)

    def mousePressEvent(self, event) -> None:
        self.board.set_current(self.name)
        super().mousePressEvent(event)

    # --- context menu ----------------------------------------------------------------------------------
    def show_menu(self, where: QPoint, paths: list[Path]) -> QMenu:
        menu = self.build_menu(paths)
        menu.popup(where)
        return menu

    def build_menu(self, paths: list[Path]) -> QMenu:
        menu = QMenu(self)
        if paths:
            text = (self.tr("Remove {n} image from {name}") if len(paths) == 1 else
                    self.tr("Remove {n} images from {name}"))
            text = text.format(n=len(paths), name=repr(self.name))
        else:
            text = self.tr("Remove from class")
        remove = menu.addAction(icons.icon("delete"), text)
        remove.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        remove.setEnabled(bool(paths))
        remove.triggered.connect(lambda: self.board.remove_images(self.name, paths))
        move = menu.addMenu(self.tr("Move to"))
        others = [n for n in self.board.support.class_names if n != self.name]
        move.setEnabled(bool(paths) and bool(others))
        for other in others:
            move.addAction(other).triggered.connect(lambda _=False, o=other: self.board.move_images(paths, self.name, o))
        move.addSeparator()
        move.addAction(self.tr("New class")).triggered.connect(lambda: self.board.move_images(paths, self.name, None))
        open_image = menu.addAction(self.tr("Open image"))
        open_image.setEnabled(len(paths) == 1)
        open_image.triggered.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths[0]))))
        show = menu.addAction(self.tr("Show in folder"))
        show.setEnabled(len(paths) == 1)
        show.triggered.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths[0].parent))))
        menu.addSeparator()
        menu.addAction(icons.icon("add-images"), self.tr("Add images...")).triggered.connect(
            lambda: self.board.sig_add_images_requested.emit(self.name))
        menu.addAction(icons.icon("rename"), self.tr("Rename class (F2)")).triggered.connect(self.start_rename)
        menu.addAction(icons.icon("delete"), self.tr("Delete class")).triggered.connect(
            lambda: self.board.delete_class(self.name))
        return menu

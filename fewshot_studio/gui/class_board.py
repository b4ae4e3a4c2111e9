"""The class board: one card per class of a :class:`~fewshot_studio.core.support.SupportSet`.

The board is a view. It holds no list of classes or images of its own: it listens to ``support.changed``
and brings its cards in line with the set (napari's QtDims does the same with its Dims). Every edit the
user makes (drop, rename, move, delete) is a call on the support set, whose signal then updates the cards.

Dropped files are checked off the GUI thread (each is decoded once); only then are they added, and what
was unusable is reported file by file. Nothing already on the board is touched by a failed import.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QMimeData, QPoint, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDrag, QIcon, QImage, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QFrame, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QMenu, QPushButton, QScrollArea, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)

from ..core.errors import FewShotError
from ..core.images import Skipped, check_images, scan_folder
from ..core.paths import studio_home
from ..core.support import ImageClass, SupportSet
from . import icons
from .notices import Notice, skipped_notice
from .tasks import TaskRunner
from .thumbnails import ThumbnailCache

MIME_IMAGES = "application/x-fewshot-studio-images"  # JSON: {"source": class name, "paths": [...]}
THUMB = 72  # thumbnail side on a card, in logical pixels
MAX_ROWS = 3  # a card grows to this many rows of thumbnails, then scrolls
MSG_NOT_IN_SUBFOLDER = QT_TRANSLATE_NOOP("ClassBoard", "not inside a class sub-folder; drop it on a class card instead")


# --- what a drop means (no Qt below this line until the widgets) --------------------------------------------
@dataclass
class DropPlan:
    """The classes a drop adds images to, in order, and the files left out with the reason."""

    classes: list[tuple[str, list[Path], bool]] = field(default_factory=list)  # (name, images, new class)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return sum(len(images) for _, images, _ in self.classes)


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base 2``, ``base 3``... whichever is not taken."""
    taken = set(taken)
    base = base.strip() or "class"
    if base not in taken:
        return base
    n = 2
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


def plan_drop(paths: Iterable[str | Path], class_names: Iterable[str], target: str | None = None) -> DropPlan:
    """Decide what dropping ``paths`` does, checking every image (slow: call it off the GUI thread).

    On a card (``target``): every image file, and every image under a dropped folder, joins that class.
    On the board: a folder with sub-folders gives one class per sub-folder; a folder of images gives one
    class named after it (a class of that name that exists already gets the images); loose images make
    one new class, named after their folder.
    """
    paths = [Path(p) for p in paths]
    plan = DropPlan()
    by_name: dict[str, list[Path]] = {}
    existing = set(class_names)

    def add(name: str, images: list[Path]) -> None:
        if not images:
            return
        if name not in by_name:
            by_name[name] = []
            plan.classes.append((name, by_name[name], name not in existing))
        by_name[name].extend(p for p in images if p not in by_name[name])

    folders = [p for p in paths if p.is_dir()]
    files = [p for p in paths if not p.is_dir()]
    if target is not None:
        images: list[Path] = []
        for folder in folders:
            scan = scan_folder(folder)
            images += scan.images
            plan.skipped += scan.skipped
        scan = check_images(files)
        add(target, images + scan.images)
        plan.skipped += scan.skipped
        return plan

    for folder in folders:
        subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        if subdirs:
            for sub in subdirs:
                scan = scan_folder(sub)
                add(sub.name, scan.images)
                plan.skipped += scan.skipped
            loose = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
            reason = QCoreApplication.translate("ClassBoard", MSG_NOT_IN_SUBFOLDER)
            plan.skipped += [Skipped(p, reason) for p in loose]
        else:
            scan = scan_folder(folder)
            add(folder.name, scan.images)
            plan.skipped += scan.skipped
    if files:
        scan = check_images(files)
        plan.skipped += scan.skipped
        if scan.images:
            name = unique_name(scan.images[0].parent.name or "class", existing | set(by_name))
            add(name, scan.images)
    return plan


def local_paths(mime: QMimeData) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []


def images_mime(source: str, paths: list[Path]) -> QMimeData:
    """What dragging images out of a card carries: their class (to move them) and their files' URLs."""
    mime = QMimeData()
    mime.setData(MIME_IMAGES, json.dumps({"source": source, "paths": [str(p) for p in paths]}).encode("utf-8"))
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def read_images_mime(mime: QMimeData) -> tuple[str, list[Path]] | None:
    if not mime.hasFormat(MIME_IMAGES):
        return None
    try:
        data = json.loads(bytes(mime.data(MIME_IMAGES).data()).decode("utf-8"))
        return str(data["source"]), [Path(p) for p in data["paths"]]
    except (ValueError, KeyError, TypeError):
        return None


def accepts(mime: QMimeData) -> bool:
    return mime.hasFormat(MIME_IMAGES) or bool(local_paths(mime)) or mime.hasImage()


# --- widgets ---------------------------------------------------------------------------------------------------
def _set_flag(widget: QWidget, name: str, on: bool) -> None:
    if widget.property(name) != on:
        widget.setProperty(name, on)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


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

    def __init__(self, board: ClassBoard, cls: ImageClass):
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
            _set_flag(self, "dropTarget", True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dragLeaveEvent(self, event) -> None:
        _set_flag(self, "dropTarget", False)

    def dropEvent(self, event) -> None:
        _set_flag(self, "dropTarget", False)
        if self.board.drop(event.mimeData(), self.name):
            moving = read_images_mime(event.mimeData())
            event.setDropAction(Qt.DropAction.MoveAction if moving else Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

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


class _Canvas(QWidget):
    """The board's surface: drops that miss every card land here."""

    def __init__(self, board: ClassBoard):
        super().__init__()
        self.board = board
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event) -> None:
        if accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        if self.board.drop(event.mimeData(), None):
            event.acceptProposedAction()
        else:
            event.ignore()


class ClassBoard(QScrollArea):
    """The support set as cards. Edits go to the support set; ``support.changed`` updates the cards."""

    sig_notify = Signal(object)  # a Notice for the window's message bar
    sig_import_finished = Signal(object)  # a DropPlan, after its images were added (or nothing was)
    sig_current_changed = Signal(str)  # the class that Add images and Paste go to ("" for a new class)
    sig_add_images_requested = Signal(str)  # the user wants a file dialog for this class
    sig_demo_requested = Signal()  # the empty board's "open the demo project" link was clicked

    def __init__(self, support: SupportSet, thumbnails: ThumbnailCache, tasks: TaskRunner,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.support: SupportSet | None = None
        self.thumbnails = thumbnails
        self.tasks = tasks
        self.current_class = ""
        self._cards: dict[int, ClassCard] = {}
        self.imports_running = 0
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.canvas = _Canvas(self)
        self.setWidget(self.canvas)
        self.summary = QLabel()
        self.summary.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.new_button = QPushButton(icons.icon("add-class"), self.tr("New class"))
        self.new_button.setToolTip(self.tr("Add an empty class (Ctrl+Shift+N); or drop images on the board"))
        self.new_button.clicked.connect(lambda: self.add_class())
        title = QLabel(self.tr("Support set"))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        title.setFont(font)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.summary, 1)
        top.addWidget(self.new_button)
        self.placeholder = QLabel(self.tr(
            "<h3>Teach the studio new classes</h3>"
            "<p>Drop a folder here with one sub-folder of images per class,<br>"
            "or drop a few images to start a class, or paste one (Ctrl+V).</p>"
            "<p>New here? <a href='demo'>Open the demo project</a> (Ctrl+Shift+D).</p>"))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setMinimumHeight(220)
        self.placeholder.setObjectName("BoardPlaceholder")
        self.placeholder.linkActivated.connect(lambda _link: self.sig_demo_requested.emit())
        self.cards_layout = QVBoxLayout()
        self.cards_layout.setSpacing(8)
        outer = QVBoxLayout(self.canvas)
        outer.setContentsMargins(12, 8, 12, 12)
        outer.addLayout(top)
        outer.addWidget(self.placeholder)
        outer.addLayout(self.cards_layout)
        outer.addStretch(1)
        self.setStyleSheet(
            "#ClassCard { background: palette(base); border: 1px solid palette(mid); border-radius: 8px; }"
            "#ClassCard[current=\"true\"] { border: 2px solid palette(highlight); }"
            "#ClassCard[dropTarget=\"true\"] { border: 2px dashed palette(highlight); background: palette(alternate-base); }"
            "#ClassName { background: transparent; }"
            "#BoardPlaceholder { border: 2px dashed palette(mid); border-radius: 12px; padding: 24px; }")
        thumbnails.sig_ready.connect(self._on_thumbnail)
        QApplication.instance().focusChanged.connect(self._on_focus)
        self.set_support(support)

    # --- the model -------------------------------------------------------------------------------------
    def set_support(self, support: SupportSet | None) -> None:
        """Show another support set (or none, when the window closes)."""
        if self.support is not None:
            self.support.changed.disconnect(self._sync)
        self.support = support
        if support is not None:
            support.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        classes = self.support.classes if self.support is not None else ()
        alive = {id(c): c for c in classes}
        for key in list(self._cards):
            if key not in alive or self._cards[key].cls is not alive[key]:
                card = self._cards.pop(key)
                self.cards_layout.removeWidget(card)
                card.hide()
                card.deleteLater()
        for index, cls in enumerate(classes):
            card = self._cards.get(id(cls))
            if card is None:
                card = self._cards[id(cls)] = ClassCard(self, cls)
            if self.cards_layout.indexOf(card) != index:
                self.cards_layout.removeWidget(card)
                self.cards_layout.insertWidget(index, card)
            card.show()
            card.sync()
        names = [c.name for c in classes]
        if self.current_class not in names:
            self.set_current(names[-1] if names else "")
        else:
            self._mark_current()
        self.placeholder.setVisible(not classes)
        n_images = sum(len(c.images) for c in classes)
        if classes:
            n_classes = (self.tr("{n} class") if len(classes) == 1 else self.tr("{n} classes")).format(n=len(classes))
            images = (self.tr("{n} image") if n_images == 1 else self.tr("{n} images")).format(n=n_images)
            self.summary.setText(f"  {n_classes} · {images}")
        else:
            self.summary.setText("")

    def cards(self) -> list[ClassCard]:
        return [self.cards_layout.itemAt(i).widget() for i in range(self.cards_layout.count())]

    def card(self, name: str) -> ClassCard:
        for card in self.cards():
            if card.name == name:
                return card
        raise KeyError(name)

    def _on_thumbnail(self, path: str) -> None:
        for card in self._cards.values():
            card.update_thumbnail(path)

    # --- the current class -----------------------------------------------------------------------------
    def set_current(self, name: str) -> None:
        """Make ``name`` the class that Add images, Paste and Delete act on; other cards lose their selection."""
        if name != self.current_class:
            self.current_class = name
            for card in self._cards.values():
                if card.name != name:
                    card.thumbs.clearSelection()
            self.sig_current_changed.emit(name)
        self._mark_current()

    def _mark_current(self) -> None:
        for card in self._cards.values():
            _set_flag(card, "current", card.name == self.current_class)

    def _on_focus(self, _old, new) -> None:
        while new is not None:
            if isinstance(new, ClassCard) and new.board is self:
                self.set_current(new.name)
                return
            new = new.parentWidget()

    def selected_images(self) -> dict[str, list[Path]]:
        return {card.name: card.thumbs.selected_paths() for card in self.cards() if card.thumbs.selectedItems()}

    # --- edits (each one a call on the support set) ----------------------------------------------------
    def _edit(self, fn: Callable, *args) -> bool:
        try:
            fn(*args)
            return True
        except FewShotError as exc:
            self.sig_notify.emit(Notice("error", str(exc)[:1].upper() + str(exc)[1:] + "."))
            return False

    def add_class(self, name: str | None = None) -> ClassCard | None:
        name = unique_name(name, self.support.class_names) if name else self.support.unused_name()
        if not self._edit(self.support.add_class, name):
            return None
        card = self.card(name)
        self.set_current(name)
        card.start_rename()
        return card

    def rename_class(self, old: str, new: str) -> bool:
        ok = self._edit(self.support.rename_class, old, new)
        if ok and self.current_class == old:
            self.set_current(new)
        if not ok:
            self.card(old).name_edit.setText(old)
        return ok

    def delete_class(self, name: str) -> None:
        index = self.support.class_names.index(name)
        images = list(self.support[name].images)
        if not self._edit(self.support.remove_class, name):
            return

        def undo() -> None:
            restored = unique_name(name, self.support.class_names)
            self.support.add_class(restored, images, min(index, len(self.support)))

        n = len(images)
        text = (self.tr("Deleted class {name} ({n} image; the files stay on disk).") if n == 1 else
                self.tr("Deleted class {name} ({n} images; the files stay on disk)."))
        self.sig_notify.emit(Notice("info", text.format(name=repr(name), n=n), actions=[(self.tr("Undo"), undo)]))

    def remove_images(self, name: str, paths: list[Path]) -> None:
        if not paths:
            return
        if not self._edit(self.support.remove_images, name, paths):
            return

        def undo() -> None:
            if name in self.support:
                self.support.add_images(name, paths)
            else:
                self.support.add_class(name, paths)

        n = len(paths)
        text = (self.tr("Removed {n} image from {name} (the files stay on disk).") if n == 1 else
                self.tr("Removed {n} images from {name} (the files stay on disk)."))
        self.sig_notify.emit(Notice("info", text.format(n=n, name=repr(name)), actions=[(self.tr("Undo"), undo)]))

    def remove_selected(self) -> int:
        selected = self.selected_images()
        for name, paths in selected.items():
            self.remove_images(name, paths)
        return sum(map(len, selected.values()))

    def move_images(self, paths: list[Path], source: str, target: str | None) -> None:
        """Move images between classes; ``target`` None makes a new class for them."""
        if target == source or not paths:
            return
        if target is None:
            target = unique_name("class", self.support.class_names)
            if not self._edit(self.support.add_class, target):
                return
        for path in paths:
            if path in self.support[source].images and not self._edit(self.support.move_image, path, source, target):
                return
        self.set_current(target)

    # --- drops, paste, files -----------------------------------------------------------------------------
    def drop(self, mime: QMimeData, target: str | None) -> bool:
        """Handle a drop on a card (``target``) or on the board (None); False if it means nothing here."""
        moving = read_images_mime(mime)
        if moving is not None and moving[0] in self.support:
            source, paths = moving
            self.move_images(paths, source, target)
            return True
        paths = local_paths(mime)
        if paths:
            self.import_paths(paths, target)
            return True
        if mime.hasImage():
            self.paste_image(QImage(mime.imageData()), target)
            return True
        return False

    def import_paths(self, paths: list[Path | str], target: str | None = None) -> None:
        """Check ``paths`` off the GUI thread, then add what is usable (see :func:`plan_drop`)."""
        self.imports_running += 1
        names = list(self.support.class_names)
        support = self.support
        self.tasks.submit(plan_drop, [Path(p) for p in paths], names, target,
                          on_done=lambda plan: self._apply(plan, support),
                          on_failed=self._import_failed)

    def _apply(self, plan: DropPlan, support: SupportSet) -> None:
        self.imports_running -= 1
        if support is not self.support:  # another project was opened meanwhile
            return
        added, new_classes, last = 0, [], None
        for name, images, _new in plan.classes:
            if name in self.support:
                added += len(self.support.add_images(name, images))
            else:
                name = unique_name(name, self.support.class_names)
                self.support.add_class(name, images)
                new_classes.append(name)
                added += len(images)
            last = name
        if last:
            self.set_current(last)
        if plan.skipped:
            self.sig_notify.emit(skipped_notice(plan.skipped, added))
        elif added:
            k = len(new_classes)
            if not k:
                text = self.tr("Added {n} image.") if added == 1 else self.tr("Added {n} images.")
            elif k == 1:
                text = self.tr("Added {n} image in {k} new class.") if added == 1 else \
                    self.tr("Added {n} images in {k} new class.")
            else:
                text = self.tr("Added {n} images in {k} new classes.")
            self.sig_notify.emit(Notice("success", text.format(n=added, k=k)))
        elif plan.classes:
            self.sig_notify.emit(Notice("info", self.tr("Those images are already in the class.")))
        else:
            self.sig_notify.emit(Notice("warning", self.tr("No images found in what was dropped.")))
        self.sig_import_finished.emit(plan)

    def _import_failed(self, exc: Exception, text: str) -> None:
        self.imports_running -= 1
        message = str(exc) if isinstance(exc, FewShotError) else \
            self.tr("Could not read what was dropped: {error}").format(error=exc)
        self.sig_notify.emit(Notice("error", message, details=text if not isinstance(exc, FewShotError) else ""))
        self.sig_import_finished.emit(DropPlan())

    def paste(self, mime: QMimeData | None) -> bool:
        """Paste files or an image from the clipboard into the current class (a new class if none)."""
        target = self.current_class or None
        if mime is None:
            return False
        paths = local_paths(mime)
        if paths:
            self.import_paths(paths, target)
            return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self.paste_image(image, target)
                return True
        self.sig_notify.emit(Notice("info", self.tr("The clipboard holds no image or image file to paste.")))
        return False

    def paste_image(self, image: QImage, target: str | None, kind: str = "pasted") -> None:
        """Save a pasted image as PNG in the studio's ``pasted`` folder (off the GUI thread), then add it.
        ``kind`` names the folder and the file instead (the camera's photos go to ``camera``)."""
        folder = studio_home() / kind
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"{kind}-{stamp}-{int(time.time() * 1000) % 1000:03d}.png"
        n = 2
        while path.exists():
            path = folder / f"{kind}-{stamp}-{n}.png"
            n += 1
        self.imports_running += 1

        def save(image=image.copy(), path=path):
            folder.mkdir(parents=True, exist_ok=True)
            if not image.save(str(path), "PNG"):
                raise OSError(f"cannot write {path}; check that the studio's folder is writable")
            return path

        def saved(path: Path) -> None:
            self.imports_running -= 1
            self.import_paths([path], target if target in self.support else None)

        def failed(exc, text) -> None:
            self._import_failed(exc, "")

        self.tasks.submit(save, on_done=saved, on_failed=failed)

    @property
    def busy(self) -> bool:
        return self.imports_running > 0

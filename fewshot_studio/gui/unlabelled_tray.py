"""The board's "Unlabelled images" tray: a view of :attr:`SupportSet.unlabelled <..core.support.SupportSet.unlabelled>`,
the pool of target-domain images without a class that domain adaptation and transductive methods learn from.

Like the class cards it holds nothing of its own: it listens to ``support.changed`` and shows the pool's count
and thumbnails (from the window's :class:`~.thumbnails.ThumbnailCache`). Dropped files and folders are checked
off the GUI thread by :func:`~..core.folders.collect_images` (what a drop on one class card adds), then added
with :meth:`~..core.support.SupportSet.add_unlabelled`; unusable files are reported one by one and nothing in the
pool is touched by a failed drop.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu,
                               QPushButton, QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from ..core.folders import collect_images
from ..core.images import ScanResult
from ..core.support import SupportSet
from . import icons
from .class_card import THUMB, ThumbDelegate, set_flag
from .drag_data import local_paths, read_images_mime
from .notices import Notice, error_notice, skipped_notice
from .tasks import TaskRunner
from .thumbnails import ThumbnailCache

ROWS = 2  # rows of thumbnails shown before the tray scrolls


class _PoolList(QListWidget):
    """The pool's thumbnails in one wrapping grid; Delete removes the selected ones from the pool."""

    def __init__(self, tray: UnlabelledTray):
        super().__init__(tray)
        self.tray = tray
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 8, THUMB + 8))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(False)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setItemDelegate(ThumbDelegate(self))
        self.fit()

    def fit(self) -> None:
        """As tall as the thumbnails need, up to :data:`ROWS` rows (then it scrolls)."""
        per_row = max(1, self.viewport().width() // self.gridSize().width())
        rows = min(ROWS, max(1, math.ceil(self.count() / per_row)))
        height = rows * self.gridSize().height() + 2 * self.frameWidth() + 4
        if self.height() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def paths(self) -> list[Path]:
        return [Path(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())]

    def selected_paths(self) -> list[Path]:
        return [Path(item.data(Qt.ItemDataRole.UserRole)) for item in self.selectedItems()]

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(8, 0, -8, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.tr("Drop images or a folder of the domain you will classify, without labels: "
                                     "domain adaptation and transductive methods learn from them"))

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selectedItems():
            self.tray.remove(self.selected_paths())
            return
        super().keyPressEvent(event)

    # drops land on the tray
    def dragEnterEvent(self, event) -> None:
        self.tray.dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        self.tray.dragMoveEvent(event)

    def dragLeaveEvent(self, event) -> None:
        self.tray.dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        self.tray.dropEvent(event)


class UnlabelledTray(QFrame):
    """The unlabelled pool of a support set: its count, its thumbnails, Add and Clear buttons; files dropped join it."""

    sig_notify = Signal(object)  # a Notice for the window's message bar
    sig_add_requested = Signal(str)  # "images" or "folder": the user wants a file dialog (the window opens it)
    sig_import_finished = Signal(object)  # a ScanResult, after its images were added (or nothing was)

    def __init__(self, support: SupportSet | None, thumbnails: ThumbnailCache, tasks: TaskRunner,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.support: SupportSet | None = None
        self.thumbnails = thumbnails
        self.tasks = tasks
        self.imports_running = 0
        self._items: dict[str, QListWidgetItem] = {}
        self.setObjectName("UnlabelledTray")
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        title = QLabel(self.tr("Unlabelled images"))
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        title.setToolTip(self.tr("Images of the target domain without a class: Domain adaptation (in the model "
                                 "panel) and transductive methods use them when adapting"))
        self.count_label = QLabel()
        self.count_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        # the count gives way first when the board is narrow (the window must fit 1024 px with its docks open)
        self.count_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clear_button = QPushButton(icons.icon("delete"), self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Empty the unlabelled pool (the files stay on disk; Undo brings "
                                             "them back)"))
        self.clear_button.clicked.connect(self.clear)
        self.add_button = QToolButton()
        self.add_button.setIcon(icons.icon("add-images"))
        self.add_button.setText(self.tr("Add"))
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.add_button.setToolTip(self.tr("Add unlabelled images: files, or a folder with everything in it"))
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_button)
        self.act_add_images = menu.addAction(self.tr("Images..."), lambda: self.sig_add_requested.emit("images"))
        self.act_add_folder = menu.addAction(self.tr("Folder..."), lambda: self.sig_add_requested.emit("folder"))
        self.add_button.setMenu(menu)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(title)
        header.addWidget(self.count_label, 1)
        header.addWidget(self.add_button)
        header.addWidget(self.clear_button)
        self.thumbs = _PoolList(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.thumbs)
        thumbnails.sig_ready.connect(self._on_thumbnail)
        self.set_support(support)

    # --- the model -------------------------------------------------------------------------------------
    def set_support(self, support: SupportSet | None) -> None:
        if self.support is not None:
            self.support.changed.disconnect(self._sync)
        self.support = support
        if support is not None:
            support.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        pool = [str(p) for p in self.support.unlabelled] if self.support is not None else []
        n = len(pool)
        self.count_label.setText((self.tr("{n} unlabelled image") if n == 1 else
                                  self.tr("{n} unlabelled images")).format(n=n))
        self.clear_button.setEnabled(bool(pool))
        if pool == [self.thumbs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.thumbs.count())]:
            return
        selected = set(map(str, self.thumbs.selected_paths()))
        self.thumbs.clear()  # deletes the items: made again below (the pixmaps stay in the cache)
        self._items = {}
        for path in pool:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setSizeHint(self.thumbs.gridSize())
            self._items[path] = item
            self.thumbs.addItem(item)
            item.setSelected(path in selected)
            self.update_thumbnail(path)
        self.thumbs.fit()
        self.thumbs.viewport().update()

    def paths(self) -> list[Path]:
        """The thumbnails shown, in order."""
        return self.thumbs.paths()

    def _on_thumbnail(self, path: str) -> None:
        self.update_thumbnail(path)

    def update_thumbnail(self, path: str) -> None:
        item = self._items.get(path)
        if item is None:
            return
        pm = self.thumbnails.pixmap(path)
        name = Path(path).name
        if pm is not None:
            item.setIcon(QIcon(pm))
            item.setToolTip(f"{name}\n{Path(path).parent}\n" + self.tr(
                "Delete removes it from the unlabelled images (the file stays on disk)"))
        elif self.thumbnails.error(path):
            item.setIcon(icons.icon("broken-image"))
            item.setToolTip(f"{name}: {self.thumbnails.error(path)}")
        else:
            item.setIcon(icons.icon("image"))
            item.setToolTip(name)

    def thumbnails_ready(self) -> bool:
        return all(self.thumbnails.is_ready(p) for p in self._items)

    # --- edits (calls on the support set) ----------------------------------------------------------------
    def clear(self) -> None:
        """Empty the pool; the notice offers Undo."""
        support, images = self.support, self.support.unlabelled
        if not images:
            return
        support.clear_unlabelled()
        n = len(images)
        text = (self.tr("Cleared {n} unlabelled image (the file stays on disk).") if n == 1 else
                self.tr("Cleared {n} unlabelled images (the files stay on disk)."))
        self.sig_notify.emit(Notice("info", text.format(n=n),
                                    actions=[(self.tr("Undo"), lambda: support.add_unlabelled(images))]))

    def remove(self, paths: list[Path]) -> None:
        support = self.support
        support.remove_unlabelled(paths)
        n = len(paths)
        text = (self.tr("Removed {n} unlabelled image (the file stays on disk).") if n == 1 else
                self.tr("Removed {n} unlabelled images (the files stay on disk)."))
        self.sig_notify.emit(Notice("info", text.format(n=n),
                                    actions=[(self.tr("Undo"), lambda: support.add_unlabelled(paths))]))

    def import_paths(self, paths: list[Path | str]) -> None:
        """Check ``paths`` (files and folders) off the GUI thread, then add the usable images to the pool."""
        self.imports_running += 1
        support = self.support
        self.tasks.submit(collect_images, [Path(p) for p in paths], on_done=lambda scan: self._apply(scan, support),
                          on_failed=self._import_failed)

    def _apply(self, scan: ScanResult, support: SupportSet) -> None:
        self.imports_running -= 1
        if support is not self.support:  # another project was opened meanwhile
            return
        added = len(support.add_unlabelled(scan.images))
        if scan.skipped:
            self.sig_notify.emit(skipped_notice(scan.skipped, added))
        elif added:
            text = self.tr("Added {n} unlabelled image.") if added == 1 else self.tr("Added {n} unlabelled images.")
            self.sig_notify.emit(Notice("success", text.format(n=added)))
        elif scan.images:
            self.sig_notify.emit(Notice("info", self.tr("Those images are already in the unlabelled images.")))
        else:
            self.sig_notify.emit(Notice("warning", self.tr("No images found in what was added.")))
        self.sig_import_finished.emit(scan)

    def _import_failed(self, exc: Exception, text: str) -> None:
        self.imports_running -= 1
        self.sig_notify.emit(error_notice(exc, text, self.tr("Could not read what was added: {error}")))
        self.sig_import_finished.emit(ScanResult())

    def unlabel(self, source: str, paths: list[Path]) -> None:
        """Images dragged out of class ``source`` lose their label: out of the class, into the pool (Undo)."""
        support = self.support
        if source not in support:
            return
        paths = [p for p in paths if p in support[source].images]
        if not paths:
            return
        support.remove_images(source, paths)
        support.add_unlabelled(paths)

        def undo() -> None:
            support.remove_unlabelled(paths)
            support.add_images(source, paths) if source in support else support.add_class(source, paths)

        text = (self.tr("Moved {n} image from {name} to the unlabelled images.") if len(paths) == 1 else
                self.tr("Moved {n} images from {name} to the unlabelled images."))
        self.sig_notify.emit(Notice("info", text.format(n=len(paths), name=repr(source)),
                                    actions=[(self.tr("Undo"), undo)]))

    # --- drops -------------------------------------------------------------------------------------------
    @staticmethod
    def _wanted(mime) -> bool:
        """Files from elsewhere, or images dragged out of a class card (they lose their label)."""
        return read_images_mime(mime) is not None or bool(local_paths(mime))

    def dragEnterEvent(self, event) -> None:
        if self._wanted(event.mimeData()):
            moving = read_images_mime(event.mimeData()) is not None
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
        mime = event.mimeData()
        if not self._wanted(mime):
            event.ignore()
            return
        moving = read_images_mime(mime)
        if moving is not None and moving[0] in self.support:
            self.unlabel(*moving)
            event.setDropAction(Qt.DropAction.MoveAction)
        else:
            self.import_paths(local_paths(mime))
            event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # the icon is drawn in the text colour: redraw it
            self.clear_button.setIcon(icons.icon("delete"))
            self.add_button.setIcon(icons.icon("add-images"))
        super().changeEvent(event)

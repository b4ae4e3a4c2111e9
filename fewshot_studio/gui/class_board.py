"""The class board: one card per class of a :class:`~fewshot_studio.core.support.SupportSet`.

The board is a view. It holds no list of classes or images of its own: it listens to ``support.changed``
and brings its cards (:mod:`.class_card`) in line with the set (napari's QtDims does the same with its Dims).
Every edit the user makes (drop, rename, move, delete) is a call on the support set, whose signal then
updates the cards.

Dropped files are checked off the GUI thread (each is decoded once, by :func:`~..core.folders.plan_drop`);
only then are they added, and what was unusable is reported file by file. Nothing already on the board is
touched by a failed import.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QMimeData, Qt, Signal
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ..core.errors import FewShotError
from ..core.folders import DropPlan, plan_drop, unique_name
from ..core.paths import studio_home
from ..core.support import SupportSet
from . import icons
from .theme import set_style_sheet
from .class_card import ClassCard, set_flag
from .notices import Notice, error_notice, exception_text, skipped_notice
from .drag_data import accepts, local_paths, read_images_mime
from .tasks import TaskRunner
from .thumbnails import ThumbnailCache
from .unlabelled_tray import UnlabelledTray

MSG_NOT_IN_SUBFOLDER = QT_TRANSLATE_NOOP("ClassBoard", "not inside a class sub-folder; drop it on a class card instead")


# --- the board ------------------------------------------------------------------------------------------------
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
        top = QGridLayout()  # the summary under the title: a narrow board never pushes "New class" out
        top.setVerticalSpacing(0)
        top.addWidget(title, 0, 0)
        top.setColumnStretch(1, 1)
        top.addWidget(self.new_button, 0, 2)
        top.addWidget(self.summary, 1, 0, 1, 3)
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
        self.tray = UnlabelledTray(None, thumbnails, tasks, self.canvas)  # the unlabelled pool, below the classes
        self.tray.sig_notify.connect(self.sig_notify)
        outer.addSpacing(8)
        outer.addWidget(self.tray)
        outer.addStretch(1)
        set_style_sheet(self,  # a style sheet's palette() colours are fixed when set: re-set on a theme change
            "#ClassCard { background: palette(base); border: 1px solid palette(mid); border-radius: 8px; }"
            "#ClassCard[current=\"true\"] { border: 2px solid palette(highlight); }"
            "#ClassCard[dropTarget=\"true\"] { border: 2px dashed palette(highlight); background: palette(alternate-base); }"
            "#UnlabelledTray { border: 1px dashed palette(mid); border-radius: 8px; }"
            "#UnlabelledTray[dropTarget=\"true\"] { border: 2px dashed palette(highlight); "
            "background: palette(alternate-base); }"
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
        self.tray.set_support(support)
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
            self.summary.setText(f"{n_classes} · {images}")
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
            set_flag(card, "current", card.name == self.current_class)

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
            self.sig_notify.emit(Notice("error", exception_text(exc, "{error}", full_stop=True)[0]))
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
                          QCoreApplication.translate("ClassBoard", MSG_NOT_IN_SUBFOLDER),
                          on_done=lambda plan: self._apply(plan, support),
                          on_failed=self._import_failed)

    def _apply(self, plan: DropPlan, support: SupportSet) -> None:
        self.imports_running -= 1
        if support is not self.support:  # another project was opened meanwhile
            return
        added, new_classes, last = 0, [], None
        for name, images in plan.classes:
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
        self.sig_notify.emit(error_notice(exc, text, self.tr("Could not read what was dropped: {error}")))
        self.sig_import_finished.emit(DropPlan())

    def rename_current(self) -> None:
        """Edit > Rename class: edit the current class's name in place."""
        if self.current_class:
            self.card(self.current_class).start_rename()

    def delete_current(self) -> None:
        """Edit > Delete class."""
        if self.current_class:
            self.delete_class(self.current_class)

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
        return self.imports_running > 0 or self.tray.imports_running > 0

"""Support sets: ordered classes, each a name and its example images, and a pool of unlabelled images.

A :class:`SupportSet` is the one place that holds the user's classes; the window's class cards are views
of it and listen to :attr:`SupportSet.changed`. Its :attr:`~SupportSet.unlabelled` pool holds images of the
target domain without a class (what domain adaptation and transductive methods learn from); the Python API
passes it to an adaptation run through the support set, like the classes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from psygnal import Signal

from .errors import SupportSetError
from .folders import MSG_NOT_IN_SUBFOLDER, class_subfolders, collect_images, numbered_name, read_class_folders
from .images import Skipped, check_images
from .safe_write import OutputPathError, atomic_write

FORMAT = "fewshot-studio-support-set"
FORMAT_VERSION = 1

MSG_TOO_FEW_CLASSES = "a support set needs at least 2 classes (it has {n}); add another class"
MSG_EMPTY_CLASS = "class {name!r} has no images; add at least one example or remove the class"
MSG_EMPTY_NAME = "class names cannot be empty"
MSG_DUPLICATE = "there is already a class called {name!r}; choose another name"
MSG_NO_CLASS = "there is no class called {name!r}"


@dataclass
class ImageClass:
    """One class: its name and its example image files, in order."""

    name: str
    images: list[Path] = field(default_factory=list)


class SupportSet:
    """The labelled examples a classifier is adapted to. Emits :attr:`changed` after every edit."""

    changed = Signal()  # emitted after any edit, with no arguments

    def __init__(self, classes: Iterable[tuple[str, Iterable[str | os.PathLike]]] = (),
                 unlabelled: Iterable[str | os.PathLike] = ()):
        self._classes: list[ImageClass] = []
        self._unlabelled: list[Path] = []
        self.notices: list[str] = []  # what reading the set changed, for the user (a class named unlike its folder)
        for name, images in classes:
            self._insert(name, images)
        for p in map(Path, unlabelled):
            if p not in self._unlabelled:
                self._unlabelled.append(p)

    # --- reading -------------------------------------------------------------------------------------
    @property
    def classes(self) -> tuple[ImageClass, ...]:
        return tuple(self._classes)

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self._classes]

    def __len__(self) -> int:
        return len(self._classes)

    def __getitem__(self, name: str) -> ImageClass:
        for c in self._classes:
            if c.name == name:
                return c
        raise SupportSetError(MSG_NO_CLASS.format(name=name))

    def __contains__(self, name: str) -> bool:
        return name in self.class_names

    @property
    def n_images(self) -> int:
        return sum(len(c.images) for c in self._classes)

    @property
    def unlabelled(self) -> list[Path]:
        """The unlabelled pool (a copy; edit it with :meth:`add_unlabelled` and friends)."""
        return list(self._unlabelled)

    def samples(self) -> list[tuple[Path, int]]:
        """Every image with the index of its class, class by class."""
        return [(p, i) for i, c in enumerate(self._classes) for p in c.images]

    # --- editing -------------------------------------------------------------------------------------
    def _check_name(self, name: str, *, ignore: str | None = None) -> str:
        name = (name or "").strip()
        if not name:
            raise SupportSetError(MSG_EMPTY_NAME)
        if name != ignore and name in self.class_names:
            raise SupportSetError(MSG_DUPLICATE.format(name=name))
        return name

    def _insert(self, name, images, index=None) -> ImageClass:
        cls = ImageClass(self._check_name(name), [])
        self._classes.insert(len(self._classes) if index is None else index, cls)
        for p in images:
            p = Path(p)
            if p not in cls.images:
                cls.images.append(p)
        return cls

    def unused_name(self, stem: str = "class") -> str:
        """``stem N`` for a new class: N counts on from the number of classes, skipping names taken."""
        return numbered_name(stem, self.class_names, len(self._classes) + 1)

    def add_class(self, name: str | None = None, images: Iterable = (), index: int | None = None) -> ImageClass:
        cls = self._insert(name if name is not None else self.unused_name(), images, index)
        self.changed.emit()
        return cls

    def remove_class(self, name: str) -> None:
        self._classes.remove(self[name])
        self.changed.emit()

    def rename_class(self, old: str, new: str) -> None:
        cls = self[old]
        cls.name = self._check_name(new, ignore=old)
        self.changed.emit()

    def move_class(self, name: str, index: int) -> None:
        cls = self[name]
        self._classes.remove(cls)
        self._classes.insert(max(0, min(index, len(self._classes))), cls)
        self.changed.emit()

    def add_images(self, name: str, paths: Iterable[str | os.PathLike]) -> list[Path]:
        """Append images to a class; files already in that class are not added twice."""
        cls = self[name]
        added = []
        for p in map(Path, paths):
            if p not in cls.images:
                cls.images.append(p)
                added.append(p)
        if added:
            self.changed.emit()
        return added

    def remove_images(self, name: str, paths: Iterable[str | os.PathLike]) -> None:
        cls = self[name]
        gone = {Path(p) for p in paths}
        cls.images = [p for p in cls.images if p not in gone]
        self.changed.emit()

    def move_image(self, path: str | os.PathLike, source: str, target: str) -> None:
        path = Path(path)
        src, dst = self[source], self[target]
        if path not in src.images:
            raise SupportSetError(f"{path} is not in class {source!r}")
        src.images.remove(path)
        if path not in dst.images:
            dst.images.append(path)
        self.changed.emit()

    def clear(self) -> None:
        """Remove every class (the unlabelled pool stays; :meth:`clear_unlabelled` empties it)."""
        self._classes.clear()
        self.changed.emit()

    # --- the unlabelled pool ------------------------------------------------------------------------------------
    def add_unlabelled(self, paths: Iterable[str | os.PathLike]) -> list[Path]:
        """Append images to the unlabelled pool (not checked; see :meth:`add_unlabelled_files`); files already in
        the pool are not added twice. Returns those added."""
        added = []
        for p in map(Path, paths):
            if p not in self._unlabelled:
                self._unlabelled.append(p)
                added.append(p)
        if added:
            self.changed.emit()
        return added

    def add_unlabelled_files(self, paths: Iterable[str | os.PathLike]) -> list[Skipped]:
        """Files and folders (walked) into the pool, each file checked like a labelled one; returns what was
        skipped and why (see :func:`.folders.collect_images`; the window checks off its GUI thread with it, then
        calls :meth:`add_unlabelled`)."""
        scan = collect_images(paths)
        self.add_unlabelled(scan.images)
        return scan.skipped

    def remove_unlabelled(self, paths: Iterable[str | os.PathLike]) -> None:
        gone = {Path(p) for p in paths}
        self._unlabelled = [p for p in self._unlabelled if p not in gone]
        self.changed.emit()

    def clear_unlabelled(self) -> None:
        self._unlabelled.clear()
        self.changed.emit()

    # --- checking ------------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything that stops this set from being adapted to, as messages for the user."""
        found = []
        if len(self._classes) < 2:
            found.append(MSG_TOO_FEW_CLASSES.format(n=len(self._classes)))
        found += [MSG_EMPTY_CLASS.format(name=c.name) for c in self._classes if not c.images]
        return found

    def validate(self) -> None:
        found = self.problems()
        if found:
            raise SupportSetError("; ".join(found))

    def summary(self) -> dict:
        return {"classes": [{"name": c.name, "images": len(c.images)} for c in self._classes],
                "n_images": self.n_images, "unlabelled": len(self._unlabelled)}

    # --- files ---------------------------------------------------------------------------------------
    @classmethod
    def from_folder(cls, folder: str | os.PathLike, *, validate: bool = True) -> tuple[SupportSet, list[Skipped]]:
        """One class per sub-folder (sorted by name), its images found recursively (see :mod:`.folders`).

        Returns the set and the files that were skipped, with the reason for each.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise SupportSetError(f"{folder}: {'is not a folder' if folder.exists() else 'folder not found'}; "
                                  "give a folder with one sub-folder of images per class")
        if not class_subfolders(folder):
            raise SupportSetError(f"{folder} has no sub-folders; put each class's images in a sub-folder "
                                  f"named after the class (for example {folder / 'cat' / '1.jpg'})")
        found = read_class_folders(folder, validate=validate)
        support = cls()
        skipped = [Skipped(p, MSG_NOT_IN_SUBFOLDER) for p in found.loose] + found.skipped
        for name, scan in found.classes:
            support._insert(name, scan.images)
            skipped += scan.skipped
        support.notices = list(found.notices)
        return support, skipped

    def add_files(self, name: str, paths: Iterable[str | os.PathLike]) -> list[Skipped]:
        """Validate files and add the usable ones to a class; returns what was skipped and why."""
        self[name]
        scan = check_images(paths)
        self.add_images(name, scan.images)
        return scan.skipped

    def to_dict(self, relative_to: Path | None = None) -> dict:
        def rel(p: Path) -> str:
            if relative_to is not None:
                try:
                    return Path(os.path.relpath(p.resolve(), relative_to.resolve())).as_posix()
                except ValueError:  # another drive on Windows
                    pass
            return str(p)

        out = {"format": FORMAT, "version": FORMAT_VERSION,
               "classes": [{"name": c.name, "images": [rel(p) for p in c.images]} for c in self._classes]}
        if self._unlabelled:  # optional key: files without it read as before, older readers ignore it
            out["unlabelled"] = [rel(p) for p in self._unlabelled]
        return out

    @classmethod
    def from_dict(cls, data: dict, base: Path | None = None) -> SupportSet:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SupportSetError("not a Few-shot Studio support set file")
        try:
            version = int(data.get("version", 0))
        except (TypeError, ValueError, OverflowError):
            raise SupportSetError(f"support set file is damaged (version {data.get('version')!r})") from None
        if version > FORMAT_VERSION:
            raise SupportSetError(f"this support set file was written by a newer Few-shot Studio (format "
                                  f"{data['version']}, this version reads {FORMAT_VERSION}); upgrade to open it")
        base = base or Path.cwd()
        try:
            return cls(((c["name"], [base / p for p in c["images"]]) for c in data["classes"]),
                       [base / p for p in data.get("unlabelled", [])])
        except (KeyError, TypeError, AttributeError) as exc:  # AttributeError: a class name that is not text
            raise SupportSetError(f"support set file is damaged ({exc!r} missing or wrong)") from None

    def save(self, path: str | os.PathLike) -> None:
        path = Path(path)
        text = json.dumps(self.to_dict(relative_to=path.parent), indent=2)
        inputs = [("a support image", p) for c in self._classes for p in c.images]
        try:
            atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), inputs=inputs)
        except OutputPathError as exc:
            raise SupportSetError(str(exc)) from None
        except OSError as exc:
            raise SupportSetError(f"cannot write {path}: {exc.strerror or exc}; choose another place") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> SupportSet:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SupportSetError(f"cannot read {path}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SupportSetError(f"{path} is not a Few-shot Studio support set file (not JSON)") from None
        return cls.from_dict(data, base=path.parent)


MSG_DUPLICATE_IMAGE = ("the same image is in classes {first!r} and {second!r} ({a} and {b}); one of the labels is "
                       "probably wrong")


def _digest(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def duplicate_images(support: SupportSet) -> list[str]:
    """A warning for each image that is in two classes (the same file, or files with the same bytes)."""
    by_size: dict[int, list[tuple[Path, str]]] = {}
    for cls in support.classes:
        for image in cls.images:
            try:
                size = Path(image).stat().st_size
            except OSError:
                continue
            by_size.setdefault(size, []).append((Path(image), cls.name))
    found = []
    for group in by_size.values():
        if len({name for _, name in group}) < 2:
            continue  # all in one class: not a labelling conflict
        first_of: dict[str, tuple[Path, str]] = {}
        for image, name in group:
            digest = _digest(image)
            if digest is None:
                continue
            if digest in first_of and first_of[digest][1] != name:
                other, other_name = first_of[digest]
                found.append(MSG_DUPLICATE_IMAGE.format(first=other_name, second=name, a=other, b=image))
            first_of.setdefault(digest, (image, name))
    return found

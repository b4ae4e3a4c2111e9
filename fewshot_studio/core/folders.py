"""Folders of class folders, class names, and what dropping files and folders on the class board means.

The layout: one sub-folder per class (sorted by name; hidden ones are ignored), its images found
recursively; files beside the sub-folders belong to no class. :meth:`.support.SupportSet.from_folder`
reads a whole folder so, and :func:`plan_drop` decides what a drop adds (the board calls it off the GUI
thread: it checks every image).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .images import ScanResult, Skipped, check_images, scan_folder

MSG_NOT_IN_SUBFOLDER = "not inside a class sub-folder"
MSG_HIDDEN_CLASS = "hidden folder (its name starts with a dot), not read as a class; rename it to use it as one"
MSG_BLANK_CLASS = "a folder named only with spaces cannot be a class; rename it to use it as one"
MSG_RENAMED_CLASS = "class folder {folder!r} is read as class {name!r} (spaces at the ends of a name are dropped)"


# --- class names ------------------------------------------------------------------------------------------------
def numbered_name(stem: str, taken: Iterable[str], start: int) -> str:
    """``stem N`` for the first N from ``start`` that is not taken."""
    taken = set(taken)
    n = start
    while f"{stem} {n}" in taken:
        n += 1
    return f"{stem} {n}"


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base 2``, ``base 3``... whichever is not taken."""
    taken = set(taken)
    base = base.strip() or "class"
    return base if base not in taken else numbered_name(base, taken, 2)


# --- the folder layout ------------------------------------------------------------------------------------------
@dataclass
class ClassFolders:
    """A folder read as a folder of class folders."""

    classes: list[tuple[str, ScanResult]]  # (class name, its images and skipped files), one per sub-folder
    loose: list[Path]  # files beside the sub-folders, in no class, sorted
    skipped: list[Skipped] = field(default_factory=list)  # sub-folders not read as classes (hidden), with why
    notices: list[str] = field(default_factory=list)  # what reading changed (a class named unlike its folder)


#: Hidden folders that tools make and nobody means as a class: left out without a word.
_QUIET = frozenset({".git", ".svn", ".hg", ".ipynb_checkpoints", ".DS_Store", ".Trash", ".thumbnails", ".cache",
                    ".fseventsd", ".Spotlight-V100", ".idea", ".vscode"})


def class_subfolders(folder: Path) -> list[Path]:
    """The visible sub-folders of ``folder``, sorted by name: one class each."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_class_folders(folder: str | os.PathLike, *, validate: bool = True) -> ClassFolders:
    """Scan every class sub-folder of ``folder`` (``validate`` decodes each image; slow)."""
    folder = Path(folder)
    subs = class_subfolders(folder)
    classes = [(sub.name.strip(), scan_folder(sub, validate=validate)) for sub in subs if sub.name.strip()]
    loose = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    hidden = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith(".") and p.name not in _QUIET)
    skipped = [Skipped(p, MSG_HIDDEN_CLASS) for p in hidden] + [Skipped(p, MSG_BLANK_CLASS) for p in subs
                                                                 if not p.name.strip()]
    notices = [MSG_RENAMED_CLASS.format(folder=sub.name, name=sub.name.strip())
               for sub in subs if sub.name != sub.name.strip() and sub.name.strip()]
    return ClassFolders(classes, loose, skipped, notices)


# --- what a drop means ------------------------------------------------------------------------------------------
def collect_images(paths: Iterable[str | os.PathLike]) -> ScanResult:
    """Every image file in ``paths`` and under its folders (walked), each one checked (slow: off the GUI thread):
    what a drop on one class, or on the unlabelled pool, adds. Folders come first, then the loose files."""
    paths = [Path(p) for p in paths]
    images: list[Path] = []
    skipped: list[Skipped] = []
    for folder in (p for p in paths if p.is_dir()):
        scan = scan_folder(folder)
        images += scan.images
        skipped += scan.skipped
    scan = check_images([p for p in paths if not p.is_dir()])
    return ScanResult(images + scan.images, skipped + scan.skipped)


@dataclass
class DropPlan:
    """The classes a drop adds images to, in order, and the files left out with the reason."""

    classes: list[tuple[str, list[Path]]] = field(default_factory=list)  # (class name, images)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return sum(len(images) for _, images in self.classes)


def plan_drop(paths: Iterable[str | os.PathLike], class_names: Iterable[str], target: str | None = None,
              loose_reason: str = MSG_NOT_IN_SUBFOLDER) -> DropPlan:
    """Decide what dropping ``paths`` does, checking every image (slow: call it off the GUI thread).

    On a card (``target``): every image file, and every image under a dropped folder, joins that class.
    On the board: a folder with sub-folders gives one class per sub-folder (its loose files are skipped with
    ``loose_reason``); a folder of images gives one class named after it (a class of that name that exists
    already gets the images); loose images make one new class, named after their folder.
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
            plan.classes.append((name, by_name[name]))
        by_name[name].extend(p for p in images if p not in by_name[name])

    folders = [p for p in paths if p.is_dir()]
    files = [p for p in paths if not p.is_dir()]
    if target is not None:
        scan = collect_images(paths)
        add(target, scan.images)
        plan.skipped += scan.skipped
        return plan

    for folder in folders:
        found = read_class_folders(folder)
        if found.classes:
            for name, scan in found.classes:
                add(name, scan.images)
                plan.skipped += scan.skipped
            plan.skipped += [Skipped(p, loose_reason) for p in found.loose] + found.skipped
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

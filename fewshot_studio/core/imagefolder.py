"""A support set written out as an ImageFolder tree: ``OUT/<class>/<image file>``, one sub-folder per class.

This is the layout :meth:`SupportSet.from_folder` (File > Import class folders..., ``fewshot-studio adapt
DIR``) and torchvision's ``ImageFolder`` read, so the round trip gives the same classes with the same
images (byte for byte; classes come back in name order, as ImageFolder sorts them).

Rules, so that nothing is lost or overwritten:

- the target must be a new or an empty folder;
- images are copied (never moved) under their original names; two images of one class with the same
  name (from different folders) become ``name (2).png``...; names the import would skip (starting with a
  dot) or that a file system refuses get a safe name; every such change is reported;
- class names that cannot be folder names (``/``, ``:``...; ``.`` and ``..``; a leading dot) or that
  collide with another class's folder (case-insensitively, for Windows and macOS) get a safe name, reported;
- a missing source image stops the export before anything is written; a failed copy removes what was
  written, and the message says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SupportSetError
from .safe_write import OutputPathError, atomic_write
from .support import SupportSet

MSG_NOT_EMPTY = "{folder} is not empty; choose a new or empty folder, so that no file there is overwritten"
MSG_NOT_FOLDER = "{folder} is a file, not a folder; choose a new or empty folder"
MSG_MISSING = ("cannot export the support set: {image} (class {name!r}) no longer exists; remove it from the class "
               "or put the file back")
MSG_WRITE = "cannot write to {folder}: {error}; choose a folder you can write to"
MSG_EMPTY = "the support set has no images to export"
MSG_INSIDE = ("{folder} is inside the support set's folder {root}; the next import of that folder would find the "
              "export as a new class. Choose a folder outside it")

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def safe_name(name: str, fallback: str) -> str:
    """A file or folder name every common file system accepts and the import does not skip."""
    name = _UNSAFE.sub("_", name).strip(" ")
    name = name.lstrip(".") if name.strip(".") else ""
    name = name.rstrip(" .")
    return name[:200] or fallback


def _unique(name: str, taken: set[str]) -> str:
    stem, suffix = os.path.splitext(name)
    n = 2
    candidate = name
    while candidate.lower() in taken:
        candidate = f"{stem} ({n}){suffix}"
        n += 1
    taken.add(candidate.lower())
    return candidate


@dataclass
class FolderExport:
    """What :func:`export_image_folder` wrote."""

    folder: Path
    classes: list[tuple[str, str]] = field(default_factory=list)  # (class name, its folder name)
    files: list[tuple[Path, Path]] = field(default_factory=list)  # (source image, copy)
    renamed: list[str] = field(default_factory=list)  # one line for each name that had to change

    def __str__(self) -> str:
        return f"{len(self.files)} images in {len(self.classes)} class folders in {self.folder}"


def plan_image_folder(support: SupportSet, folder: str | os.PathLike) -> FolderExport:
    """Decide every folder and file name (nothing is written)."""
    folder = Path(folder)
    plan = FolderExport(folder)
    class_taken: set[str] = set()
    for ci, cls in enumerate(support.classes):
        dirname = _unique(safe_name(cls.name, f"class {ci + 1}"), class_taken)
        if dirname != cls.name:
            plan.renamed.append(f"class {cls.name!r} -> folder {dirname!r}")
        plan.classes.append((cls.name, dirname))
        taken: set[str] = set()
        for image in cls.images:
            image = Path(image)
            name = _unique(safe_name(image.name, "image"), taken)
            if name != image.name:
                plan.renamed.append(f"{image} -> {dirname}/{name}")
            plan.files.append((image, folder / dirname / name))
    return plan


def _is_within(folder: Path, root: Path) -> bool:
    folder, root = folder.resolve(), root.resolve()
    return folder == root or root in folder.parents


def export_image_folder(support: SupportSet, folder: str | os.PathLike, *,
                        source: str | os.PathLike | None = None) -> FolderExport:
    """Copy the support set's images into ``folder/<class>/``; see the module docstring for the rules.

    ``source``: the folder the support set was read from, if any; the export may not go inside it (nor inside
    any image's own folder), or reading that folder again would find the export as a class.
    Raises :class:`SupportSetError` (nothing written) when the folder is not new or empty, is inside the
    support set, an image is missing, or the folder cannot be written.
    """
    folder = Path(folder)
    roots = {Path(image).parent for cls in support.classes for image in cls.images}
    if source is not None and Path(source).is_dir():
        roots.add(Path(source))
    for root in sorted(roots):
        if _is_within(folder, root):
            raise SupportSetError(MSG_INSIDE.format(folder=folder, root=root))
    if not support.n_images:
        raise SupportSetError(MSG_EMPTY)
    if folder.exists() and not folder.is_dir():
        raise SupportSetError(MSG_NOT_FOLDER.format(folder=folder))
    if folder.is_dir() and any(folder.iterdir()):
        raise SupportSetError(MSG_NOT_EMPTY.format(folder=folder))
    for cls in support.classes:
        for image in cls.images:
            if not Path(image).is_file():
                raise SupportSetError(MSG_MISSING.format(image=image, name=cls.name))
    plan = plan_image_folder(support, folder)
    created_root = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for _, dirname in plan.classes:
            (folder / dirname).mkdir()
        for image, target in plan.files:
            atomic_write(target, lambda tmp, image=image: shutil.copy2(image, tmp))
    except (OSError, OutputPathError) as exc:
        _remove_written(plan, created_root)
        raise SupportSetError(MSG_WRITE.format(folder=folder, error=getattr(exc, "strerror", None) or exc)) from None
    return plan


def _remove_written(plan: FolderExport, created_root: bool) -> None:
    """Undo a failed export: only what it wrote (the folder was new or empty)."""
    for _, target in plan.files:
        try:
            target.unlink(missing_ok=True)
        except OSError:
            pass
    for _, dirname in plan.classes:
        try:
            (plan.folder / dirname).rmdir()
        except OSError:
            pass
    if created_root:
        try:
            plan.folder.rmdir()
        except OSError:
            pass


def fresh_target(folder: str | os.PathLike, name: str) -> Path:
    """``folder`` when it is new or empty, else a new sub-folder of it named after ``name`` ("name (2)"...)."""
    folder = Path(folder)
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return folder
    base = safe_name(name, "support set")
    candidate, n = folder / base, 2
    while candidate.exists():
        candidate, n = folder / f"{base} ({n})", n + 1
    return candidate


def import_image_folder(folder: str | os.PathLike):
    """The inverse: :meth:`SupportSet.from_folder` (returns the set and the skipped files)."""
    return SupportSet.from_folder(folder)

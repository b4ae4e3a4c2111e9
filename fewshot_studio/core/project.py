"""Project files: one zip that holds the class names *and the images*, so a project moves between machines.

Layout of a ``.fsproj`` file (an ordinary zip archive)::

    project.json              {"format": "fewshot-studio-project", "version": 1,
                               "classes": [{"name": "cat", "images": ["images/0/cat_1.jpg", ...]}, ...],
                               "settings": {...}}       (optional: backbone, method, hyperparameters)
    images/<class index>/<file name>                    the image files, byte for byte

Opening never trusts the archive: only members listed in ``project.json`` are read, their names must have
the layout above, sizes are checked before reading, and the files are written under names this module
chooses, in a cache folder keyed by the archive's content (so reopening the same file reuses it).
Nothing here imports torch or Qt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FewShotError
from .images import Skipped, check_images
from .paths import studio_home
from .safe_write import OutputPathError, atomic_write
from .support import SupportSet

FORMAT = "fewshot-studio-project"
FORMAT_VERSION = 1
SUFFIX = ".fsproj"
MANIFEST = "project.json"
MAX_IMAGE_BYTES = 256 * 2**20  # one image
MAX_TOTAL_BYTES = 16 * 2**30  # the whole project, uncompressed
MAX_MANIFEST_BYTES = 64 * 2**20
# Already-compressed formats are stored as they are; deflating them costs time and saves nothing.
STORED_SUFFIXES = frozenset(".png .jpg .jpeg .jpe .jfif .webp .gif".split())
_MEMBER = re.compile(r"^images/(\d{1,6})/([^/\\]{1,255})$")

MSG_NOT_FOUND = "{path}: project file not found"
MSG_NOT_PROJECT = "{path}: not a Few-shot Studio project ({why}); open a .fsproj file saved by the studio"
MSG_NEWER = ("{path}: this project was saved by a newer Few-shot Studio (format {version}, this version reads up "
             "to {supported}); upgrade Few-shot Studio to open it")
MSG_DAMAGED = "{path}: the project file is damaged ({why}); use a backup or save the project again"
MSG_IMAGE_MISSING = ("cannot save the project: {image} (class {name!r}) no longer exists; remove it from the "
                     "class or put the file back")
MSG_WRITE = "cannot write {path}: {error}; choose a folder you can write to"
MSG_CACHE = "cannot unpack the project into {folder}: {error}; set FEWSHOT_STUDIO_HOME to a writable folder"


class ProjectError(FewShotError):
    """A project that cannot be saved or opened; the message says why and what to do."""


@dataclass
class Project:
    """An opened project: its support set (images in ``folder``), the settings saved with it, and what was
    skipped because it is not a usable image."""

    support: SupportSet
    path: Path
    folder: Path
    settings: dict = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def projects_cache_dir() -> Path:
    """Where opened projects' images are unpacked: ``<studio home>/projects``."""
    return studio_home() / "projects"


def _member_names(support: SupportSet) -> list[list[str]]:
    """Archive names for every image, class by class: ``images/<class index>/<unique file name>``."""
    out = []
    for ci, cls in enumerate(support.classes):
        taken: set[str] = set()
        names = []
        for image in cls.images:
            name = _safe_file_name(Path(image).name)
            stem, suffix = os.path.splitext(name)
            n = 2
            while name.lower() in taken:
                name = f"{stem} ({n}){suffix}"
                n += 1
            taken.add(name.lower())
            names.append(f"images/{ci}/{name}")
        out.append(names)
    return out


def _safe_file_name(name: str) -> str:
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip(" .") or "image"
    return name[:200]


def save_project(support: SupportSet, path: str | os.PathLike, settings: dict | None = None) -> Path:
    """Write ``support`` (names and image files) and optional JSON-able ``settings`` to one project file.

    The file is written next to its destination first and moved into place, so a failed save never
    leaves half a project where the old one was.
    """
    path = Path(path)
    members = _member_names(support)
    for cls in support.classes:
        for image in cls.images:
            if not Path(image).is_file():
                raise ProjectError(MSG_IMAGE_MISSING.format(image=image, name=cls.name))
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "classes": [{"name": c.name, "images": names} for c, names in zip(support.classes, members)],
        "settings": dict(settings or {}),
    }
    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
            for cls, names in zip(support.classes, members):
                for image, member in zip(cls.images, names):
                    kind = zipfile.ZIP_STORED if Path(image).suffix.lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
                    zf.write(image, member, compress_type=kind)

    try:
        atomic_write(path, write, inputs=[("a support image", p) for c in support.classes for p in c.images])
    except OutputPathError as exc:
        raise ProjectError(str(exc)) from None
    except OSError as exc:
        raise ProjectError(MSG_WRITE.format(path=path, error=exc.strerror or exc)) from None
    return path


def _read_manifest(zf: zipfile.ZipFile, path: Path) -> dict:
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        raise ProjectError(MSG_NOT_PROJECT.format(path=path, why=f"no {MANIFEST} inside")) from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ProjectError(MSG_DAMAGED.format(path=path, why=f"{MANIFEST} is implausibly large"))
    try:
        data = json.loads(zf.read(info).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile, OSError) as exc:
        raise ProjectError(MSG_DAMAGED.format(path=path, why=f"{MANIFEST}: {exc}")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectError(MSG_NOT_PROJECT.format(path=path, why="unknown format tag"))
    try:
        version = int(data.get("version", 0))
    except (TypeError, ValueError):
        raise ProjectError(MSG_DAMAGED.format(path=path, why="bad version")) from None
    if version > FORMAT_VERSION:
        raise ProjectError(MSG_NEWER.format(path=path, version=version, supported=FORMAT_VERSION))
    return data


def _plan(data: dict, zf: zipfile.ZipFile, path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(class name, [(member, file name in the cache)])], with every member checked."""
    classes = data.get("classes")
    if not isinstance(classes, list):
        raise ProjectError(MSG_DAMAGED.format(path=path, why="no class list"))
    total = 0
    plan = []
    for ci, entry in enumerate(classes):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("images"), list):
            raise ProjectError(MSG_DAMAGED.format(path=path, why=f"class entry {ci} is malformed"))
        files = []
        for member in entry["images"]:
            match = _MEMBER.match(member) if isinstance(member, str) else None
            if not match or match.group(2) in (".", ".."):
                raise ProjectError(MSG_DAMAGED.format(path=path, why=f"unexpected image name {member!r}"))
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise ProjectError(MSG_DAMAGED.format(path=path, why=f"{member} is listed but missing")) from None
            if info.file_size > MAX_IMAGE_BYTES:
                raise ProjectError(MSG_DAMAGED.format(path=path, why=f"{member} is implausibly large"))
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ProjectError(MSG_DAMAGED.format(path=path, why="the images are implausibly large"))
            files.append((member, f"{match.group(1)}/{_safe_file_name(match.group(2))}"))
        plan.append((entry["name"], files))
    return plan


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _extract(zf: zipfile.ZipFile, plan, folder: Path, path: Path) -> None:
    """Unpack into a fresh temporary folder, then move it to ``folder`` in one step."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for _, files in plan:
            for member, rel in files:
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 2**20)
        (tmp / ".complete").write_text(path.name, encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except (zipfile.BadZipFile, EOFError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ProjectError(MSG_DAMAGED.format(path=path, why=str(exc) or type(exc).__name__)) from None
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ProjectError(MSG_CACHE.format(folder=folder.parent, error=exc.strerror or exc)) from None


def open_project(path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
                 validate: bool = True) -> Project:
    """Open a project file: unpack its images into the cache and rebuild its support set.

    With ``validate`` every image is decoded once; unusable ones are left out and listed in
    :attr:`Project.skipped` with the reason.
    """
    path = Path(path)
    if not path.is_file():
        raise ProjectError(MSG_NOT_FOUND.format(path=path))
    cache = Path(cache_dir) if cache_dir is not None else projects_cache_dir()
    try:
        digest = _digest(path)
        with zipfile.ZipFile(path) as zf:
            data = _read_manifest(zf, path)
            plan = _plan(data, zf, path)
            stem = re.sub(r"[^\w.-]+", "_", path.stem)[:40] or "project"
            folder = cache / f"{stem}-{digest}"
            complete = (folder / ".complete").is_file() and all(
                (folder / rel).is_file() for _, files in plan for _, rel in files)
            if not complete:
                _extract(zf, plan, folder, path)
    except zipfile.BadZipFile as exc:
        raise ProjectError(MSG_NOT_PROJECT.format(path=path, why=f"not a zip archive: {exc}")) from None
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror or exc}") from None
    support, skipped = SupportSet(), []
    for name, files in plan:
        images = [folder / rel for _, rel in files]
        if validate:
            scan = check_images(images)
            images, skipped = scan.images, skipped + scan.skipped
        try:
            support.add_class(name, images)
        except FewShotError as exc:
            raise ProjectError(MSG_DAMAGED.format(path=path, why=str(exc))) from None
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    return Project(support, path, folder, settings, skipped)

"""Project files: one zip that holds the class names *and the images*, so a project moves between machines.

Layout of a ``.fsproj`` file (an ordinary zip archive)::

    project.json              {"format": "fewshot-studio-project", "version": 1,
                               "classes": [{"name": "cat", "images": ["images/0/cat_1.jpg", ...]}, ...],
                               "unlabelled": ["unlabelled/0.jpg", ...],  (optional: the unlabelled pool)
                               "settings": {...},       (optional: backbone, method, hyperparameters)
                               "model": {...}}          (optional: the adapted model, see below)
    images/<class index>/<file name>                    the image files, byte for byte
    unlabelled/<n>.<ext>                                the unlabelled pool's files, in order, byte for byte
    model.safetensors                                   (optional) the adapted model, in the engine's format

The optional ``model`` entry is ``{"file": "model.safetensors", "support": CONTENT_FINGERPRINT or null,
"changed": bool, "unlabelled": bool, "state": {...}}``: ``support`` is :func:`~.fingerprint.content_fingerprint`
of the support set the model was adapted on (null when unknown: a model loaded from a file), with the pool when
``unlabelled`` is true (a model that uses it: domain adaptation, a transductive method), ``changed`` says the
support set had changed since adapting when the project was saved, and ``state`` is what the window shows about
the model (JSON). These additions keep format version 1: a version-1 reader ignores keys and members it does not
list (an older studio opens such a project without its pool).
The model is read through the model loader (:func:`~.classifier.load_classifier`), which never unpickles.

Opening never trusts the archive: :class:`~.archive.SafeZipReader` refuses hostile or damaged ones (bad names,
symbolic links, duplicates, zip bombs, too many entries; see core/archive.py) and counts every byte it
decompresses; only members listed in ``project.json`` are read, each once, their names must have the layout
above, and the files are written under names this module chooses, in a cache folder keyed by the archive's
content (so reopening the same file reuses it).
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

from .archive import ArchiveError, SafeZipReader
from .errors import FewShotError
from .fingerprint import content_fingerprint
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
MODEL_MEMBER = "model.safetensors"
MAX_MODEL_BYTES = 8 * 2**30  # a model with its own (trained) backbone
# Already-compressed formats are stored as they are; deflating them costs time and saves nothing.
STORED_SUFFIXES = frozenset(".png .jpg .jpeg .jpe .jfif .webp .gif".split())
_MEMBER = re.compile(r"^images/(\d{1,6})/([^/\\]{1,255})$")
_POOL_MEMBER = re.compile(r"unlabelled/(\d{1,7})(\.[A-Za-z0-9]{1,10})?")  # fullmatch
POOL_FOLDER = "unlabelled"

MSG_NOT_FOUND = "{path}: project file not found"
MSG_NOT_PROJECT = "{path}: not a Few-shot Studio project ({why}); open a .fsproj file saved by the studio"
MSG_NEWER = ("{path}: this project was saved by a newer Few-shot Studio (format {version}, this version reads up "
             "to {supported}); upgrade Few-shot Studio to open it")
MSG_DAMAGED = "{path}: the project file is damaged ({why}); use a backup or save the project again"
MSG_IMAGE_MISSING = ("cannot save the project: {image} (class {name!r}) no longer exists; remove it from the "
                     "class or put the file back")
MSG_POOL_IMAGE_MISSING = ("cannot save the project: unlabelled image {image} no longer exists; remove it from the "
                          "unlabelled images or put the file back")
MSG_WRITE = "cannot write {path}: {error}; choose a folder you can write to"
MSG_REFUSED = ("{path}: the project file is damaged or unsafe ({why}); nothing was unpacked; use a backup or ask "
               "for the project again")
MSG_CACHE = "cannot unpack the project into {folder}: {error}; set FEWSHOT_STUDIO_HOME to a writable folder"
MSG_MODEL_DAMAGED = "the model saved in {path} is damaged ({why}); the project opens without it: adapt again"


class ProjectError(FewShotError):
    """A project that cannot be saved or opened; the message says why and what to do."""


@dataclass
class ProjectModel:
    """The adapted model a project carries, unpacked to ``path`` and not read until :meth:`Project.load_model`.

    ``status`` compares the support set it was adapted on with the project's as opened: "current" (the same
    classes and image bytes), "changed" (adapt again to include the changes) or "unknown" (a model that was
    loaded from a file, not adapted in the studio)."""

    path: Path
    status: str
    state: dict = field(default_factory=dict)
    unlabelled: bool = False  # the model uses the unlabelled pool: its fingerprint covers the pool


@dataclass
class Project:
    """An opened project: its support set (images in ``folder``), the settings saved with it, what was
    skipped because it is not a usable image, and its adapted model (None when it was saved without one;
    ``model_problem`` says why a saved model could not be kept)."""

    support: SupportSet
    path: Path
    folder: Path
    settings: dict = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    model: ProjectModel | None = None
    model_problem: str = ""

    def load_model(self, device: str = "auto"):
        """The project's :class:`~.classifier.FewShotClassifier` (raises ModelFileError). When it is current,
        its nearest examples point at the project's unpacked images."""
        if self.model is None:
            return None
        from .classifier import load_classifier  # torch, only when a model is asked for

        classifier = load_classifier(self.model.path, device=device)
        samples = self.support.samples()
        if self.model.status == "current" and len(samples) == len(classifier.support_paths):
            classifier.support_paths = [str(p) for p, _ in samples]
        return classifier


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


def _pool_member_names(support: SupportSet) -> list[str]:
    """Archive names for the unlabelled pool: ``unlabelled/<n>.<ext>``, the file's own suffix if it is a plain one."""
    out = []
    for n, image in enumerate(support.unlabelled):
        suffix = Path(image).suffix.lower()
        out.append(f"{POOL_FOLDER}/{n}{suffix if re.fullmatch(r'[.][a-z0-9]{1,10}', suffix) else ''}")
    return out


def _safe_file_name(name: str) -> str:
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip(" .") or "image"
    return name[:200]


def save_project(support: SupportSet, path: str | os.PathLike, settings: dict | None = None, *,
                 classifier=None, up_to_date: bool | None = None, model_state: dict | None = None) -> Path:
    """Write ``support`` (names and image files, and its unlabelled pool) and optional JSON-able ``settings`` to one
    project file.

    With a ``classifier`` (a :class:`~.classifier.FewShotClassifier`) the project keeps it too: ``up_to_date``
    True when it was adapted on ``support`` as it is, False when the support set has changed since, None when
    unknown (loaded from a file); ``model_state`` is JSON-able, given back as :attr:`ProjectModel.state`.

    The file is written next to its destination first and moved into place, so a failed save never
    leaves half a project where the old one was.
    """
    path = Path(path)
    members, pool_members = _member_names(support), _pool_member_names(support)
    for cls in support.classes:
        for image in cls.images:
            if not Path(image).is_file():
                raise ProjectError(MSG_IMAGE_MISSING.format(image=image, name=cls.name))
    for image in support.unlabelled:
        if not Path(image).is_file():
            raise ProjectError(MSG_POOL_IMAGE_MISSING.format(image=image))
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "classes": [{"name": c.name, "images": names} for c, names in zip(support.classes, members)],
        "settings": dict(settings or {}),
    }
    if pool_members:
        manifest["unlabelled"] = pool_members
    if classifier is not None:
        pool = bool(classifier.uses_unlabelled)
        manifest["model"] = {"file": MODEL_MEMBER, "changed": up_to_date is False, "unlabelled": pool,
                             "support": content_fingerprint(support, pool=pool) if up_to_date else None,
                             "state": dict(model_state or {})}

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
            for cls, names in zip(support.classes, members):
                for image, member in zip(cls.images, names):
                    kind = zipfile.ZIP_STORED if Path(image).suffix.lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
                    zf.write(image, member, compress_type=kind)
            for image, member in zip(support.unlabelled, pool_members):
                kind = zipfile.ZIP_STORED if Path(image).suffix.lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
                zf.write(image, member, compress_type=kind)
            if classifier is not None:
                # the model in the engine's format, written in the system's temporary folder first
                with tempfile.TemporaryDirectory(prefix="fewshot-studio-") as scratch:
                    model_file = classifier.save(Path(scratch) / MODEL_MEMBER)  # ModelFileError says what to do
                    zf.write(model_file, MODEL_MEMBER, compress_type=zipfile.ZIP_STORED)  # tensors barely deflate

    try:
        atomic_write(path, write, inputs=[("a support image", p) for c in support.classes for p in c.images]
                     + [("an unlabelled image", p) for p in support.unlabelled])
    except OutputPathError as exc:
        raise ProjectError(str(exc)) from None
    except OSError as exc:
        raise ProjectError(MSG_WRITE.format(path=path, error=exc.strerror or exc)) from None
    return path


def _read_manifest(zf: SafeZipReader, path: Path) -> dict:
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        raise ProjectError(MSG_NOT_PROJECT.format(path=path, why=f"no {MANIFEST} inside")) from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ProjectError(MSG_DAMAGED.format(path=path, why=f"{MANIFEST} is implausibly large"))
    try:
        data = json.loads(zf.read(info, MAX_MANIFEST_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile, OSError, RecursionError) as exc:
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


def _plan(data: dict, zf: SafeZipReader, path: Path) -> tuple[list[tuple[str, list[tuple[str, str]]]],
                                                               list[tuple[str, str]]]:
    """([(class name, [(member, file name in the cache)])], [(member, file name in the cache)] of the unlabelled
    pool), with every member checked."""
    classes = data.get("classes")
    if not isinstance(classes, list):
        raise ProjectError(MSG_DAMAGED.format(path=path, why="no class list"))
    total = 0
    plan = []
    listed: set[str] = set()
    targets: set[str] = set()  # cache names, case-folded: two members never land in one file

    def check(member: str) -> None:
        nonlocal total
        try:
            info = zf.getinfo(member)
        except KeyError:
            raise ProjectError(MSG_DAMAGED.format(path=path, why=f"{member} is listed but missing")) from None
        if member in listed:
            raise ProjectError(MSG_DAMAGED.format(path=path, why=f"{member} is listed twice"))
        listed.add(member)
        if info.file_size > MAX_IMAGE_BYTES:
            raise ProjectError(MSG_DAMAGED.format(path=path, why=f"{member} is implausibly large"))
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ProjectError(MSG_DAMAGED.format(path=path, why="the images are implausibly large"))
    for ci, entry in enumerate(classes):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("images"), list):
            raise ProjectError(MSG_DAMAGED.format(path=path, why=f"class entry {ci} is malformed"))
        files = []
        for member in entry["images"]:
            match = _MEMBER.match(member) if isinstance(member, str) else None
            if not match or match.group(2) in (".", ".."):
                raise ProjectError(MSG_DAMAGED.format(path=path, why=f"unexpected image name {member!r}"))
            check(member)
            stem, suffix = os.path.splitext(_safe_file_name(match.group(2)))
            rel, n = f"{int(match.group(1))}/{stem}{suffix}", 2
            while rel.lower() in targets:
                rel, n = f"{int(match.group(1))}/{stem} ({n}){suffix}", n + 1
            targets.add(rel.lower())
            files.append((member, rel))
        plan.append((entry["name"], files))
    pool = data.get("unlabelled", [])
    if not isinstance(pool, list):
        raise ProjectError(MSG_DAMAGED.format(path=path, why="the unlabelled list is malformed"))
    pool_files = []
    for n, member in enumerate(pool):
        match = _POOL_MEMBER.fullmatch(member) if isinstance(member, str) else None
        if not match:
            raise ProjectError(MSG_DAMAGED.format(path=path, why=f"unexpected unlabelled image name {member!r}"))
        check(member)
        pool_files.append((member, f"{POOL_FOLDER}/{n}{(match.group(2) or '').lower()}"))  # unique by position
    return plan, pool_files


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _extract(zf: SafeZipReader, files: list[tuple[str, str]], folder: Path, path: Path) -> None:
    """Unpack ``files`` ([(member, file name in the cache)]) into a fresh temporary folder, then move it to
    ``folder`` in one step."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for member, rel in files:
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member, MAX_IMAGE_BYTES) as src, open(target, "wb") as dst:
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
    except BaseException:  # ArchiveError (a bomb stops part-way), KeyboardInterrupt...: leave nothing behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _starts_like_a_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _model_member(data: dict, zf: zipfile.ZipFile) -> tuple[zipfile.ZipInfo | None, str]:
    """The model member a manifest lists, checked: (its info or None, why it cannot be used or "")."""
    entry = data.get("model")
    if entry is None:
        return None, ""
    if not isinstance(entry, dict) or entry.get("file") != MODEL_MEMBER:
        return None, "malformed model entry"
    try:
        info = zf.getinfo(MODEL_MEMBER)
    except KeyError:
        return None, f"{MODEL_MEMBER} is listed but missing"
    if info.file_size > MAX_MODEL_BYTES:
        return None, f"{MODEL_MEMBER} is implausibly large"
    return info, ""


def _extract_model(zf: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path) -> Path:
    """``folder/model.safetensors`` (unpacked unless it is there already, written under a temporary name)."""
    target = folder / MODEL_MEMBER
    if target.is_file() and target.stat().st_size == info.file_size:
        return target
    fd, tmp_name = tempfile.mkstemp(prefix=".model.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        with zf.open(info) as src, open(tmp_name, "wb") as dst:
            shutil.copyfileobj(src, dst, 2**20)
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return target


def _unpack_model(zf: zipfile.ZipFile, data: dict, folder: Path, path: Path) -> tuple[Path | None, str]:
    """(the unpacked model file or None, why the project's model cannot be kept or "")."""
    info, problem = _model_member(data, zf)
    if info is None:
        return None, problem and MSG_MODEL_DAMAGED.format(path=path.name, why=problem)
    try:
        return _extract_model(zf, info, folder), ""
    except (zipfile.BadZipFile, EOFError) as exc:
        return None, MSG_MODEL_DAMAGED.format(path=path.name, why=str(exc) or type(exc).__name__)
    except OSError as exc:
        raise ProjectError(MSG_CACHE.format(folder=folder.parent, error=exc.strerror or exc)) from None


def _project_model(data: dict, target: Path | None, support: SupportSet) -> ProjectModel | None:
    if target is None:
        return None
    entry = data["model"]
    saved = entry.get("support")
    pool = entry.get("unlabelled") is True  # older projects: no pool, a fingerprint of the classes only
    if isinstance(saved, str):
        status = "current" if saved == content_fingerprint(support, pool=pool) else "changed"
    else:
        status = "changed" if entry.get("changed") is True else "unknown"
    state = entry.get("state") if isinstance(entry.get("state"), dict) else {}
    return ProjectModel(target, status, state, pool)


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
        with SafeZipReader(path) as zf:
            data = _read_manifest(zf, path)
            plan, pool = _plan(data, zf, path)
            members = [m for _, files in plan for m in files] + pool
            stem = re.sub(r"[^\w.-]+", "_", path.stem)[:40] or "project"
            folder = cache / f"{stem}-{digest}"
            complete = (folder / ".complete").is_file() and all((folder / rel).is_file() for _, rel in members)
            if not complete:
                _extract(zf, members, folder, path)
            model_file, model_problem = _unpack_model(zf, data, folder, path)
    except ArchiveError as exc:
        raise ProjectError(MSG_REFUSED.format(path=path, why=exc.why)) from None
    except zipfile.BadZipFile as exc:
        if _starts_like_a_zip(path):  # a zip whose table of contents is damaged or cut short
            raise ProjectError(MSG_DAMAGED.format(path=path, why=str(exc))) from None
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
    pool_images = [folder / rel for _, rel in pool]
    if validate:
        scan = check_images(pool_images)
        pool_images, skipped = scan.images, skipped + scan.skipped
    support.add_unlabelled(pool_images)
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    return Project(support, path, folder, settings, skipped, _project_model(data, model_file, support), model_problem)

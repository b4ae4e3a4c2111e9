"""Base datasets of many classes, and N-way K-shot Q-query episodes drawn from them.

A *pool* holds classes and their images as uint8 base tensors (n, 3, R, R) (see :mod:`.preprocess`),
so an episode's images go through the same views and augmentation as a user's support set. Pools:

- :func:`omniglot_pool`: the Omniglot ``.npz`` format (``images`` bool (C, 20, 105, 105), True = paper),
  split by alphabet or class ids, optionally with rotations by 90, 180 and 270 degrees as new classes;
- :func:`zip_pool`: Omniglot's ``images_background_small*.zip`` (``alphabet/characterNN/*.png``);
- :func:`folder_pool`: an ImageFolder-style directory, one sub-folder per class, loaded lazily (rotations as
  new classes too, when asked).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .errors import FewShotError
from .images import scan_folder
from .preprocess import Preprocess

MSG_TOO_FEW_CLASSES = "{what} has {n} classes with at least {need} images each; {ways}-way episodes need {ways}"
MSG_NO_IMAGES_ZIP = ("no images in {path}: expected PNG files as alphabet/character/image.png (Omniglot's layout)"
                     "{skipped}")
MSG_EPISODE_SHAPE = ("episodes need --ways of at least 2, --shots and --queries of at least 1 (got {ways}, {shots}, "
                     "{queries})")
MSG_UNLABELLED_COUNT = "--unlabelled-per-class must be 0 or more (got {n})"


class DatasetError(FewShotError):
    """A base dataset that cannot be read or is too small for the episodes asked for."""


class ClassPool:
    """Classes (``names``), a group per class (alphabet, or the class itself), and their images."""

    def __init__(self, names: list[str], groups: list[str], image_size: int):
        self.names = names
        self.groups = groups
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.names)

    def count(self, c: int) -> int:
        raise NotImplementedError

    def images(self, c: int, index: torch.Tensor) -> torch.Tensor:
        """uint8 (len(index), 3, R, R) images of class ``c``."""
        raise NotImplementedError

    def subset(self, classes: list[int]) -> ClassPool:
        return SubsetPool(self, classes)

    def split(self, val_fraction: float) -> tuple[ClassPool, ClassPool]:
        """Hold out the last ``val_fraction`` of the groups (alphabets) for validation."""
        groups = list(dict.fromkeys(self.groups))
        n_val = max(1, round(len(groups) * val_fraction)) if val_fraction > 0 else 0
        held = set(groups[len(groups) - n_val:])
        train = [c for c in range(len(self)) if self.groups[c] not in held]
        val = [c for c in range(len(self)) if self.groups[c] in held]
        return self.subset(train), self.subset(val)


class TensorPool(ClassPool):
    """Every image in memory: ``data[c]`` is uint8 (n_c, 3, R, R). ``rotations`` adds 3 rotated copies
    of each class as new classes (Omniglot's usual augmentation)."""

    def __init__(self, data: list[torch.Tensor], names: list[str], groups: list[str], rotations: bool = False):
        self.data = data
        self.rotations = 4 if rotations else 1
        if rotations:
            names = [f"{n}@{90 * r}" for r in range(4) for n in names]
            groups = [g for _ in range(4) for g in groups]
        super().__init__(names, groups, data[0].shape[-1] if data else 0)

    def count(self, c: int) -> int:
        return self.data[c % len(self.data)].shape[0]

    def images(self, c: int, index: torch.Tensor) -> torch.Tensor:
        x = self.data[c % len(self.data)][index]
        r = c // len(self.data)
        return torch.rot90(x, r, dims=(2, 3)) if r else x


class SubsetPool(ClassPool):
    def __init__(self, parent: ClassPool, classes: list[int]):
        self.parent, self.classes = parent, list(classes)
        super().__init__([parent.names[c] for c in classes], [parent.groups[c] for c in classes], parent.image_size)

    def count(self, c: int) -> int:
        return self.parent.count(self.classes[c])

    def images(self, c: int, index: torch.Tensor) -> torch.Tensor:
        return self.parent.images(self.classes[c], index)


class FolderPool(ClassPool):
    """ImageFolder layout; each image is loaded (and cached) the first time an episode needs it. ``rotations``
    adds 3 rotated copies of each class as new classes, as :class:`TensorPool` does (each in its class's group)."""

    def __init__(self, root: Path, preprocess: Preprocess, rotations: bool = False):
        root = Path(root)
        subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        self.files = [scan_folder(d, validate=False).images for d in subdirs]
        keep = [i for i, f in enumerate(self.files) if f]
        self.files = [self.files[i] for i in keep]
        names = [subdirs[i].name for i in keep]
        groups = list(names)
        if rotations:
            names = [f"{n}@{90 * r}" for r in range(4) for n in names]
            groups = [g for _ in range(4) for g in groups]
        self.preprocess = preprocess
        self._cache: dict[Path, torch.Tensor] = {}
        super().__init__(names, groups, preprocess.resize_size)

    def count(self, c: int) -> int:
        return len(self.files[c % len(self.files)])

    def images(self, c: int, index: torch.Tensor) -> torch.Tensor:
        files, r = self.files[c % len(self.files)], c // len(self.files)
        out = []
        for i in index.tolist():
            path = files[i]
            if path not in self._cache:
                self._cache[path] = self.preprocess.load([path])[0]
            out.append(self._cache[path])
        x = torch.stack(out)
        return torch.rot90(x, r, dims=(2, 3)) if r else x


def _to_base(images: torch.Tensor, size: int) -> torch.Tensor:
    """float (n, 1, H, W) in 0..1 -> uint8 (n, 3, size, size), area-resampled."""
    if images.shape[-1] != size:
        images = F.interpolate(images, size=(size, size), mode="area")
    return (images * 255).round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1).contiguous()


def _alphabet_table(path: Path | None, n_classes: int) -> list[str]:
    """Alphabet name of each class row (from background_alphabets.json), or one group per class."""
    if path is None or not Path(path).exists():
        return [f"class{c + 1}" for c in range(n_classes)]
    table = json.loads(Path(path).read_text())["alphabets"]
    groups = [""] * n_classes
    for entry in table:
        for cid in range(entry["first_character"], entry["last_character"] + 1):
            if cid - 1 < n_classes:
                groups[cid - 1] = entry["alphabet"]
    return [g or f"class{c + 1}" for c, g in enumerate(groups)]


def omniglot_pool(npz: str | os.PathLike, *, size: int = 28, alphabets: list[str] | None = None,
                  classes: list[int] | None = None, rotations: bool = False,
                  alphabet_table: str | os.PathLike | None = None) -> TensorPool:
    """Omniglot from an ``.npz`` (see ../shared/data/omniglot/README.md). ``classes`` are 0-based rows.

    The alphabet table defaults to ``background_alphabets.json`` beside the file, when present.
    """
    npz = Path(npz)
    try:
        with np.load(npz) as z:
            raw = z["images"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{npz}: not an Omniglot .npz with an 'images' array ({exc})") from None
    if alphabet_table is None:
        candidate = npz.with_name(npz.stem.replace("images_", "") + "_alphabets.json")
        alphabet_table = candidate if candidate.exists() else None
    groups = _alphabet_table(alphabet_table, raw.shape[0])
    rows = list(range(raw.shape[0])) if classes is None else list(classes)
    if alphabets is not None:
        unknown = set(alphabets) - set(groups)
        if unknown:
            raise DatasetError(f"unknown alphabets {sorted(unknown)}; this file has {sorted(set(groups))}")
        rows = [r for r in rows if groups[r] in set(alphabets)]
    data = []
    for start in range(0, len(rows), 64):  # resample in chunks: the whole set as float32 is 850 MB
        chunk = rows[start:start + 64]
        x = torch.from_numpy(raw[chunk]).reshape(-1, 1, raw.shape[2], raw.shape[3]).float()
        data += list(_to_base(x, size).view(len(chunk), raw.shape[1], 3, size, size))
    return TensorPool(data, [f"{groups[r]}/character{r + 1}" for r in rows], [groups[r] for r in rows], rotations)


def zip_pool(path: str | os.PathLike, *, size: int = 28, rotations: bool = False) -> TensorPool:
    """Omniglot's minimal splits: a zip of ``root/alphabet/characterNN/*.png``. Members that are not decodable
    images are left out; a zip with no image at all is refused (:class:`DatasetError`)."""
    by_class: dict[tuple[str, str], list[torch.Tensor]] = {}
    bad, shape = 0, None
    try:
        with zipfile.ZipFile(path) as zf:
            for name in sorted(zf.namelist()):
                parts = Path(name).parts
                if not name.lower().endswith(".png") or len(parts) < 3:
                    continue
                try:
                    with Image.open(io.BytesIO(zf.read(name))) as img:
                        arr = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
                except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
                    bad += 1
                    continue
                shape = shape or arr.shape
                if arr.shape != shape:  # every image of a pool has one size
                    bad += 1
                    continue
                by_class.setdefault((parts[-3], parts[-2]), []).append(torch.from_numpy(arr)[None])
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError) as exc:
        raise DatasetError(f"{path}: cannot read this zip ({exc})") from None
    if not by_class:
        raise DatasetError(MSG_NO_IMAGES_ZIP.format(path=path, skipped=f" ({bad} PNG file(s) could not be decoded)"
                                                    if bad else ""))
    keys = sorted(by_class)
    counts = [len(by_class[k]) for k in keys]
    data = list(_to_base(torch.stack([x for k in keys for x in by_class[k]]), size).split(counts))
    return TensorPool(data, [f"{a}/{c}" for a, c in keys], [a for a, _ in keys], rotations)


def folder_pool(root: str | os.PathLike, preprocess: Preprocess, *, rotations: bool = False) -> FolderPool:
    if not Path(root).is_dir():
        raise DatasetError(f"{root}: folder not found")
    return FolderPool(Path(root), preprocess, rotations)


def open_pool(path: str | os.PathLike, preprocess: Preprocess, *, rotations: bool = False) -> ClassPool:
    """A base dataset from a path: Omniglot ``.npz`` or ``.zip``, or an ImageFolder-style directory."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: dataset not found; give an Omniglot .npz/.zip or a folder of class folders")
    if path.suffix.lower() == ".npz":
        return omniglot_pool(path, size=preprocess.resize_size, rotations=rotations)
    if path.suffix.lower() == ".zip":
        return zip_pool(path, size=preprocess.resize_size, rotations=rotations)
    return folder_pool(path, preprocess, rotations=rotations)


@dataclass
class Episode:
    """One N-way task. Images are uint8 base tensors; labels are 0..ways-1 in class order."""

    support: torch.Tensor  # (ways * shots, 3, R, R)
    support_labels: torch.Tensor  # (ways * shots,)
    query: torch.Tensor  # (ways * queries, 3, R, R)
    query_labels: torch.Tensor  # (ways * queries,)
    classes: list[int]  # pool indices of the ways
    unlabelled: torch.Tensor | None = None  # (ways * unlabelled, 3, R, R): the episode's own pool, disjoint from both

    @property
    def ways(self) -> int:
        return len(self.classes)


class EpisodeSampler:
    """Draws N-way K-shot Q-query episodes; ``episode(i)`` is the same for the same seed and i.

    ``unlabelled`` > 0 gives each episode a pool of that many further images per class (without labels), drawn
    from the same classes and disjoint from its support and queries; support and queries stay as without it.
    ``what`` names the pool in the error for too few classes.
    """

    def __init__(self, pool: ClassPool, ways: int, shots: int, queries: int, seed: int = 0, unlabelled: int = 0,
                 what: str = "this dataset"):
        if ways < 2 or shots < 1 or queries < 1:
            raise DatasetError(MSG_EPISODE_SHAPE.format(ways=ways, shots=shots, queries=queries))
        if unlabelled < 0:
            raise DatasetError(MSG_UNLABELLED_COUNT.format(n=unlabelled))
        self.pool, self.ways, self.shots, self.queries, self.seed = pool, ways, shots, queries, seed
        self.unlabelled = unlabelled
        need = shots + queries + unlabelled
        self.eligible = [c for c in range(len(pool)) if pool.count(c) >= need]
        if len(self.eligible) < ways:
            raise DatasetError(MSG_TOO_FEW_CLASSES.format(what=what, n=len(self.eligible), need=need,
                                                          ways=ways))

    def episode(self, index: int) -> Episode:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        picks = torch.randperm(len(self.eligible), generator=g)[: self.ways].tolist()
        classes = [self.eligible[i] for i in picks]
        s, q, u, sl, ql = [], [], [], [], []
        for label, c in enumerate(classes):
            order = torch.randperm(self.pool.count(c), generator=g)
            x = self.pool.images(c, order[: self.shots + self.queries])
            s.append(x[: self.shots])
            q.append(x[self.shots:])
            if self.unlabelled:
                u.append(self.pool.images(c, order[self.shots + self.queries:][: self.unlabelled]))
            sl += [label] * self.shots
            ql += [label] * self.queries
        pool = torch.cat(u)[torch.randperm(self.ways * self.unlabelled, generator=g)] if u else None
        return Episode(torch.cat(s), torch.tensor(sl), torch.cat(q), torch.tensor(ql), classes, pool)

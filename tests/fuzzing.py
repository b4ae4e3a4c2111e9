"""Fuzz targets shared by tests/core/test_fuzz_loaders.py (hypothesis, bounded for CI) and benchmarks/fuzz.py
(a longer random-mutation run). Each target takes bytes, hands them to one loader as a file, and returns
normally when the loader either refused them with its own error or gave a valid result; anything else
(another exception, a wrong result) propagates and is a crash.

Seeds are real files of each kind, made here (small generated images, a Conv-4 model, a project, a
support-set file); :func:`mutate` is the benchmark's mutator (bit flips, byte runs, truncation, splices,
and JSON-aware edits of the part of a file that is JSON).
"""

from __future__ import annotations

import io
import json
import random
import shutil
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from imagegen import draw_shape, make_image_folder
from PIL import Image

from fewshot_studio.core.errors import ImageError, ModelFileError, SupportSetError
from fewshot_studio.core.images import load_image
from fewshot_studio.core.project import MANIFEST, ProjectError, open_project, save_project
from fewshot_studio.core.support import SupportSet


def image_bytes(fmt: str, seed: int = 0, size: int = 24) -> bytes:
    buf = io.BytesIO()
    img = draw_shape("ellipse", (220, 40, 40), seed, size)
    if fmt == "PNG-P":
        img.convert("P").save(buf, "PNG")
    elif fmt == "GIF":
        img.save(buf, "GIF")
    else:
        img.save(buf, fmt)
    return buf.getvalue()


def _file(data: bytes, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix, dir=_scratch())
    with open(fd, "wb") as f:
        f.write(data)
    return Path(name)


_SCRATCH: list[Path] = []


def _scratch() -> Path:
    if not _SCRATCH:
        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="fewshot-fuzz-")))
    return _SCRATCH[0]


# --- the targets ----------------------------------------------------------------------------------------------
def check_image(data: bytes, suffix: str = ".png") -> str:
    """``load_image`` on ``data``: an ImageError, or an RGB image with pixels."""
    path = _file(data, suffix)
    try:
        img = load_image(path, draft_size=64)
    except ImageError as exc:
        assert exc.reason and str(path) in str(exc), exc
        return "refused"
    finally:
        path.unlink(missing_ok=True)
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.width > 0 and img.height > 0, img
    return "loaded"


def check_model(data: bytes) -> str:
    """``load_classifier`` on ``data``: a ModelFileError, or a classifier with class names."""
    from fewshot_studio.core.classifier import load_classifier

    path = _file(data, ".safetensors")
    try:
        clf = load_classifier(path, device="cpu")
    except ModelFileError as exc:
        assert str(exc).strip() and "\n" not in str(exc), exc
        return "refused"
    finally:
        path.unlink(missing_ok=True)
    assert isinstance(clf.class_names, list) and clf.class_names, clf.class_names
    return "loaded"


def check_project(data: bytes) -> str:
    """``open_project`` on ``data``: a ProjectError, or a project whose images are all inside its cache folder;
    either way nothing is written beside the file but the cache."""
    work = Path(tempfile.mkdtemp(prefix="project-", dir=_scratch()))
    path, cache = work / "p.fsproj", work / "cache"
    path.write_bytes(data)
    try:
        try:
            project = open_project(path, cache_dir=cache)
        except ProjectError as exc:
            assert str(exc).strip() and "\n" not in str(exc), exc
            return "refused"
        finally:
            escaped = [p for p in work.rglob("*") if p != path and p != cache and cache not in p.parents]
            assert not escaped, escaped
        for image, _ in project.support.samples():
            assert cache in Path(image).resolve().parents and Path(image).is_file(), image
        return "loaded"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_support_json(data: bytes) -> str:
    """``SupportSet.load`` on ``data``: a SupportSetError, or a support set."""
    path = _file(data, ".json")
    try:
        support = SupportSet.load(path)
    except SupportSetError as exc:
        assert str(exc).strip(), exc
        return "refused"
    finally:
        path.unlink(missing_ok=True)
    assert all(isinstance(c.name, str) and c.name for c in support.classes)
    return "loaded"


# --- seeds ----------------------------------------------------------------------------------------------------
def image_seeds() -> list[bytes]:
    return [image_bytes(f, i) for i, f in enumerate(("PNG", "JPEG", "PNG-P", "GIF", "BMP", "WEBP", "TIFF"))]


def model_seed() -> bytes:
    """A real model file: Conv-4 + prototypical on three tiny generated classes (a few seconds to make)."""
    from fewshot_studio.core.engine import AdaptRun

    root = make_image_folder(_scratch() / "model-src", per_class=2, size=24)
    support, _ = SupportSet.from_folder(root)
    clf = AdaptRun(support, "conv4", "prototypical", device="cpu").run()
    path = _scratch() / "seed.safetensors"
    clf.save(path)
    return path.read_bytes()


def project_seed() -> bytes:
    root = make_image_folder(_scratch() / "project-src", per_class=2, size=16)
    support, _ = SupportSet.from_folder(root)
    path = save_project(support, _scratch() / "seed.fsproj", settings={"method": "prototypical"})
    return path.read_bytes()


def support_json_seed() -> bytes:
    root = make_image_folder(_scratch() / "json-src", per_class=2, size=16)
    support, _ = SupportSet.from_folder(root)
    path = _scratch() / "json-src" / "support.json"
    support.save(path)
    return path.read_bytes()


# --- where the JSON is, and putting it back -------------------------------------------------------------------
def safetensors_header(data: bytes) -> tuple[dict, bytes] | None:
    """(header JSON, tensor bytes) of a safetensors file, or None."""
    if len(data) < 8:
        return None
    n = struct.unpack("<Q", data[:8])[0]
    try:
        return json.loads(data[8:8 + n]), data[8 + n:]
    except ValueError:
        return None


def with_safetensors_header(header: dict, rest: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + rest


def project_parts(data: bytes) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    return json.loads(members.pop(MANIFEST)), members


def project_from_parts(manifest, members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest))
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def json_paths(value, prefix=()) -> list[tuple]:
    """Every path into a JSON value (keys and indices), the root included."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += json_paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += json_paths(v, prefix + (i,))
    return out


def replace_at(value, path: tuple, new):
    """A copy of ``value`` with the item at ``path`` replaced by ``new`` (deleted when ``new`` is _DELETE)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = dict(value)
        if rest or new is not _DELETE:
            out[head] = replace_at(value[head], rest, new)
        else:
            out.pop(head, None)
        return out
    out = list(value)
    if rest or new is not _DELETE:
        out[head] = replace_at(value[head], rest, new)
    else:
        del out[head]
    return out


_DELETE = object()
ODD_VALUES = [None, True, False, 0, -1, 1, 2**63, -2**63, 10**30, 0.5, float("nan"), float("inf"), -float("inf"),
              "", "x", "../../etc/passwd", "/abs", "images/0/../../x.png", "\x00", "é" * 300, [], [[]], {}, {"a": 1},
              [None], ["images/0/a.png"] * 3, "[" * 50, 1e308, -0.0]


def random_json_value(rng: random.Random, depth: int = 0):
    if depth > 2 or rng.random() < 0.6:
        return rng.choice(ODD_VALUES)
    if rng.random() < 0.5:
        return [random_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["name", "images", "format", "version", "classes", "x"]): random_json_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def mutate_json(value, rng: random.Random):
    path = rng.choice(json_paths(value))
    new = _DELETE if path and rng.random() < 0.25 else random_json_value(rng)
    return replace_at(value, path, new)


# --- the benchmark's byte mutator -----------------------------------------------------------------------------
def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 16))):
        op = rng.randrange(6)
        if not buf:
            buf += bytes([rng.randrange(256)])
            continue
        at = rng.randrange(len(buf))
        if op == 0:
            buf[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[at] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif op == 2:
            del buf[at:at + rng.randint(1, 64)]
        elif op == 3:
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif op == 4:
            del buf[rng.randint(0, len(buf)):]  # truncate
        else:
            n = rng.randint(1, 32)
            src = rng.randrange(len(buf))
            buf[at:at + n] = buf[src:src + n]  # splice a piece of the file elsewhere
    return bytes(buf)


@dataclass
class Target:
    name: str
    check: Callable[[bytes], str]
    seeds: Callable[[], list[bytes]]
    mutate: Callable[[bytes, random.Random], bytes]


def _mutate_model(data: bytes, rng: random.Random) -> bytes:
    parts = safetensors_header(data)
    if parts is None or rng.random() < 0.5:
        return mutate_bytes(data, rng)
    header, rest = parts
    meta = header.get("__metadata__", {})
    if isinstance(meta, dict) and isinstance(meta.get("fewshot_studio"), str) and rng.random() < 0.7:
        try:
            inner = json.loads(meta["fewshot_studio"])
        except ValueError:  # an earlier mutation left metadata that is not JSON: mutate the bytes instead
            return mutate_bytes(data, rng)
        header = replace_at(header, ("__metadata__", "fewshot_studio"), json.dumps(mutate_json(inner, rng)))
    else:
        header = mutate_json(header, rng)
    return with_safetensors_header(header, rest) if isinstance(header, dict) else json.dumps(header).encode()


def _mutate_project(data: bytes, rng: random.Random) -> bytes:
    try:
        manifest, members = project_parts(data)
    except Exception:  # noqa: BLE001 - a mutated archive that zipfile cannot take apart: mutate its bytes
        return mutate_bytes(data, rng)
    if rng.random() < 0.4:
        return mutate_bytes(data, rng)
    if rng.random() < 0.2 and members:
        name = rng.choice(sorted(members))
        members[name] = mutate_bytes(members[name], rng)
        return project_from_parts(manifest, members)
    return project_from_parts(mutate_json(manifest, rng), members)


def _mutate_support_json(data: bytes, rng: random.Random) -> bytes:
    try:
        value = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng)
    if rng.random() < 0.3:
        return mutate_bytes(data, rng)
    return json.dumps(mutate_json(value, rng)).encode()


TARGETS = {
    "image": Target("image", check_image, image_seeds, mutate_bytes),
    "model": Target("model", check_model, lambda: [model_seed()], _mutate_model),
    "project": Target("project", check_project, lambda: [project_seed()], _mutate_project),
    "support_json": Target("support_json", check_support_json, lambda: [support_json_seed()], _mutate_support_json),
}

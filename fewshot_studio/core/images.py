"""Path -> validated RGB image. Every unusable file stops here with an :class:`ImageError`.

EXIF orientation is applied; modes 1, L, LA, P, PA, RGBA, CMYK, I, I;16 and F become RGB (alpha is
composited on white); animated files give their first frame; PIL's decompression-bomb limit is enforced.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import ImageError

IMAGE_SUFFIXES = frozenset(
    ".png .jpg .jpeg .jpe .bmp .gif .tif .tiff .webp .ppm .pgm .pbm .pnm .tga .ico .jfif".split())

MSG_MISSING = "file not found"
MSG_DIRECTORY = "is a folder, not an image file"
MSG_UNREADABLE = "cannot be read ({error}); check its permissions"
MSG_EMPTY = "file is empty (0 bytes)"
MSG_NOT_IMAGE = "not an image file that can be read (supported: PNG, JPEG, BMP, GIF, TIFF, WebP, PPM...)"
MSG_TRUNCATED = "image data is truncated or corrupt ({error}); re-export or re-download the file"
MSG_TOO_LARGE = "image is too large ({pixels:,} pixels, the limit is {limit:,}); downscale it first"
MSG_MODE = "colour mode {mode} is not supported; convert the image to RGB"
MSG_NOT_REGULAR = "not a regular file but a {kind}; give an image file"
MSG_DAMAGED = "damaged {format} ({error}): the file is truncated or corrupt; re-export or re-download it"
MSG_LOOP = "leads to a folder already searched (a symbolic link loop, or a second link to it); left out"
MSG_BROKEN_LINK = "broken symbolic link (what it points to does not exist)"
MSG_FOLDER_NAMED_LIKE_IMAGE = "is a folder named like an image file; the images inside it, if any, are used"

#: How files of each format start: a file that starts so but cannot be read is a damaged one of that format.
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
              (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"))

ImageFile.LOAD_TRUNCATED_IMAGES = False


def _pixel_limit() -> int:
    return Image.MAX_IMAGE_PIXELS or 2**62


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB, compositing transparency on white."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        scale = 255.0 / 65535.0 if arr.max(initial=0) > 255 or mode.startswith("I;16") else 1.0
        return Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min(initial=0)), float(arr.max(initial=0))
        norm = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        return Image.fromarray((norm * 255).astype(np.uint8), "L").convert("RGB")
    if mode == "P" and "transparency" in img.info or mode in ("PA", "LA", "La", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    try:
        return img.convert("RGB")
    except ValueError:
        raise ValueError(MSG_MODE.format(mode=mode)) from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def sniff_format(path: Path) -> str | None:
    """The image format a file's first bytes announce (PNG, JPEG, GIF, TIFF, BMP, WebP), or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((fmt for sig, fmt in SIGNATURES if head.startswith(sig)), None)


def _damage(path: Path, fmt: str) -> str:
    """Why PIL's own reader for ``fmt`` refuses the file, in its words."""
    factory = Image.OPEN.get(fmt.upper())
    if factory is None:
        return "cannot be decoded"
    try:
        factory[0](str(path)).close()
    except Exception as exc:  # noqa: BLE001 - only used to word a message
        return (str(exc) or type(exc).__name__)[:160]
    return "cannot be decoded"


def load_image(path: str | os.PathLike, *, draft_size: int | None = None) -> Image.Image:
    """Open ``path`` as an RGB image, fully decoded.

    ``draft_size`` lets JPEG decoding skip detail that a later resize to that size would throw away.
    Raises :class:`ImageError` naming the file and the reason for anything that is not a usable image.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(path, MSG_MISSING)
    if path.is_dir():
        raise ImageError(path, MSG_DIRECTORY)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ImageError(path, MSG_NOT_REGULAR.format(kind=_kind(st.st_mode)))
        if st.st_size == 0:
            raise ImageError(path, MSG_EMPTY)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > _pixel_limit():
                    raise ImageError(path, MSG_TOO_LARGE.format(pixels=img.width * img.height,
                                                                limit=_pixel_limit()))
                img.seek(0)
                if draft_size and img.format == "JPEG":
                    img.draft("RGB", (draft_size, draft_size))
                img.load()
                img = ImageOps.exif_transpose(img)
                return _to_rgb(img)
    except ImageError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError(path, MSG_TOO_LARGE.format(pixels=_safe_pixels(path), limit=_pixel_limit())) from None
    except UnidentifiedImageError:
        fmt = sniff_format(path)
        if fmt is not None:
            raise ImageError(path, MSG_DAMAGED.format(format=fmt, error=_damage(path, fmt))) from None
        raise ImageError(path, MSG_NOT_IMAGE) from None
    except PermissionError as exc:
        raise ImageError(path, MSG_UNREADABLE.format(error=exc.strerror or exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = str(exc) if str(exc).startswith("colour mode") else MSG_TRUNCATED.format(error=exc)
        raise ImageError(path, reason) from None


def file_key(path: str | os.PathLike) -> tuple[str, int, int]:
    """``(path, mtime in ns, size)``: what a cache of anything computed from a file is keyed by, so an edited
    file is read again. A file that cannot be stat'ed gives ``(path, 0, 0)``."""
    try:
        st = os.stat(path)
        return (str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        return (str(path), 0, 0)


def _safe_pixels(path: Path) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.MAX_IMAGE_PIXELS, limit = None, Image.MAX_IMAGE_PIXELS
            try:
                with Image.open(path) as img:
                    return img.width * img.height
            finally:
                Image.MAX_IMAGE_PIXELS = limit
    except Exception:  # noqa: BLE001 - only used to word a message
        return 0


def looks_like_image(path: Path) -> bool:
    """Cheap filter by file name: a known image suffix and not a hidden file."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


@dataclass
class Skipped:
    """A file that an import left out, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class ScanResult:
    """Usable image files found under a folder (sorted), and what was skipped with the reason."""

    images: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def check_images(paths, *, validate: bool = True) -> ScanResult:
    """Split ``paths`` into usable images and skipped files; ``validate`` decodes each one."""
    result = ScanResult()
    for path in map(Path, paths):
        if path.name.startswith("."):
            continue
        if not looks_like_image(path) and not validate:
            result.skipped.append(Skipped(path, MSG_NOT_IMAGE))
            continue
        if validate:
            try:
                load_image(path, draft_size=64)
            except ImageError as exc:
                result.skipped.append(Skipped(path, exc.reason))
                continue
        result.images.append(path)
    return result


def _walk(folder: Path, recursive: bool) -> tuple[list[Path], list[Skipped]]:
    """Regular files under ``folder`` (hidden names left out), and what else was met, with the reason: links
    that lead nowhere or back to a folder already searched, pipes and devices, folders named like images."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    seen: set[tuple[int, int]] = set()

    def visit(directory: Path) -> None:
        try:
            st = directory.stat()
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(directory, MSG_UNREADABLE.format(error=exc.strerror or exc)))
            return
        if (st.st_dev, st.st_ino) in seen:
            skipped.append(Skipped(directory, MSG_LOOP))
            return
        seen.add((st.st_dev, st.st_ino))
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                st = path.stat()
            except OSError as exc:
                broken = exc.errno == errno.ENOENT and path.is_symlink()
                skipped.append(Skipped(path, MSG_BROKEN_LINK if broken else MSG_LOOP if exc.errno == errno.ELOOP
                                       else MSG_UNREADABLE.format(error=exc.strerror or exc)))
                continue
            if stat.S_ISDIR(st.st_mode):
                if looks_like_image(path):
                    skipped.append(Skipped(path, MSG_FOLDER_NAMED_LIKE_IMAGE))
                if recursive:
                    visit(path)
            elif stat.S_ISREG(st.st_mode):
                files.append(path)
            else:
                skipped.append(Skipped(path, MSG_NOT_REGULAR.format(kind=_kind(st.st_mode))))

    visit(folder)
    return sorted(files), skipped


def scan_folder(folder: str | os.PathLike, *, recursive: bool = True, validate: bool = True) -> ScanResult:
    """Walk ``folder`` and keep the image files, reporting every other file with the reason (see :func:`_walk`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(folder, "is not a folder" if folder.exists() else "folder not found")
    files, odd = _walk(folder, recursive)
    result = check_images(files, validate=validate)
    result.skipped = odd + result.skipped
    return result

"""Whether a model is out of date: a fingerprint of the support set it was adapted on.

Two fingerprints, for two questions:

- :func:`support_fingerprint` (cheap, asked on every edit): the same classes, in the same order, with the same
  image files, each of the same size and modification time.
- :func:`content_fingerprint` (reads every image once; asked when a project is saved or opened): the same
  classes, in the same order, with images of the same *bytes*, wherever they are. It survives a project's round
  trip, whose images come back under new names in a cache folder.
"""

from __future__ import annotations

import hashlib
import os
import threading

from .support import SupportSet

_DIGESTS: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> sha256 of the file's bytes
_DIGESTS_LOCK = threading.Lock()
_MAX_DIGESTS = 100_000


def _stat(path) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:  # gone or unreadable: still a fingerprint, and a different one once it is back
        return -1, -1
    return st.st_size, st.st_mtime_ns


def support_fingerprint(support: SupportSet, *, pool: bool = True) -> str:
    """A hex digest of the class names, their image paths, the unlabelled pool's paths (with ``pool``: for a
    model that uses the pool, see :func:`.adaptation.uses_pool`), and each file's size and modification time."""
    h = hashlib.sha256()
    for cls in support.classes:
        h.update(b"\x00class\x00" + cls.name.encode("utf-8", "surrogatepass"))
        for path in cls.images:
            size, mtime = _stat(path)
            h.update(f"\x00{os.fspath(path)}\x00{size}\x00{mtime}".encode("utf-8", "surrogatepass"))
    if pool and support.unlabelled:  # only when there is a pool: fingerprints of sets without one stay as they were
        h.update(b"\x00unlabelled")
        for path in support.unlabelled:
            size, mtime = _stat(path)
            h.update(f"\x00{os.fspath(path)}\x00{size}\x00{mtime}".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def file_digest(path) -> str:
    """The sha256 of a file's bytes ("missing" when it cannot be read), remembered while its size and
    modification time stay the same."""
    size, mtime = _stat(path)
    key = (os.fspath(path), size, mtime)
    with _DIGESTS_LOCK:
        known = _DIGESTS.get(key)
    if known is not None:
        return known
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(2**20), b""):
                h.update(block)
    except OSError:
        return "missing"
    digest = h.hexdigest()
    with _DIGESTS_LOCK:
        if len(_DIGESTS) >= _MAX_DIGESTS:
            _DIGESTS.clear()
        _DIGESTS[key] = digest
    return digest


def content_fingerprint(support: SupportSet, *, pool: bool = True) -> str:
    """A hex digest of the class names, in order, the bytes of each class's images, in order, and (with
    ``pool``) the bytes of the unlabelled images, in order: paths and modification times play no part."""
    h = hashlib.sha256(b"fewshot-studio-content-1")
    for cls in support.classes:
        h.update(b"\x00class\x00" + cls.name.encode("utf-8", "surrogatepass"))
        for path in cls.images:
            h.update(b"\x00image\x00" + file_digest(path).encode("ascii"))
    if pool and support.unlabelled:  # as in support_fingerprint: sets without a pool keep their fingerprint
        h.update(b"\x00unlabelled")
        for path in support.unlabelled:
            h.update(b"\x00image\x00" + file_digest(path).encode("ascii"))
    return h.hexdigest()
